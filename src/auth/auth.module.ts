import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeys } from './api-keys';
import type { Redis } from 'ioredis';
import { RedisAuthFailures } from '../cluster/redis-auth-failures';
import { REDIS } from '../cluster/redis.module';
import { AuthFailures, MemoryAuthFailures } from './auth-failures';

@Global()
@Module({
  providers: [
    {
      provide: ApiKeys,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const keys = new ApiKeys(config.API_KEYS);
        if (!keys.enabled && config.NODE_ENV !== 'test') {
          new Logger('Auth').warn('API_KEYS is not set: the service is open to anyone who can reach it, and every caller sees every job');
        }
        return keys;
      },
    },
    // One count for HTTP and the WebSocket upgrade, so switching transports buys no extra guesses;
    // in cluster mode one count for every instance, so switching instances buys none either.
    {
      provide: AuthFailures,
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: AppConfig, redis: Redis | null): AuthFailures =>
        redis
          ? new RedisAuthFailures(redis, config.REDIS_PREFIX, config.AUTH_FAILURES_MAX, config.RATE_LIMIT_WINDOW_MS)
          : new MemoryAuthFailures(config.AUTH_FAILURES_MAX, config.RATE_LIMIT_WINDOW_MS),
    },
  ],
  exports: [ApiKeys, AuthFailures],
})
export class AuthModule implements OnApplicationShutdown {
  constructor(private readonly failures: AuthFailures) {}

  onApplicationShutdown(): void {
    this.failures.close();
  }
}

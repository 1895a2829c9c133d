import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { connectRedis, whenReady } from './redis-connection';

const BOOT_WAIT_MS = 5_000;

/**
 * The cluster mode's shared command connection: a Redis client when REDIS_URL is set, null in
 * the embedded mode. Providers pick their memory or Redis implementation by it.
 */
export const REDIS = Symbol('REDIS');

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}
  async onApplicationShutdown(): Promise<void> {
    this.redis?.disconnect();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<Redis | null> => {
        if (!config.REDIS_URL) return null;
        const redis = connectRedis(config.REDIS_URL, { name: 'commands' });
        // Boot waits a little for Redis, so the first requests do not get 503 for nothing; an
        // instance started while Redis is down still boots (readiness says why it takes no work).
        await whenReady(redis, BOOT_WAIT_MS).catch((err: Error) => new Logger('Redis').warn(`${err.message}; starting anyway, readiness stays 503 until it answers`));
        return redis;
      },
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}

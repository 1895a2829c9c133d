import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { connectRedis } from './redis-connection';

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
      useFactory: (config: AppConfig): Redis | null => (config.REDIS_URL ? connectRedis(config.REDIS_URL, { name: 'commands' }) : null),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}

import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { AuthGuard, callerId } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { REDIS, RedisModule } from './cluster/redis.module';
import { RedisThrottlerStorage } from './cluster/redis-throttler.storage';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { FixedWindowStorage } from './common/fixed-window.storage';
import { ConfigModule, type Env } from './config/config.module';
import { CrawlModule } from './crawl/crawl.module';
import { FibonacciModule } from './fibonacci/fibonacci.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { ShutdownService } from './lifecycle/shutdown.service';
import { MetricsModule } from './metrics/metrics.module';
import { PoolModule } from './pool/pool.module';
import { ProgressModule } from './progress/progress.module';

@Module({})
export class AppModule {
  /** `env` replaces process.env (tests); by default the process environment is read. */
  static forRoot(env?: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        RedisModule,
        AuthModule,
        ThrottlerModule.forRootAsync({
          inject: [APP_CONFIG, REDIS],
          useFactory: (config: AppConfig, redis: Redis | null) => ({
            throttlers: [{ ttl: config.RATE_LIMIT_WINDOW_MS, limit: config.RATE_LIMIT_MAX }],
            // Cluster mode: one window per caller across every instance, not one per instance.
            storage: redis ? new RedisThrottlerStorage(redis, config.REDIS_PREFIX) : new FixedWindowStorage(),
            // Per API key when keys are on (the guard before this one sets it), else per address.
            getTracker: (req: Record<string, unknown>) => callerId(req as { owner?: string; ip?: string }),
            errorMessage: `rate limit exceeded (RATE_LIMIT_MAX ${config.RATE_LIMIT_MAX} per ${config.RATE_LIMIT_WINDOW_MS} ms)`,
          }),
        }),
        PoolModule,
        JobsModule,
        FibonacciModule,
        CrawlModule,
        ProgressModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        // Order matters: authentication first, so the rate limit can count per key. Failed
        // authentications never reach the throttler: AuthFailures limits them per address.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        ShutdownService,
      ],
    };
  }
}

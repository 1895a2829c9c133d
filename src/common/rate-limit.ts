import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { callerId } from '../auth/auth.guard';
import { RedisThrottlerStorage } from '../cluster/redis-throttler.storage';
import type { AppConfig } from '../config/app-config';
import { FixedWindowStorage } from './fixed-window.storage';

/**
 * The rate limit (ThrottlerModule.forRootAsync, injected with APP_CONFIG and REDIS): one window
 * per caller in this process, or in cluster mode one window per caller across every instance.
 */
export function rateLimitOptions(config: AppConfig, redis: Redis | null): ThrottlerModuleOptions {
  return {
    throttlers: [{ ttl: config.RATE_LIMIT_WINDOW_MS, limit: config.RATE_LIMIT_MAX }],
    storage: redis ? new RedisThrottlerStorage(redis, config.REDIS_PREFIX) : new FixedWindowStorage(),
    // Per API key when keys are on (the guard before this one sets it), else per address.
    getTracker: (req: Record<string, unknown>) => callerId(req as { owner?: string; ip?: string }),
    errorMessage: `rate limit exceeded (RATE_LIMIT_MAX ${config.RATE_LIMIT_MAX} per ${config.RATE_LIMIT_WINDOW_MS} ms)`,
  };
}

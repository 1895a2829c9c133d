import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { callerId } from '../auth/auth.guard';
import type { Backend } from '../backends/backend';
import type { AppConfig } from '../config/app-config';

/**
 * The rate limit (ThrottlerModule.forRootAsync, injected with APP_CONFIG and BACKEND): one window
 * per caller, kept by the backend (so with a shared backend, one window across every instance).
 */
export function rateLimitOptions(config: AppConfig, backend: Backend): ThrottlerModuleOptions {
  return {
    throttlers: [{ ttl: config.RATE_LIMIT_WINDOW_MS, limit: config.RATE_LIMIT_MAX }],
    storage: backend.rateLimits,
    // Per API key when keys are on (the guard before this one sets it), else per address.
    getTracker: (req: Record<string, unknown>) => callerId(req as { owner?: string; ip?: string }),
    errorMessage: `rate limit exceeded (RATE_LIMIT_MAX ${config.RATE_LIMIT_MAX} per ${config.RATE_LIMIT_WINDOW_MS} ms)`,
  };
}

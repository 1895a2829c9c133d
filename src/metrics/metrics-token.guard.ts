import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeys } from '../auth/api-keys';
import { AuthFailures } from '../auth/auth-failures';
import { authenticate } from '../auth/auth.guard';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * GET /metrics shows every tenant's totals, so an API key is not enough: scrapes need
 * METRICS_TOKEN. With API keys on and no token, metrics are refused; with neither, they are open.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly token: ApiKeys;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly keys: ApiKeys,
    private readonly failures: AuthFailures,
  ) {
    this.token = new ApiKeys(config.METRICS_TOKEN ? [config.METRICS_TOKEN] : []);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.token.enabled) {
      if (!this.keys.enabled) return true;
      throw new ForbiddenException('metrics are off: API_KEYS is set and METRICS_TOKEN is not (set it and scrape with Authorization: Bearer <METRICS_TOKEN>)');
    }
    const http = context.switchToHttp();
    await authenticate(this.token, this.failures, http.getRequest<Request>(), http.getResponse<Response>(), 'a valid METRICS_TOKEN');
    return true;
  }
}

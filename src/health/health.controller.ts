import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/auth.guard';
import { PoolStatusReader } from './pool-status';

/**
 * Probes for orchestrators; open even when API keys are on, and never rate limited. They say
 * only whether the service is up (and why not): pool figures are behind a key, at GET /pool.
 */
@Controller('health')
@Public()
@SkipThrottle()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly pool: PoolStatusReader,
  ) {}

  /** The process answers. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** The process takes work: the pool is up and it is not shutting down (503 otherwise). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.readiness()]);
  }

  private async readiness() {
    const check = this.indicators.check('pool');
    const reason = await this.pool.verdict();
    return reason ? check.down({ reason }) : check.up();
  }
}

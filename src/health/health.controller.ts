import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/auth.guard';
import { JobsService } from '../jobs/jobs.service';
import { TaskScheduler } from '../pool/task-scheduler';

/** Probes for orchestrators; open even when API keys are on, and never rate limited. */
@Controller('health')
@Public()
@SkipThrottle()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly scheduler: TaskScheduler,
    private readonly jobs: JobsService,
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
    return this.health.check([() => this.pool()]);
  }

  private pool() {
    const check = this.indicators.check('pool');
    const stats = { ...this.scheduler.stats(), queuedTasks: this.jobs.queuedTasks() };
    if (this.jobs.draining) return check.down({ reason: 'shutting down', ...stats });
    if (stats.maxThreads < 1) return check.down({ reason: 'no worker threads', ...stats });
    return check.up(stats);
  }
}

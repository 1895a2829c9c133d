import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsService } from '../jobs/jobs.service';
import { ProgressGateway } from '../progress/progress.gateway';

/**
 * Graceful shutdown, in order: refuse new jobs and turn readiness 503, let running jobs finish
 * within the grace period (cancel the rest with reason `shutdown`), then tell feed clients the
 * server is going away (1001). The HTTP server and the pool close after this hook.
 */
@Injectable()
export class ShutdownService implements BeforeApplicationShutdown {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly gateway: ProgressGateway,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    const grace = this.config.SHUTDOWN_GRACE_MS;
    // A margin inside the grace for cancelling, closing sockets and the pool.
    await this.jobs.drain(Math.max(0, grace - Math.min(2_000, grace / 4)));
    this.gateway.closeAll(1001, 'server shutting down');
  }
}

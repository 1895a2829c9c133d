import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { JobObserver } from '../jobs/job-observers';
import type { JobView } from '../jobs/job.view';
import { JobsService } from '../jobs/jobs.service';
import { MetricsService } from './metrics.service';

/**
 * Turns job and task outcomes into metrics, through the jobs service's observer hook rather
 * than a `*` feed subscription: a feed subscriber makes the service build an event object per
 * task update, which measurably slowed batches of 100k small numbers.
 */
@Injectable()
export class JobMetricsListener implements JobObserver, OnModuleInit {
  private readonly logger = new Logger(JobMetricsListener.name);

  constructor(
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.jobs.observe(this);
  }

  /** Called inside the job's bookkeeping: a metrics bug must never break a job. */
  taskFinished(kind: string, state: string, ms: number | undefined): void {
    this.safely(() => this.metrics.recordTaskFinished(kind, state, ms));
  }

  jobFinished(view: JobView): void {
    this.safely(() => this.metrics.recordJobFinished(view.kind, view.status, view.durationMs));
  }

  private safely(record: () => void): void {
    try {
      record();
    } catch (err) {
      this.logger.warn(`recording a metric failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

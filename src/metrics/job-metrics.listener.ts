import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { JobObserver } from '../jobs/job-observers';
import type { JobView } from '../jobs/job.view';
import { JobKinds } from '../jobs/job-kinds';
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
    private readonly kinds: JobKinds,
    private readonly metrics: MetricsService,
  ) {}

  /** Kinds registered themselves when they were built, before any module's init. */
  onModuleInit(): void {
    for (const kind of this.kinds.all()) {
      this.metrics.declareKind(kind.name);
      for (const metric of kind.metrics ?? []) this.metrics.declareCounter(metric);
    }
    this.jobs.observe(this);
  }

  /** Called inside the job's bookkeeping: a metrics bug must never break a job. */
  taskFinished(kind: string, state: string, ms: number | undefined): void {
    this.safely(() => this.metrics.recordTaskFinished(kind, state, ms));
  }

  jobFinished(view: JobView): void {
    this.safely(() => this.metrics.recordJobFinished(view.kind, view.status, view.durationMs));
  }

  counted(metric: string, labels: Record<string, string>, by: number): void {
    this.safely(() => this.metrics.count(metric, labels, by));
  }

  private safely(record: () => void): void {
    try {
      record();
    } catch (err) {
      this.logger.warn(`recording a metric failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

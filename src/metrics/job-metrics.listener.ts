import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { JobsService } from '../jobs/jobs.service';
import { ALL_JOBS, type JobEvent } from '../progress/event-bus';
import { MetricsService } from './metrics.service';

const FINISHED_TASK = new Set(['completed', 'failed', 'cancelled']);
/**
 * Backstop for the kind-by-job map: every job ends with a final event that removes its entry,
 * so this only bites if that ever stopped being true (the oldest entries go first).
 */
const MAX_TRACKED_JOBS = 10_000;

interface TaskUpdateSummary {
  state?: string;
  ms?: unknown;
}

/**
 * Turns the job event stream into job and task metrics. Subscribes through JobsService.watch('*'),
 * the exported feed of every job's events (the EventBus itself is private to JobsModule).
 */
@Injectable()
export class JobMetricsListener implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobMetricsListener.name);
  /** task.progress carries no kind, so it is remembered per job from the job's earlier events. */
  private readonly kinds = new Map<string, string>();
  private stop?: () => void;

  constructor(
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.stop = this.jobs.watch(ALL_JOBS, undefined, (event) => this.safely(event));
  }

  /**
   * Unsubscribes at the very end rather than on module destroy: jobs finishing during the
   * shutdown drain (beforeApplicationShutdown, while /metrics still answers) are still counted.
   */
  onApplicationShutdown(): void {
    this.stop?.();
    this.stop = undefined;
    this.kinds.clear();
  }

  /** Listeners run inside the publisher's call: a metrics bug must never break a job. */
  private safely(event: JobEvent): void {
    try {
      this.handle(event);
    } catch (err) {
      this.logger.warn(`metrics for ${event.event} of job ${event.jobId} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private handle({ event, jobId, data }: JobEvent): void {
    switch (event) {
      case 'job.created':
      case 'job.started':
      case 'job.snapshot':
        return this.remember(jobId, (data as { kind?: string }).kind);
      case 'task.progress': {
        const kind = this.kinds.get(jobId) ?? 'unknown';
        for (const update of (data as { updates?: TaskUpdateSummary[] }).updates ?? []) {
          if (!update.state || !FINISHED_TASK.has(update.state)) continue;
          this.metrics.recordTaskFinished(kind, update.state, typeof update.ms === 'number' ? update.ms : undefined);
        }
        return;
      }
      case 'job.completed':
      case 'job.failed':
      case 'job.cancelled': {
        const view = data as { kind?: string; status?: string; durationMs?: number | null };
        const kind = view.kind ?? this.kinds.get(jobId) ?? 'unknown';
        this.kinds.delete(jobId);
        return this.metrics.recordJobFinished(kind, view.status ?? event.slice('job.'.length), view.durationMs);
      }
    }
  }

  private remember(jobId: string, kind: string | undefined): void {
    if (!kind || this.kinds.has(jobId)) return;
    if (this.kinds.size >= MAX_TRACKED_JOBS) this.kinds.delete(this.kinds.keys().next().value!);
    this.kinds.set(jobId, kind);
  }
}

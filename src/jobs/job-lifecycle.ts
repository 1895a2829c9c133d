import { Injectable, Logger } from '@nestjs/common';
import type { FieldIssue } from '../common/error-envelope';
import type { JobHeader } from './job-data';
import type { JobOptions } from './job-options';
import type { JobView } from './job.view';

export type LifecycleEvent = 'job.started' | 'job.completed' | 'job.failed' | 'job.cancelled';

/**
 * What a feature stores alongside a job's lifecycle (webhook deliveries). Unlike JobObservers
 * (metrics, best effort), `changed` is awaited by the runner before the change is announced, so
 * whatever it stores exists once a client sees the job started or ended.
 */
export interface LifecycleListener {
  /** Issues with a submission's shared fields that only this feature can judge (400 naming each field). */
  vet(kind: { name: string; notices: readonly string[] }, options: JobOptions): FieldIssue[];
  changed(event: LifecycleEvent, job: JobHeader, view: JobView): Promise<void>;
  /** One item of a kind's own notice (a crawl's page), on the instance that coordinates the job. */
  notice(job: JobHeader, event: string, item: unknown): void;
}

/** The registered lifecycle listeners; the core calls them and names none. */
@Injectable()
export class JobLifecycle {
  private readonly logger = new Logger(JobLifecycle.name);
  private readonly listeners: LifecycleListener[] = [];

  add(listener: LifecycleListener): void {
    this.listeners.push(listener);
  }

  vet(kind: { name: string; notices: readonly string[] }, options: JobOptions): FieldIssue[] {
    return this.listeners.flatMap((listener) => listener.vet(kind, options));
  }

  async changed(event: LifecycleEvent, job: JobHeader, view: JobView): Promise<void> {
    for (const listener of this.listeners) await listener.changed(event, job, view);
  }

  notice(job: JobHeader, event: string, item: unknown): void {
    for (const listener of this.listeners) {
      try {
        listener.notice(job, event, item);
      } catch (err) {
        // A notice is extra: it never breaks the job that sent it.
        this.logger.warn({ jobId: job.id, msg: `a ${event} notice failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  }
}

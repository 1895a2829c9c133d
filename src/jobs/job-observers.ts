import { Injectable } from '@nestjs/common';
import type { JobView } from './job.view';

/**
 * In-process hooks on job outcomes, for metrics. Cheaper than a `*` feed subscription: no
 * per-task event objects are built for it, and it is called once per finished task, on the
 * instance that stored it.
 */
export interface JobObserver {
  taskFinished(kind: string, state: 'completed' | 'failed' | 'cancelled', ms: number | undefined): void;
  jobFinished(view: JobView): void;
  /** A kind added to one of its counter metrics (JobContext.count). */
  counted(metric: string, labels: Record<string, string>, by: number): void;
}

@Injectable()
export class JobObservers {
  private readonly observers: JobObserver[] = [];

  add(observer: JobObserver): void {
    this.observers.push(observer);
  }

  get any(): boolean {
    return this.observers.length > 0;
  }

  taskFinished(kind: string, state: 'completed' | 'failed' | 'cancelled', result: unknown): void {
    const ms = (result as { ms?: unknown } | undefined)?.ms;
    for (const observer of this.observers) observer.taskFinished(kind, state, typeof ms === 'number' ? ms : undefined);
  }

  jobFinished(view: JobView): void {
    for (const observer of this.observers) observer.jobFinished(view);
  }

  counted(metric: string, labels: Record<string, string>, by: number): void {
    for (const observer of this.observers) observer.counted(metric, labels, by);
  }
}

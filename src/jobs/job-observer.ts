import type { JobView } from './job.view';

/**
 * In-process hooks on job outcomes, for metrics. Cheaper than a `*` feed subscription: no
 * per-task event objects are built for it, and it is called once per finished task.
 */
export interface JobObserver {
  taskFinished(kind: string, state: 'completed' | 'failed' | 'cancelled', ms: number | undefined): void;
  jobFinished(view: JobView): void;
}

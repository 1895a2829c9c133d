import { RetryableException } from '../common/retryable.exception';
import type { AdmissionFigures } from './job-data';
import type { CounterBound, Reservation } from './job-kind';

export interface AdmissionLimits {
  /** Unfinished tasks across all jobs past which new jobs are refused (503). */
  maxQueuedTasks: number;
  /** Unfinished jobs one caller may have (429). */
  maxJobsPerCaller: number;
  /** Result bytes one caller's unfinished jobs may reserve together (429). */
  maxResultBytesPerCaller: number;
  /** The kinds' counters, each with its per-caller bound (429). */
  counters: ReadonlyMap<string, CounterBound>;
}

/**
 * Whether a new job may come in, given what the store counts (across every instance): refused
 * when the work queue is past its depth (so the service never accepts what it cannot hold), or
 * when the caller's unfinished jobs would pass their count, result bytes or one of the kinds'
 * counters (a crawl's pages, its fetches at once). Refusals carry Retry-After and happen before anything is held. A caller with
 * nothing in flight is never refused a job for its size alone (that job's own bounds are
 * FIB_MAX_RESULT_BYTES and CRAWL_MAX_*), so no valid job waits forever. Throws the refusal, if any.
 */
export function checkAdmission({ held, queued }: AdmissionFigures, wants: Reservation, limits: AdmissionLimits): void {
  if (queued > 0 && queued + wants.tasks > limits.maxQueuedTasks) {
    throw new RetryableException(503, `the work queue is full (${queued} tasks waiting, this job ${wants.tasks}, limit MAX_QUEUED_TASKS ${limits.maxQueuedTasks}); retry later`, 2);
  }
  if (held.jobs === 0) return;
  if (held.jobs >= limits.maxJobsPerCaller) {
    throw new RetryableException(429, `too many unfinished jobs (limit MAX_JOBS_IN_FLIGHT_PER_KEY ${limits.maxJobsPerCaller})`, 1);
  }
  if (held.resultBytes + wants.resultBytes > limits.maxResultBytesPerCaller) {
    throw new RetryableException(
      429,
      `your unfinished jobs reserve ${held.resultBytes} result bytes and this one ${wants.resultBytes}, over MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY ${limits.maxResultBytesPerCaller}; retry when one ends`,
      5,
    );
  }
  for (const [name, wanted] of Object.entries(wants.counters ?? {})) {
    const bound = limits.counters.get(name);
    const held_ = held.counters[name] ?? 0;
    if (bound && wanted > 0 && held_ + wanted > bound.perCaller) throw new RetryableException(429, bound.refusal(held_, wanted, bound.perCaller), 5);
  }
}

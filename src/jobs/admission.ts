import { RetryableException } from '../common/retryable.exception';

export interface AdmissionLimits {
  /** Unfinished tasks across all jobs past which new jobs are refused (503). */
  maxQueuedTasks: number;
  /** Unfinished jobs one caller may have (429). */
  maxJobsPerCaller: number;
}

/**
 * Whether a new job may come in: refused while draining, when the work queue is past its depth
 * (so the service never accepts what it cannot hold), or when the caller has too many jobs
 * unfinished. Refusals carry Retry-After and happen before anything is held.
 */
export class Admission {
  /** Set on shutdown: new jobs are refused, readiness turns 503. */
  draining = false;
  /** Unfinished jobs per caller (API key owner, or client address when keys are off). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly queuedTasks: () => number,
  ) {}

  /** Throws the refusal, if any. */
  check(callerId: string, tasks: number): void {
    if (this.draining) throw new RetryableException(503, 'the service is shutting down; retry on another instance', 5);
    const queued = this.queuedTasks();
    if (queued > 0 && queued + tasks > this.limits.maxQueuedTasks) {
      throw new RetryableException(503, `the work queue is full (${queued} tasks waiting, limit MAX_QUEUED_TASKS ${this.limits.maxQueuedTasks}); retry later`, 2);
    }
    if ((this.inFlight.get(callerId) ?? 0) >= this.limits.maxJobsPerCaller) {
      throw new RetryableException(429, `too many unfinished jobs (limit MAX_JOBS_IN_FLIGHT_PER_KEY ${this.limits.maxJobsPerCaller})`, 1);
    }
  }

  /** Counts a caller's job until `done` settles. */
  track(callerId: string, done: Promise<void>): void {
    this.inFlight.set(callerId, (this.inFlight.get(callerId) ?? 0) + 1);
    void done.then(() => {
      const left = (this.inFlight.get(callerId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(callerId, left);
      else this.inFlight.delete(callerId);
    });
  }
}

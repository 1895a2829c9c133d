import { RetryableException } from '../common/retryable.exception';
import type { Reservation } from './job-kind';

export interface AdmissionLimits {
  /** Unfinished tasks across all jobs past which new jobs are refused (503). */
  maxQueuedTasks: number;
  /** Unfinished jobs one caller may have (429). */
  maxJobsPerCaller: number;
  /** Result bytes one caller's unfinished jobs may reserve together (429). */
  maxResultBytesPerCaller: number;
  /** Crawl pages one caller's unfinished crawls may reserve together (429). */
  maxCrawlPagesPerCaller: number;
  /** Fetches at once one caller's unfinished crawls may ask for together (429). */
  maxCrawlFetchesPerCaller: number;
}

/** What one caller's unfinished jobs hold. */
interface Held {
  jobs: number;
  resultBytes: number;
  crawlPages: number;
  crawlFetches: number;
}

/**
 * Whether a new job may come in: refused while draining, when the work queue is past its depth
 * (so the service never accepts what it cannot hold), or when the caller's unfinished jobs would
 * pass their count, result bytes, crawl pages or crawl fetches at once. Refusals carry Retry-After and happen before
 * anything is held. A caller with nothing in flight is never refused a job for its size alone
 * (that job's own bounds are FIB_MAX_RESULT_BYTES and CRAWL_MAX_*), so no valid job waits forever.
 */
export class Admission {
  /** Set on shutdown: new jobs are refused, readiness turns 503. */
  draining = false;
  /** Per caller (API key owner, or client address when keys are off). */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly queuedTasks: () => number,
  ) {}

  /** Throws the refusal, if any. */
  check(callerId: string, wants: Reservation): void {
    const { limits } = this;
    if (this.draining) throw new RetryableException(503, 'the service is shutting down; retry on another instance', 5);
    const queued = this.queuedTasks();
    if (queued > 0 && queued + wants.tasks > limits.maxQueuedTasks) {
      throw new RetryableException(503, `the work queue is full (${queued} tasks waiting, this job ${wants.tasks}, limit MAX_QUEUED_TASKS ${limits.maxQueuedTasks}); retry later`, 2);
    }
    const held = this.held.get(callerId);
    if (!held) return;
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
    if (wants.crawlPages > 0 && held.crawlPages + wants.crawlPages > limits.maxCrawlPagesPerCaller) {
      throw new RetryableException(
        429,
        `your unfinished crawls reserve ${held.crawlPages} pages and this one ${wants.crawlPages}, over MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY ${limits.maxCrawlPagesPerCaller}; retry when one ends`,
        5,
      );
    }
    if (wants.crawlFetches > 0 && held.crawlFetches + wants.crawlFetches > limits.maxCrawlFetchesPerCaller) {
      throw new RetryableException(
        429,
        `your unfinished crawls run ${held.crawlFetches} fetches at once and this one asks for ${wants.crawlFetches}, over MAX_CRAWL_CONCURRENCY_PER_KEY ${limits.maxCrawlFetchesPerCaller}; lower concurrency or retry when one ends`,
        5,
      );
    }
  }

  /** Holds a caller's job and its reservation until `done` settles (the job ended, any way). */
  track(callerId: string, reservation: Reservation, done: Promise<void>): void {
    const held = this.held.get(callerId) ?? { jobs: 0, resultBytes: 0, crawlPages: 0, crawlFetches: 0 };
    this.held.set(callerId, held);
    this.add(held, reservation, 1);
    void done.then(() => {
      this.add(held, reservation, -1);
      if (held.jobs <= 0) this.held.delete(callerId);
    });
  }

  /** What a caller holds right now (for tests and metrics). */
  heldBy(callerId: string): Held {
    return { ...(this.held.get(callerId) ?? { jobs: 0, resultBytes: 0, crawlPages: 0, crawlFetches: 0 }) };
  }

  private add(held: Held, reservation: Reservation, sign: 1 | -1): void {
    held.jobs += sign;
    held.resultBytes += sign * reservation.resultBytes;
    held.crawlPages += sign * reservation.crawlPages;
    held.crawlFetches += sign * reservation.crawlFetches;
  }
}

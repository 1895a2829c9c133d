import { RetryableException } from '../common/retryable.exception';
import type { AdmissionFigures } from './job-data';
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

/**
 * Whether a new job may come in, given what the store counts (across every instance): refused
 * when the work queue is past its depth (so the service never accepts what it cannot hold), or
 * when the caller's unfinished jobs would pass their count, result bytes, crawl pages or crawl
 * fetches at once. Refusals carry Retry-After and happen before anything is held. A caller with
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

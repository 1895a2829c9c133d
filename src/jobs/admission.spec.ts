import { describe, expect, it } from 'vitest';
import { RetryableException } from '../common/retryable.exception';
import { Admission } from './admission';
import type { Reservation } from './job-kind';

const limits = { maxQueuedTasks: 100, maxJobsPerCaller: 3, maxResultBytesPerCaller: 1_000, maxCrawlPagesPerCaller: 50, maxCrawlFetchesPerCaller: 40 };
const fib = (resultBytes: number, tasks = 1): Reservation => ({ tasks, resultBytes, crawlPages: 0, crawlFetches: 0 });
const crawl = (pages: number, fetches = 1): Reservation => ({ tasks: pages, resultBytes: pages, crawlPages: pages, crawlFetches: fetches });

/** The refusal check() throws, as [status, message, Retry-After]; undefined if admitted. */
function refusal(admission: Admission, caller: string, wants: Reservation): [number, string, number] | undefined {
  try {
    admission.check(caller, wants);
    return undefined;
  } catch (err) {
    if (!(err instanceof RetryableException)) throw err;
    return [err.getStatus(), err.message, err.retryAfterSeconds];
  }
}

function job(): { done: Promise<void>; end(): Promise<void> } {
  let end!: () => void;
  const done = new Promise<void>((resolve) => (end = resolve));
  const finish = async () => {
    end();
    await done;
    await Promise.resolve(); // track() releases in a then() on `done`
  };
  return { done, end: finish };
}

describe('Admission', () => {
  it('refuses a caller past its result bytes with 429 naming the setting, admits another caller, releases when the job ends', async () => {
    const admission = new Admission(limits, () => 0);
    const first = job();
    admission.track('a', fib(700), first.done);
    expect(refusal(admission, 'a', fib(400))).toEqual([429, expect.stringMatching(/MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY 1000/), 5]);
    expect(refusal(admission, 'a', fib(300))).toBeUndefined();
    expect(refusal(admission, 'b', fib(900))).toBeUndefined();
    await first.end();
    expect(admission.heldBy('a')).toEqual({ jobs: 0, resultBytes: 0, crawlPages: 0, crawlFetches: 0 });
    expect(refusal(admission, 'a', fib(400))).toBeUndefined();
  });

  it('admits a job bigger than the bound when the caller holds nothing, so it can run alone', () => {
    const admission = new Admission(limits, () => 0);
    expect(refusal(admission, 'a', fib(5_000))).toBeUndefined();
    expect(refusal(admission, 'a', crawl(80))).toBeUndefined();
  });

  it('counts crawl pages per caller (the sum of maxPages) and only for crawls', () => {
    const admission = new Admission({ ...limits, maxResultBytesPerCaller: 1e9 }, () => 0);
    admission.track('a', crawl(30), new Promise(() => {}));
    expect(refusal(admission, 'a', crawl(21))?.slice(0, 2)).toEqual([429, expect.stringMatching(/MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY 50/)]);
    expect(refusal(admission, 'a', crawl(20))).toBeUndefined();
    expect(refusal(admission, 'a', fib(10, 40))).toBeUndefined();
  });

  it('counts crawl fetches at once per caller (the sum of concurrency), so many crawls cannot multiply the per-crawl cap', () => {
    const admission = new Admission({ ...limits, maxResultBytesPerCaller: 1e9 }, () => 0);
    admission.track('a', crawl(1, 32), new Promise(() => {}));
    expect(refusal(admission, 'a', crawl(1, 9))?.slice(0, 2)).toEqual([429, expect.stringMatching(/MAX_CRAWL_CONCURRENCY_PER_KEY 40/)]);
    expect(refusal(admission, 'a', crawl(1, 8))).toBeUndefined();
    expect(refusal(admission, 'b', crawl(1, 32))).toBeUndefined();
    expect(admission.heldBy('a')).toEqual({ jobs: 1, resultBytes: 1, crawlPages: 1, crawlFetches: 32 });
  });

  it('refuses with 503 when the queue would pass MAX_QUEUED_TASKS, counting the new job by its tasks', () => {
    let queued = 0;
    const admission = new Admission(limits, () => queued);
    expect(refusal(admission, 'a', crawl(500))).toBeUndefined(); // an empty queue takes any one job
    queued = 60;
    expect(refusal(admission, 'a', crawl(41))?.slice(0, 2)).toEqual([503, expect.stringMatching(/MAX_QUEUED_TASKS 100/)]);
    expect(refusal(admission, 'a', crawl(40))).toBeUndefined();
  });

  it('refuses past MAX_JOBS_IN_FLIGHT_PER_KEY and everything while draining', () => {
    const admission = new Admission(limits, () => 0);
    for (let i = 0; i < 3; i++) admission.track('a', fib(1), new Promise(() => {}));
    expect(refusal(admission, 'a', fib(1))?.[0]).toBe(429);
    admission.draining = true;
    expect(refusal(admission, 'b', fib(1))?.[0]).toBe(503);
  });
});

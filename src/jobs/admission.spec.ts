import { describe, expect, it } from 'vitest';
import { RetryableException } from '../common/retryable.exception';
import { type AdmissionLimits, checkAdmission } from './admission';
import type { AdmissionFigures, Held } from './job-data';
import type { CounterBound, Reservation } from './job-kind';

// Holding and releasing (the figures growing at create and dropping at finish) is the store's job
// now: see "queue depth and holdings" in test/contracts/job-store.contract.ts. Draining is refused
// in JobsService.accept (test/lifecycle.e2e-spec.ts). Here: the decision over given figures.

/** A kind's counter as the kinds declare them; its refusal says which figures it was given. */
const bound = (name: string, perCaller: number): CounterBound => ({ name, perCaller, refusal: (held, wants, limit) => `${name}: held ${held}, wants ${wants}, bound ${limit}` });
const limits: AdmissionLimits = {
  maxQueuedTasks: 100,
  maxJobsPerCaller: 3,
  maxResultBytesPerCaller: 1_000,
  counters: new Map([
    ['crawl.pages', bound('crawl.pages', 50)],
    ['crawl.fetches', bound('crawl.fetches', 40)],
  ]),
};
const fib = (resultBytes: number, tasks = 1): Reservation => ({ tasks, resultBytes });
const crawl = (pages: number, fetches = 1): Reservation => ({ tasks: pages, resultBytes: pages, counters: { 'crawl.pages': pages, 'crawl.fetches': fetches } });
const nothing: Held = { jobs: 0, resultBytes: 0, counters: {} };

/** Figures for a caller holding `held` (one job's worth unless told), with `queued` tasks waiting. */
function figures(held: Partial<Held> = {}, queued = 0): AdmissionFigures {
  return { held: { ...nothing, jobs: 1, ...held }, queued, version: '1' };
}

/** The refusal checkAdmission throws, as [status, message, Retry-After]; undefined if admitted. */
function refusal(given: AdmissionFigures, wants: Reservation, bounds = limits): [number, string, number] | undefined {
  try {
    checkAdmission(given, wants, bounds);
    return undefined;
  } catch (err) {
    if (!(err instanceof RetryableException)) throw err;
    return [err.getStatus(), err.message, err.retryAfterSeconds];
  }
}

describe('checkAdmission', () => {
  it('refuses a caller past its result bytes with 429 naming the setting and Retry-After, admits up to the bound', () => {
    const holding700 = figures({ resultBytes: 700 });
    expect(refusal(holding700, fib(400))).toEqual([429, expect.stringMatching(/MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY 1000/), 5]);
    expect(refusal(holding700, fib(300))).toBeUndefined();
    // Another caller (or this one once its job ended) holds nothing and is admitted.
    expect(refusal({ held: nothing, queued: 0, version: '1' }, fib(400))).toBeUndefined();
  });

  it('admits a job bigger than the bound when the caller holds nothing, so it can run alone', () => {
    const empty: AdmissionFigures = { held: nothing, queued: 0, version: '1' };
    expect(refusal(empty, fib(5_000))).toBeUndefined();
    expect(refusal(empty, crawl(80, 400))).toBeUndefined();
  });

  it('counts crawl pages per caller (the sum of maxPages) and only for crawls', () => {
    const bounds = { ...limits, maxResultBytesPerCaller: 1e9 };
    const holding30 = figures({ resultBytes: 30, counters: { 'crawl.pages': 30, 'crawl.fetches': 1 } });
    expect(refusal(holding30, crawl(21), bounds)).toEqual([429, 'crawl.pages: held 30, wants 21, bound 50', 5]);
    expect(refusal(holding30, crawl(20), bounds)).toBeUndefined();
    expect(refusal(figures({ counters: { 'crawl.pages': 50 } }), fib(10, 40), bounds)).toBeUndefined();
  });

  it('counts crawl fetches at once per caller (the sum of concurrency), so many crawls cannot multiply the per-crawl cap', () => {
    const bounds = { ...limits, maxResultBytesPerCaller: 1e9 };
    const holding32 = figures({ resultBytes: 1, counters: { 'crawl.pages': 1, 'crawl.fetches': 32 } });
    expect(refusal(holding32, crawl(1, 9), bounds)).toEqual([429, 'crawl.fetches: held 32, wants 9, bound 40', 5]);
    expect(refusal(holding32, crawl(1, 8), bounds)).toBeUndefined();
    expect(refusal(figures({ counters: { 'crawl.fetches': 40 } }), fib(10), bounds)).toBeUndefined();
  });

  it('refuses with 503 when the queue would pass MAX_QUEUED_TASKS, counting the new job by its tasks', () => {
    expect(refusal({ held: nothing, queued: 0, version: '1' }, crawl(500))).toBeUndefined(); // an empty queue takes any one job
    expect(refusal({ held: nothing, queued: 60, version: '1' }, crawl(41))).toEqual([503, expect.stringMatching(/MAX_QUEUED_TASKS 100/), 2]);
    expect(refusal({ held: nothing, queued: 60, version: '1' }, crawl(40))).toBeUndefined();
  });

  it('refuses past MAX_JOBS_IN_FLIGHT_PER_KEY with 429 naming the setting', () => {
    expect(refusal(figures({ jobs: 3, resultBytes: 3 }), fib(1))).toEqual([429, expect.stringMatching(/MAX_JOBS_IN_FLIGHT_PER_KEY 3/), 1]);
    expect(refusal(figures({ jobs: 2, resultBytes: 2 }), fib(1))).toBeUndefined();
  });
});

/**
 * A job's rate and ETA, derived from stored data only, so every instance answers alike: the store
 * keeps a small ring of (time, tasks done) samples in the job's header, updated by the same write
 * that counts finished tasks (memory: MemoryJobStore.apply; Redis: the apply script, which mirrors
 * addSample in Lua). "Done" is completed + failed: tasks that ran, not those cancelled unrun.
 */
import type { JobHeader } from './job-data';

/** The recent window the rate is measured over. */
export const RATE_WINDOW_MS = 10_000;
/** Samples are kept at least this far apart (the newest one moves until it is). */
export const RATE_STEP_MS = 1_000;
/** No rate over a shorter span: one task in 13 ms is not "76.9 tasks/s". */
export const RATE_MIN_SPAN_MS = 1_000;
/** Enough samples for the window at RATE_STEP_MS, plus the one before it. */
export const RATE_MAX_SAMPLES = 12;

/**
 * The ring after a write at `now` left `done` tasks done. Flat pairs [t0, n0, t1, n1, ...], oldest
 * first; the newest sample moves forward until it is RATE_STEP_MS past the one before, and one
 * sample at or before the window's start is kept so the window is always covered.
 */
export function addSample(ring: readonly number[] | undefined, now: number, done: number): number[] {
  const samples = ring ? ring.slice() : [];
  const n = samples.length;
  // Another instance's clock may be behind: time never runs backwards in the ring.
  const at = n >= 2 ? Math.max(now, samples[n - 2]) : now;
  if (n >= 4 && samples[n - 2] - samples[n - 4] < RATE_STEP_MS) samples.splice(n - 2, 2, at, done);
  else samples.push(at, done);
  while (samples.length > 4 && (samples[2] <= at - RATE_WINDOW_MS || samples.length > RATE_MAX_SAMPLES * 2)) samples.splice(0, 2);
  return samples;
}

/**
 * Tasks done per second. Running: over the last RATE_WINDOW_MS up to `now` (the job's start counts
 * as a sample of 0 done), so a stalled job's rate falls to 0; null while the job has run less than
 * RATE_MIN_SPAN_MS. Final: over the whole run, null when it lasted less than RATE_MIN_SPAN_MS.
 * Queued: null.
 */
export function rateOf(job: Pick<JobHeader, 'startedAt' | 'finishedAt' | 'completed' | 'failed' | 'rateSamples'>, now: number): number | null {
  if (job.startedAt === undefined) return null;
  if (job.finishedAt !== undefined) return perSecond(job.completed + job.failed, job.finishedAt - job.startedAt);
  const ring = [job.startedAt, 0, ...(job.rateSamples ?? [])];
  const headAt = ring[ring.length - 2];
  const end = Math.max(now, headAt);
  // The base: the newest sample at or before the window's start, else the oldest one.
  let base = 0;
  for (let i = 2; i < ring.length; i += 2) if (ring[i] <= end - RATE_WINDOW_MS) base = i;
  return perSecond(ring[ring.length - 1] - ring[base + 1], end - ring[base]);
}

/**
 * Milliseconds to the end at `rate`: 0 once the job is final; null when the rate is unknown or 0, or
 * nothing is known to remain. What remains is total − finished tasks or, when the kind reports
 * more work it has not made tasks yet (a crawl's summary.queued), that: a crawl may still
 * discover pages, so its ETA is a lower bound.
 */
export function etaOf(job: Pick<JobHeader, 'finishedAt' | 'total' | 'completed' | 'failed' | 'cancelled' | 'summary'>, rate: number | null): number | null {
  if (job.finishedAt !== undefined) return 0;
  const remaining = Math.max(job.total - job.completed - job.failed - job.cancelled, job.summary?.queued ?? 0);
  if (rate === null || rate <= 0 || remaining <= 0) return null;
  return Math.round((remaining / rate) * 1000);
}

function perSecond(done: number, spanMs: number): number | null {
  if (!(spanMs >= RATE_MIN_SPAN_MS)) return null;
  return Math.round((done / spanMs) * 100_000) / 100;
}

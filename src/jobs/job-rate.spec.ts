import { describe, expect, it } from 'vitest';
import { addSample, etaOf, RATE_MAX_SAMPLES, RATE_WINDOW_MS, rateOf } from './job-rate';

const T0 = 1_800_000_000_000;

/** The ring after writes at these offsets from T0 leaving these done counts. */
function ringOf(writes: [number, number][]): number[] | undefined {
  let ring: number[] | undefined;
  for (const [at, done] of writes) ring = addSample(ring, T0 + at, done);
  return ring;
}

const running = (over: Partial<Parameters<typeof rateOf>[0]> = {}) => ({ startedAt: T0, completed: 0, failed: 0, rateSamples: undefined, ...over });

describe('addSample', () => {
  it('moves the newest sample until it is a second past the one before, then adds one', () => {
    expect(ringOf([[100, 1]])).toEqual([T0 + 100, 1]);
    expect(
      ringOf([
        [100, 1],
        [200, 2],
      ]),
    ).toEqual([T0 + 100, 1, T0 + 200, 2]);
    expect(
      ringOf([
        [100, 1],
        [200, 2],
        [900, 5],
      ]),
    ).toEqual([T0 + 100, 1, T0 + 900, 5]);
    expect(
      ringOf([
        [100, 1],
        [200, 2],
        [1100, 6],
        [1200, 7],
      ]),
    ).toEqual([T0 + 100, 1, T0 + 1100, 6, T0 + 1200, 7]);
  });

  it('keeps the window plus one sample before it, and never more than its bound', () => {
    const writes: [number, number][] = [];
    for (let s = 0; s <= 60; s++) writes.push([s * 1000, s * 10]);
    const ring = ringOf(writes)!;
    expect(ring.length / 2).toBeLessThanOrEqual(RATE_MAX_SAMPLES);
    expect(ring[0]).toBeLessThanOrEqual(T0 + 60_000 - RATE_WINDOW_MS);
    expect(ring[2]).toBeGreaterThan(T0 + 60_000 - RATE_WINDOW_MS);
  });

  it('never lets time run backwards (a writer whose clock is behind)', () => {
    const ring = ringOf([
      [5000, 1],
      [4000, 2],
    ])!;
    expect(ring).toEqual([T0 + 5000, 1, T0 + 5000, 2]);
  });

  it('a thousand writes a second keep the ring bounded', () => {
    const writes: [number, number][] = [];
    for (let ms = 0; ms < 30_000; ms++) writes.push([ms, ms]);
    expect(ringOf(writes)!.length / 2).toBeLessThanOrEqual(RATE_MAX_SAMPLES);
  });
});

describe('rateOf', () => {
  it('is null while queued and in the first second of a run', () => {
    expect(rateOf({ completed: 0, failed: 0 }, T0)).toBeNull();
    expect(rateOf(running({ rateSamples: [T0 + 10, 1] }), T0 + 13)).toBeNull();
  });

  it('counts from the start while the run is younger than the window', () => {
    expect(
      rateOf(
        running({
          rateSamples: ringOf([
            [1000, 10],
            [2000, 20],
          ]),
        }),
        T0 + 2000,
      ),
    ).toBe(10);
  });

  it('measures the last window, not the whole run', () => {
    const writes: [number, number][] = [];
    // 1 task/s for 30 s, then 100 tasks/s for 20 s.
    for (let s = 1; s <= 30; s++) writes.push([s * 1000, s]);
    for (let s = 31; s <= 50; s++) writes.push([s * 1000, 30 + (s - 30) * 100]);
    const rate = rateOf(running({ rateSamples: ringOf(writes) }), T0 + 50_000)!;
    expect(rate).toBeGreaterThan(90);
    expect(rate).toBeLessThanOrEqual(100);
  });

  it('falls to 0 when nothing finished for a window', () => {
    const rateSamples = ringOf([
      [1000, 10],
      [2000, 20],
    ]);
    expect(rateOf(running({ rateSamples }), T0 + 2000 + RATE_WINDOW_MS + 1)).toBe(0);
  });

  it('over the whole run once final; null for a run under a second (no "76.9 tasks/s" for one failed page)', () => {
    expect(rateOf({ startedAt: T0, finishedAt: T0 + 4000, completed: 30, failed: 10 }, T0 + 99_000)).toBe(10);
    expect(rateOf({ startedAt: T0, finishedAt: T0 + 13, completed: 0, failed: 1 }, T0 + 13)).toBeNull();
  });
});

describe('etaOf', () => {
  const job = { total: 100, completed: 40, failed: 10, cancelled: 0 };

  it('is what remains at the rate', () => {
    expect(etaOf(job, 10)).toBe(5000);
  });

  it('is null without a rate, at 0, or with nothing known to remain; 0 once final', () => {
    expect(etaOf(job, null)).toBeNull();
    expect(etaOf(job, 0)).toBeNull();
    expect(etaOf({ ...job, completed: 90 }, 10)).toBeNull();
    expect(etaOf({ ...job, finishedAt: T0 }, null)).toBe(0);
  });

  it("takes a crawl's queued pages when they are more than its unfinished tasks", () => {
    expect(etaOf({ total: 10, completed: 10, failed: 0, cancelled: 0, summary: { queued: 20 } }, 4)).toBe(5000);
    expect(etaOf({ total: 30, completed: 10, failed: 0, cancelled: 0, summary: { queued: 5 } }, 4)).toBe(5000);
  });
});

/** Timing and number formatting shared by the benchmark cases. */

/** How many timed runs each measurement gets by default; the median is printed. Warm-ups are separate and cheap. */
export const RUNS = 5;

export interface Sample<T> {
  /** Median wall time of the timed runs, in ms. */
  ms: number;
  /** Every timed run, in ms, in the order they ran. */
  runs: number[];
  /** What the median run returned (for breakdowns and correctness checks). */
  value: T;
}

/** Milliseconds since `start` (a performance.now() reading). */
export function since(start: number): number {
  return performance.now() - start;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface Timed<T> {
  ms: number;
  value: T;
}

type Measured = () => Timed<unknown> | Promise<Timed<unknown>>;

/**
 * Runs every function `runs` times, in rounds (each round calls them all, in the given order), and
 * keeps each one's median. Interleaving means that a neighbour process busy for part of the run
 * slows both sides of a comparison alike instead of one. The functions report their own elapsed
 * time, so set-up and checks stay out of the figures. Nothing runs concurrently: on 2 cores,
 * anything running beside a measurement would be measured too.
 */
export async function measureRounds<F extends Record<string, Measured>>(fns: F, runs = RUNS): Promise<{ [K in keyof F]: Sample<Awaited<ReturnType<F[K]>>['value']> }> {
  const results = new Map<keyof F, Timed<unknown>[]>();
  for (let round = 0; round < runs; round++) {
    for (const key of Object.keys(fns) as (keyof F)[]) {
      const result = await fns[key]();
      results.set(key, [...(results.get(key) ?? []), result]);
    }
  }
  const samples = {} as Record<keyof F, Sample<unknown>>;
  for (const [key, runs] of results) {
    const ms = runs.map((r) => r.ms);
    const mid = median(ms);
    samples[key] = { ms: mid, runs: ms, value: (runs.find((r) => r.ms === mid) ?? runs[0]).value };
  }
  return samples as { [K in keyof F]: Sample<Awaited<ReturnType<F[K]>>['value']> };
}

/** 1234.5 -> "1,235 ms", 12.34 -> "12.3 ms", 0.5 -> "0.50 ms". */
export function fmtMs(ms: number): string {
  if (ms >= 100) return `${Math.round(ms).toLocaleString('en-US')} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtRuns(runs: readonly number[]): string {
  return runs.map((ms) => Math.round(ms)).join('/');
}

export function fmtRatio(x: number): string {
  return `${x.toFixed(2)}x`;
}

/** Deterministic PRNG (mulberry32): the same inputs on every run and machine. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` integers drawn uniformly from from..to (inclusive). */
export function randomInts(count: number, from: number, to: number, seed: number): number[] {
  const next = prng(seed);
  return Array.from({ length: count }, () => from + Math.floor(next() * (to - from + 1)));
}

/** Smallest, median and largest of some runs. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

/** "min / median / max", each formatted by `fmt`; runs that all agree (or a single run) print as one number. */
export function fmtSpread(values: readonly number[], fmt: (x: number) => string): string {
  const s = spread(values);
  return s.min === s.max ? fmt(s.median) : `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`;
}

/**
 * Calls per timed batch: doubled from 1 until every function's batch lasts at least `targetMs`,
 * so the timer's resolution does not matter. The doubling is the warm-up too. Each function takes
 * a batch size and answers the batch's total ms.
 */
export function batchToFill(fns: readonly ((calls: number) => number)[], targetMs: number, maxCalls = 1 << 20): number {
  let calls = 1;
  while (calls < maxCalls && Math.min(...fns.map((fn) => fn(calls))) < targetMs) calls *= 2;
  return calls;
}

/**
 * Computes one pool task's worth of Fibonacci numbers. Pure: callers pass the GMP binding in
 * and receive each value through a callback, so it runs the same in a worker or a unit test.
 */
import { fibPair } from './fib-bigint';
import { fibGmp, type Gmp } from './fib-gmp';

/** Below this n V8's BigInt is faster than gmp-wasm (measured: docs/benchmarks.md, engines). */
export const GMP_MIN_N = 10_000;
/**
 * From this n a value is converted to hexadecimal (`?format=hex`) on a worker thread, when a
 * page asks for it: below it a conversion on the main thread takes at most ~10 µs (F(9,999),
 * 2,090 digits), at F(49,999) 0.17 ms, which made a page of 2,000 such values block the main
 * thread for 0.35-0.6 s. Not stored with the value: a copy as big as the value, kept for every
 * result (and sent to Redis in the cluster mode), for a format few ask for.
 */
export const HEX_MIN_N = GMP_MIN_N;
/** From this n a number reports intra-task progress (it takes tens of milliseconds or more). */
export const PROGRESS_MIN_N = 100_000;
/** log10(φ): F(n) has about n·LOG10_PHI decimal digits. */
export const LOG10_PHI = Math.log10((1 + Math.sqrt(5)) / 2);

export interface FibItem {
  index: number;
  n: number;
}

export interface FibValue {
  n: number;
  /** Exact decimal text. */
  value: string;
  /** Hexadecimal text, made for a `format=hex` page (never stored). */
  hex?: string;
  digits: number;
  ms: number;
}

export interface ChunkHooks {
  onStart?(index: number): void;
  onDone(index: number, value: FibValue): void;
  onFail(index: number, error: string): void;
  /** Fraction of doubling steps done, for numbers big enough to take a while. */
  onProgress?(index: number, fraction: number): void;
}

/** Estimated decimal digits of F(n), for result-size limits before anything is computed. */
export function estimateDigits(n: number): number {
  return n < 2 ? 1 : Math.ceil(n * LOG10_PHI);
}

/**
 * Small n are computed in one ascending pass: stepping F(k) -> F(k+1) by addition is far
 * cheaper than a fresh doubling when the next n is close. Large n get one doubling each,
 * on GMP, with step progress.
 */
export function computeChunk(items: readonly FibItem[], gmp: Gmp | undefined, hooks: ChunkHooks): void {
  const sorted = [...items].sort((x, y) => x.n - y.n);
  let k = -1;
  let a = 0n; // F(k)
  let b = 0n; // F(k+1)
  for (const { index, n } of sorted) {
    hooks.onStart?.(index);
    const started = performance.now();
    try {
      if (n >= GMP_MIN_N && gmp) {
        const onStep = n >= PROGRESS_MIN_N && hooks.onProgress ? (done: number, total: number) => hooks.onProgress!(index, done / total) : undefined;
        const { decimal } = fibGmp(gmp, n, { onStep });
        hooks.onDone(index, { n, value: decimal, digits: decimal.length, ms: elapsed(started) });
        continue;
      }
      if (k >= 0 && n - k <= stepLimit(n)) {
        for (; k < n; k++) [a, b] = [b, a + b];
      } else {
        [a, b] = fibPair(n);
        k = n;
      }
      const value = a.toString();
      hooks.onDone(index, { n, value, digits: value.length, ms: elapsed(started) });
    } catch (err) {
      hooks.onFail(index, err instanceof Error ? err.message : String(err));
    }
  }
}

/** How many additions are still cheaper than one fast doubling from scratch. */
function stepLimit(n: number): number {
  return 8 * Math.log2(n + 2) + 32;
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 1000) / 1000;
}

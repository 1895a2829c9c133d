/**
 * Fibonacci numbers with V8's BigInt. Pure: no I/O, no Nest, safe to run in a worker.
 *
 * Fast doubling: F(2k) = F(k)·(2F(k+1) − F(k)), F(2k+1) = F(k)² + F(k+1)², so F(n) costs
 * O(M(n)·log n) — one step per bit of n instead of n additions.
 */

/** Reports how far a long computation is: `done` of `total` doubling steps. */
export type StepListener = (done: number, total: number) => void;

/** Returns [F(n), F(n+1)]. */
export function fibPair(n: number, onStep?: StepListener): [bigint, bigint] {
  assertIndex(n);
  let a = 0n; // F(k)
  let b = 1n; // F(k+1)
  const steps = n === 0 ? 0 : 32 - Math.clz32(n);
  for (let bit = steps - 1; bit >= 0; bit--) {
    const c = a * ((b << 1n) - a); // F(2k)
    const d = a * a + b * b; // F(2k+1)
    if ((n >>> bit) & 1) {
      a = d;
      b = c + d;
    } else {
      a = c;
      b = d;
    }
    onStep?.(steps - bit, steps);
  }
  return [a, b];
}

export function fib(n: number, onStep?: StepListener): bigint {
  return fibPair(n, onStep)[0];
}

/** n must be a non-negative 32-bit safe integer: the doubling walks its bits with `>>>`. */
export function assertIndex(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`n must be an integer in 0..${0xffffffff}, got ${n}`);
  }
}

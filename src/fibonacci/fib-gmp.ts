/**
 * Fibonacci numbers with GMP compiled to WebAssembly (gmp-wasm). Pure apart from the one-off
 * WebAssembly instantiation; no Nest, safe to run in a worker.
 *
 * Why it exists next to BigInt: for large n the decimal conversion dominates, and GMP's
 * subquadratic mpz_get_str beats V8's BigInt#toString there (see docs/benchmarks.md, engines).
 */
import { init } from 'gmp-wasm';
import type { StepListener } from './fib-bigint';
import { assertIndex } from './fib-bigint';

/** The few GMP calls used here; gmp-wasm's own types brand every integer argument. */
export interface Gmp {
  mpz_t(): number;
  mpz_t_frees(...ptrs: number[]): void;
  mpz_init(x: number): void;
  mpz_init_set_ui(x: number, v: number): void;
  mpz_clear(x: number): void;
  mpz_mul(r: number, a: number, b: number): void;
  mpz_mul_2exp(r: number, a: number, bits: number): void;
  mpz_add(r: number, a: number, b: number): void;
  mpz_sub(r: number, a: number, b: number): void;
  mpz_swap(a: number, b: number): void;
  mpz_to_string(x: number, base: number): string;
  mpz_init_set_string(x: number, input: string, base: number): number;
}

let binding: Promise<Gmp> | undefined;

/** Instantiates the WebAssembly module once per thread. */
export function loadGmp(): Promise<Gmp> {
  binding ??= init().then((lib) => lib.binding as unknown as Gmp);
  return binding;
}

export interface GmpFibResult {
  decimal: string;
}

/** F(n) by fast doubling on GMP integers, returned as decimal text. */
export function fibGmp(gmp: Gmp, n: number, opts: { onStep?: StepListener } = {}): GmpFibResult {
  const { onStep } = opts;
  assertIndex(n);
  const [a, b, t] = [gmp.mpz_t(), gmp.mpz_t(), gmp.mpz_t()];
  gmp.mpz_init_set_ui(a, 0); // F(k)
  gmp.mpz_init_set_ui(b, 1); // F(k+1)
  gmp.mpz_init(t);
  try {
    const steps = n === 0 ? 0 : 32 - Math.clz32(n);
    for (let bit = steps - 1; bit >= 0; bit--) {
      // t = F(2k) = F(k)·(2F(k+1) − F(k))
      gmp.mpz_mul_2exp(t, b, 1);
      gmp.mpz_sub(t, t, a);
      gmp.mpz_mul(t, t, a);
      // b = F(2k+1) = F(k)² + F(k+1)²
      gmp.mpz_mul(a, a, a);
      gmp.mpz_mul(b, b, b);
      gmp.mpz_add(b, b, a);
      if ((n >>> bit) & 1) {
        gmp.mpz_swap(a, b); // a = F(2k+1)
        gmp.mpz_add(b, a, t); // b = F(2k+2)
      } else {
        gmp.mpz_swap(a, t); // a = F(2k), b already F(2k+1)
      }
      onStep?.(steps - bit, steps);
    }
    return { decimal: gmp.mpz_to_string(a, 10) };
  } finally {
    gmp.mpz_clear(a);
    gmp.mpz_clear(b);
    gmp.mpz_clear(t);
    gmp.mpz_t_frees(a, b, t);
  }
}

/** Decimal text to hexadecimal, in subquadratic time (BigInt's parse and print are quadratic). */
export function decimalToHex(gmp: Gmp, decimal: string): string {
  const x = gmp.mpz_t();
  if (gmp.mpz_init_set_string(x, decimal, 10) !== 0) {
    gmp.mpz_t_frees(x);
    throw new Error('not a decimal integer');
  }
  try {
    return gmp.mpz_to_string(x, 16);
  } finally {
    gmp.mpz_clear(x);
    gmp.mpz_t_frees(x);
  }
}

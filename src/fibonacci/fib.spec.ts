import { beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng';
import { fib, fibPair } from './fib-bigint';
import { decimalToHex, fibGmp, loadGmp, type Gmp } from './fib-gmp';

/** Deterministic (m, n) pairs with m >= 1 (the identity needs F(m-1)), some up to 20 000. */
function pairs(count: number, seed: number): [number, number][] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    // Every fourth pair is large so the identity is checked on multi-thousand-digit values.
    const max = i % 4 === 0 ? 20_000 : 300;
    return [1 + Math.floor(rand() * max), Math.floor(rand() * max)];
  });
}

let gmp: Gmp;
beforeAll(async () => {
  gmp = await loadGmp();
});

/** Both engines behind one signature, as decimal-exact bigints. */
const engines: [string, (n: number) => bigint][] = [
  ['bigint', (n) => fib(n)],
  ['gmp', (n) => BigInt(fibGmp(gmp, n).decimal)],
];

describe.each(engines)('%s engine', (_name, F) => {
  it('knows the small and well-known values', () => {
    expect(F(0)).toBe(0n);
    expect(F(1)).toBe(1n);
    expect(F(2)).toBe(1n);
    expect(F(90)).toBe(2880067194370816120n);
    const f1000 = F(1000).toString();
    expect(f1000).toHaveLength(209);
    expect(f1000.endsWith('849228875')).toBe(true);
  });

  it('satisfies F(m+n) = F(m)F(n+1) + F(m-1)F(n) on seeded random pairs', () => {
    // Fast doubling uses exactly this identity with m = n; random m != n catch bit-walk slips.
    for (const [m, n] of pairs(300, 0xf1b0)) {
      expect(F(m + n), `m=${m} n=${n}`).toBe(F(m) * F(n + 1) + F(m - 1) * F(n));
    }
  });

  it('matches the recurrence for every n up to 300', () => {
    let [a, b] = [0n, 1n];
    for (let n = 0; n <= 300; n++) {
      expect(F(n), `n=${n}`).toBe(a);
      [a, b] = [b, a + b];
    }
  });
});

describe('fibPair', () => {
  it('returns [F(n), F(n+1)]', () => {
    expect(fibPair(0)).toEqual([0n, 1n]);
    expect(fibPair(10)).toEqual([55n, 89n]);
    expect(fibPair(91)).toEqual([fib(91), fib(92)]);
  });
});

describe('engines agree', () => {
  // Powers of two and their neighbours flip every bit pattern edge of the doubling walk.
  const spread = [0, 1, 2, 3, 4, 7, 8, 64, 255, 256, 1023, 1024, 4096, 65_536, 10_000, 10_001, 50_000, 99_999, 131_072, 200_000];
  it.each(spread)('F(%i)', (n) => {
    expect(fibGmp(gmp, n).decimal).toBe(fib(n).toString());
  });
});

describe('decimalToHex', () => {
  it('gives BigInt(decimal).toString(16), and refuses what is not a decimal integer', () => {
    for (const n of [0, 1, 90, 1000, 50_000]) {
      const { decimal } = fibGmp(gmp, n);
      expect(decimalToHex(gmp, decimal)).toBe(BigInt(decimal).toString(16));
    }
    expect(() => decimalToHex(gmp, '12x4')).toThrow(/not a decimal integer/);
  });
});

describe('step reporting', () => {
  const runners: [string, (n: number, onStep: (d: number, t: number) => void) => void][] = [
    ['bigint', (n, onStep) => fib(n, onStep)],
    ['gmp', (n, onStep) => fibGmp(gmp, n, { onStep })],
  ];
  it.each(runners)('%s reports increasing steps ending at total', (_name, run) => {
    for (const n of [1, 2, 1000, 100_000]) {
      const seen: [number, number][] = [];
      run(n, (done, total) => seen.push([done, total]));
      const total = Math.floor(Math.log2(n)) + 1; // one step per bit of n
      expect(seen.map(([d]) => d)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(seen.every(([, t]) => t === total)).toBe(true);
    }
    // F(0) needs no doubling at all, so no step may be claimed.
    const none: number[] = [];
    run(0, (done) => none.push(done));
    expect(none).toEqual([]);
  });
});

describe('invalid n', () => {
  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32])('rejects %s with RangeError', (n) => {
    expect(() => fib(n)).toThrow(RangeError);
    expect(() => fibPair(n)).toThrow(RangeError);
    expect(() => fibGmp(gmp, n)).toThrow(RangeError);
  });
});

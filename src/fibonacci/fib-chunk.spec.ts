import { beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng';
import { fib } from './fib-bigint';
import { computeChunk, estimateDigits, GMP_MIN_N, HEX_MIN_N, PROGRESS_MIN_N, type FibItem, type FibValue } from './fib-chunk';
import { loadGmp, type Gmp } from './fib-gmp';

/** Fisher-Yates with a seeded PRNG: unsorted input is the point, but it must reproduce. */
function shuffled<T>(values: T[], seed: number): T[] {
  const out = [...values];
  const rand = prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Runs of neighbours take the one-pass stepping path; the jumps (500 -> 5 000 -> 9 000) are far
 * beyond the step limit, so they force a fresh doubling mid-pass; duplicates make a zero step.
 */
const SMALL = [0, 1, 1, 2, 3, 3, 10, 11, 12, 40, 500, 501, 503, 5_000, 5_030, 9_000, 9_000, GMP_MIN_N - 1];
/** One per regime above GMP_MIN_N: below hex, hex without progress, and with progress. */
const LARGE = [GMP_MIN_N, 20_000, HEX_MIN_N - 1, HEX_MIN_N, 60_000, PROGRESS_MIN_N - 1, PROGRESS_MIN_N, 120_000, 120_000];

interface Run {
  done: Map<number, FibValue>;
  doneCalls: number;
  fails: [number, string][];
  progress: Map<number, number[]>;
}

function run(items: FibItem[], gmp: Gmp | undefined): Run {
  const out: Run = { done: new Map(), doneCalls: 0, fails: [], progress: new Map() };
  computeChunk(items, gmp, {
    onDone: (index, value) => {
      out.doneCalls++;
      expect(out.done.has(index), `index ${index} reported twice`).toBe(false);
      out.done.set(index, value);
    },
    onFail: (index, error) => out.fails.push([index, error]),
    onProgress: (index, fraction) => {
      const list = out.progress.get(index) ?? [];
      list.push(fraction);
      out.progress.set(index, list);
    },
  });
  return out;
}

const expected = new Map<number, string>();
const fibOf = (n: number) => {
  if (!expected.has(n)) expected.set(n, fib(n).toString());
  return expected.get(n)!;
};

function checkAll(items: FibItem[], result: Run): void {
  expect(result.fails).toEqual([]);
  expect(result.doneCalls).toBe(items.length);
  for (const { index, n } of items) {
    const value = result.done.get(index);
    expect(value, `index ${index} (n=${n}) never reported`).toBeDefined();
    expect(value!.n).toBe(n);
    expect(value!.value, `n=${n}`).toBe(fibOf(n));
    expect(value!.digits).toBe(value!.value.length);
    expect(value!.ms).toBeGreaterThanOrEqual(0);
    // Hexadecimal is made for a format=hex page when it is read, never with the value.
    expect(value!.hex).toBeUndefined();
  }
}

let gmp: Gmp;
beforeAll(async () => {
  gmp = await loadGmp();
});

describe('computeChunk', () => {
  const ns = shuffled([...SMALL, ...LARGE], 7);
  const items = ns.map((n, index) => ({ index, n }));

  it('reports every index once with the right value, with gmp for large n', () => {
    checkAll(items, run(items, gmp));
  });

  it('still computes large n exactly without a gmp binding', () => {
    checkAll(items, run(items, undefined));
  });

  it('reports progress only for n >= PROGRESS_MIN_N, rising within (0, 1] to 1', () => {
    const result = run(items, gmp);
    const progressed = items.filter(({ n }) => n >= PROGRESS_MIN_N).map(({ index }) => index);
    expect([...result.progress.keys()].sort((a, b) => a - b)).toEqual(progressed.sort((a, b) => a - b));
    for (const fractions of result.progress.values()) {
      expect(fractions.every((f) => f > 0 && f <= 1)).toBe(true);
      expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
      expect(fractions.at(-1)).toBe(1);
    }
  });

  it('handles a long run of consecutive n in any order (the stepping path)', () => {
    const many = shuffled(
      Array.from({ length: 400 }, (_, i) => 2_000 + i),
      11,
    ).map((n, index) => ({ index, n }));
    checkAll(many, run(many, gmp));
  });

  it('calls onStart for each index before its onDone', () => {
    const order: string[] = [];
    computeChunk(
      [
        { index: 0, n: 5 },
        { index: 1, n: 3 },
      ],
      undefined,
      {
        onStart: (index) => order.push(`start ${index}`),
        onDone: (index) => order.push(`done ${index}`),
        onFail: () => order.push('fail'),
      },
    );
    // Sorted by n: index 1 (n=3) goes first.
    expect(order).toEqual(['start 1', 'done 1', 'start 0', 'done 0']);
  });

  it('fails only the invalid item and carries on', () => {
    const mixed = [
      { index: 0, n: 4 },
      { index: 1, n: -3 },
      { index: 2, n: 6 },
    ];
    const result = run(mixed, gmp);
    expect(result.fails.map(([index]) => index)).toEqual([1]);
    expect(result.fails[0][1]).toMatch(/n must be an integer/);
    expect(result.done.get(0)!.value).toBe('3');
    expect(result.done.get(2)!.value).toBe('8');
  });
});

describe('estimateDigits', () => {
  it('is within one digit of the true count', () => {
    const spread = [0, 1, 2, 5, 10, 45, 46, 100, 999, 1_000, 4_785, 10_000, 33_333, 100_000, 250_000];
    for (const n of spread) {
      expect(Math.abs(estimateDigits(n) - fibOf(n).length), `n=${n}`).toBeLessThanOrEqual(1);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng';
import { HEX_MIN_N, type FibItem } from './fib-chunk';
import { estimateResultBytes, itemCost, planChunks } from './fibonacci.planner';

/**
 * The invariants every plan must keep, whatever the batch: the job relies on each of them.
 * Collected as text and asserted once, because an expect() per item makes 100k-item plans slow.
 */
function checkPlan(numbers: number[], chunks: FibItem[][]): void {
  const problems: string[] = [];
  const seen = new Array<number>(numbers.length).fill(0);
  chunks.forEach((chunk, c) => {
    if (chunk.length === 0 || chunk.length > 4096) problems.push(`chunk ${c} has ${chunk.length} items`);
    chunk.forEach(({ index, n }, i) => {
      seen[index]++;
      if (n !== numbers[index]) problems.push(`chunk ${c}: index ${index} carries n=${n}, not ${numbers[index]}`);
      // Ascending n is what lets computeChunk step instead of doubling.
      if (i > 0 && n < chunk[i - 1].n) problems.push(`chunk ${c} not ascending at ${i}`);
    });
  });
  // Every index exactly once: a lost index would leave a task queued forever.
  seen.forEach((count, index) => count !== 1 && problems.push(`index ${index} planned ${count} times`));
  expect(problems.slice(0, 10)).toEqual([]);
}

describe('planChunks', () => {
  it('plans an empty batch as no chunks', () => {
    expect(planChunks([], 4)).toEqual([]);
  });

  it('covers a shuffled batch with duplicates exactly once', () => {
    const rand = prng(3);
    const numbers = Array.from({ length: 3_000 }, () => Math.floor(rand() * 50_000));
    numbers.push(...numbers.slice(0, 200)); // duplicates
    checkPlan(numbers, planChunks(numbers, 4));
  });

  it('never puts more than 4096 items in a chunk, even when each is cheap', () => {
    // 100 000 tiny numbers cost ~5 M digit-equivalents: the cost cap alone would allow ~4 900 a chunk.
    const numbers = new Array<number>(100_000).fill(0);
    const chunks = planChunks(numbers, 1);
    checkPlan(numbers, chunks);
    expect(Math.max(...chunks.map((c) => c.length))).toBe(4096);
  });

  it.each([1, 2, 4, 8, 32])('gives %i workers at least one chunk each on a big batch', (workers) => {
    const numbers = Array.from({ length: 20_000 }, (_, i) => i);
    const chunks = planChunks(numbers, workers);
    checkPlan(numbers, chunks);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.min(numbers.length, workers));
  });

  it('sends a tiny batch as one task: dispatch would cost more than the work', () => {
    const numbers = [10, 2_000, 30_000];
    const chunks = planChunks(numbers, 8);
    checkPlan(numbers, chunks);
    expect(chunks).toHaveLength(1);
  });

  it('gives a small batch of big numbers one chunk per number, to use every worker', () => {
    const numbers = [200_000, 300_000, 400_000];
    const chunks = planChunks(numbers, 8);
    checkPlan(numbers, chunks);
    expect(chunks).toHaveLength(3);
  });

  it('puts a huge n alone in its own chunk, and first', () => {
    const numbers = [...Array.from({ length: 1_000 }, (_, i) => i), 5_000_000, 1_001];
    const chunks = planChunks(numbers, 2);
    checkPlan(numbers, chunks);
    const huge = chunks.find((c) => c.some((item) => item.n === 5_000_000))!;
    expect(huge).toEqual([{ index: 1_000, n: 5_000_000 }]);
    // Biggest chunks go first so the long task does not finish last on one core.
    expect(chunks[0]).toBe(huge);
  });
});

describe('estimateResultBytes', () => {
  it('is zero for nothing and adds up per number', () => {
    expect(estimateResultBytes([])).toBe(0);
    expect(estimateResultBytes([10, 20])).toBe(estimateResultBytes([10]) + estimateResultBytes([20]));
  });

  it('grows with n', () => {
    expect(estimateResultBytes([1_000])).toBeGreaterThan(estimateResultBytes([100]));
    expect(estimateResultBytes([HEX_MIN_N - 1])).toBeGreaterThan(estimateResultBytes([1_000]));
  });

  it('counts the decimal text only (hexadecimal is made when a page asks for it, never stored)', () => {
    const below = estimateResultBytes([HEX_MIN_N - 1]);
    const at = estimateResultBytes([HEX_MIN_N]);
    // One more n adds less than a digit.
    expect(at - below).toBeLessThanOrEqual(1);
    expect(estimateResultBytes([HEX_MIN_N])).toBe(itemCost(HEX_MIN_N));
  });
});

describe('planChunks order', () => {
  it('orders by n then by index, every number once, exactly as a comparator sort would', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const numbers = Array.from({ length: 20_000 }, () => Math.floor(random() * 100_000_000));
    numbers.push(0, 100_000_000, 5, 5, 5);
    const planned = planChunks(numbers, 2).reverse().flat();
    const expected = numbers.map((n, index) => ({ index, n })).sort((a, b) => a.n - b.n || a.index - b.index);
    expect(planned).toEqual(expected);
  });
});

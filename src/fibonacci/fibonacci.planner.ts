/**
 * Splits a batch into pool tasks. Pure. Numbers are grouped in ascending order, so a chunk of
 * small n can be computed in one pass, and each chunk carries about the same amount of work:
 * enough that dispatch cost does not dominate, little enough that every worker gets a share.
 */
import { estimateDigits, type FibItem } from './fib-chunk';

/** Work of one chunk, in estimated output digits; about 5 ms of computing here. */
const MAX_CHUNK_COST = 250_000;
/** Below about 0.5 ms of work a chunk costs more to dispatch than to compute: tiny jobs are one task. */
const MIN_CHUNK_COST = 20_000;
const MAX_CHUNK_ITEMS = 4_096;
/** Fixed per-number overhead (conversion, message), in digit-equivalents. */
const ITEM_OVERHEAD = 50;

export function itemCost(n: number): number {
  return estimateDigits(n) + ITEM_OVERHEAD;
}

/** Index bits in a sort key: FIB_MAX_NUMBERS is at most 10,000,000 (< 2^24). */
const INDEX_BITS = 2 ** 24;

/**
 * The numbers as items in ascending order of n (then of index). Sorted as numeric keys
 * n * 2^24 + index in a Float64Array (exact below 2^53, since n <= 10^8): a native numeric sort,
 * several times faster on the main thread than sorting 100,000 objects with a comparator.
 */
function ascending(numbers: readonly number[]): FibItem[] {
  if (numbers.length >= INDEX_BITS) return numbers.map((n, index) => ({ index, n })).sort((a, b) => a.n - b.n || a.index - b.index);
  const keys = new Float64Array(numbers.length);
  for (let index = 0; index < numbers.length; index++) keys[index] = numbers[index] * INDEX_BITS + index;
  keys.sort();
  const items = new Array<FibItem>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const index = keys[i] % INDEX_BITS;
    items[i] = { index, n: (keys[i] - index) / INDEX_BITS };
  }
  return items;
}

export function planChunks(numbers: readonly number[], workers: number): FibItem[][] {
  const items = ascending(numbers);
  const totalCost = items.reduce((sum, item) => sum + itemCost(item.n), 0);
  // At least a few chunks per worker when the batch allows, so all cores work to the end.
  const budget = Math.max(MIN_CHUNK_COST, Math.min(MAX_CHUNK_COST, Math.ceil(totalCost / (workers * 4))));
  const chunks: FibItem[][] = [];
  let chunk: FibItem[] = [];
  let cost = 0;
  for (const item of items) {
    const c = itemCost(item.n);
    if (chunk.length > 0 && (cost + c > budget || chunk.length >= MAX_CHUNK_ITEMS)) {
      chunks.push(chunk);
      chunk = [];
      cost = 0;
    }
    chunk.push(item);
    cost += c;
  }
  if (chunk.length > 0) chunks.push(chunk);
  // Biggest first: the longest tasks start early instead of finishing last on one core.
  return chunks.reverse();
}

/** Bytes the results of these numbers will take (their decimal text). */
export function estimateResultBytes(numbers: readonly number[]): number {
  let bytes = 0;
  for (const n of numbers) bytes += estimateDigits(n) + ITEM_OVERHEAD;
  return bytes;
}

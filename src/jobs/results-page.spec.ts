import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config';
import { type FibValue, HEX_MIN_N } from '../fibonacci/fib-chunk';
import { FibonacciKind } from '../fibonacci/fibonacci.kind';
import type { RunOptions, TaskScheduler } from '../pool/task-scheduler';
import type { JobHeader, TaskRecord } from './job-data';
import { JobKinds } from './job-kinds';
import { MemoryJobStore } from '../backends/memory/memory-job.store';
import { type PageRequest, pageOfResults } from './results-page';

// These pages hold values below HEX_MIN_N only: the kind never needs its pool (it would throw).
const noPool = { run: () => Promise.reject(new Error('no pool in this test')) } as unknown as TaskScheduler;
const kind = new FibonacciKind({ POOL_SIZE: 1 } as AppConfig, new JobKinds());
const stores: MemoryJobStore[] = [];

/** The memory store, counting what the page reads from it. */
class CountingStore extends MemoryJobStore {
  reads: number[] = [];

  override async tasks(id: string, offset: number, limit: number): Promise<TaskRecord[]> {
    const records = await super.tasks(id, offset, limit);
    this.reads.push(records.length);
    return records;
  }
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A pool that converts on the spot and counts what it was asked to convert, and for whom. */
class CountingPool {
  values = 0;
  tasks = 0;
  owners = new Set<string | undefined>();

  async run(_worker: string, payload: { hexOf?: string[] }, options: RunOptions): Promise<void> {
    if (!payload.hexOf) throw new Error('only conversions are expected');
    this.tasks++;
    this.values += payload.hexOf.length;
    this.owners.add(options.presentFor);
    options.onUpdates(payload.hexOf.map((value, index) => ({ index, state: 'completed', result: BigInt(value).toString(16) })));
  }
}

/**
 * A finished job in a fresh store whose task i holds a value of sizes[i] digits (no worker needed
 * to page it); its numbers start at `firstN` (from HEX_MIN_N, hex is converted on the pool).
 */
async function jobOf(sizes: number[], firstN = 0): Promise<{ store: CountingStore; job: JobHeader }> {
  const store = new CountingStore({ maxAgeMs: 3_600_000, maxCount: 100, maxBytes: 1e9 });
  stores.push(store);
  const { version } = await store.admission('caller');
  const reservation = { tasks: sizes.length, resultBytes: 0 };
  const inputs = sizes.map((_, i) => firstN + i);
  expect(await store.create({ id: 'job', kind: 'fibonacci', callerId: 'caller', reservation, createdAt: Date.now() }, inputs, version)).toBe(true);
  await store.start('job', Date.now());
  await store.apply(
    'job',
    sizes.map((digits, i) => {
      const result: FibValue = { n: firstN + i, value: '7'.repeat(digits), digits, ms: 0 };
      return { index: i, state: 'completed' as const, result, bytes: digits };
    }),
  );
  const job = await store.finish('job', 'completed', undefined, Date.now());
  if (!job) throw new Error('the job did not finish');
  return { store, job };
}

const page = ({ store, job }: { store: CountingStore; job: JobHeader }, request: Omit<PageRequest, 'pool'>) => pageOfResults(store, job, kind, { pool: noPool, ...request });
const bytesOf = (value: object) => Buffer.byteLength(JSON.stringify(value));

describe('pageOfResults', () => {
  it('ends before the item that would pass maxBytes, says where the next page starts, and pages through every item once', async () => {
    const sizes = [10, 3_000, 3_000, 10, 3_000, 9_000, 10, 10, 3_000];
    const stored = await jobOf(sizes);
    const seen: number[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const current = await page(stored, { offset, limit: 100, format: 'decimal', maxBytes: 8_000 });
      expect(current.items.length).toBeGreaterThan(0);
      if (current.items.length > 1) expect(bytesOf(current)).toBeLessThanOrEqual(8_000);
      seen.push(...current.items.map((item) => item.index as number));
      if (current.nextOffset !== null) expect(current.limit).toBe(current.items.length);
      offset = current.nextOffset;
    }
    expect(seen).toEqual(sizes.map((_, i) => i));
  });

  it('always holds one item, even one bigger than the bound', async () => {
    const current = await page(await jobOf([20_000, 10]), { offset: 0, limit: 10, format: 'decimal', maxBytes: 1_024 });
    expect(current.items).toHaveLength(1);
    expect(current).toMatchObject({ jobId: 'job', status: 'completed', total: 2, offset: 0, limit: 1, nextOffset: 1 });
  });

  it('answers the limit asked for and no next page when the page reaches the last result', async () => {
    const current = await page(await jobOf([10, 10, 10]), { offset: 1, limit: 10, format: 'decimal', maxBytes: 8_000 });
    expect(current.items.map((item) => item.index)).toEqual([1, 2]);
    expect(current).toMatchObject({ limit: 10, nextOffset: null });
    expect(current.items[0]).toEqual({ index: 1, state: 'completed', n: 1, value: '7'.repeat(10), digits: 10, ms: 0 });
  });

  it('charges previews what the whole values cost, and hex its conversion too', async () => {
    const stored = await jobOf(Array.from({ length: 50 }, () => 2_000));
    const whole = await page(stored, { offset: 0, limit: 50, format: 'decimal', maxBytes: 8_000 });
    const previews = await page(stored, { offset: 0, limit: 50, format: 'decimal', maxChars: 21, maxBytes: 8_000 });
    expect(whole.items).toHaveLength(3);
    expect(previews).toMatchObject({ limit: 3, nextOffset: 3 });
    expect(previews.items[0]).toMatchObject({ value: `${'7'.repeat(10)}…${'7'.repeat(10)}`, shortened: true });
    // Converted on this thread (below HEX_MIN_N): 2,000 digits read and converted, 1,661 written.
    const hex = await page(stored, { offset: 0, limit: 50, format: 'hex', maxChars: 21, maxBytes: 8_000 });
    expect(hex.items).toHaveLength(2);
    expect(hex.items[0].value).toMatch(/^[0-9a-f]{10}…[0-9a-f]{10}$/);
  });

  it('reads and converts no more for a page of previews than for the page of whole values', async () => {
    // 40 values of 100,000 digits against a 1 MiB page: whole, about 10 fit as decimal, 5 as hex.
    for (const format of ['decimal', 'hex'] as const) {
      const cost = async (maxChars?: number) => {
        const stored = await jobOf(
          Array.from({ length: 40 }, () => 100_000),
          HEX_MIN_N,
        );
        const pool = new CountingPool();
        const current = await pageOfResults(stored.store, stored.job, kind, { offset: 0, limit: 40, format, maxChars, maxBytes: 1024 ** 2, pool });
        const read = stored.store.reads.reduce((sum, n) => sum + n, 0);
        return { items: current.items.length, nextOffset: current.nextOffset, read, converted: pool.values, owners: [...pool.owners] };
      };
      const whole = await cost();
      const previews = await cost(16);
      expect(whole.items, format).toBe(format === 'hex' ? 5 : 10);
      expect(previews, format).toEqual(whole);
      expect(whole.read, format).toBeLessThanOrEqual(whole.items + 8);
      // Only what the page holds is converted, as presentation work of the job's caller.
      if (format === 'hex') expect(whole).toMatchObject({ converted: whole.items, owners: ['caller'] });
      else expect(whole.converted).toBe(0);
    }
  });

  it('reads tasks from the store in batches sized by what the page has left', async () => {
    const huge = await jobOf(Array.from({ length: 100 }, () => 3_000));
    const few = await page(huge, { offset: 0, limit: 100, format: 'decimal', maxBytes: 8_000 });
    expect(few.items).toHaveLength(2);
    expect(huge.store.reads.reduce((sum, n) => sum + n, 0)).toBeLessThanOrEqual(8); // not the 100 asked for
    const tiny = await jobOf(Array.from({ length: 1_000 }, () => 5));
    const many = await page(tiny, { offset: 0, limit: 1_000, format: 'decimal', maxBytes: 1_000_000 });
    expect(many.items).toHaveLength(1_000);
    expect(tiny.store.reads.length).toBeLessThanOrEqual(5); // growing batches, not one read per item
  });
});

import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config';
import type { FibValue } from '../fibonacci/fib-chunk';
import { FibonacciKind } from '../fibonacci/fibonacci.kind';
import { JobRecord } from './job.model';
import { pageOfResults } from './results-page';

const kind = new FibonacciKind({ POOL_SIZE: 1 } as AppConfig);

/** A finished job whose task i holds a value of sizes[i] digits (no worker needed to page it). */
function jobOf(sizes: number[]): JobRecord<number, FibValue> {
  const job = new JobRecord<number, FibValue>(
    'job',
    'fibonacci',
    sizes.map((_, i) => i),
  );
  sizes.forEach((digits, i) => {
    job.transition(i, 'completed');
    job.results[i] = { n: i, value: '7'.repeat(digits), digits, ms: 0 };
  });
  return job;
}

const bytesOf = (page: object) => Buffer.byteLength(JSON.stringify(page));

describe('pageOfResults', () => {
  it('ends before the item that would pass maxBytes, says where the next page starts, and pages through every item once', () => {
    const sizes = [10, 3_000, 3_000, 10, 3_000, 9_000, 10, 10, 3_000];
    const job = jobOf(sizes);
    const seen: number[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page = pageOfResults(job, kind, { offset, limit: 100, format: 'decimal', maxBytes: 8_000 });
      expect(page.items.length).toBeGreaterThan(0);
      if (page.items.length > 1) expect(bytesOf(page)).toBeLessThanOrEqual(8_000);
      seen.push(...page.items.map((item) => item.index as number));
      if (page.nextOffset !== null) expect(page.limit).toBe(page.items.length);
      offset = page.nextOffset;
    }
    expect(seen).toEqual(sizes.map((_, i) => i));
  });

  it('always holds one item, even one bigger than the bound', () => {
    const page = pageOfResults(jobOf([20_000, 10]), kind, { offset: 0, limit: 10, format: 'decimal', maxBytes: 1_024 });
    expect(page.items).toHaveLength(1);
    expect(page).toMatchObject({ limit: 1, nextOffset: 1 });
  });

  it('measures previews, not the values they shorten, and counts hex converted here against the budget', () => {
    const job = jobOf(Array.from({ length: 50 }, () => 2_000));
    const previews = pageOfResults(job, kind, { offset: 0, limit: 50, format: 'decimal', maxChars: 21, maxBytes: 8_000 });
    expect(previews.items).toHaveLength(50);
    expect(previews.nextOffset).toBeNull();
    // No stored hex: each value is converted on this thread, 2,000 digits of work per item.
    const hex = pageOfResults(job, kind, { offset: 0, limit: 50, format: 'hex', maxChars: 21, maxBytes: 8_000 });
    expect(hex.items.length).toBeLessThan(5);
    expect(hex.items[0].value).toMatch(/^[0-9a-f]{10}…[0-9a-f]{10}$/);
  });
});

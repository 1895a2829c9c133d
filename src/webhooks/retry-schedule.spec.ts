import { describe, expect, it } from 'vitest';
import { retryDelay } from './retry-schedule';

const schedule = { maxAttempts: 5, backoffMs: 1_000, maxDelayMs: 6_000 };

describe('retryDelay', () => {
  it('doubles from the backoff, jittered between half and all of each step, capped', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, schedule, undefined, () => 0))).toEqual([500, 1_000, 2_000, 3_000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, schedule, undefined, () => 1))).toEqual([1_000, 2_000, 4_000, 6_000]);
  });

  it('gives up after maxAttempts', () => {
    expect(retryDelay(5, schedule)).toBeNull();
    expect(retryDelay(9, schedule, 10)).toBeNull();
  });

  it("takes the receiver's Retry-After instead, bounded by maxDelayMs", () => {
    expect(retryDelay(1, schedule, 3_000)).toBe(3_000);
    expect(retryDelay(1, schedule, 0)).toBe(0);
    expect(retryDelay(1, schedule, 86_400_000)).toBe(6_000);
  });
});

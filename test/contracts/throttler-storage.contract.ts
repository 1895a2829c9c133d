import type { ThrottlerStorage } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { describeCapability, needs } from './capabilities';
import { expectWindowKeepsItsEnd, SHORT_WINDOW_MS } from './window-timing';

/**
 * What the rate limiter may rely on, whatever keeps the counters (FixedWindowStorage in memory,
 * RedisThrottlerStorage shared by the cluster): fixed windows per throttler and key, blocked
 * until the window ends.
 */
export interface ThrottlerStorageHarness {
  /** The implementation, as the skip reasons name it. */
  name: string;
  capabilities: {
    /** Storages of several instances on one backend count together (then `peer()` makes another instance's). */
    sharedAcrossInstances: boolean;
  };
  /** A storage; called once per test. */
  storage(): ThrottlerStorage;
  peer?(): Promise<ThrottlerStorage>;
}

export function throttlerStorageContract(harness: ThrottlerStorageHarness): void {
  const { name, capabilities } = harness;
  let n = 0;
  const uniqueKey = () => `caller-${process.pid}-${Date.now()}-${n++}`;

  describe(`ThrottlerStorage contract: ${name}`, () => {
    it('counts hits in a window, per key and per throttler name', async () => {
      const store = harness.storage();
      const [a, b] = [uniqueKey(), uniqueKey()];
      for (const expected of [1, 2, 3]) expect((await store.increment(a, 60_000, 10, 0, 'default')).totalHits).toBe(expected);
      expect((await store.increment(b, 60_000, 10, 0, 'default')).totalHits).toBe(1);
      expect((await store.increment(a, 60_000, 10, 0, 'other')).totalHits).toBe(1);
    });

    it('blocks past the limit until the window ends, and says so in whole seconds', async () => {
      const store = harness.storage();
      const key = uniqueKey();
      const ok = await store.increment(key, 60_000, 2, 0, 'default');
      expect(ok).toMatchObject({ totalHits: 1, isBlocked: false, timeToBlockExpire: 0 });
      expect(ok.timeToExpire).toBeGreaterThanOrEqual(1);
      expect(ok.timeToExpire).toBeLessThanOrEqual(60);
      await store.increment(key, 60_000, 2, 0, 'default');
      const over = await store.increment(key, 60_000, 2, 0, 'default');
      expect(over).toMatchObject({ totalHits: 3, isBlocked: true });
      expect(over.timeToBlockExpire).toBe(over.timeToExpire);
      expect(over.timeToBlockExpire).toBeGreaterThanOrEqual(1);
    });

    it('keeps the end of a window where its first hit put it: later hits, under the limit or over it, do not move it', async () => {
      const store = harness.storage();
      await expectWindowKeepsItsEnd(() => {
        const key = uniqueKey();
        const hit = () => store.increment(key, SHORT_WINDOW_MS, 2, 0, 'default');
        return {
          open: async () => (await hit()).timeToExpire,
          async again() {
            const under = await hit();
            const over = await hit();
            expect([under.isBlocked, over.isBlocked]).toEqual([false, true]);
            return [under.timeToExpire, over.timeToExpire, over.timeToBlockExpire];
          },
        };
      });
    });

    it('starts a new window, unblocked, once the window has ended', async () => {
      const store = harness.storage();
      const key = uniqueKey();
      await store.increment(key, 300, 1, 0, 'default');
      expect((await store.increment(key, 300, 1, 0, 'default')).isBlocked).toBe(true);
      // Each probe is a hit too: the first one that lands in a new window counts 1.
      const deadline = Date.now() + 10_000;
      let record = await store.increment(key, 300, 1, 0, 'default');
      while (record.totalHits !== 1 && Date.now() < deadline) {
        await new Promise((wake) => setTimeout(wake, 50));
        record = await store.increment(key, 300, 1, 0, 'default');
      }
      expect(record).toMatchObject({ totalHits: 1, isBlocked: false, timeToBlockExpire: 0 });
    });

    it('counts concurrent hits exactly once each', async () => {
      const store = harness.storage();
      const key = uniqueKey();
      const records = await Promise.all(Array.from({ length: 50 }, () => store.increment(key, 60_000, 40, 0, 'default')));
      expect(records.map((r) => r.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(records.filter((r) => r.isBlocked)).toHaveLength(10);
    });

    describeCapability(name, 'sharedAcrossInstances', capabilities.sharedAcrossInstances, () => {
      it('shares one window between instances: two storages count the same caller together', async () => {
        const [a, b] = [harness.storage(), await needs(harness.peer, 'peer()').call(harness)];
        const key = uniqueKey();
        const hits = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).increment(key, 60_000, 15, 0, 'default')));
        expect(Math.max(...hits.map((h) => h.totalHits))).toBe(20);
        expect(hits.filter((h) => h.isBlocked)).toHaveLength(5);
      });
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { FeedQuota } from '../../src/progress/feed-quota';
import { describeCapability, needs } from './capabilities';

/**
 * What the WebSocket upgrade, the SSE route and the WebSocket gateway rely on, whatever keeps the
 * counts (MemoryFeedQuota, RedisFeedQuota): connection slots per address and per key under caps,
 * never over them, given back once; messages counted per caller in fixed windows.
 */
export interface FeedQuotaHarness {
  /** The implementation, as the skip reasons name it. */
  name: string;
  capabilities: {
    /** Quotas of several instances on one backend count together (then `peer()` makes another instance's). */
    sharedAcrossInstances: boolean;
    /** Slots are leases its instance renews: those of an instance that stopped (killed) lapse by themselves. */
    expiringLeases: boolean;
  };
  /** A quota; called once per test. */
  quota(): FeedQuota;
  peer?(): Promise<FeedQuota>;
  /** Another instance's quota whose leases last `leaseMs` unless it renews them. */
  leasing?(leaseMs: number): Promise<FeedQuota>;
}

const lease = (admission: Awaited<ReturnType<FeedQuota['open']>>): string => {
  if (!('lease' in admission)) throw new Error(`expected a slot, got refused: ${admission.refused}`);
  return admission.lease;
};

export function feedQuotaContract(harness: FeedQuotaHarness): void {
  const { name, capabilities } = harness;
  let n = 0;
  const unique = () => `${process.pid}-${Date.now()}-${n++}`;
  const address = () => `address-${unique()}`;

  describe(`FeedQuota contract: ${name}`, () => {
    it('counts open slots per address and per key, and names the cap that is full (the address first)', async () => {
      const quota = harness.quota();
      const caps = { perKey: 2, perAddress: 3 };
      const [here, there, keyA, keyB, keyC] = [address(), address(), `a-${unique()}`, `b-${unique()}`, `c-${unique()}`];
      lease(await quota.open({ owner: keyA, address: here }, caps));
      lease(await quota.open({ owner: keyA, address: there }, caps));
      expect(await quota.open({ owner: keyA, address: here }, caps)).toEqual({ refused: 'key' });
      lease(await quota.open({ owner: keyB, address: here }, caps));
      lease(await quota.open({ owner: keyB, address: here }, caps));
      // Address full (3) and key C empty: the address says no.
      expect(await quota.open({ owner: keyC, address: here }, caps)).toEqual({ refused: 'address' });
      // Both full: the address is named.
      expect(await quota.open({ owner: keyA, address: here }, caps)).toEqual({ refused: 'address' });
      lease(await quota.open({ owner: keyC, address: there }, caps));
    });

    it('takes nothing on a refusal, and gives a slot back once however often it is released', async () => {
      const quota = harness.quota();
      const caps = { perKey: 1, perAddress: 2 };
      const [here, there, keyA, keyB] = [address(), address(), `a-${unique()}`, `b-${unique()}`];
      const first = lease(await quota.open({ owner: keyA, address: here }, caps));
      // Refused for its key: the address `there` must stay free (one slot for key B, one more).
      expect(await quota.open({ owner: keyA, address: there }, caps)).toEqual({ refused: 'key' });
      lease(await quota.open({ owner: keyB, address: there }, caps));
      lease(await quota.open({ address: there }, caps));
      // `here` holds 2: released twice, `first` must count back once.
      lease(await quota.open({ address: here }, caps));
      await quota.release(first);
      await quota.release(first);
      lease(await quota.open({ owner: keyA, address: here }, caps));
      expect(await quota.open({ address: here }, caps)).toEqual({ refused: 'address' });
    });

    it('applies only the address cap to a holder without a key', async () => {
      const quota = harness.quota();
      const here = address();
      for (let i = 0; i < 3; i++) lease(await quota.open({ address: here }, { perKey: 1, perAddress: 3 }));
      expect(await quota.open({ address: here }, { perKey: 1, perAddress: 3 })).toEqual({ refused: 'address' });
    });

    it('never admits past a cap when opens race', async () => {
      const quota = harness.quota();
      const [here, key] = [address(), `k-${unique()}`];
      const answers = await Promise.all(Array.from({ length: 25 }, () => quota.open({ owner: key, address: here }, { perKey: 5, perAddress: 100 })));
      expect(answers.filter((answer) => 'lease' in answer)).toHaveLength(5);
      expect(answers.filter((answer) => 'refused' in answer && answer.refused === 'key')).toHaveLength(20);
      expect(new Set(answers.flatMap((answer) => ('lease' in answer ? [answer.lease] : []))).size).toBe(5);
    });

    it('counts messages per caller in a fixed window begun by the first, and only that caller`s', async () => {
      const quota = harness.quota();
      const [caller, other] = [`caller-${unique()}`, `caller-${unique()}`];
      const spent = [await quota.spend(caller, 60_000), await quota.spend(caller, 60_000), await quota.spend(caller, 60_000)];
      expect(spent.map((s) => s.count)).toEqual([1, 2, 3]);
      for (const { resetInMs } of spent) {
        expect(resetInMs).toBeGreaterThan(0);
        expect(resetInMs).toBeLessThanOrEqual(60_000);
      }
      expect((await quota.spend(other, 60_000)).count).toBe(1);
    });

    it('keeps a window`s end: a later message answers what is left of it, not a new window', async () => {
      const quota = harness.quota();
      const caller = `caller-${unique()}`;
      const first = await quota.spend(caller, 5_000);
      const answered = Date.now();
      while (Date.now() - answered < 150) await new Promise((wake) => setTimeout(wake, 150 - (Date.now() - answered)));
      const asked = Date.now();
      const later = await quota.spend(caller, 5_000);
      expect(later.count).toBe(2);
      // At least the time measured between the calls has passed in the window (1 ms of rounding).
      expect(later.resetInMs).toBeLessThanOrEqual(first.resetInMs - (asked - answered) + 1);
    });

    it('starts a new window once the window has ended', async () => {
      const quota = harness.quota();
      const caller = `caller-${unique()}`;
      expect((await quota.spend(caller, 300)).count).toBe(1);
      expect((await quota.spend(caller, 300)).count).toBe(2);
      const deadline = Date.now() + 10_000;
      let count = 2;
      while (count !== 1 && Date.now() < deadline) {
        await new Promise((wake) => setTimeout(wake, 50));
        count = (await quota.spend(caller, 300)).count;
      }
      expect(count).toBe(1);
    });

    it('counts messages that race exactly once each', async () => {
      const quota = harness.quota();
      const caller = `caller-${unique()}`;
      const counts = (await Promise.all(Array.from({ length: 50 }, () => quota.spend(caller, 60_000)))).map((s) => s.count);
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    describeCapability(name, 'sharedAcrossInstances', capabilities.sharedAcrossInstances, () => {
      it('shares the slots: what one instance holds counts at the other, and a release at one frees it for both', async () => {
        const [a, b] = [harness.quota(), await needs(harness.peer, 'peer()').call(harness)];
        const caps = { perKey: 2, perAddress: 10 };
        const [here, there, key] = [address(), address(), `k-${unique()}`];
        const held = lease(await a.open({ owner: key, address: here }, caps));
        lease(await b.open({ owner: key, address: there }, caps));
        expect(await a.open({ owner: key, address: there }, caps)).toEqual({ refused: 'key' });
        expect(await b.open({ owner: key, address: here }, caps)).toEqual({ refused: 'key' });
        await a.release(held);
        lease(await b.open({ owner: key, address: here }, caps));
      });

      it('shares the message windows', async () => {
        const [a, b] = [harness.quota(), await needs(harness.peer, 'peer()').call(harness)];
        const caller = `caller-${unique()}`;
        expect((await a.spend(caller, 60_000)).count).toBe(1);
        expect((await b.spend(caller, 60_000)).count).toBe(2);
        expect((await a.spend(caller, 60_000)).count).toBe(3);
      });
    });

    describeCapability(name, 'expiringLeases', capabilities.expiringLeases, () => {
      const leasing = (leaseMs: number) => needs(harness.leasing, 'leasing()').call(harness, leaseMs);

      it('stops counting the slots of an instance that stopped renewing (killed) once their lease lapses, and not before', async () => {
        const [survivor, doomed] = [harness.quota(), await leasing(400)];
        const caps = { perKey: 2, perAddress: 10 };
        const key = `k-${unique()}`;
        // A live slot beside it keeps the key's count (in Redis: its set) alive: only the dead
        // slot's own lease may free its place.
        lease(await survivor.open({ owner: key, address: address() }, caps));
        const sent = Date.now();
        lease(await doomed.open({ owner: key, address: address() }, caps));
        // Killed: no more renewals, and nobody releases its slot.
        doomed.close();
        expect(await survivor.open({ owner: key, address: address() }, caps)).toEqual({ refused: 'key' });
        const deadline = Date.now() + 10_000;
        let answer = await survivor.open({ owner: key, address: address() }, caps);
        while ('refused' in answer && Date.now() < deadline) {
          await new Promise((wake) => setTimeout(wake, 50));
          answer = await survivor.open({ owner: key, address: address() }, caps);
        }
        lease(answer);
        // The lease ran from when the backend took it, after `sent`: it cannot have lapsed sooner.
        expect(Date.now() - sent).toBeGreaterThanOrEqual(400);
      });

      it('keeps the slots of a live instance through many lease lengths: it renews them', async () => {
        const [holder, other] = [await leasing(300), harness.quota()];
        const caps = { perKey: 1, perAddress: 10 };
        const key = `k-${unique()}`;
        lease(await holder.open({ owner: key, address: address() }, caps));
        const since = Date.now();
        // Four lease lengths, probed along the way: never free.
        while (Date.now() - since < 1_200) {
          expect(await other.open({ owner: key, address: address() }, caps)).toEqual({ refused: 'key' });
          await new Promise((wake) => setTimeout(wake, 100));
        }
        holder.close();
      });
    });
  });
}

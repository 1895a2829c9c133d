import { describe, expect, it } from 'vitest';
import { type HostBudget, type HostCaps, type HostRequest, PACING } from '../../src/crawl/host-budget';
import { waitUntil } from '../support/cluster';
import { describeCapability, needs } from './capabilities';

/**
 * What crawls rely on from the per-host budget, whatever keeps it (MemoryHostBudget,
 * RedisHostBudget): never more slots handed out on a host than its cap, busy slots never taken
 * back, a fair share for every holder and a turn for each when they outnumber the slots,
 * back-off on 429/503 and on slow answers for every holder, gradual recovery, Retry-After and
 * the minimum delay spacing starts across holders.
 */
export interface HostBudgetHarness {
  name: string;
  capabilities: {
    /** Budgets of several instances on one backend share their hosts (then `peer()` makes another instance's). */
    sharedAcrossInstances: boolean;
  };
  budget(): HostBudget;
  peer?(): Promise<HostBudget>;
  /** A budget whose holders' slots lapse `leaseMs` after their last settle. */
  leasing(leaseMs: number): Promise<HostBudget>;
}

const caps: HostCaps = { maxConcurrency: 4, minDelayMs: 0, maxBackoffMs: 2_000 };
const good = (latencyMs = 10, ok = 1) => ({ ok, latencyMs, throttled: 0, retryAfterMs: 0 });

export function hostBudgetContract(harness: HostBudgetHarness): void {
  let n = 0;
  const host = () => `http://host-${process.pid}-${Date.now()}-${n++}.test`;

  describe(`HostBudget contract: ${harness.name}`, () => {
    const settle = async (budget: HostBudget, holder: string, request: HostRequest, with_: HostCaps = caps) => (await budget.settle(holder, [request], with_))[0];

    it('grants a lone holder what it wants up to the cap, never more between holders, and takes back what it gives', async () => {
      const budget = harness.budget();
      const h = host();
      expect(await settle(budget, 'a', { host: h, busy: 0, want: 3 })).toMatchObject({ held: 3, paced: false, contended: false, limit: 4 });
      expect((await settle(budget, 'b', { host: h, busy: 0, want: 4 })).held).toBe(1);
      expect((await settle(budget, 'c', { host: h, busy: 0, want: 4 })).held).toBe(0);
      await settle(budget, 'a', { host: h, busy: 0, want: 0 });
      await settle(budget, 'b', { host: h, busy: 0, want: 0 });
      expect((await settle(budget, 'c', { host: h, busy: 0, want: 4 })).held).toBe(4);
    });

    it('settles several hosts in one call, each on its own', async () => {
      const budget = harness.budget();
      const [h1, h2] = [host(), host()];
      const grants = await budget.settle(
        'a',
        [
          { host: h1, busy: 0, want: 2 },
          { host: h2, busy: 0, want: 9 },
        ],
        caps,
      );
      expect(grants.map((grant) => grant.held)).toEqual([2, 4]);
      expect(await budget.settle('a', [], caps)).toEqual([]);
    });

    it('shares a host fairly: a holder over its share gives back idle slots, never busy ones, and the waiter gets them', async () => {
      const budget = harness.budget();
      const h = host();
      expect((await settle(budget, 'a', { host: h, busy: 0, want: 4 })).held).toBe(4);
      expect(await settle(budget, 'b', { host: h, busy: 0, want: 4 })).toMatchObject({ held: 0 });
      // A learns that B waits; three of its four fetches still run: it keeps those.
      expect(await settle(budget, 'a', { host: h, busy: 3, want: 4 })).toMatchObject({ held: 3, contended: true });
      expect((await settle(budget, 'b', { host: h, busy: 0, want: 4 })).held).toBe(1);
      expect((await settle(budget, 'a', { host: h, busy: 1, want: 4 })).held).toBe(2);
      expect((await settle(budget, 'b', { host: h, busy: 1, want: 4 })).held).toBe(2);
      expect((await settle(budget, 'a', { host: h, busy: 2, want: 4 })).held).toBe(2);
    });

    it('gives every holder a turn when they outnumber the slots, in the order they started waiting', async () => {
      const budget = harness.budget();
      const h = host();
      const one = { ...caps, maxConcurrency: 1 };
      const turns: string[] = [];
      for (const holder of ['a', 'b', 'c']) await settle(budget, holder, { host: h, busy: 0, want: 1 }, one);
      // Each in turn finishes its fetch and settles; whoever holds the slot after a round is noted.
      for (let round = 0; round < 6; round++) {
        for (const holder of ['a', 'b', 'c']) {
          const grant = await settle(budget, holder, { host: h, busy: 0, want: 1 }, one);
          if (grant.held === 1) turns.push(holder);
        }
      }
      expect(new Set(turns)).toEqual(new Set(['a', 'b', 'c']));
      const counts = ['a', 'b', 'c'].map((holder) => turns.filter((t) => t === holder).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    });

    it('halves the host for every holder on a burst of 429/503, never speeds up after one, and recovers one slot per run of good answers', async () => {
      const budget = harness.budget();
      const h = host();
      await settle(budget, 'a', { host: h, busy: 0, want: 4 });
      const throttled = await settle(budget, 'b', { host: h, busy: 0, want: 4, feedback: { ok: 5, latencyMs: 10, throttled: 1, retryAfterMs: 0 } });
      expect(throttled).toMatchObject({ backoff: 'throttled', limit: 2, paced: true, delayMs: PACING.backoffStepMs });
      // A held 4: it keeps the busy ones only, down to the new limit.
      expect((await settle(budget, 'a', { host: h, busy: 0, want: 4 })).held).toBeLessThanOrEqual(2);
      // More 429s of the same burst (within PACING.burstMs) slow it once, and good answers with them do not speed it up.
      const again = await settle(budget, 'a', { host: h, busy: 0, want: 4, feedback: { ok: 9, latencyMs: 10, throttled: 2, retryAfterMs: 0 } });
      expect(again).toMatchObject({ limit: 2, delayMs: PACING.backoffStepMs });
      expect(again.backoff).toBeUndefined();
      let limit = again.limit;
      for (let i = 0; i < 3 * PACING.recoverAfter; i++) {
        const grant = await settle(budget, 'a', { host: h, busy: 0, want: 4, feedback: good() });
        expect(grant.limit - limit).toBeLessThanOrEqual(1);
        limit = grant.limit;
      }
      expect(limit).toBe(4);
    });

    it('lowers the host one slot for an answer slower than twice the usual, and holds starts for a Retry-After (bounded)', async () => {
      const budget = harness.budget();
      const h = host();
      await settle(budget, 'a', { host: h, busy: 0, want: 4, feedback: good(20) });
      const slow = await settle(budget, 'a', { host: h, busy: 0, want: 4, feedback: good(20 + 2 * PACING.slowMarginMs + 50) });
      expect(slow).toMatchObject({ backoff: 'slow', limit: 3 });
      await settle(budget, 'a', { host: h, busy: 0, want: 0 });
      const told = await settle(budget, 'b', { host: h, busy: 0, want: 1, feedback: { ok: 0, latencyMs: 0, throttled: 1, retryAfterMs: 60_000 } });
      expect(told.paced).toBe(true);
      const start = await settle(budget, 'b', { host: h, busy: 0, want: 1, start: true });
      // Retry-After 60 s, bounded by maxBackoffMs 2 s.
      expect(start.startInMs).toBeGreaterThan(1_000);
      expect(start.startInMs).toBeLessThanOrEqual(caps.maxBackoffMs);
    });

    it('spaces fetch starts by the minimum delay across holders, one reserved start at a time', async () => {
      const budget = harness.budget();
      const h = host();
      const paced = { ...caps, minDelayMs: 1_000 };
      const first = await settle(budget, 'a', { host: h, busy: 0, want: 2, start: true }, paced);
      expect(first).toMatchObject({ paced: true, held: 2 });
      expect(first.startInMs).toBeLessThanOrEqual(50);
      const second = await settle(budget, 'b', { host: h, busy: 0, want: 2, start: true }, paced);
      expect(second.startInMs).toBeGreaterThan(500);
      expect(second.startInMs).toBeLessThanOrEqual(1_000);
      // No free slot (all busy): nothing reserved.
      expect((await settle(budget, 'a', { host: h, busy: 2, want: 2, start: true }, paced)).startInMs).toBe(-1);
    });

    it("frees a holder's slots once its lease lapses without a settle", async () => {
      // The dead holder never settles again; the live one does, renewing its own lease each time.
      const budget = await harness.leasing(300);
      const h = host();
      expect((await settle(budget, 'dead', { host: h, busy: 4, want: 4 })).held).toBe(4);
      expect((await settle(budget, 'alive', { host: h, busy: 0, want: 4 })).held).toBe(0);
      await waitUntil(async () => ((await settle(budget, 'alive', { host: h, busy: 0, want: 4 })).held === 4 ? true : undefined), 10_000, 'the lapsed slots to be free');
    });

    describeCapability(harness.name, 'sharing across instances', harness.capabilities.sharedAcrossInstances, () => {
      it("counts another instance's holders and back-off on the same host", async () => {
        const budget = harness.budget();
        const peer = needs(await harness.peer?.(), 'peer()');
        const h = host();
        expect((await settle(budget, 'a', { host: h, busy: 0, want: 3 })).held).toBe(3);
        expect((await settle(peer, 'b', { host: h, busy: 0, want: 3 })).held).toBe(1);
        await settle(peer, 'b', { host: h, busy: 1, want: 3, feedback: { ok: 0, latencyMs: 0, throttled: 1, retryAfterMs: 0 } });
        expect(await settle(budget, 'a', { host: h, busy: 0, want: 3 })).toMatchObject({ limit: 2, paced: true });
      });
    });
  });
}

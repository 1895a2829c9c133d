import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NewDelivery, WebhookOutbox } from '../../src/webhooks/webhook-outbox';
import { describeCapability, needs } from './capabilities';

export interface WebhookOutboxHarness {
  name: string;
  capabilities: { sharedAcrossInstances: boolean };
  /** An outbox keeping finished deliveries `retentionMs`. */
  outbox(retentionMs?: number): WebhookOutbox;
  /** Another instance's outbox on the same backend (sharedAcrossInstances only). */
  peer?: () => Promise<WebhookOutbox>;
}

/** Deliveries of a fresh job, created at `at` (cases share stores: every case uses its own clock range and job). */
function deliveries(count: number, at: number, extra: Partial<NewDelivery> = {}): NewDelivery[] {
  const jobId = randomUUID();
  return Array.from({ length: count }, (_, i) => ({
    id: `msg_${randomUUID()}`,
    jobId,
    owner: 'key-a',
    event: i === count - 1 ? 'job.completed' : 'crawl.page',
    url: 'https://hooks.example/in',
    secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
    payload: JSON.stringify({ type: 'x', i }),
    createdAt: at + i,
    ...extra,
  }));
}

/** Far in the future, so other cases' due deliveries (at real times) never mix in: each case has its own clock range. */
let clock = 10_000_000_000_000;
const nextClock = () => (clock += 1_000_000_000);

/** The webhook outbox's contract, run against every implementation. */
export function webhookOutboxContract(harness: WebhookOutboxHarness): void {
  describe(`${harness.name} (WebhookOutbox contract)`, () => {
    it('keeps what was queued, lists a job in order, never due before its time', async () => {
      const outbox = harness.outbox();
      const t = nextClock();
      const queued = deliveries(3, t);
      for (const delivery of queued) await outbox.enqueue(delivery);
      const listed = await outbox.list(queued[0].jobId);
      expect(listed.map((d) => d.id)).toEqual(queued.map((d) => d.id));
      expect(listed[0]).toMatchObject({ ...queued[0], state: 'pending', attempts: 0, nextAttemptAt: t });
      expect((await outbox.due(t - 1, 100)).filter((d) => d.id.startsWith('msg_') && queued.some((q) => q.id === d.id))).toEqual([]);
      const due = (await outbox.due(t + 2, 100)).filter((d) => queued.some((q) => q.id === d.id));
      expect(due).toEqual(queued.map((d) => ({ id: d.id, owner: 'key-a', url: d.url })));
      expect(await outbox.list(randomUUID())).toEqual([]);
    });

    it('lets one claim through, counts the attempt, and hides a claimed delivery until its lease lapses', async () => {
      const outbox = harness.outbox();
      const t = nextClock();
      const [delivery] = deliveries(1, t);
      await outbox.enqueue(delivery);
      const claims = await Promise.all(['a', 'b', 'c'].map((holder) => outbox.claim(delivery.id, holder, t, 1_000)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(claims.find(Boolean)).toMatchObject({ id: delivery.id, secret: delivery.secret, payload: delivery.payload, attempts: 1 });
      expect((await outbox.due(t + 999, 100)).some((d) => d.id === delivery.id)).toBe(false);
      // The holder died: once the lease lapses another takes it, the same delivery, a second attempt.
      expect((await outbox.due(t + 1_000, 100)).some((d) => d.id === delivery.id)).toBe(true);
      expect(await outbox.claim(delivery.id, 'other', t + 1_000, 1_000)).toMatchObject({ id: delivery.id, attempts: 2 });
    });

    it("stores an attempt's end only from its holder: due again at the next attempt, or finished", async () => {
      const outbox = harness.outbox();
      const t = nextClock();
      const [delivery] = deliveries(1, t);
      await outbox.enqueue(delivery);
      await outbox.claim(delivery.id, 'a', t, 1_000);
      expect(await outbox.record(delivery.id, 'b', { state: 'delivered', lastStatus: 200, at: t + 5 })).toBe(false);
      expect(await outbox.record(delivery.id, 'a', { state: 'pending', lastStatus: 'timeout', lastError: 'slow', nextAttemptAt: t + 500, at: t + 5 })).toBe(true);
      expect((await outbox.list(delivery.jobId))[0]).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 'timeout', lastError: 'slow', nextAttemptAt: t + 500 });
      expect((await outbox.due(t + 499, 100)).some((d) => d.id === delivery.id)).toBe(false);
      expect(await outbox.claim(delivery.id, 'b', t + 500, 1_000)).toMatchObject({ attempts: 2 });
      expect(await outbox.record(delivery.id, 'a', { state: 'delivered', lastStatus: 200, at: t + 600 })).toBe(false);
      expect(await outbox.record(delivery.id, 'b', { state: 'delivered', lastStatus: 200, at: t + 600 })).toBe(true);
      const [done] = await outbox.list(delivery.jobId);
      expect(done).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 200, finishedAt: t + 600 });
      expect(done.nextAttemptAt).toBeUndefined();
      expect(done.lastError).toBeUndefined();
      expect((await outbox.due(t + 10_000_000, 1_000)).some((d) => d.id === delivery.id)).toBe(false);
      expect(await outbox.claim(delivery.id, 'c', t + 10_000_000, 1_000)).toBeNull();
    });

    it('defers a due delivery without an attempt, but never shortens a lease or revives a finished one', async () => {
      const outbox = harness.outbox();
      const t = nextClock();
      const [free, claimed] = deliveries(2, t);
      await outbox.enqueue(free);
      await outbox.enqueue(claimed);
      await outbox.claim(claimed.id, 'a', t + 1, 10_000);
      await outbox.defer(free.id, t + 300);
      await outbox.defer(claimed.id, t + 300);
      const dueAt = async (at: number) => (await outbox.due(at, 100)).map((d) => d.id).filter((id) => id === free.id || id === claimed.id);
      expect(await dueAt(t + 299)).toEqual([]);
      expect(await dueAt(t + 300)).toEqual([free.id]);
      expect((await outbox.list(free.jobId))[0]).toMatchObject({ attempts: 0, nextAttemptAt: t + 300 });
      expect(await dueAt(t + 10_001)).toEqual([free.id, claimed.id]);
    });

    it('forgets finished deliveries after their retention, not pending ones', async () => {
      const outbox = harness.outbox(200);
      const t = Date.now();
      const [done, waiting] = deliveries(2, t);
      await outbox.enqueue(done);
      await outbox.enqueue(waiting);
      await outbox.claim(done.id, 'a', t, 1_000);
      await outbox.record(done.id, 'a', { state: 'failed', lastStatus: 500, lastError: 'HTTP 500', at: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, 400));
      // A later write sweeps the memory store; Redis expires by itself.
      await outbox.enqueue(deliveries(1, Date.now())[0]);
      expect((await outbox.list(done.jobId)).map((d) => d.id)).toEqual([waiting.id]);
    });

    describeCapability(harness.name, 'sharedAcrossInstances', harness.capabilities.sharedAcrossInstances, () => {
      it("lets another instance take a delivery whose holder's lease lapsed, with the same id and payload", async () => {
        const [a, b] = [harness.outbox(), await needs(harness.peer, 'a peer')()];
        const t = nextClock();
        const [delivery] = deliveries(1, t);
        await a.enqueue(delivery);
        expect(await a.claim(delivery.id, 'instance-a', t, 1_000)).not.toBeNull();
        expect(await b.claim(delivery.id, 'instance-b', t + 999, 1_000)).toBeNull();
        expect(await b.claim(delivery.id, 'instance-b', t + 1_000, 1_000)).toMatchObject({ id: delivery.id, payload: delivery.payload, attempts: 2 });
        expect(await a.record(delivery.id, 'instance-a', { state: 'delivered', lastStatus: 200, at: t + 1_001 })).toBe(false);
        expect(await b.record(delivery.id, 'instance-b', { state: 'delivered', lastStatus: 200, at: t + 1_002 })).toBe(true);
        expect((await a.list(delivery.jobId))[0]).toMatchObject({ state: 'delivered', attempts: 2 });
      });
    });
  });
}

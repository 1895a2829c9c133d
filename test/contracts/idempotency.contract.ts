import { describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '../../src/jobs/idempotency';
import { describeCapability, needs } from './capabilities';

export interface IdempotencyHarness {
  name: string;
  capabilities: { sharedAcrossInstances: boolean };
  store(): IdempotencyStore;
  /** Another instance's store on the same backend (sharedAcrossInstances only). */
  peer?: () => Promise<IdempotencyStore>;
}

const done = (fingerprint: string, jobId: string, status = 202) => ({ fingerprint, jobId, status });
let n = 0;
/** A key no other case uses (stores may be shared between cases). */
const fresh = () => `caller-${process.pid}:key-${++n}-${Math.random().toString(36).slice(2)}`;

/** The idempotency-key store's contract, run against every implementation. */
export function idempotencyContract(harness: IdempotencyHarness): void {
  describe(`${harness.name} (IdempotencyStore contract)`, () => {
    it('gives a free key to its first claim only; later claims see what holds it, pending then done', async () => {
      const store = harness.store();
      const key = fresh();
      expect(await store.claim(key, 'body-1', 60_000)).toBeNull();
      expect(await store.claim(key, 'body-1', 60_000)).toEqual({ fingerprint: 'body-1', state: 'pending' });
      expect(await store.claim(key, 'body-2', 60_000)).toEqual({ fingerprint: 'body-1', state: 'pending' });
      await store.complete(key, done('body-1', 'job-1'), 60_000);
      expect(await store.claim(key, 'body-1', 60_000)).toEqual({ fingerprint: 'body-1', state: 'done', jobId: 'job-1', status: 202 });
    });

    it('lets exactly one of many concurrent claims of a key through', async () => {
      const store = harness.store();
      const key = fresh();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim(key, `body-${i % 2}`, 60_000)));
      expect(answers.filter((answer) => answer === null)).toHaveLength(1);
    });

    it('frees a key released by its claimant, but not one another request holds or one already done', async () => {
      const store = harness.store();
      const key = fresh();
      expect(await store.claim(key, 'body-1', 60_000)).toBeNull();
      await store.release(key, 'someone-else');
      expect(await store.claim(key, 'body-2', 60_000)).toMatchObject({ fingerprint: 'body-1' });
      await store.release(key, 'body-1');
      expect(await store.claim(key, 'body-2', 60_000)).toBeNull();
      await store.complete(key, done('body-2', 'job-2'), 60_000);
      await store.release(key, 'body-2');
      expect(await store.claim(key, 'body-2', 60_000)).toMatchObject({ state: 'done', jobId: 'job-2' });
    });

    it('forgets a pending claim whose hold lapsed (a request that died while admitting)', async () => {
      const store = harness.store();
      const key = fresh();
      expect(await store.claim(key, 'body-1', 50)).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await store.claim(key, 'body-1', 60_000)).toBeNull();
    });

    describeCapability(harness.name, 'sharedAcrossInstances', harness.capabilities.sharedAcrossInstances, () => {
      it("sees another instance's claims and jobs: a key used on one instance replays on the other", async () => {
        const [a, b] = [harness.store(), await needs(harness.peer, 'a peer')()];
        const key = fresh();
        expect(await a.claim(key, 'body-1', 60_000)).toBeNull();
        expect(await b.claim(key, 'body-1', 60_000)).toEqual({ fingerprint: 'body-1', state: 'pending' });
        await a.complete(key, done('body-1', 'job-1', 200), 60_000);
        expect(await b.claim(key, 'body-1', 60_000)).toEqual({ fingerprint: 'body-1', state: 'done', jobId: 'job-1', status: 200 });
      });
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResults, call, Cluster, type Instance, type JobView, PREFIX, waitUntil } from './support/cluster';
import { haveRedis } from './support/redis-server';

/**
 * SIGTERM of the instance that coordinates a job: it hands the job's lease and its pool tasks back
 * on the way out and says so on the bus, so another instance carries on at once. The lease here is
 * long: without that word B would find the job on its next look for orphans (every quarter lease,
 * 9 s), and a lapse would come no sooner than two thirds of a lease (24 s: A renews every third of
 * one) after A stopped. So only the hand-back lets B finish the job within FINISH_MS.
 */
const LEASE_MS = 36_000;
const FINISH_MS = 20_000;
/** ~0.2 s each on one thread: the job is well under way, not over, when A gets SIGTERM. */
const NUMBERS = Array.from({ length: 20 }, (_, i) => 2_000_000 + i);

describe.skipIf(!haveRedis('lease hand-back on SIGTERM'))('SIGTERM of the coordinating instance', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    cluster = await Cluster.start({ leaseMs: LEASE_MS, env: { FIB_MAX_N: '100000000', SHUTDOWN_GRACE_MS: '2000' } });
    a = await cluster.startInstance('a');
    b = await cluster.startInstance('b');
  }, 60_000);
  afterAll(() => cluster?.close());

  it('hands the job and its running tasks to the other instance, which finishes it well within one lease, every task once', async () => {
    const submitted = await call<JobView>(a, 'POST', '/fibonacci', { numbers: NUMBERS });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id;
    const redis = cluster.redis.client();
    // The submitting instance coordinates the job: it holds its lease.
    expect(await redis.get(`${PREFIX}:lease:${id}`)).toBe('a');
    await waitUntil(async () => ((await call<JobView>(b, 'GET', `/jobs/${id}`)).body.completed >= 1 ? true : undefined), 30_000, 'the batch to start');

    const exit = await cluster.stop('a', 'SIGTERM');
    expect(exit.code, 'a drained and exited cleanly').toBe(0);
    // Taken over at once (a lapse would take a minute), and finished by the instance left.
    const done = await cluster.waitForJob(b, id, undefined, FINISH_MS);
    expect(done).toMatchObject({ status: 'completed', total: NUMBERS.length, completed: NUMBERS.length, failed: 0, cancelled: 0 });
    const items = await allResults(b, id);
    expect(items.map((item) => item.index)).toEqual(NUMBERS.map((_, i) => i));
    // Taken at A's word (its `released` signal), not found later by B's look for orphans.
    expect(b.stdout() + b.stderr()).toMatch(/taking over a job its runner handed back/);
    expect(b.stdout() + b.stderr()).not.toMatch(/taking over a job whose runner is gone/);
  }, 120_000);
});

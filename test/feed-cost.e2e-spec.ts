import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.factory';
import { JobStore } from '../src/jobs/job.store';
import { BUILT_IN_KINDS } from '../src/kinds';
import { NAP_MS_PER_CALLER } from './support/nap-kind/nap.kind';
import { NapKindModule } from './support/nap-kind/nap.module';
import { FeedClient } from './support/ws-client';

/**
 * Issue 14, item 3: a key's `*` feed and its GET /jobs cost what that key owns. Key A has 40
 * unfinished jobs; key B's `*` subscription must read none of them (the store's snapshot is spied
 * on), and still get a snapshot of each of B's own unfinished jobs.
 */
const KEY_A = 'feed-cost-key-a-0123456789';
const KEY_B = 'feed-cost-key-b-0123456789';
const A_JOBS = 40;

interface JobView {
  id: string;
  status: string;
}

describe("a keyed '*' feed reads its own key's jobs only", () => {
  let app: Awaited<ReturnType<typeof createApp>>;
  let url: string;
  let wsUrl: string;
  const as = (key: string) => (req: request.Test) => req.set('Authorization', `Bearer ${key}`);
  const feed = (key: string) => FeedClient.connect(wsUrl, { headers: { Authorization: `Bearer ${key}` } });
  const ids = { a: [] as string[], b: [] as string[] };

  beforeAll(async () => {
    // One worker thread, held by B's long nap (a sleep: no CPU), keeps every other job unfinished.
    app = await createApp({
      env: { NODE_ENV: 'test', POOL_SIZE: '1', API_KEYS: `${KEY_A},${KEY_B}`, RATE_LIMIT_MAX: '1000000', SHUTDOWN_GRACE_MS: '0' },
      logger: false,
      kinds: [...BUILT_IN_KINDS, NapKindModule],
    });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    wsUrl = url.replace(/^http/, 'ws');

    const submit = async (key: string, naps: number[]) => (await as(key)(request(url).post('/nap').send({ naps })).expect(202)).body as JobView;
    const long = await submit(KEY_B, [NAP_MS_PER_CALLER / 2]);
    // Its first nap is on the thread once the worker reports progress: every later task waits behind it.
    const watcher = await feed(KEY_B);
    watcher.subscribe(long.id);
    await watcher.waitFor((m) => m.event === 'task.progress' && m.data.updates.some((u: { state: string }) => u.state === 'running'));
    watcher.close();
    ids.b.push(long.id, (await submit(KEY_B, [1])).id);
    for (let i = 0; i < A_JOBS; i++) ids.a.push((await submit(KEY_A, [1])).id);
  });
  afterAll(() => app?.close());

  it("sends B's '*' subscriber a snapshot of B's unfinished jobs, reading none of A's 40", async () => {
    // The premise: A's jobs are all unfinished while B subscribes.
    const { body: listedA } = await as(KEY_A)(request(url).get('/jobs?limit=100')).expect(200);
    expect(listedA.total).toBe(A_JOBS);
    expect(listedA.items.filter((job: JobView) => job.status === 'queued' || job.status === 'running')).toHaveLength(A_JOBS);

    const store = app.get(JobStore);
    const unfinished = vi.spyOn(store, 'unfinished');
    const snapshot = vi.spyOn(store, 'snapshot');
    try {
      const b = await feed(KEY_B);
      b.subscribe('*');
      const end = await b.barrier();
      // Every job the subscription read (the barrier's made-up id never reaches the store).
      const read = snapshot.mock.calls.map(([id]) => id);
      expect(read.sort()).toEqual([...ids.b].sort());
      expect(unfinished).toHaveBeenCalledTimes(1);
      expect(unfinished.mock.calls[0][0]).toMatch(/^[0-9a-f]{16}$/);
      const snapshots = b.before(end).filter((m) => m.event === 'job.snapshot');
      expect(snapshots.map((m) => m.data.id).sort()).toEqual([...ids.b].sort());
      b.close();

      // A's own '*' reads exactly A's jobs, through the same index.
      snapshot.mockClear();
      const a = await feed(KEY_A);
      a.subscribe('*');
      const endA = await a.barrier();
      expect(snapshot.mock.calls.map(([id]) => id).sort()).toEqual([...ids.a].sort());
      expect(a.before(endA).filter((m) => m.event === 'job.snapshot')).toHaveLength(A_JOBS);
      a.close();
    } finally {
      unfinished.mockRestore();
      snapshot.mockRestore();
    }
  });

  it("lists B's jobs only in B's GET /jobs", async () => {
    const { body } = await as(KEY_B)(request(url).get('/jobs?limit=100')).expect(200);
    expect(body.total).toBe(ids.b.length);
    expect(body.items.map((job: JobView) => job.id)).toEqual([...ids.b].reverse());
  });
});

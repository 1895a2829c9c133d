import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_KINDS } from '../src/kinds';
import { type RunningApp } from './support/app';
import { createApp } from '../src/app.factory';
import { call, Cluster, type Instance, type JobView, waitUntil } from './support/cluster';
import { FINAL_EVENTS, isFinalFor, notOnce, readSse, tallyTasks, type WireMessage } from './support/cluster-feed';
import { NAP_MS_PER_CALLER } from './support/nap-kind/nap.kind';
import { NapKindModule } from './support/nap-kind/nap.module';
import { haveRedis } from './support/redis-server';
import { FeedClient } from './support/ws-client';

/**
 * Issue 13's proof that job kinds are plug-ins: a third kind that lives only under test/ (nap:
 * "sleep n ms on a worker, reporting progress", test/support/nap-kind) is registered by a test
 * module and runs end to end — submit, feed, results, cancel, admission bound, metrics, OpenAPI —
 * in the embedded mode and on one Redis with two instances. No file under src/ names it.
 */
interface Target {
  /** Where jobs are submitted, and where they are read, watched and cancelled (another instance in the cluster). */
  submitTo: { url: string; wsUrl: string };
  readFrom: { url: string; wsUrl: string };
}

const ENV = { RATE_LIMIT_MAX: '1000000', MAX_WAIT_MS: '30000' };

async function submit(via: { url: string }, naps: number[], expected = 202): Promise<JobView> {
  const res = await call<JobView>(via, 'POST', '/nap', { naps });
  expect(res.status, JSON.stringify(res.body)).toBe(expected);
  return res.body;
}

async function finished(via: { url: string }, id: string): Promise<JobView> {
  return waitUntil(
    async () => {
      const res = await call<JobView>(via, 'GET', `/jobs/${id}`);
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined;
    },
    30_000,
    `job ${id} to end`,
  );
}

/** naps_total{outcome="completed"} over the instances (one app in the embedded mode). */
async function napsCounted({ submitTo, readFrom }: Target): Promise<number> {
  const instances = submitTo.url === readFrom.url ? [submitTo] : [submitTo, readFrom];
  let sum = 0;
  for (const instance of instances) {
    const text = String((await call(instance, 'GET', '/metrics')).body);
    sum += Number(/^naps_total\{outcome="completed"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  }
  return sum;
}

/** The same behaviour, proven against each mode. */
function napScenarios(target: () => Target) {
  it('runs a nap job end to end: 202, a feed of snapshot + progress + one final event after the data, results, list filter, metrics, OpenAPI', async () => {
    const { submitTo, readFrom } = target();
    const napsBefore = await napsCounted(target());
    const feed = await FeedClient.connect(readFrom.wsUrl);
    feed.subscribe('*');
    await feed.barrier();
    const job = await submit(submitTo, [40, 60, 80]);
    expect(job).toMatchObject({ kind: 'nap', status: 'queued', total: 3 });
    const sse = readSse(`${readFrom.url}/jobs/${job.id}/events`);
    await feed.waitFor(isFinalFor(job.id));
    const done = await finished(readFrom, job.id);
    expect(done).toMatchObject({ status: 'completed', completed: 3, failed: 0 });

    const ws = tallyTasks(feed.messages as WireMessage[], job.id, 3);
    expect(ws.problems).toEqual([]);
    expect(notOnce(ws.counts)).toBe('none');
    // Progress came from the worker thread while the naps ran.
    expect(feed.messages.some((m) => m.event === 'task.progress' && m.data.jobId === job.id && m.data.updates.some((u: { progress?: number }) => u.progress !== undefined))).toBe(true);
    const events = await sse;
    const sseTally = tallyTasks(
      events.map((e) => ({ event: e.event, data: e.data, seq: Number(e.id) })),
      job.id,
      3,
    );
    expect(sseTally.problems).toEqual([]);
    expect(notOnce(sseTally.counts)).toBe('none');
    expect(FINAL_EVENTS).toContain(events.at(-1)?.event);

    const results = await call(readFrom, 'GET', `/jobs/${job.id}/results`);
    expect(results.status).toBe(200);
    expect(results.body.items.map((item: { index: number; ms: number }) => [item.index, item.ms])).toEqual([
      [0, 40],
      [1, 60],
      [2, 80],
    ]);
    for (const item of results.body.items) expect(item.slept).toBeGreaterThanOrEqual(item.ms - 1);
    // Each nap ran on a pool worker, not on a main thread (threadId 0). This replaces a bound on
    // this process's event-loop delay, which a nap on timers could not break and a stall of the
    // machine could.
    for (const item of results.body.items) expect(item.thread).toBeGreaterThan(0);

    const listed = await call(readFrom, 'GET', '/jobs?kind=nap&limit=100');
    expect(listed.body.items.map((j: JobView) => j.id)).toContain(job.id);
    expect(listed.body.items.every((j: JobView) => j.kind === 'nap')).toBe(true);
    const unknown = await call(readFrom, 'GET', '/jobs?kind=sieve');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([expect.objectContaining({ field: 'query.kind', message: expect.stringContaining('nap') })]);

    // The kind's own metric, counted where its runner ran, and its series for every final state.
    expect((await napsCounted(target())) - napsBefore).toBe(3);
    expect(String((await call(readFrom, 'GET', '/metrics')).body)).toMatch(/jobs_total\{kind="nap",status="failed"\} 0/);
    const doc = await call(readFrom, 'GET', '/docs-json');
    expect(doc.body.paths['/nap'].post.tags).toEqual(['nap']);
    expect(doc.body.components.schemas.NapResult).toBeDefined();
    expect(doc.body.paths['/jobs/{id}/results'].get.description).toContain('NapResult');
    feed.close();
  });

  it('refuses bad input with 400 naming the field', async () => {
    const { submitTo } = target();
    const bad = await call(submitTo, 'POST', '/nap', { naps: [10, -1] });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ field: 'naps.1' })]);
    const extra = await call(submitTo, 'POST', '/nap', { naps: [1], snore: true });
    expect(extra.status).toBe(400);
    expect(extra.body.issues).toEqual([expect.objectContaining({ field: 'snore', rule: 'unknown_field' })]);
  });

  it('cancels a running nap job from the other side: its naps stop, the job ends cancelled, its admission share is released', async () => {
    const { submitTo, readFrom } = target();
    // The kind's own counter: the caller's naps in flight are bounded by NAP_MS_PER_CALLER.
    const long = await submit(submitTo, [NAP_MS_PER_CALLER / 2, NAP_MS_PER_CALLER / 2]);
    await waitUntil(async () => ((await call<JobView>(readFrom, 'GET', `/jobs/${long.id}`)).body.status === 'running' ? true : undefined), 15_000, 'the nap job to run');
    const refused = await call(readFrom, 'POST', '/nap', { naps: [10] });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.message).toBe(`your unfinished naps sleep ${NAP_MS_PER_CALLER} ms and this one 10 ms, over ${NAP_MS_PER_CALLER} ms; retry when one ends`);

    const cancelled = await call<JobView>(readFrom, 'DELETE', `/jobs/${long.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', completed: 0 });
    expect(cancelled.body.cancelled).toBe(2);
    // Released: the same small job is admitted now, and completes.
    const small = await submit(readFrom, [10]);
    expect((await finished(submitTo, small.id)).status).toBe('completed');
  });
}

describe('a test-only job kind in the embedded mode', () => {
  let running: RunningApp;
  beforeAll(async () => {
    const app = await createApp({ env: { NODE_ENV: 'test', POOL_SIZE: '2', ...ENV }, logger: false, kinds: [...BUILT_IN_KINDS, NapKindModule] });
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    running = { app, url, wsUrl: url.replace(/^http/, 'ws'), config: undefined as never, close: () => app.close() };
    // One job first, so the loop-delay check measures the kind at work, not modules loading on first use.
    await finished(running, (await submit(running, [1])).id);
  });
  afterAll(() => running?.close());
  napScenarios(() => ({ submitTo: running, readFrom: running }));
});

describe.skipIf(!haveRedis('the nap kind on two instances'))('a test-only job kind on Redis with two instances', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    cluster = await Cluster.start({ env: ENV, poolSize: 1, entry: ['test/support/nap-kind/start.cjs'] });
    a = await cluster.startInstance('a');
    b = await cluster.startInstance('b');
  }, 90_000);
  afterAll(() => cluster?.close());
  napScenarios(() => ({ submitTo: a, readFrom: b }));
});

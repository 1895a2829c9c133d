import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './support/app';
import { Cluster, type Instance } from './support/cluster';
import { haveRedis } from './support/redis-server';

/**
 * Issue 15, item 2: `Idempotency-Key` on the POSTs that create jobs (IETF httpapi draft), per API
 * key, in the embedded mode and across two instances on one Redis.
 */
const KEYS = ['idempotency-key-alice-0001', 'idempotency-key-bob-000002'];

interface Target {
  url: string;
}

async function post(target: Target, path: string, body: unknown, headers: Record<string, string>, key = KEYS[0]) {
  const res = await fetch(`${target.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any, replayed: res.headers.get('idempotent-replayed') };
}

async function jobCount(target: Target, key = KEYS[0]): Promise<number> {
  const res = await fetch(`${target.url}/jobs?limit=1`, { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as { total: number }).total;
}

let n = 0;
const fresh = () => `retry-${process.pid}-${++n}`;

function idempotencyScenarios(first: () => Target, second: () => Target) {
  it('answers a retry with the job the first request made: same id and status, Idempotent-Replayed, no second job', async () => {
    const key = fresh();
    const before = await jobCount(first());
    const made = await post(first(), '/fibonacci', { numbers: [10, 20, 30] }, { 'idempotency-key': key });
    expect(made.status).toBe(202);
    expect(made.replayed).toBeNull();
    const again = await post(second(), '/fibonacci', { numbers: [10, 20, 30] }, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.replayed).toBe('true');
    expect(again.body.id).toBe(made.body.id);
    expect(await jobCount(second())).toBe(before + 1);
  });

  it('replays a ?wait answer as 200 with its results', async () => {
    const key = fresh();
    const made = await post(first(), '/fibonacci?wait=10000', { numbers: [90, 91] }, { 'idempotency-key': key });
    expect(made.status).toBe(200);
    const again = await post(second(), '/fibonacci?wait=10000', { numbers: [90, 91] }, { 'idempotency-key': key });
    expect([again.status, again.replayed, again.body.id]).toEqual([200, 'true', made.body.id]);
    expect(again.body.results.items.map((item: { value: string }) => item.value)).toEqual(made.body.results.items.map((item: { value: string }) => item.value));
  });

  it('refuses the same key with another body (422 naming the header), and a malformed key (400)', async () => {
    const key = fresh();
    expect((await post(first(), '/fibonacci', { numbers: [1] }, { 'idempotency-key': key })).status).toBe(202);
    const other = await post(second(), '/fibonacci', { numbers: [2] }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(other.body.issues).toEqual([expect.objectContaining({ field: 'header.idempotency-key', rule: 'reused_with_other_body' })]);
    for (const bad of ['x'.repeat(256), 'cl\u00e9', 'tab\there']) {
      const res = await post(first(), '/fibonacci', { numbers: [1] }, { 'idempotency-key': bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.issues[0].field).toBe('header.idempotency-key');
    }
  });

  it('makes exactly one job of concurrent requests with one key: every answer is that job or 409', async () => {
    const key = fresh();
    const before = await jobCount(first());
    const body = { urls: ['http://127.0.0.1:9/'], maxPages: 1 };
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post(i % 2 ? second() : first(), '/crawl', body, { 'idempotency-key': key })));
    const made = answers.filter((answer) => answer.status === 202);
    expect(made.length).toBeGreaterThanOrEqual(1);
    expect(new Set(made.map((answer) => answer.body.id)).size).toBe(1);
    for (const answer of answers.filter((a) => a.status !== 202)) expect(answer.status, JSON.stringify(answer.body)).toBe(409);
    expect(await jobCount(first())).toBe(before + 1);
  });

  it('documents the header and its answers in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${first().url}/docs-json`)).json()) as any;
    for (const path of ['/fibonacci', '/crawl']) {
      const op = doc.paths[path].post;
      expect(op.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['409', '422']));
    }
  });

  it('keeps keys per API key: the same key of another caller makes its own job', async () => {
    const key = fresh();
    const alice = await post(first(), '/fibonacci', { numbers: [5] }, { 'idempotency-key': key }, KEYS[0]);
    const bob = await post(second(), '/fibonacci', { numbers: [5] }, { 'idempotency-key': key }, KEYS[1]);
    expect([alice.status, bob.status, bob.replayed]).toEqual([202, 202, null]);
    expect(bob.body.id).not.toBe(alice.body.id);
  });
}

describe('Idempotency-Key in the embedded mode', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp({ API_KEYS: KEYS.join(',') });
  });
  afterAll(() => running?.close());
  idempotencyScenarios(
    () => running,
    () => running,
  );
});

describe.skipIf(!haveRedis('Idempotency-Key across instances'))('Idempotency-Key on two instances: a key used on A then on B yields one job', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    cluster = await Cluster.start({ env: { API_KEYS: KEYS.join(','), RATE_LIMIT_MAX: '1000000' } });
    a = await cluster.startInstance('a');
    b = await cluster.startInstance('b');
  }, 60_000);
  afterAll(() => cluster?.close());
  idempotencyScenarios(
    () => a,
    () => b,
  );
});

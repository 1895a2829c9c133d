import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectRedis, whenReady } from '../src/backends/redis/redis-connection';
import { JobStore } from '../src/jobs/job.store';
import { startApp, type RunningApp } from './support/app';
import { call, Cluster, type Instance, PREFIX } from './support/cluster';
import { haveRedis } from './support/redis-server';
import { FeedClient } from './support/ws-client';

/**
 * Issue 14, item 6: a job id reaches the store only if it is one (a UUID). Anything else — an id
 * with another key's suffix (`<id>:st` named a part of that job in Redis: WRONGTYPE, a 500 that
 * told the job exists), a pattern, a path, 10 KB — is an unknown job: 404, the same body as any
 * unknown job, on every route and on the WebSocket. And no store error text reaches a client.
 */
interface Endpoint {
  url: string;
  wsUrl: string;
}

const ROUTES: [method: string, path: (id: string) => string][] = [
  ['GET', (id) => `/jobs/${id}`],
  ['GET', (id) => `/jobs/${id}/results`],
  ['GET', (id) => `/jobs/${id}/events`],
  ['DELETE', (id) => `/jobs/${id}`],
];

const notIds = (real: string) => [`${real}:st`, `${real}:res`, `${real}:in`, `${real}:prog`, '*', '../x', `${real}*`, 'x'.repeat(10_240)];

async function finishedJob(at: Endpoint): Promise<string> {
  const res = await call(at, 'POST', '/fibonacci?wait=20000', { numbers: [10, 20] });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.id;
}

/**
 * Every string argument the app's store is called with from now on (the embedded mode: the
 * store is in this process), so a test can say which ids never reached it.
 */
function storeArguments(store: JobStore): string[] {
  const seen: string[] = [];
  for (let proto = Object.getPrototypeOf(store); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = (store as unknown as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof method !== 'function' || Object.hasOwn(store, name)) continue;
      Object.defineProperty(store, name, {
        configurable: true,
        value: (...args: unknown[]) => {
          seen.push(...args.filter((arg): arg is string => typeof arg === 'string'));
          return method.apply(store, args);
        },
      });
    }
  }
  return seen;
}

function jobIdScenarios(target: () => Endpoint, storeCalls?: () => string[]) {
  it('answers every route with the 404 of an unknown job for anything that is not a job id, before any store call', async () => {
    const at = target();
    const real = await finishedJob(at);
    const unknown = await call(at, 'GET', `/jobs/${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    const shape = Object.keys(unknown.body).sort();
    expect(shape).toEqual(['error', 'message', 'requestId', 'statusCode']);
    for (const [method, path] of ROUTES) {
      // The real id still answers (the events stream of a finished job ends at once).
      expect((await call(at, method, path(real))).status, `${method} ${path(real)}`).toBe(200);
      for (const id of notIds(real)) {
        const res = await call(at, method, path(encodeURIComponent(id)));
        const what = `${method} ${path(id).slice(0, 80)}`;
        expect(res.status, `${what}: ${JSON.stringify(res.body).slice(0, 200)}`).toBe(404);
        expect(Object.keys(res.body).sort(), what).toEqual(shape);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
        expect(res.body.message, what).toMatch(/^job .{1,65} not found$/);
        expect(res.body.message, what).toBe(id.length > 64 ? `job ${id.slice(0, 64)}… not found` : `job ${id} not found`);
      }
    }
    // Where the store is in reach (embedded), it was asked about the real id, never about any of them.
    if (storeCalls) {
      expect(storeCalls()).toContain(real);
      expect(storeCalls().filter((arg) => notIds(real).includes(arg))).toEqual([]);
    }
  });

  it('answers a WebSocket subscribe to anything that is not a job id as to an unknown job, and keeps the connection', async () => {
    const at = target();
    const real = await finishedJob(at);
    const client = await FeedClient.connect(at.wsUrl);
    try {
      for (const id of notIds(real).filter((id) => id !== '*' && id.length <= 100)) {
        client.subscribe(id);
        const answer = await client.waitFor((m) => m.event === 'error' && m.data?.jobId === id);
        expect(answer.data).toEqual({ message: `job ${id} not found`, jobId: id });
      }
      if (storeCalls) expect(storeCalls().filter((arg) => notIds(real).includes(arg))).toEqual([]);
      // A long one (10 KB is past WS_MAX_MESSAGE_BYTES: that socket would close with 1009) is
      // over the message's own bound: refused as a bad message, not looked up.
      client.subscribe('x'.repeat(4_000));
      const tooLong = await client.waitFor((m) => m.event === 'error' && /data\.jobId/.test(m.data?.message));
      expect(tooLong.data.message).not.toMatch(/WRONGTYPE|ERR|redis/i);
      client.subscribe(real);
      await client.waitFor((m) => m.event === 'job.completed' && m.data?.id === real);
      expect(client.open).toBe(true);
    } finally {
      client.close();
    }
  });
}

describe('job ids in the embedded mode', () => {
  let svc: RunningApp;
  let calls: string[] = [];
  beforeAll(async () => {
    svc = await startApp({ RATE_LIMIT_MAX: '100000' });
    calls = storeArguments(svc.app.get(JobStore));
  });
  beforeEach(() => {
    calls.length = 0;
  });
  afterAll(() => svc?.close());
  jobIdScenarios(
    () => svc,
    () => calls,
  );
});

describe.skipIf(!haveRedis('job ids on Redis'))('job ids in the cluster mode (an instance of dist/ on Redis)', () => {
  let cluster: Cluster;
  let a: Instance;
  beforeAll(async () => {
    cluster = await Cluster.start({ env: { RATE_LIMIT_MAX: '100000' } });
    a = await cluster.startInstance('a');
  }, 60_000);
  afterAll(() => cluster?.close());
  jobIdScenarios(() => a);

  it('answers a store failure in generic words with a request id, on REST, SSE and the WebSocket, and logs the store`s own error under that id', async () => {
    const job = await finishedJob(a);
    // The job's header made into another type behind the service's back: every read of it fails in Redis.
    const redis = connectRedis(cluster.redis.url, { name: 'job-ids-test' });
    try {
      await whenReady(redis);
      await redis.del(`${PREFIX}:job:${job}`);
      await redis.set(`${PREFIX}:job:${job}`, 'not a hash');
    } finally {
      redis.disconnect();
    }
    const answers = [await call(a, 'GET', `/jobs/${job}`), await call(a, 'GET', `/jobs/${job}/events`)];
    for (const answer of answers) {
      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error', requestId: expect.any(String) });
    }
    const client = await FeedClient.connect(a.wsUrl);
    client.subscribe(job);
    const failure = await client.waitFor((m) => m.event === 'error' && m.data?.jobId === job);
    client.close();
    expect(failure.data).toEqual({ message: 'internal error', jobId: job, requestId: expect.any(String) });
    for (const requestId of [...answers.map((answer) => answer.body.requestId), failure.data.requestId]) {
      await expect.poll(() => a.stdout() + a.stderr(), { timeout: 5_000 }).toMatch(new RegExp(`\\[${requestId}\\][^\\n]*WRONGTYPE`));
    }
  });
});

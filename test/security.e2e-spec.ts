import http from 'node:http';
import { hostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import WebSocket from 'ws';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { eventually, startApp, type RunningApp } from './support/app';
import { describeBothModesInProcess } from './support/both-modes';
import { FeedProcess } from './support/feed-process';
import { watchLoopDelay } from './support/loop-delay';
import { FeedClient } from './support/ws-client';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const LONG = Array.from({ length: 8 }, (_, i) => 9_000_000 + i);

/** Opens a raw ws connection; resolves with the HTTP status (and Retry-After) when the upgrade is refused. */
function upgrade(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<{ status: number; socket?: WebSocket; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/ws`, protocols, options);
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      res.resume();
    });
    socket.once('error', reject);
  });
}

/** GET from a given loopback source address (limits count per client address). */
function getFrom(localAddress: string, url: string, key?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, headers: key ? { Authorization: `Bearer ${key}` } : {} }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

/** Sends `req` with `key` as its bearer key (none: without one). */
const as = (key?: string) => (req: request.Test) => (key ? req.set('Authorization', `Bearer ${key}`) : req);

/** A one-number batch made by `key` on `url`, waited for: the finished job. */
async function finishedJobOf(key: string, url: string): Promise<{ id: string }> {
  const { body } = await as(key)(
    request(url)
      .post('/fibonacci?wait=5000')
      .send({ numbers: [5] }),
  ).expect(200);
  return body;
}

describe('API keys', () => {
  let svc: RunningApp;

  beforeAll(async () => {
    // These tests send bad keys on purpose: more than the failed-auth limit would let through.
    svc = await startApp({ API_KEYS: `${KEY_A},${KEY_B}`, AUTH_FAILURES_MAX: '1000' }, { waitForThreads: true });
  });
  afterAll(() => svc.close());

  it('refuses every job route without a valid key, with WWW-Authenticate: Bearer', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const routes = [
      request(svc.url)
        .post('/fibonacci')
        .send({ numbers: [1] }),
      request(svc.url).get('/jobs'),
      request(svc.url).get(`/jobs/${id}`),
      request(svc.url).get(`/jobs/${id}/results`),
      request(svc.url).get(`/jobs/${id}/events`),
      request(svc.url).delete(`/jobs/${id}`),
      request(svc.url).get('/pool'),
    ];
    for (const route of routes) {
      const res = await route.set('Authorization', 'Bearer not-a-key-at-all-000');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
    await request(svc.url).get('/jobs').expect(401);
  });

  it('opens exactly the probes, the API document and the dashboard without a key, and the probes show no figures', async () => {
    const job = await finishedJobOf(KEY_A, svc.url);
    await request(svc.url).get('/health/live').expect(200);
    const ready = await request(svc.url).get('/health/ready').expect(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.details).toEqual({ pool: { status: 'up' } });
    const docs = await request(svc.url).get('/docs-json').expect(200);
    expect(docs.text).not.toContain(job.id);
    await request(svc.url).get('/docs').redirects(1).expect(200);
    await request(svc.url).get('/').expect(200);
    // The pool figures are behind a key.
    await request(svc.url).get('/pool').expect(401);
    const { body: pool } = await as(KEY_B)(request(svc.url).get('/pool')).expect(200);
    expect(pool).toMatchObject({ status: 'up', maxThreads: 4 });
    // Every key sees the instances, so not their host names or process ids (INSTANCE_ID is unset
    // here: the instance's own id would be both, so it goes by a name derived from them).
    expect(pool.instances).toHaveLength(1);
    expect(pool.instances[0]).not.toHaveProperty('host');
    expect(pool.instances[0]).not.toHaveProperty('pid');
    expect(pool.instance).toMatch(/^instance-[0-9a-f]{8}$/);
    expect(pool.instances[0]).toMatchObject({ id: pool.instance, self: true });
    expect(JSON.stringify(pool)).not.toContain(hostname());
    // Metrics are not an API-key route: without METRICS_TOKEN they are off when keys are on.
    const metrics = await as(KEY_A)(request(svc.url).get('/metrics')).expect(403);
    expect(metrics.body.message).toMatch(/METRICS_TOKEN/);
  });

  it('refuses the WebSocket upgrade without a key and takes it as header or subprotocol', async () => {
    expect((await upgrade(svc.wsUrl)).status).toBe(401);
    expect((await upgrade(svc.wsUrl, { headers: { Authorization: 'Bearer wrong-key-0000000000' } })).status).toBe(401);
    expect((await upgrade(svc.wsUrl, {}, ['bearer', 'wrong-key-0000000000'])).status).toBe(401);
    const byHeader = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}` } });
    expect(byHeader.status).toBe(101);
    byHeader.socket!.close();
    const byProtocol = await upgrade(svc.wsUrl, {}, ['bearer', KEY_B]);
    expect(byProtocol.status).toBe(101);
    expect(byProtocol.socket!.protocol).toBe('bearer');
    byProtocol.socket!.close();
  });
});

/**
 * One key never reaches another key's jobs, in both modes. In the cluster mode the job is made on
 * A and looked for on B too, and the feeds listen on B: events cross instances through Redis, and
 * the '*' feed must filter them there.
 */
describeBothModesInProcess('tenant isolation', { API_KEYS: `${KEY_A},${KEY_B}`, AUTH_FAILURES_MAX: '1000' }, (service) => {
  const urls = () => service.apps.map((app) => app.url);

  it("hides one key's jobs from another (404) on REST and SSE, on every instance", async () => {
    const job = await finishedJobOf(KEY_A, service.url);
    for (const url of urls()) {
      await as(KEY_A)(request(url).get(`/jobs/${job.id}`)).expect(200);
      for (const path of [`/jobs/${job.id}`, `/jobs/${job.id}/results`, `/jobs/${job.id}/events`]) {
        await as(KEY_B)(request(url).get(path)).expect(404);
      }
      await as(KEY_B)(request(url).get(`/jobs/${job.id}/results`).set('Accept', 'application/x-ndjson')).expect(404);
      await as(KEY_B)(request(url).delete(`/jobs/${job.id}`)).expect(404);
      const { body: listB } = await as(KEY_B)(request(url).get('/jobs')).expect(200);
      expect(listB.items.map((j: { id: string }) => j.id)).not.toContain(job.id);
      const { body: listA } = await as(KEY_A)(request(url).get('/jobs')).expect(200);
      expect(listA.items.map((j: { id: string }) => j.id)).toContain(job.id);
    }
  });

  it("never shows one key's job events to another key's feed, by id or by '*', on every instance", async () => {
    const feedsUrl = service.wsUrl;
    const a = await FeedClient.connect(feedsUrl, { headers: { Authorization: `Bearer ${KEY_A}` } });
    const b = await FeedClient.connect(feedsUrl, { headers: { Authorization: `Bearer ${KEY_B}` } });
    a.subscribe('*');
    b.subscribe('*');
    await Promise.all([a.barrier(), b.barrier()]);
    // Each key creates a job (on the first instance); each '*' feed must see its own key's job and nothing of the other's.
    const post = (key: string) =>
      as(key)(
        request(service.url)
          .post('/fibonacci')
          .send({ range: { from: 0, to: 500 } }),
      ).expect(202);
    const [{ body: jobA }, { body: jobB }] = await Promise.all([post(KEY_A), post(KEY_B)]);
    await a.waitFor((m) => m.event === 'job.completed' && m.data.id === jobA.id);
    await b.waitFor((m) => m.event === 'job.completed' && m.data.id === jobB.id);
    // By id, too: the other key's job is "not found".
    a.subscribe(jobB.id);
    const refused = await a.waitFor((m) => m.event === 'error' && m.data.jobId === jobB.id);
    expect(refused.data.message).toMatch(/not found/);
    const [endA, endB] = await Promise.all([a.barrier(), b.barrier()]);
    expect(JSON.stringify(a.before(endA).filter((m) => m !== refused))).not.toContain(jobB.id);
    expect(JSON.stringify(b.before(endB))).not.toContain(jobA.id);
    a.close();
    b.close();
  });
});

describe('failed authentication limit', () => {
  let svc: RunningApp;
  beforeEach(async () => {
    svc = await startApp({ API_KEYS: KEY_A, AUTH_FAILURES_MAX: '5' });
  });
  afterEach(() => svc.close());

  it('answers 429 with Retry-After past AUTH_FAILURES_MAX failures, even with a good key, for that address only', async () => {
    const bad = () => request(svc.url).get('/jobs').set('Authorization', 'Bearer not-a-key-at-all-000');
    for (let i = 0; i < 5; i++) await bad().expect(401);
    const limited = await bad().expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.message).toMatch(/AUTH_FAILURES_MAX/);
    // A correct key from the same address waits too: otherwise a guesser would learn which guess was right.
    await request(svc.url).get('/jobs').set('Authorization', `Bearer ${KEY_A}`).expect(429);
    const ws = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}` } });
    expect(ws.status).toBe(429);
    expect(Number(ws.retryAfter)).toBeGreaterThan(0);
    // The probes stay open, and another address is not affected.
    await request(svc.url).get('/health/live').expect(200);
    expect(await getFrom('127.0.0.3', `${svc.url}/jobs`, KEY_A)).toBe(200);
  });

  it('counts refused WebSocket upgrades (bad origin, bad key) with the HTTP failures', async () => {
    for (let i = 0; i < 3; i++) expect((await upgrade(svc.wsUrl, { origin: 'http://evil.example', headers: { Authorization: `Bearer ${KEY_A}` } })).status).toBe(403);
    for (let i = 0; i < 2; i++) expect((await upgrade(svc.wsUrl, { headers: { Authorization: 'Bearer not-a-key-at-all-000' } })).status).toBe(401);
    expect((await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}` } })).status).toBe(429);
    const res = await request(svc.url).get('/jobs').set('Authorization', `Bearer ${KEY_A}`).expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('client addresses behind a trusted proxy (TRUST_PROXY)', () => {
  let svc: RunningApp;
  afterEach(() => svc.close());
  const bad = (forwardedFor: string) => request(svc.url).get('/jobs').set('Authorization', 'Bearer not-a-key-at-all-000').set('X-Forwarded-For', forwardedFor);
  const good = (forwardedFor: string) => request(svc.url).get('/jobs').set('Authorization', `Bearer ${KEY_A}`).set('X-Forwarded-For', forwardedFor);

  it('counts failures per forwarded client when the proxy is trusted: one guesser does not lock out the others, on HTTP and WebSocket', async () => {
    svc = await startApp({ API_KEYS: KEY_A, AUTH_FAILURES_MAX: '3', TRUST_PROXY: 'loopback' });
    for (let i = 0; i < 3; i++) await bad('203.0.113.7').expect(401);
    await good('203.0.113.7').expect(429);
    await good('203.0.113.8').expect(200);
    const blocked = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}`, 'X-Forwarded-For': '203.0.113.7' } });
    expect(blocked.status).toBe(429);
    const other = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}`, 'X-Forwarded-For': '203.0.113.8' } });
    expect(other.status).toBe(101);
    other.socket?.close();
  });

  it('refuses a forwarded client address that is not an IP address with 400 naming the header (HTTP and WebSocket), reading only what the trusted proxy added', async () => {
    svc = await startApp({ API_KEYS: KEY_A, TRUST_PROXY: 'loopback' });
    for (const forwardedFor of ['not-an-address', '203.0.113.7:4444', '203.0.113.7, <script>', '2001:db8::zz']) {
      const res = await good(forwardedFor).expect(400);
      expect(Object.keys(res.body).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
      expect(res.body.message).toMatch(/^X-Forwarded-For: .* not an IP address/);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
    }
    // Left of the entry the trusted hop added, anything goes: it is never read.
    await good('not-an-address, 203.0.113.9').expect(200);
    const refused = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}`, 'X-Forwarded-For': 'not-an-address' } });
    expect(refused.status).toBe(400);
    const taken = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}`, 'X-Forwarded-For': 'not-an-address, 203.0.113.9' } });
    expect(taken.status).toBe(101);
    taken.socket?.close();
  });

  it('ignores X-Forwarded-For from peers it does not trust (by default nobody): a client cannot pick its own address', async () => {
    svc = await startApp({ API_KEYS: KEY_A, AUTH_FAILURES_MAX: '3' });
    // Not read at all, so not judged either.
    await good('not-an-address').expect(200);
    for (let i = 0; i < 3; i++) await bad(`198.51.100.${i}`).expect(401);
    await good('198.51.100.99').expect(429);
  });
});

describe('limits', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ RATE_LIMIT_MAX: '40', MAX_JOBS_IN_FLIGHT_PER_KEY: '1', MAX_QUEUED_TASKS: '10', BODY_LIMIT_BYTES: '4096', FIB_MAX_RESULT_BYTES: '100000000' });
  });
  afterAll(() => svc.close());

  it('caps unfinished jobs per caller with 429 and Retry-After', async () => {
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers: LONG }).expect(202);
    const res = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [1] })
      .expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.body.message).toMatch(/MAX_JOBS_IN_FLIGHT_PER_KEY/);
    await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    await request(svc.url)
      .post('/fibonacci?wait=5000')
      .send({ numbers: [1] })
      .expect(200);
  });

  it('refuses gzip bodies that inflate past the limit with 413, and takes small ones', async () => {
    const post = (body: Buffer) => fetch(`${svc.url}/fibonacci?wait=5000`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body });
    const bomb = gzipSync(JSON.stringify({ numbers: Array.from({ length: 20_000 }, () => 1) }));
    expect(bomb.length).toBeLessThan(4096);
    const big = await post(bomb);
    expect(big.status).toBe(413);
    expect((await big.json()).message).toMatch(/BODY_LIMIT_BYTES/);
    const ok = await post(gzipSync(JSON.stringify({ numbers: [7] })));
    expect(ok.status).toBe(200);
    expect((await ok.json()).results.items[0].value).toBe('13');
  });
});

describe('rate limit', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ RATE_LIMIT_MAX: '40' });
  });
  afterAll(() => svc.close());

  it('lets exactly RATE_LIMIT_MAX requests through, then 429 with Retry-After, but never limits the health probes', async () => {
    for (let i = 0; i < 40; i++) await request(svc.url).get('/jobs').expect(200);
    const limited = await request(svc.url).get('/jobs').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429 });
    expect(limited.body.message).toMatch(/RATE_LIMIT_MAX 40/);
    for (let i = 0; i < 50; i++) await request(svc.url).get('/health/live').expect(200);
  });
});

describe('backpressure', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ MAX_QUEUED_TASKS: '10', FIB_MAX_RESULT_BYTES: '100000000' });
  });
  afterAll(() => svc.close());

  it('refuses new jobs with 503 and Retry-After at once when the queue is past its depth', async () => {
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers: LONG }).expect(202);
    const res = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [1, 2, 3, 4, 5] })
      .expect(503);
    // Refused at once, not after waiting for the queue: the long job is still at work.
    const { body: still } = await request(svc.url).get(`/jobs/${job.id}`).expect(200);
    expect(['queued', 'running']).toContain(still.status);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.body.message).toMatch(/MAX_QUEUED_TASKS/);
    // A job that still fits is admitted.
    await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [1] })
      .expect(202);
    await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    await request(svc.url)
      .post('/fibonacci?wait=10000')
      .send({ numbers: [1, 2, 3, 4, 5] })
      .expect(200);
  });
});

describe('WebSocket limits', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ WS_MAX_MESSAGE_BYTES: '1024', WS_MAX_SUBSCRIPTIONS: '2', WS_MAX_BUFFERED_BYTES: '4194304', WS_ALLOWED_ORIGINS: 'http://good.example', BODY_LIMIT_BYTES: '8388608' });
  });
  afterAll(() => svc.close());
  const good = { origin: 'http://good.example' };

  it('refuses browser origins outside the allowlist and the page’s own host before the upgrade', async () => {
    expect((await upgrade(svc.wsUrl, { origin: 'http://evil.example' })).status).toBe(403);
    for (const options of [good, { origin: svc.url }, {}]) {
      const ok = await upgrade(svc.wsUrl, options);
      expect(ok.status, JSON.stringify(options)).toBe(101);
      ok.socket!.close();
    }
  });

  it('closes a socket that sends an oversized frame with 1009 (one warning line, no error stack), and keeps serving others', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const error = vi.spyOn(Logger.prototype, 'error');
    const other = await FeedClient.connect(svc.wsUrl, good);
    const { socket } = await upgrade(svc.wsUrl, good);
    const closed = new Promise<number>((resolve) => socket!.once('close', (code) => resolve(code)));
    socket!.on('error', () => {});
    socket!.send(JSON.stringify({ event: 'subscribe', data: { jobId: 'x'.repeat(4096) } }));
    expect(await closed).toBe(1009);
    await eventually(async () => (warn.mock.calls.some(([message]) => /protocol error: Max payload size exceeded/.test(String(message))) ? true : undefined), 5_000, 'the warning');
    expect(error.mock.calls.filter(([err]) => err instanceof RangeError || /Max payload/.test(String(err)))).toEqual([]);
    warn.mockRestore();
    error.mockRestore();
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=5000')
      .send({ numbers: [3] })
      .expect(200);
    other.subscribe(job.id);
    await other.waitFor((m) => m.event === 'job.completed');
    other.close();
  });

  it('caps subscriptions per connection', async () => {
    const client = await FeedClient.connect(svc.wsUrl, good);
    client.subscribe('*');
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers: LONG }).expect(202);
    client.subscribe(job.id);
    client.subscribe('00000000-0000-4000-8000-000000000000');
    const error = await client.waitFor((m) => m.event === 'error');
    expect(error.data.message).toMatch(/WS_MAX_SUBSCRIPTIONS/);
    await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    client.close();
  });

  it('closes a client that stops reading with 1008 while the others keep receiving', async () => {
    const gateway = svc.app.get((await import('../src/progress/progress.gateway')).ProgressGateway);
    // Both readers run in their own processes: one reads at its own pace, the other keeps its
    // TCP connection open but stops reading once its subscription is in.
    const reader = new FeedProcess(svc.wsUrl, good.origin, 'read');
    const slow = new FeedProcess(svc.wsUrl, good.origin, 'stall');
    try {
      await Promise.all([reader.line((l) => l.event === 'ready'), slow.line((l) => l.event === 'ready')]);
      expect(gateway.clients).toBe(2);
      // ~25 MB of updates: far more than loopback socket buffers can absorb for a paused reader.
      const numbers = Array.from({ length: 480_000 }, (_, i) => i % 1000);
      const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers }).expect(202);
      await eventually(async () => (gateway.clients === 1 ? true : undefined), 60_000, 'the slow client to be dropped');
      // The scenario, not a synchronisation: the reader lags 3 s more before reading again (a
      // fixed 2-s cut-off would have dropped it without a close frame: 1006). It reads what was
      // queued, then the close frame with the reason.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      slow.resume();
      const closed = await slow.line((l) => l.event === 'close', 30_000, 'the slow client to see its close');
      expect(closed.code).toBe(1008);
      expect(closed.counts?.['job.completed'] ?? 0).toBe(0);
      const final = await reader.line((l) => l.id === job.id, 60_000, 'the reader to see the job finish');
      expect(final).toMatchObject({ event: 'job.completed', completed: numbers.length });
      expect(gateway.clients).toBe(1);
    } finally {
      reader.kill();
      slow.kill();
    }
  });
});

describe('WebSocket origin by default', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp();
  });
  afterAll(() => svc.close());

  it('takes browsers from the page’s own host and clients without Origin, and refuses other origins', async () => {
    expect((await upgrade(svc.wsUrl, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await upgrade(svc.wsUrl, { origin: svc.url.replace('127.0.0.1', 'localhost') })).status).toBe(403);
    for (const options of [{ origin: svc.url }, {}]) {
      const ok = await upgrade(svc.wsUrl, options);
      expect(ok.status, JSON.stringify(options)).toBe(101);
      ok.socket!.close();
    }
  });
});

describe('WebSocket connection caps', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ API_KEYS: `${KEY_A},${KEY_B}`, WS_MAX_CONNECTIONS_PER_KEY: '2', WS_MAX_CONNECTIONS_PER_ADDRESS: '3' });
  });
  afterAll(() => svc.close());
  const withKey = (key: string) => ({ headers: { Authorization: `Bearer ${key}` } });

  it('refuses connections past the cap per key and per address with 429, and takes them again once one closes', async () => {
    const open: WebSocket[] = [];
    for (let i = 0; i < 2; i++) {
      const ok = await upgrade(svc.wsUrl, withKey(KEY_A));
      expect(ok.status).toBe(101);
      open.push(ok.socket!);
    }
    const overKey = await upgrade(svc.wsUrl, withKey(KEY_A));
    expect(overKey.status).toBe(429);
    expect(Number(overKey.retryAfter)).toBeGreaterThan(0);
    const b = await upgrade(svc.wsUrl, withKey(KEY_B));
    expect(b.status).toBe(101);
    open.push(b.socket!);
    // Key B has room, but this address has 3 open.
    expect((await upgrade(svc.wsUrl, withKey(KEY_B))).status).toBe(429);
    // Being refused for a cap is not a failed authentication: the key still works over HTTP.
    await request(svc.url).get('/jobs').set('Authorization', `Bearer ${KEY_B}`).expect(200);
    open.shift()!.close();
    const again = await eventually(
      async () => {
        const attempt = await upgrade(svc.wsUrl, withKey(KEY_A));
        return attempt.status === 101 ? attempt.socket : undefined;
      },
      10_000,
      'a slot to come back',
    );
    open.push(again);
    for (const socket of open) socket.close();
  });
});

describe('WebSocket floods', () => {
  let svc: RunningApp;
  // The message rate counts per key (per address without keys): each flood below has its own window.
  const FLOOD_KEYS = ['flood-key-a-0123456789', 'flood-key-b-0123456789', 'flood-key-c-0123456789', 'flood-key-d-0123456789'];
  beforeAll(async () => {
    svc = await startApp({ API_KEYS: FLOOD_KEYS.join(','), WS_MAX_MESSAGES_PER_MINUTE: '400', FIB_MAX_RESULT_BYTES: '200000000' });
  });
  afterAll(() => svc.close());

  /** A client in its own process that sends `count` copies of `message` at once; resolves with its last line. */
  async function flood(key: string, count: number, message: unknown, last: 'close' | 'report', measure = false) {
    const client = new FeedProcess(svc.wsUrl, undefined, 'flood', count, message, key);
    try {
      await client.line((l) => l.event === 'open', 30_000, 'the flooding client to connect');
      const loop = measure ? watchLoopDelay() : undefined;
      await client.go();
      const line = await client.line((l) => l.event === last, 30_000, `the flood to end with ${last}`);
      await request(svc.url).get('/health/live').expect(200);
      return { line, loopMaxMs: loop?.stop() ?? 0 };
    } finally {
      client.kill();
    }
  }

  it('answers a flood of messages up to WS_MAX_MESSAGES_PER_MINUTE, then an error event and 1008, with the event loop free', async () => {
    const bogus = { event: 'subscribe', data: { jobId: 'no-such-job' } };
    // A first flood warms the code paths (JIT), so the measure below is the flood's own cost.
    expect((await flood(FLOOD_KEYS[0], 5_000, bogus, 'close')).line.code).toBe(1008);
    // Measured twice, the better of the two counts: a flood that blocks the loop does it every
    // time, while one stall of this 2-core machine (126 ms once in CI) only spoils one measure.
    const floods = [await flood(FLOOD_KEYS[1], 5_000, bogus, 'close', true), await flood(FLOOD_KEYS[3], 5_000, bogus, 'close', true)];
    expect(Math.min(...floods.map((f) => f.loopMaxMs))).toBeLessThan(100);
    for (const { line: closed } of floods) {
      expect(closed.code).toBe(1008);
      expect(closed.lastError).toMatch(/WS_MAX_MESSAGES_PER_MINUTE/);
      // 400 answers ("not found") plus the one that says why the connection closes.
      expect(closed.counts?.error).toBe(401);
    }
  });

  it('sends a finished job whole once per connection: re-subscribing costs one final event', async () => {
    const numbers = Array.from({ length: 100_000 }, (_, i) => i % 1000);
    const { body: job } = await request(svc.url).post('/fibonacci?wait=30000').set('Authorization', `Bearer ${FLOOD_KEYS[2]}`).send({ numbers }).expect(200);
    expect(job.status).toBe('completed');
    const subscribe = { event: 'subscribe', data: { jobId: job.id } };
    await flood(FLOOD_KEYS[2], 150, subscribe, 'report'); // warms the code paths (JIT)
    const { line: report, loopMaxMs } = await flood(FLOOD_KEYS[2], 150, subscribe, 'report', true);
    expect(loopMaxMs).toBeLessThan(100);
    expect(report.counts).toEqual({ 'job.snapshot': 1, 'job.completed': 150, error: 0 });
    // One task map (100,000 letters), then small messages: not 150 task maps (15 MB).
    expect(report.bytes).toBeLessThan(100_000 + 150 * 1_000 + 10_000);
  });
});

describe('WebSocket heartbeat', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ WS_HEARTBEAT_MS: '1000' });
  });
  afterAll(() => svc.close());

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const gateway = svc.app.get((await import('../src/progress/progress.gateway')).ProgressGateway);
    const alive = await FeedClient.connect(svc.wsUrl);
    const { socket: dead } = await upgrade(svc.wsUrl);
    await eventually(async () => (gateway.clients === 2 ? true : undefined));
    // A peer that reads nothing never sees a ping, so it never answers one.
    (dead as unknown as { _socket: { pause(): void } })._socket.pause();
    await eventually(async () => (gateway.clients === 1 ? true : undefined), 10_000, 'the silent peer to be dropped');
    // Two more beats, each answered by the live peer, and it is still there.
    const pings = alive.pings;
    await alive.until(() => alive.pings >= pings + 2, 10_000, 'two more pings');
    expect(gateway.clients).toBe(1);
    expect(alive.open).toBe(true);
    alive.close();
  });
});

describe('HTTP hardening', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(() => svc.close());

  it('sends helmet headers and echoes or makes request ids', async () => {
    const res = await request(svc.url).get('/jobs').set('X-Request-Id', 'abc-123').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toBe('abc-123');
    const made = await request(svc.url).get('/jobs/nope').expect(404);
    expect(made.body.requestId).toBe(made.headers['x-request-id']);
  });

  it('allows only configured CORS origins', async () => {
    const allowed = await request(svc.url).get('/jobs').set('Origin', 'https://app.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await request(svc.url).get('/jobs').set('Origin', 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

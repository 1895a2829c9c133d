import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApp, type RunningApp } from './support/app';
import { FeedClient } from './support/ws-client';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const LONG = Array.from({ length: 8 }, (_, i) => 9_000_000 + i);

/** Opens a raw ws connection; resolves with the HTTP status when the upgrade is refused. */
function upgrade(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/ws`, protocols, options);
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    socket.once('error', reject);
  });
}

describe('API keys', () => {
  let svc: RunningApp;
  const as = (key?: string) => (req: request.Test) => (key ? req.set('Authorization', `Bearer ${key}`) : req);

  beforeAll(async () => {
    svc = await startApp({ API_KEYS: `${KEY_A},${KEY_B}` });
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
    ];
    for (const route of routes) {
      const res = await route.set('Authorization', 'Bearer not-a-key-at-all-000');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
    await request(svc.url).get('/jobs').expect(401);
    await request(svc.url).get('/health/live').expect(200);
    await request(svc.url).get('/health/ready').expect(200);
  });

  it("hides one key's jobs from another (404) on REST and SSE", async () => {
    const { body: job } = await as(KEY_A)(
      request(svc.url)
        .post('/fibonacci?wait=5000')
        .send({ numbers: [5] }),
    ).expect(200);
    await as(KEY_A)(request(svc.url).get(`/jobs/${job.id}`)).expect(200);
    for (const path of [`/jobs/${job.id}`, `/jobs/${job.id}/results`, `/jobs/${job.id}/events`]) {
      await as(KEY_B)(request(svc.url).get(path)).expect(404);
    }
    await as(KEY_B)(request(svc.url).delete(`/jobs/${job.id}`)).expect(404);
    const { body: listB } = await as(KEY_B)(request(svc.url).get('/jobs')).expect(200);
    expect(listB.items.map((j: { id: string }) => j.id)).not.toContain(job.id);
    const { body: listA } = await as(KEY_A)(request(svc.url).get('/jobs')).expect(200);
    expect(listA.items.map((j: { id: string }) => j.id)).toContain(job.id);
  });

  it('refuses the WebSocket upgrade without a key and takes it as header or subprotocol', async () => {
    expect((await upgrade(svc.wsUrl)).status).toBe(401);
    expect((await upgrade(svc.wsUrl, { headers: { Authorization: 'Bearer wrong-key-0000000000' } })).status).toBe(401);
    const byHeader = await upgrade(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}` } });
    expect(byHeader.status).toBe(101);
    byHeader.socket!.close();
    const byProtocol = await upgrade(svc.wsUrl, {}, ['bearer', KEY_B]);
    expect(byProtocol.status).toBe(101);
    expect(byProtocol.socket!.protocol).toBe('bearer');
    byProtocol.socket!.close();
  });

  it("never shows one key's job events to another key's feed", async () => {
    const a = await FeedClient.connect(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_A}` } });
    const b = await FeedClient.connect(svc.wsUrl, { headers: { Authorization: `Bearer ${KEY_B}` } });
    b.subscribe('*');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { body: job } = await as(KEY_A)(
      request(svc.url)
        .post('/fibonacci')
        .send({ range: { from: 0, to: 500 } }),
    ).expect(202);
    a.subscribe(job.id);
    await a.waitFor((m) => m.event === 'job.completed');
    b.subscribe(job.id);
    const refused = await b.waitFor((m) => m.event === 'error');
    expect(refused.data.message).toMatch(/not found/);
    expect(JSON.stringify(b.messages.filter((m) => m.event !== 'error'))).not.toContain(job.id);
    a.close();
    b.close();
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

  it('rate-limits per caller with 429 and Retry-After, but never the health probes', async () => {
    let limited: request.Response | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await request(svc.url).get('/jobs');
      if (res.status === 429) limited = res;
    }
    expect(limited, 'no 429 within 60 requests').toBeDefined();
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited!.body).toMatchObject({ statusCode: 429 });
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
    const started = Date.now();
    const res = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [1, 2, 3, 4, 5] })
      .expect(503);
    expect(Date.now() - started).toBeLessThan(500);
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

  it('refuses origins outside the allowlist before the upgrade', async () => {
    expect((await upgrade(svc.wsUrl, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await upgrade(svc.wsUrl)).status).toBe(403);
    const ok = await upgrade(svc.wsUrl, good);
    expect(ok.status).toBe(101);
    ok.socket!.close();
  });

  it('closes a socket that sends an oversized frame with 1009, and keeps serving others', async () => {
    const other = await FeedClient.connect(svc.wsUrl, good);
    const { socket } = await upgrade(svc.wsUrl, good);
    const closed = new Promise<number>((resolve) => socket!.once('close', (code) => resolve(code)));
    socket!.on('error', () => {});
    socket!.send(JSON.stringify({ event: 'subscribe', data: { jobId: 'x'.repeat(4096) } }));
    expect(await closed).toBe(1009);
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

  it('closes a client that stops reading while the others keep receiving', async () => {
    const gateway = svc.app.get((await import('../src/progress/progress.gateway')).ProgressGateway);
    // The healthy reader runs in its own process, so it reads at its own pace.
    const reader = spawn(process.execPath, [join(__dirname, 'support', 'feed-reader.mjs'), `${svc.wsUrl}/ws`, good.origin]);
    const lines: { event: string; id?: string; completed?: number; code?: number }[] = [];
    reader.stdout.on('data', (chunk: Buffer) =>
      lines.push(
        ...chunk
          .toString()
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      ),
    );
    const { socket: slow } = await upgrade(svc.wsUrl, good);
    const slowClosed = new Promise<number>((resolve) => slow!.once('close', (code) => resolve(code)));
    slow!.send(JSON.stringify({ event: 'subscribe', data: { jobId: '*' } }));
    await eventually(async () => (gateway.clients === 2 && lines.some((l) => l.event === 'open') ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100)); // both subscriptions are in
    // Stop reading: the server's send buffer for this client can only grow from here.
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();
    // ~25 MB of updates: far more than loopback socket buffers can absorb for a paused reader.
    const numbers = Array.from({ length: 480_000 }, (_, i) => i % 1000);
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers }).expect(202);
    await eventually(async () => (gateway.clients === 1 ? true : undefined), 30_000, 'the slow client to be dropped');
    const final = await eventually(async () => lines.find((l) => l.id === job.id), 30_000, 'the reader to see the job finish');
    expect(final).toMatchObject({ event: 'job.completed', completed: numbers.length });
    expect(gateway.clients).toBe(1);
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1008, 1006]).toContain(await slowClosed);
    reader.kill();
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
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // two more beats
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

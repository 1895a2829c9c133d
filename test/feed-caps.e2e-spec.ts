import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp } from '../src/app.factory';
import { BUILT_IN_KINDS } from '../src/kinds';
import { eventually } from './support/app';
import { call, Cluster, type Instance, waitUntil } from './support/cluster';
import { NapKindModule } from './support/nap-kind/nap.module';
import { haveRedis } from './support/redis-server';
import { FeedClient } from './support/ws-client';

/**
 * Issue 14, item 4: one budget of feed connections for WebSockets and SSE streams together (per
 * key, per address), and one message window per caller (pings included); in the cluster mode both
 * shared by the instances, and a killed instance's connections counted only until their lease
 * lapses. Unfinished jobs to stream are naps (the test-only kind: they sleep, using no CPU).
 */
const [KEY_A, KEY_B, KEY_C, KEY_D] = ['caps-key-a-0123456789', 'caps-key-b-0123456789', 'caps-key-c-0123456789', 'caps-key-d-0123456789'];
const ENV = {
  API_KEYS: [KEY_A, KEY_B, KEY_C, KEY_D].join(','),
  WS_MAX_CONNECTIONS_PER_KEY: '3',
  WS_MAX_CONNECTIONS_PER_ADDRESS: '4',
  WS_MAX_MESSAGES_PER_MINUTE: '10',
  RATE_LIMIT_MAX: '1000000',
};

interface Endpoint {
  url: string;
  wsUrl: string;
}

interface Stream {
  status: number;
  retryAfter?: string;
  body?: Record<string, unknown>;
  close(): void;
}

/** Opens GET /jobs/:id/events on its own socket: an open stream (200), or the refusal's JSON. */
function sse(at: Endpoint, jobId: string, key: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${at.url}/jobs/${jobId}/events`, { agent: false, headers: { authorization: `Bearer ${key}` } }, (res) => {
      if (res.statusCode === 200) {
        res.resume();
        return resolve({ status: 200, close: () => req.destroy() });
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text), close: () => {} }));
    });
    req.on('error', reject);
  });
}

/** A WebSocket upgrade: the open socket, or the refusal's status and Retry-After. */
function upgrade(at: Endpoint, key: string): Promise<{ status: number; retryAfter?: string; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${at.wsUrl}/ws`, { headers: { authorization: `Bearer ${key}` } });
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      res.resume();
    });
    socket.once('error', reject);
  });
}

const feed = (at: Endpoint, key: string) => FeedClient.connect(at.wsUrl, { headers: { authorization: `Bearer ${key}` } });

async function nap(at: Endpoint, key: string, naps: number[], wait = 0): Promise<string> {
  const res = await call(at, 'POST', `/nap${wait ? `?wait=${wait}` : ''}`, { naps }, key);
  expect(res.status, JSON.stringify(res.body)).toBe(wait ? 200 : 202);
  return res.body.id;
}

function expectCapRefusal(stream: Stream, setting: RegExp): void {
  expect(stream.status).toBe(429);
  expect(stream.retryAfter).toBe('1');
  expect(Object.keys(stream.body ?? {}).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
  expect(stream.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(setting) });
}

/** The client is cut for its rate: the reason as an error event, then 1008. */
async function expectRateCut(client: FeedClient): Promise<void> {
  const reason = await client.waitFor((m) => m.event === 'error' && /WS_MAX_MESSAGES_PER_MINUTE \(10/.test(m.data.message), 0, 5_000);
  expect(reason.data.message).toMatch(/pings included/);
  expect(await client.closed).toBe(1008);
}

describe('feed caps and message rate in the embedded mode', () => {
  let app: Awaited<ReturnType<typeof createApp>>;
  let at: Endpoint;
  beforeAll(async () => {
    app = await createApp({ env: { NODE_ENV: 'test', POOL_SIZE: '2', ...ENV }, logger: false, kinds: [...BUILT_IN_KINDS, NapKindModule] });
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    at = { url, wsUrl: url.replace(/^http/, 'ws') };
  });
  afterAll(() => app?.close());

  it('counts SSE streams and WebSockets together against the caps per key and per address; SSE over a cap is 429 JSON with Retry-After', async () => {
    // One nap: the pool's other thread is left for key B's.
    const running = await nap(at, KEY_A, [10_000]);
    const finishedOfB = await nap(at, KEY_B, [1], 10_000);
    const streams = [await sse(at, running, KEY_A), await sse(at, running, KEY_A)];
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    const third = await upgrade(at, KEY_A);
    expect(third.status).toBe(101);
    // Key A holds 3 (2 SSE + 1 WebSocket): both transports are refused.
    expect(await upgrade(at, KEY_A)).toEqual({ status: 429, retryAfter: '1' });
    expectCapRefusal(await sse(at, running, KEY_A), /WS_MAX_CONNECTIONS_PER_KEY 3/);
    // Key B adds the address's 4th; then the address is full for B too, on both transports.
    const ofB = await upgrade(at, KEY_B);
    expect(ofB.status).toBe(101);
    expect((await upgrade(at, KEY_B)).status).toBe(429);
    expectCapRefusal(await sse(at, finishedOfB, KEY_B), /WS_MAX_CONNECTIONS_PER_ADDRESS 4/);
    // A closed stream gives its slot back: key A may open a WebSocket again.
    streams[0].close();
    const again = await eventually(async () => (await upgrade(at, KEY_A)).socket, 10_000, 'the SSE slot to come back');
    for (const socket of [third.socket, ofB.socket, again]) socket?.close();
    streams[1].close();
    expect((await call(at, 'DELETE', `/jobs/${running}`, undefined, KEY_A)).status).toBe(200);
  });

  it('counts WebSocket ping frames as messages: the 11th message of a minute, ping or not, closes with 1008', async () => {
    const client = await feed(at, KEY_B);
    for (let i = 0; i < 9; i++) client.ping();
    // The 10th message: still within the rate, answered (an unknown job) after the pings.
    await client.barrier();
    client.ping();
    await expectRateCut(client);
  });

  it('counts {"event":"ping"} messages too: the gateway has no such event, answers each with an error, and counts it', async () => {
    const client = await feed(at, KEY_C);
    for (let i = 0; i < 9; i++) client.send({ event: 'ping' });
    await client.barrier();
    expect(client.messages.filter((m) => m.event === 'error' && /event must be/.test(m.data.message))).toHaveLength(9);
    client.send({ event: 'ping' });
    await expectRateCut(client);
  });

  it('counts one window per key over all its connections: a second connection does not bring a second budget', async () => {
    const [first, second] = [await feed(at, KEY_D), await feed(at, KEY_D)];
    for (let i = 0; i < 6; i++) await first.barrier();
    for (let i = 0; i < 4; i++) await second.barrier();
    second.subscribe('*');
    await expectRateCut(second);
    first.subscribe('*');
    await expectRateCut(first);
  });
});

describe.skipIf(!haveRedis('feed caps across instances'))('feed caps and message rate shared by two instances on one Redis', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let running: string;
  const open: { close(): void }[] = [];
  beforeAll(async () => {
    // The nap kind's entry: the service from its sources, plus the test-only kind.
    // Every client here is 127.0.0.1: the address cap is lifted so that the key's cap is what binds.
    cluster = await Cluster.start({ env: { ...ENV, WS_MAX_CONNECTIONS_PER_ADDRESS: '10' }, leaseMs: 3_000, poolSize: 1, entry: ['test/support/nap-kind/start.cjs'] });
    [a, b] = [await cluster.startInstance('a'), await cluster.startInstance('b')];
    running = await nap(a, KEY_A, [10_000, 10_000]);
  }, 90_000);
  afterAll(async () => {
    for (const connection of open) connection.close();
    await cluster?.close();
  });

  it('shares the caps: a key holding 3 feeds on A (SSE and WebSocket) is refused a 4th on B, on both transports, until one on A closes', async () => {
    const stream = await sse(a, running, KEY_A);
    expect(stream.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const ws = await upgrade(a, KEY_A);
      expect(ws.status).toBe(101);
      open.push(ws.socket!);
    }
    expect(await upgrade(b, KEY_A)).toEqual({ status: 429, retryAfter: '1' });
    expectCapRefusal(await sse(b, running, KEY_A), /WS_MAX_CONNECTIONS_PER_KEY 3/);
    stream.close();
    open.push(await eventually(async () => (await upgrade(b, KEY_A)).socket, 10_000, 'the slot closed on A to be free on B'));
  });

  it('shares the message window: messages spread over both instances count once per key, and both connections are cut past it', async () => {
    const [onA, onB] = [await feed(a, KEY_B), await feed(b, KEY_B)];
    for (let i = 0; i < 5; i++) await onA.barrier();
    for (let i = 0; i < 5; i++) await onB.barrier();
    onB.ping();
    await expectRateCut(onB);
    onA.subscribe('*');
    await expectRateCut(onA);
  });

  it('stops counting a killed instance`s feeds once their leases lapse (CLUSTER_LEASE_MS), without anyone releasing them', async () => {
    // Key A holds 2 WebSockets on A and 1 on B (the test before).
    await cluster.kill('a');
    // Its sockets are gone, but their slots still count until their leases lapse.
    expect((await upgrade(b, KEY_A)).status).toBe(429);
    for (let i = 0; i < 2; i++) open.push(await eventually(async () => (await upgrade(b, KEY_A)).socket, 15_000, 'the killed instance`s slots to lapse'));
    expect((await upgrade(b, KEY_A)).status).toBe(429);
    await waitUntil(async () => ((await call(b, 'DELETE', `/jobs/${running}`, undefined, KEY_A)).status === 200 ? true : undefined), 15_000, 'the nap job to be cancelled');
  });
});

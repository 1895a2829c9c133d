import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './support/app';
import { call, Cluster, type Instance } from './support/cluster';
import { sseEvents } from './support/cluster-feed';
import { prng } from './support/prng';
import { haveRedis } from './support/redis-server';
import { FeedClient } from './support/ws-client';

/**
 * Issue 15, item 4: resumable feeds. A client drops its connection at random points while a job
 * runs and reconnects with the last seq it counted (SSE `Last-Event-ID`, WebSocket `afterSeq`),
 * on any instance. Counting by the seq rule (a snapshot replaces what it covers; an update counts
 * only past the last seq), every task is counted exactly once, and the final event never comes
 * before the data.
 */
const NUMBERS = Array.from({ length: 48 }, (_, i) => 1_500_000 + i);
const FINAL = new Set(['job.completed', 'job.failed', 'job.cancelled']);

interface Wire {
  event: string;
  seq?: number;
  data: any;
}

/** A client's count of one job's finished tasks across reconnects. */
class ResumingCount {
  readonly counts = new Array<number>(NUMBERS.length).fill(0);
  readonly problems: string[] = [];
  lastSeq: number | undefined;
  final?: Wire;
  snapshots = 0;
  resumedWithout = 0;

  take(message: Wire): void {
    if (this.final) return this.problems.push(`${message.event} after the final event`) as unknown as void;
    if (message.event === 'job.snapshot') {
      this.snapshots++;
      // A snapshot replaces whatever it covers: what it shows finished counts once.
      [...(message.data.tasks as string)].forEach((code, i) => {
        if ('cfx'.includes(code)) this.counts[i] = Math.max(1, this.counts[i]);
      });
      this.lastSeq = message.seq;
      return;
    }
    if (message.event === 'task.progress') {
      if (this.lastSeq !== undefined && message.seq! <= this.lastSeq) return this.problems.push(`seq ${message.seq} again after ${this.lastSeq}`) as unknown as void;
      for (const update of message.data.updates) if (['completed', 'failed', 'cancelled'].includes(update.state)) this.counts[update.index]++;
      this.lastSeq = message.seq;
      return;
    }
    if (FINAL.has(message.event)) {
      const missing = this.counts.map((n, i) => [i, n]).filter(([, n]) => n === 0);
      if (missing.length > 0) this.problems.push(`final event before tasks ${missing.map(([i]) => i).join(',')} were counted`);
      this.final = message;
    }
  }
}

/** Reads SSE frames until `ms` passes or the stream ends; returns whether it ended. */
async function readSseFor(url: string, lastEventId: number | undefined, ms: number, take: (m: Wire) => void): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}) } });
    expect(res.status).toBe(200);
    for await (const event of sseEvents(res)) take({ event: event.event, seq: event.id !== undefined ? Number(event.id) : undefined, data: event.data });
    return true;
  } catch (err) {
    if (abort.signal.aborted) return false;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function resumeScenarios(targets: () => { url: string; wsUrl: string }[]) {
  it('SSE: reconnects with Last-Event-ID at random points count every task once, the final event after the data', async () => {
    const random = prng(7);
    const nodes = targets();
    const job = await call(nodes[0], 'POST', '/fibonacci', { numbers: NUMBERS });
    expect(job.status).toBe(202);
    const count = new ResumingCount();
    let connections = 0;
    for (let ended = false; !ended; connections++) {
      const node = nodes[connections % nodes.length];
      ended = await readSseFor(`${node.url}/jobs/${job.body.id}/events`, count.lastSeq, 40 + Math.floor(random() * 250), (m) => count.take(m));
      expect(connections, 'reconnections').toBeLessThan(500);
    }
    expect(count.problems).toEqual([]);
    expect(count.final).toMatchObject({ event: 'job.completed', data: { completed: NUMBERS.length } });
    expect(count.counts.filter((n) => n !== 1)).toEqual([]);
    expect(connections).toBeGreaterThan(2);
  });

  it('WebSocket: re-subscribing with afterSeq at random points counts every task once; a feed resumed at the current seq gets no snapshot', async () => {
    const random = prng(11);
    const nodes = targets();
    const job = await call(nodes[0], 'POST', '/fibonacci', { numbers: NUMBERS });
    const count = new ResumingCount();
    for (let connection = 0; !count.final; connection++) {
      const client = await FeedClient.connect(nodes[connection % nodes.length].wsUrl);
      client.send({ event: 'subscribe', data: { jobId: job.body.id, ...(count.lastSeq !== undefined ? { afterSeq: count.lastSeq } : {}) } });
      await new Promise((resolve) => setTimeout(resolve, 40 + Math.floor(random() * 250)));
      const barrier = await client.barrier();
      for (const message of client.before(barrier)) count.take(message as Wire);
      client.close();
      expect(connection).toBeLessThan(500);
    }
    expect(count.problems).toEqual([]);
    expect(count.counts.filter((n) => n !== 1)).toEqual([]);
    // Resumed at the final seq: only the final event, no snapshot.
    const late = await FeedClient.connect(nodes[0].wsUrl);
    late.send({ event: 'subscribe', data: { jobId: job.body.id, afterSeq: count.final!.seq } });
    const barrier = await late.barrier();
    expect(late.before(barrier).map((m) => m.event)).toEqual(['job.completed']);
    late.close();
  });

  it('refuses a malformed Last-Event-ID (400 naming the header) and a negative afterSeq', async () => {
    const node = targets()[0];
    const job = await call(node, 'POST', '/fibonacci', { numbers: [1, 2] });
    const res = await fetch(`${node.url}/jobs/${job.body.id}/events`, { headers: { 'last-event-id': 'abc' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).issues[0].field).toBe('header.last-event-id');
    const client = await FeedClient.connect(node.wsUrl);
    client.send({ event: 'subscribe', data: { jobId: job.body.id, afterSeq: -1 } });
    const error = await client.waitFor((m) => m.event === 'error');
    expect(error.data.message).toMatch(/afterSeq/);
    client.close();
  });
}

describe('resumable feeds in the embedded mode', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp({ FIB_MAX_N: '10000000', RATE_LIMIT_MAX: '1000000' });
  });
  afterAll(() => running?.close());
  resumeScenarios(() => [running]);
});

describe.skipIf(!haveRedis('resumable feeds across instances'))('resumable feeds on two instances, reconnecting to either', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    cluster = await Cluster.start({ poolSize: 1, env: { RATE_LIMIT_MAX: '1000000' } });
    a = await cluster.startInstance('a');
    b = await cluster.startInstance('b');
  }, 60_000);
  afterAll(() => cluster?.close());
  resumeScenarios(() => [a, b]);
});

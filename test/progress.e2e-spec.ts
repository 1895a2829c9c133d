import http from 'node:http';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { eventually, startApp, type RunningApp } from './support/app';
import { FeedClient, type Message } from './support/ws-client';

const FINAL = ['job.completed', 'job.failed', 'job.cancelled'];
const isFinalFor = (jobId: string) => (m: Message) => FINAL.includes(m.event) && m.data.id === jobId;

/** Every task must be finished exactly once across the snapshot's map and the later updates. */
function finishedCounts(messages: Message[], jobId: string, total: number): number[] {
  const counts = new Array<number>(total).fill(0);
  for (const m of messages) {
    if (m.event === 'job.snapshot' && m.data.id === jobId) {
      [...(m.data.tasks as string)].forEach((code, i) => 'cfx'.includes(code) && counts[i]++);
    }
    if (m.event === 'task.progress' && m.data.jobId === jobId) {
      for (const u of m.data.updates) if (['completed', 'failed', 'cancelled'].includes(u.state)) counts[u.index]++;
    }
  }
  return counts;
}

describe('progress feed', () => {
  let svc: RunningApp;
  const clients: FeedClient[] = [];
  const connect = async () => {
    const client = await FeedClient.connect(svc.wsUrl);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    svc = await startApp({ FIB_MAX_RESULT_BYTES: '200000000' });
  });
  afterEach(() => clients.splice(0).forEach((c) => c.close()));
  afterAll(() => svc.close());

  it('sends a snapshot, task updates covering every task exactly once, then one final event', async () => {
    const client = await connect();
    const numbers = [...Array.from({ length: 3000 }, (_, i) => i), 200_000, 300_000];
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers }).expect(202);
    client.subscribe(job.id);
    const final = await client.waitFor(isFinalFor(job.id));
    const mine = client.messages.filter((m) => m.data?.id === job.id || m.data?.jobId === job.id);
    expect(mine[0].event).toBe('job.snapshot');
    expect(mine[0].data).toMatchObject({ id: job.id, kind: 'fibonacci', total: numbers.length });
    expect(mine[0].data.tasks).toHaveLength(numbers.length);
    expect(mine.at(-1)).toBe(final);
    expect(mine.filter((m) => FINAL.includes(m.event))).toHaveLength(1);
    expect(final).toMatchObject({ event: 'job.completed', data: { completed: numbers.length, failed: 0 } });
    expect(finishedCounts(client.messages, job.id, numbers.length).every((c) => c === 1)).toBe(true);
    // Updates are summaries: no big values, those come from the results endpoint.
    const update = mine.find((m) => m.event === 'task.progress')!.data.updates[0];
    expect(Object.keys(update)).not.toContain('value');
    const done = mine.flatMap((m) => (m.event === 'task.progress' ? m.data.updates : [])).find((u: { n: number; state: string }) => u.n === 300_000 && u.state === 'completed');
    expect(done).toMatchObject({ digits: fib(300_000).toString().length, state: 'completed' });
    expect(done.ms).toBeGreaterThan(0);
  });

  it('a "*" subscriber sees jobs created after it subscribed, start to finish', async () => {
    const client = await connect();
    client.subscribe('*');
    await client.barrier();
    const { body: job } = await request(svc.url)
      .post('/fibonacci')
      .send({ range: { from: 0, to: 999 } })
      .expect(202);
    await client.waitFor(isFinalFor(job.id));
    const events = client.messages.filter((m) => m.data?.id === job.id || m.data?.jobId === job.id).map((m) => m.event);
    expect(events[0]).toBe('job.created');
    expect(events).toContain('job.started');
    expect(events.at(-1)).toBe('job.completed');
    expect(finishedCounts(client.messages, job.id, 1000).every((c) => c === 1)).toBe(true);
  });

  it('reports intra-task progress of a long computation', async () => {
    const client = await connect();
    const { body: job } = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [8_000_000] })
      .expect(202);
    client.subscribe(job.id);
    await client.waitFor(isFinalFor(job.id));
    const fractions = client.messages
      .filter((m) => m.event === 'task.progress')
      .flatMap((m) => m.data.updates)
      .filter((u: { progress?: number }) => u.progress !== undefined)
      .map((u: { progress: number }) => u.progress);
    expect(fractions.length).toBeGreaterThan(1);
    expect(fractions.every((f: number) => f > 0 && f <= 1)).toBe(true);
  });

  it('a late subscriber after completion gets the snapshot and the final event only', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=10000')
      .send({ numbers: [1, 2, 3] })
      .expect(200);
    const client = await connect();
    client.subscribe(job.id);
    const end = await client.barrier();
    expect(client.before(end).map((m) => m.event)).toEqual(['job.snapshot', 'job.completed']);
    expect(client.messages[0].data).toMatchObject({ status: 'completed', tasks: 'ccc' });
  });

  it('sends a finished job whole once per connection: a re-subscribe gets only the final event', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=10000')
      .send({ range: { from: 0, to: 999 } })
      .expect(200);
    const client = await connect();
    for (let i = 0; i < 3; i++) client.subscribe(job.id);
    const end = await client.barrier();
    const events = client.before(end);
    expect(events.map((m) => m.event)).toEqual(['job.snapshot', 'job.completed', 'job.completed', 'job.completed']);
    expect(events[0].data.tasks).toBe('c'.repeat(1000));
    expect(events[3].data).toMatchObject({ id: job.id, status: 'completed', completed: 1000 });
    expect(events[3].data.tasks).toBeUndefined();
    // Another connection has not had it: it gets the snapshot.
    const other = await connect();
    other.subscribe(job.id);
    const otherEnd = await other.barrier();
    expect(other.before(otherEnd).map((m) => m.event)).toEqual(['job.snapshot', 'job.completed']);
  });

  it('tells a subscriber when the job is cancelled', async () => {
    const client = await connect();
    const { body: job } = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [9_000_000, 9_000_001, 9_000_002, 9_000_003] })
      .expect(202);
    client.subscribe(job.id);
    await client.waitFor((m) => m.event === 'job.snapshot');
    await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    const final = await client.waitFor(isFinalFor(job.id));
    expect(final.event).toBe('job.cancelled');
    expect(finishedCounts(client.messages, job.id, 4).every((c) => c === 1)).toBe(true);
  });

  it('answers bad messages and unknown jobs with an error event and keeps the connection', async () => {
    const client = await connect();
    const bad = ['not json', JSON.stringify({ event: 'dance', data: { jobId: 'x' } }), JSON.stringify({ event: 'subscribe' }), JSON.stringify({ event: 'subscribe', data: { jobId: 'no-such-job' } })];
    for (const [i, message] of bad.entries()) {
      client.send(message);
      const error = await client.waitFor((m) => m.event === 'error', i);
      expect(typeof error.data.message).toBe('string');
    }
    expect(client.messages.map((m) => m.event)).toEqual(['error', 'error', 'error', 'error']);
    expect(client.messages[3].data).toMatchObject({ jobId: 'no-such-job' });
    expect(client.messages[3].data.message).toMatch(/not found/);
    expect(client.open).toBe(true);
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=5000')
      .send({ numbers: [7] })
      .expect(200);
    client.subscribe(job.id);
    await client.waitFor(isFinalFor(job.id));
  });

  it('stops sending after unsubscribe', async () => {
    const client = await connect();
    const { body: job } = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [9_000_010, 9_000_011, 9_000_012] })
      .expect(202);
    client.subscribe(job.id);
    await client.waitFor((m) => m.event === 'job.snapshot');
    client.send({ event: 'unsubscribe', data: { jobId: job.id } });
    const ack = await client.waitFor((m) => m.event === 'unsubscribed');
    const count = client.messages.indexOf(ack) + 1;
    // The cancel's events are published before DELETE answers; the barrier's answer comes after them.
    await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    const end = await client.barrier();
    expect(end).toBe(count);
  });

  it('serves the same events as Server-Sent Events, ending after the final one', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci')
      .send({ range: { from: 0, to: 2000 } })
      .expect(202);
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get(`${svc.url}/jobs/${job.id}/events`, (res) => {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('event:'))
      .map((block) => {
        const [eventLine, dataLine] = block.split('\n');
        return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
      });
    expect(events[0].event).toBe('job.snapshot');
    expect(events.at(-1)!.event).toBe('job.completed');
    expect(finishedCounts(events, job.id, 2001).every((c) => c === 1)).toBe(true);
  });
});

describe('progress feed: slow SSE readers', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    // A long heartbeat: a cut reader that makes no progress is dropped after one, and this
    // reader stays still until the job is over.
    svc = await startApp({ WS_MAX_BUFFERED_BYTES: '65536', BODY_LIMIT_BYTES: '8388608', WS_HEARTBEAT_MS: '600000' });
  });
  afterAll(() => svc.close());

  it('stops feeding a Server-Sent Events reader that does not read, and ends its stream without the rest of the job', async () => {
    const numbers = Array.from({ length: 480_000 }, (_, i) => i % 1000);
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers }).expect(202);
    // A reader that keeps its connection open but reads nothing until the job is over.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${svc.url}/jobs/${job.id}/events`, resolve).on('error', reject));
    expect(res.statusCode).toBe(200);
    res.pause();
    await eventually(
      async () => {
        const { body } = await request(svc.url).get(`/jobs/${job.id}`).expect(200);
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      120_000,
      'the job to finish',
    );
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    const ended = new Promise<void>((resolve) => res.once('end', resolve));
    res.resume();
    await ended;
    expect(text.startsWith('event: job.snapshot')).toBe(true);
    // Without the cap, the reader would get every update and the final event; with it, the
    // updates stop and the stream ends with the reason.
    expect(text).not.toContain('event: job.completed');
    expect(text.split('event: task.progress').length - 1).toBeGreaterThan(0);
    const last = text.trimEnd().split('\n\n').at(-1)!;
    expect(last.split('\n')[0]).toBe('event: error');
    expect(JSON.parse(last.split('\n')[1].slice('data: '.length))).toEqual({ message: 'too slow: send buffer over WS_MAX_BUFFERED_BYTES; stream closed' });
  });
});

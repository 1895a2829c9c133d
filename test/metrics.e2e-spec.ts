import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApp, type RunningApp } from './support/app';
import { FeedClient } from './support/ws-client';

/** The value of one sample line (`name{labels} value`); labels given must all match. A missing series fails the test. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const value = sampleOrUndefined(text, name, labels);
  if (value === undefined) throw new Error(`no series ${name}${JSON.stringify(labels)} in the scrape`);
  return value;
}

function sampleOrUndefined(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('metrics', () => {
  let svc: RunningApp;
  const scrape = async () => (await request(svc.url).get('/metrics').expect(200)).text;

  beforeAll(async () => {
    svc = await startApp();
  });
  afterAll(() => svc.close());

  it('serves the Prometheus text format with default process metrics', async () => {
    const res = await request(svc.url).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE jobs_total counter');
    expect(res.text).toContain('# TYPE crawl_pages_total counter');
    expect(res.text).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('counts a Fibonacci job, its tasks and its request', async () => {
    const before = await scrape();
    const fib = { kind: 'fibonacci' };
    const { body } = await request(svc.url)
      .post('/fibonacci?wait=5000')
      .send({ numbers: [1, 2, 3, 1000] })
      .expect(200);
    expect(body.status).toBe('completed');
    const post = { method: 'POST', route: '/fibonacci', status: '200' };
    // The request is recorded when its response ends, which may be just after the client saw it.
    const after = await eventually(async () => {
      const text = await scrape();
      return (sampleOrUndefined(text, 'http_request_duration_seconds_count', post) ?? 0) > (sampleOrUndefined(before, 'http_request_duration_seconds_count', post) ?? 0) ? text : undefined;
    });
    // A series may first appear with this job (then it counted from 0), but it must be there after.
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - (sampleOrUndefined(before, name, labels) ?? 0);

    expect(delta('jobs_total', { ...fib, status: 'completed' })).toBe(1);
    expect(delta('job_duration_seconds_count', { ...fib, status: 'completed' })).toBe(1);
    expect(delta('job_tasks_total', { ...fib, state: 'completed' })).toBe(4);
    expect(delta('job_tasks_total', { ...fib, state: 'failed' })).toBe(0);
    expect(delta('task_duration_seconds_count', fib)).toBe(4);
    expect(delta('task_duration_seconds_sum', fib)).toBeGreaterThan(0);
    expect(delta('task_duration_seconds_bucket', { ...fib, le: '+Inf' })).toBe(4);
    expect(delta('http_request_duration_seconds_count', post)).toBe(1);
  });

  it('labels requests by route pattern, never by raw URL, and excludes scrapes', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [5] })
      .expect(202);
    await request(svc.url).get(`/jobs/${job.id}`).expect(200);
    await request(svc.url).get('/no/such/route').expect(404);
    const text = await eventually(async () => {
      const t = await scrape();
      return (sampleOrUndefined(t, 'http_request_duration_seconds_count', { route: 'unmatched', status: '404' }) ?? 0) > 0 ? t : undefined;
    });
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/jobs/:id', status: '200' })).toBe(1);
    expect(text).not.toContain(job.id);
    expect(text).not.toContain('/no/such/route');
    expect(text).not.toContain('route="/metrics"');
  });

  it('reports pool gauges read at scrape time: the queue fills while a batch keeps every thread busy, and empties after its cancel', async () => {
    const idle = await scrape();
    // Two pools (CPU and I/O) of POOL_SIZE threads each.
    expect(sample(idle, 'pool_max_threads')).toBe(4);
    expect(sample(idle, 'pool_queue_length')).toBe(0);
    // Big numbers, one chunk each, more chunks in flight than the 2 CPU threads: some wait in the pool's queue.
    const numbers = Array.from({ length: 8 }, (_, i) => 9_000_000 - i);
    const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers }).expect(202);
    try {
      const busy = await eventually(
        async () => {
          const text = await scrape();
          return sample(text, 'pool_queue_length') >= 1 ? text : undefined;
        },
        20_000,
        'pool_queue_length above 0 while the batch runs',
      );
      expect(sample(busy, 'pool_threads')).toBeGreaterThanOrEqual(2);
    } finally {
      await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    }
    await eventually(async () => (sample(await scrape(), 'pool_queue_length') === 0 ? true : undefined), 20_000, 'pool_queue_length back to 0 after the cancel');
    const utilization = sample(await scrape(), 'pool_utilization');
    expect(utilization).toBeGreaterThan(0);
    expect(utilization).toBeLessThanOrEqual(1);
  });

  it('counts open WebSocket clients', async () => {
    const clients = async () => sample(await scrape(), 'websocket_clients');
    expect(await clients()).toBe(0);
    const client = await FeedClient.connect(svc.wsUrl);
    try {
      await eventually(async () => ((await clients()) === 1 ? true : undefined), 5_000, 'websocket_clients at 1');
    } finally {
      client.close();
    }
    // The server sees the close only after the closing handshake.
    await eventually(async () => ((await clients()) === 0 ? true : undefined), 5_000, 'websocket_clients back to 0');
  });

  it('keeps a registry per app, so a second app in the same process starts and counts on its own', async () => {
    const other = await startApp();
    try {
      const text = (await request(other.url).get('/metrics').expect(200)).text;
      expect(sample(text, 'jobs_total', { kind: 'fibonacci', status: 'completed' })).toBe(0);
      expect(sample(await scrape(), 'jobs_total', { kind: 'fibonacci', status: 'completed' })).toBeGreaterThanOrEqual(1);
    } finally {
      await other.close();
    }
  });
});

describe('metrics access', () => {
  const KEY = 'key-a-0123456789abcdef';
  const TOKEN = 'scrape-token-0123456789';

  it('with API keys on and no METRICS_TOKEN, refuses /metrics with a clear message, even to a valid key', async () => {
    const svc = await startApp({ API_KEYS: KEY });
    try {
      const res = await request(svc.url).get('/metrics').set('Authorization', `Bearer ${KEY}`).expect(403);
      expect(res.body.message).toMatch(/API_KEYS is set and METRICS_TOKEN is not/);
      await request(svc.url).get('/metrics').expect(403);
    } finally {
      await svc.close();
    }
  });

  it('with METRICS_TOKEN, serves /metrics to that token only (an API key is not enough)', async () => {
    const svc = await startApp({ API_KEYS: KEY, METRICS_TOKEN: TOKEN });
    try {
      const ok = await request(svc.url).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
      expect(sample(ok.text, 'pool_max_threads')).toBe(4);
      const withKey = await request(svc.url).get('/metrics').set('Authorization', `Bearer ${KEY}`).expect(401);
      expect(withKey.headers['www-authenticate']).toBe('Bearer');
      expect(withKey.body.message).toMatch(/METRICS_TOKEN/);
      await request(svc.url).get('/metrics').expect(401);
      // And the token opens nothing else.
      await request(svc.url).get('/jobs').set('Authorization', `Bearer ${TOKEN}`).expect(401);
    } finally {
      await svc.close();
    }
  });

  it('with METRICS_TOKEN and no API keys, still needs the token', async () => {
    const svc = await startApp({ METRICS_TOKEN: TOKEN });
    try {
      await request(svc.url).get('/metrics').expect(401);
      await request(svc.url).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    } finally {
      await svc.close();
    }
  });
});

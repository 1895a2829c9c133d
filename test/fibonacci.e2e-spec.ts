import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { TaskScheduler } from '../src/pool/task-scheduler';
import { eventually, startApp, type RunningApp } from './support/app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Fibonacci jobs over HTTP', () => {
  let svc: RunningApp;
  const api = () => request(svc.url);
  const finished = (id: string) =>
    eventually(
      async () => {
        const { body } = await api().get(`/jobs/${id}`).expect(200);
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      30_000,
      `job ${id} to finish`,
    );

  beforeAll(async () => {
    svc = await startApp({ FIB_MAX_NUMBERS: '5000', BODY_LIMIT_BYTES: '65536', FIB_MAX_RESULT_BYTES: '200000000' });
  });
  afterAll(() => svc.close());

  it('accepts a batch with 202, a Location and the job, then computes exact values', async () => {
    const res = await api()
      .post('/fibonacci')
      .send({ numbers: [0, 1, 90, 1000, 1000000] })
      .expect(202);
    const job = res.body;
    expect(job.id).toMatch(UUID);
    expect(res.headers.location).toBe(`/jobs/${job.id}`);
    expect(job).toMatchObject({ kind: 'fibonacci', total: 5, completed: 0, failed: 0 });
    expect(['queued', 'running']).toContain(job.status);
    expect(job.links).toEqual({ self: `/jobs/${job.id}`, results: `/jobs/${job.id}/results`, events: `/jobs/${job.id}/events` });

    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'completed', total: 5, completed: 5, failed: 0 });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
    expect(done.durationMs).toBeGreaterThanOrEqual(0);

    const { body } = await api().get(`/jobs/${job.id}/results`).expect(200);
    expect(body).toMatchObject({ total: 5, offset: 0, limit: 1000 });
    const [f0, f1, f90, f1000, f1e6] = body.items;
    expect(f0).toMatchObject({ index: 0, n: 0, value: '0', digits: 1, state: 'completed' });
    expect(f1).toMatchObject({ index: 1, n: 1, value: '1' });
    expect(f90.value).toBe('2880067194370816120');
    expect(f1000.value.endsWith('849228875')).toBe(true);
    expect(typeof f1e6.value).toBe('string');
    expect(f1e6.digits).toBe(208988);
    expect(f1e6.value).toBe(fib(1_000_000).toString());
    expect(f1e6.ms).toBeGreaterThan(0);
  });

  it('answers 200 with the finished job and its results when it finishes within ?wait', async () => {
    const res = await api()
      .post('/fibonacci?wait=10000')
      .send({ range: { from: 10, to: 14 } })
      .expect(200);
    expect(res.headers.location).toBe(`/jobs/${res.body.id}`);
    expect(res.body.status).toBe('completed');
    expect(res.body.results.items.map((r: { value: string }) => r.value)).toEqual(['55', '89', '144', '233', '377']);
  });

  it('answers 202 when the job outlasts ?wait', async () => {
    const res = await api()
      .post('/fibonacci?wait=1')
      .send({ numbers: [9_000_000, 9_000_001] })
      .expect(202);
    expect(res.body.results).toBeUndefined();
    await api().delete(`/jobs/${res.body.id}`).expect(200);
  });

  it('pages results in input order and formats them as hex', async () => {
    const numbers = Array.from({ length: 2500 }, (_, i) => (i * 7919) % 3000).concat([60_000, 123_456]);
    const { body: job } = await api().post('/fibonacci?wait=20000').send({ numbers }).expect(200);
    const page = await api().get(`/jobs/${job.id}/results?offset=1000&limit=500`).expect(200);
    expect(page.body).toMatchObject({ total: numbers.length, offset: 1000, limit: 500 });
    expect(page.body.items).toHaveLength(500);
    page.body.items.forEach((item: { index: number; n: number; value: string }, i: number) => {
      expect(item.index).toBe(1000 + i);
      expect(item.n).toBe(numbers[1000 + i]);
      expect(item.value).toBe(fib(item.n).toString());
    });
    const tail = await api().get(`/jobs/${job.id}/results?offset=2498&limit=10&format=hex`).expect(200);
    expect(tail.body.format).toBe('hex');
    expect(tail.body.items.map((i: { n: number }) => i.n)).toEqual([numbers[2498], numbers[2499], 60_000, 123_456]);
    for (const item of tail.body.items) expect(item.value).toBe(fib(item.n).toString(16));
    // Previews: long values shortened to their first and last digits, flagged.
    const preview = await api().get(`/jobs/${job.id}/results?offset=2500&limit=2&maxChars=41`).expect(200);
    const full = fib(123_456).toString();
    expect(preview.body.items[1]).toMatchObject({ n: 123_456, shortened: true, value: `${full.slice(0, 20)}…${full.slice(-20)}`, digits: full.length });
    expect(preview.body.items[0].value).toHaveLength(41);
    await api().get(`/jobs/${job.id}/results?maxChars=3`).expect(400);
    const beyond = await api().get(`/jobs/${job.id}/results?offset=5000`).expect(200);
    expect(beyond.body.items).toEqual([]);
  });

  it('lists recent jobs newest first, filtered by status and kind', async () => {
    const a = (
      await api()
        .post('/fibonacci?wait=5000')
        .send({ numbers: [1] })
    ).body.id;
    const b = (
      await api()
        .post('/fibonacci?wait=5000')
        .send({ numbers: [2] })
    ).body.id;
    const { body } = await api().get('/jobs?status=completed&kind=fibonacci&limit=2').expect(200);
    expect(body.items.map((j: { id: string }) => j.id)).toEqual([b, a]);
    // Two filters: counting them would mean checking every candidate, so no total.
    expect(body.total).toBeNull();
    const none = await api().get('/jobs?status=cancelled&limit=1000').expect(200);
    expect(none.body.items.every((j: { status: string }) => j.status === 'cancelled')).toBe(true);
  });

  it('cancels a running batch: workers stop, queued tasks never run, finished results stay', async () => {
    const numbers = Array.from({ length: 30 }, (_, i) => 9_000_000 + i);
    const { body: job } = await api().post('/fibonacci').send({ numbers }).expect(202);
    await eventually(async () => ((await api().get(`/jobs/${job.id}`)).body.completed > 0 ? true : undefined));
    const { body: cancelled } = await api().delete(`/jobs/${job.id}`).expect(200);
    // DELETE answers once the tasks stopped: no worker runs or waits for the job any more.
    expect(svc.app.get(TaskScheduler).stats()).toMatchObject({ running: 0, queued: 0 });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.completed + cancelled.failed + cancelled.cancelled).toBe(numbers.length);
    expect(cancelled.completed).toBeGreaterThan(0);
    expect(cancelled.cancelled).toBeGreaterThanOrEqual(numbers.length - 10);
    const { body: results } = await api().get(`/jobs/${job.id}/results`).expect(200);
    const done = results.items.filter((i: { state: string }) => i.state === 'completed');
    expect(done.length).toBe(cancelled.completed);
    for (const item of done) expect(item.digits).toBe(item.value.length);
    expect(results.items.filter((i: { state: string }) => i.state === 'cancelled').length).toBe(cancelled.cancelled);
    // Nothing runs for the cancelled job any more: a fresh job runs and nothing else finishes.
    await api()
      .post('/fibonacci?wait=20000')
      .send({ numbers: [10] })
      .expect(200);
    const later = await api().get(`/jobs/${job.id}`).expect(200);
    expect(later.body.completed).toBe(cancelled.completed);
    // Cancelling again changes nothing.
    const again = await api().delete(`/jobs/${job.id}`).expect(200);
    expect(again.body.status).toBe('cancelled');
  });

  it('reports partial results of a running job', async () => {
    const { body: job } = await api()
      .post('/fibonacci')
      .send({ numbers: [3, 9_500_000, 9_500_001, 9_500_002] })
      .expect(202);
    const partial = await eventually(async () => {
      const { body } = await api().get(`/jobs/${job.id}/results`);
      return body.items[0].state === 'completed' && body.status === 'running' ? body : undefined;
    });
    expect(partial.items[0].value).toBe('2');
    expect(partial.items.some((i: { state: string; value?: string }) => i.state !== 'completed' && i.value === undefined)).toBe(true);
    await api().delete(`/jobs/${job.id}`).expect(200);
  });

  describe('rejects bad input with 4xx naming the field and the rule', () => {
    const cases: [string, unknown, string, RegExp][] = [
      ['non-integer', { numbers: [1.5] }, 'numbers.0', /integer/],
      ['negative', { numbers: [3, -1] }, 'numbers.1', />= 0/],
      ['over max n', { numbers: [10_000_001] }, 'numbers.0', /FIB_MAX_N/],
      ['string n', { numbers: ['7'] }, 'numbers.0', /number/],
      ['empty list', { numbers: [] }, 'numbers', /empty/],
      ['too many numbers', { numbers: Array.from({ length: 5001 }, () => 1) }, 'numbers', /FIB_MAX_NUMBERS/],
      ['unknown field', { numbers: [1], extra: true }, 'extra', /not a known field/],
      ['range from > to', { range: { from: 9, to: 3 } }, 'range.from', /from must be <= to/],
      ['range too long', { range: { from: 0, to: 6000 } }, 'range', /FIB_MAX_NUMBERS/],
      ['range missing to', { range: { from: 1 } }, 'range.to', /number/],
      ['neither numbers nor range', {}, 'numbers', /exactly one/],
      ['both numbers and range', { numbers: [1], range: { from: 1, to: 2 } }, 'numbers', /exactly one/],
      ['results too large', { numbers: Array.from({ length: 100 }, (_, i) => 9_999_999 - i) }, 'numbers', /FIB_MAX_RESULT_BYTES/],
      ['array body', [1, 2], '(body)', /JSON object/],
    ];
    it.each(cases)('%s', async (_name, body, field, rule) => {
      const res = await api()
        .post('/fibonacci')
        .send(body as object)
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const issue = res.body.issues.find((i: { field: string }) => i.field === field);
      expect(issue, JSON.stringify(res.body)).toBeDefined();
      expect(issue.message).toMatch(rule);
      expect(res.body.message).toContain(field);
      expect(res.body.requestId).toBeTruthy();
    });

    it('malformed JSON -> 400', async () => {
      const res = await api().post('/fibonacci').set('content-type', 'application/json').send('{"numbers": [1,').expect(400);
      expect(res.body.message).toMatch(/malformed JSON/);
    });

    it('body over the size limit -> 413', async () => {
      const res = await api()
        .post('/fibonacci')
        .set('content-type', 'application/json')
        .send(`{"numbers":[${'1,'.repeat(40_000)}1]}`)
        .expect(413);
      expect(res.body.message).toMatch(/BODY_LIMIT_BYTES/);
    });

    it('non-JSON content type -> 415, never read as {}', async () => {
      const res = await api().post('/fibonacci').set('content-type', 'text/plain').send('numbers=1').expect(415);
      expect(res.body.statusCode).toBe(415);
    });

    it('bad query parameters -> 400', async () => {
      const { body: job } = await api()
        .post('/fibonacci?wait=5000')
        .send({ numbers: [1] })
        .expect(200);
      const cases = [`/jobs/${job.id}/results?limit=0`, `/jobs/${job.id}/results?offset=-1`, `/jobs/${job.id}/results?format=octal`, '/jobs?status=done', '/jobs?kind=pi'];
      for (const path of cases) {
        const res = await api().get(path).expect(400);
        expect(res.body.issues[0].field).toMatch(/^query\./);
      }
      await api()
        .post('/fibonacci?wait=abc')
        .send({ numbers: [1] })
        .expect(400);
      await api()
        .post('/fibonacci?wait=999999999')
        .send({ numbers: [1] })
        .expect(400);
    });

    it('unknown job id -> 404 on every job route', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      for (const path of [`/jobs/${id}`, `/jobs/${id}/results`, `/jobs/${id}/events`]) {
        const res = await api().get(path).expect(404);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      }
      await api().delete(`/jobs/${id}`).expect(404);
    });
  });
});

describe('a task that fails', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ TASK_TIMEOUT_MS: '1000', FIB_MAX_N: '100000000', FIB_MAX_RESULT_BYTES: '200000000' });
  });
  afterAll(() => svc.close());

  it('fails only itself: the job goes on, the pool recovers, the service stays up', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=20000')
      .send({ numbers: [10, 100_000_000, 20] })
      .expect(200);
    expect(job).toMatchObject({ status: 'completed', completed: 2, failed: 1 });
    const [a, big, b] = job.results.items;
    expect(a.value).toBe('55');
    expect(b.value).toBe('6765');
    expect(big).toMatchObject({ n: 100_000_000, state: 'failed' });
    expect(big.error).toMatch(/TASK_TIMEOUT_MS/);
    await request(svc.url).get('/health/ready').expect(200);
    const after = await request(svc.url)
      .post('/fibonacci?wait=5000')
      .send({ numbers: [30] })
      .expect(200);
    expect(after.body.results.items[0].value).toBe('832040');
  });
});

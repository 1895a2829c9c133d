import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApp, type RunningApp } from './support/app';
import { startFixtureSite, type FixtureSite } from './support/fixture-site';
import { answer, newSecret, type Receiver, startReceiver } from './support/webhook-receiver';

/**
 * Issue 15, item 1 in the embedded mode: every delivery is signed per Standard Webhooks and
 * verified by the standardwebhooks package as it is; failures are retried with the same
 * webhook-id (Retry-After honoured); a crawl's pages come in batches before its end; bad input is
 * 400 naming the field; the secret is never shown.
 */
const secret = newSecret();
const receivers: Receiver[] = [];
let running: RunningApp;

async function receiver(behaviour?: Parameters<typeof startReceiver>[1]) {
  const started = await startReceiver(secret, behaviour);
  receivers.push(started);
  return started;
}

async function post(path: string, body: unknown) {
  const res = await fetch(`${running.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function deliveries(jobId: string) {
  const res = await fetch(`${running.url}/jobs/${jobId}/webhooks`);
  const text = await res.text();
  expect(text).not.toContain(secret.slice(6));
  return { status: res.status, body: JSON.parse(text) as { jobId: string; items: any[] } };
}

/** Waits until every delivery of the job has ended (delivered or failed), or `check` holds. */
const settled = (jobId: string, count: number) =>
  eventually(async () => {
    const { items } = (await deliveries(jobId)).body;
    return items.length === count && items.every((item) => item.state !== 'pending') ? items : undefined;
  });

beforeAll(async () => {
  running = await startApp({ WEBHOOK_ALLOW_TARGETS: '127.0.0.0/8', CRAWL_ALLOW_TARGETS: '127.0.0.0/8', WEBHOOK_BACKOFF_MS: '50', WEBHOOK_PAGE_BATCH: '3' });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(() => running?.close());

describe('webhooks in the embedded mode', () => {
  it('sends job.started and job.completed, signed: the receiver verifies them with standardwebhooks as it is', async () => {
    const hook = await receiver();
    const made = await post('/fibonacci?wait=10000', { numbers: [10, 20], webhook: { url: hook.url, secret, events: ['job.started', 'job.completed'] } });
    expect(made.status).toBe(200);
    expect(made.text).not.toContain(secret.slice(6));
    const job = JSON.parse(made.text);
    const got = await hook.waitFor(2);
    expect(got.map((r) => r.verified)).toEqual([
      { ok: true, payload: expect.objectContaining({ type: 'job.started', data: expect.objectContaining({ id: job.id, status: 'running' }) }) },
      { ok: true, payload: expect.objectContaining({ type: 'job.completed', data: expect.objectContaining({ id: job.id, status: 'completed', completed: 2 }) }) },
    ]);
    const completed = JSON.parse(got[1].body);
    expect(new Date(completed.timestamp).toISOString()).toBe(completed.timestamp);
    expect(completed.data).toEqual((await (await fetch(`${running.url}/jobs/${job.id}`)).json()) as object);
    expect(got[1].headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(2);
    // A signature made with another secret is refused by the same verifier.
    const { Webhook } = await import('standardwebhooks');
    expect(() => new Webhook(newSecret()).verify(got[1].body, got[1].headers)).toThrow();
    const items = await settled(job.id, 2);
    expect(items.map((item) => [item.event, item.state, item.attempts, item.lastStatus])).toEqual([
      ['job.started', 'delivered', 1, 200],
      ['job.completed', 'delivered', 1, 200],
    ]);
    expect(items.map((item) => item.id)).toEqual(got.map((r) => r.headers['webhook-id']));
  });

  it('retries a 500 with the same webhook-id until the receiver takes it', async () => {
    const hook = await receiver((n, _req, res) => answer(n < 3 ? 500 : 200)(n, _req, res));
    const made = await post('/fibonacci', { numbers: [5], webhook: { url: hook.url, secret } });
    const job = JSON.parse(made.text);
    const got = await hook.waitFor(3);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(got.every((r) => r.verified.ok)).toBe(true);
    expect(got.map((r) => r.body)).toEqual([got[0].body, got[0].body, got[0].body]);
    const [item] = await settled(job.id, 1);
    expect(item).toMatchObject({ event: 'job.completed', state: 'delivered', attempts: 3, lastStatus: 200, nextAttemptAt: null });
    expect(item.deliveredAt).not.toBeNull();
  });

  it("waits a 429's Retry-After (1 s) rather than its 50 ms back-off, and records it meanwhile", async () => {
    const hook = await receiver((n, req, res) => (n === 1 ? answer(429, { 'retry-after': '1' }) : answer(200))(n, req, res));
    const job = JSON.parse((await post('/fibonacci', { numbers: [5], webhook: { url: hook.url, secret } })).text);
    await hook.waitFor(1);
    const waiting = await eventually(async () => (await deliveries(job.id)).body.items.find((item) => item.lastStatus === 429));
    expect(waiting).toMatchObject({ state: 'pending', attempts: 1, lastError: 'HTTP 429' });
    expect(Date.parse(waiting.nextAttemptAt) - Date.parse(waiting.createdAt)).toBeGreaterThanOrEqual(900);
    const got = await hook.waitFor(2);
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(950);
    expect(got[1].headers['webhook-id']).toBe(got[0].headers['webhook-id']);
    expect((await settled(job.id, 1))[0]).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 200 });
  });

  describe('a crawl', () => {
    let site: FixtureSite;
    beforeAll(async () => {
      site = await startFixtureSite();
    });
    afterAll(() => site?.close());

    it('sends its pages in batches, every page once, all before job.completed', async () => {
      const hook = await receiver();
      const made = await post('/crawl?wait=20000', { urls: [`${site.url}/tree/`], maxDepth: 3, maxPages: 20, webhook: { url: hook.url, secret, events: ['crawl.page', 'job.completed'] } });
      expect(made.status).toBe(200);
      const job = JSON.parse(made.text);
      const items = await settled(job.id, (await deliveries(job.id)).body.items.length);
      expect(items.at(-1).event).toBe('job.completed');
      const batches = items.filter((item) => item.event === 'crawl.page');
      expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(job.total / 3));
      const got = await hook.waitFor(items.length);
      const payloads = got.map((r) => (r.verified.ok ? r.verified.payload : r.verified.error));
      const pages = payloads.filter((p) => p.type === 'crawl.page').flatMap((p) => p.data.items);
      expect(payloads.filter((p) => p.type === 'crawl.page').every((p) => p.data.items.length <= 3 && p.data.jobId === job.id)).toBe(true);
      expect(pages.map((p) => p.index).sort((a, b) => a - b)).toEqual(Array.from({ length: job.total }, (_, i) => i));
      expect(pages[0]).toMatchObject({ url: `${site.url}/tree/`, state: 'completed', status: 200, depth: 0 });
      expect(typeof pages[0].links).toBe('number');
    });
  });

  it.each([
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1:9/', secret: newSecret(), events: ['crawl.page'] } }, 'webhook.events.0'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1:9/', secret: newSecret(), events: [] } }, 'webhook.events'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1:9/', secret: 'whsec_!!!' } }, 'webhook.secret'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1:9/', secret: `whsec_${Buffer.alloc(65).toString('base64')}` } }, 'webhook.secret'],
    [{ numbers: [1], webhook: { url: '/relative', secret: newSecret() } }, 'webhook.url'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1:9/' } }, 'webhook.secret'],
    [{ numbers: [1], webhook: 'http://127.0.0.1:9/' }, 'webhook'],
  ])('400 naming the field for %j', async (body, field) => {
    const res = await post('/fibonacci', body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).issues.map((issue: { field: string }) => issue.field)).toContain(field);
  });

  it('answers 404 for the deliveries of an unknown job', async () => {
    expect((await fetch(`${running.url}/jobs/3f1c2a5e-8a4b-4c1d-9e7f-0123456789ab/webhooks`)).status).toBe(404);
    expect((await fetch(`${running.url}/jobs/nope/webhooks`)).status).toBe(404);
  });
});

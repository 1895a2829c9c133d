import { expect, it } from 'vitest';
import { describeBothModes } from './support/both-modes';

/**
 * Issue 15: the fields every kind's submission shares (name, labels, webhook) are validated in one
 * place, stored with the job in both modes, and shown by any instance without the webhook's secret.
 */
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any, text: '' };
}

function scenarios(first: () => string, second: () => string) {
  it('stores name, labels and webhook on the job; every instance shows them, never the secret', async () => {
    const made = await post(first(), '/fibonacci', {
      numbers: [5, 6],
      name: 'nightly batch',
      labels: { team: 'search', env: 'prod' },
      webhook: { url: 'http://127.0.0.1:9/hook', secret: SECRET, events: ['job.completed'] },
    });
    expect(made.status).toBe(202);
    expect(made.body).toMatchObject({ name: 'nightly batch', labels: { team: 'search', env: 'prod' }, webhook: { url: 'http://127.0.0.1:9/hook', events: ['job.completed'] } });
    const res = await fetch(`${second()}/jobs/${made.body.id}`);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ name: 'nightly batch', labels: { team: 'search', env: 'prod' } });
    expect(text).not.toContain(SECRET.slice(6, 20));
  });

  it('a crawl takes the same fields', async () => {
    const made = await post(first(), '/crawl', { urls: ['http://127.0.0.1:9/'], maxPages: 1, name: 'docs', labels: { site: 'docs' } });
    expect(made.status).toBe(202);
    expect(made.body).toMatchObject({ name: 'docs', labels: { site: 'docs' } });
    expect(made.body.webhook).toBeUndefined();
  });

  it.each([
    [{ numbers: [1], name: '' }, 'name'],
    [{ numbers: [1], name: 'x'.repeat(201) }, 'name'],
    [{ numbers: [1], name: 'a\u0000b' }, 'name'],
    [{ numbers: [1], labels: ['a'] }, 'labels'],
    [{ numbers: [1], labels: { 'bad key': 'v' } }, 'labels.bad key'],
    [{ numbers: [1], labels: { k: 5 } }, 'labels.k'],
    [{ numbers: [1], labels: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }, 'labels'],
    [{ numbers: [1], webhook: { url: 'ftp://x/', secret: SECRET } }, 'webhook.url'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1/', secret: 'whsec_AAAA' } }, 'webhook.secret'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1/', secret: SECRET, events: ['job.exploded'] } }, 'webhook.events.0'],
    [{ numbers: [1], webhook: { url: 'http://127.0.0.1/', secret: SECRET, extra: 1 } }, 'webhook.extra'],
  ])('400 naming the field for %j', async (body, field) => {
    const res = await post(first(), '/fibonacci', body);
    expect(res.status).toBe(400);
    expect(res.body.issues.map((issue: { field: string }) => issue.field)).toContain(field);
    expect(JSON.stringify(res.body)).not.toContain(SECRET.slice(6, 20));
  });
}

describeBothModes('job options', { CRAWL_ALLOW_TARGETS: '127.0.0.0/8', WEBHOOK_ALLOW_TARGETS: '127.0.0.0/8' }, scenarios);

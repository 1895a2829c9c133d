import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrawlWorkerSettings, PageResult } from '../crawl/crawl-page';
import { PiscinaScheduler } from '../pool/piscina-scheduler';
import type { TaskUpdate } from '../pool/task-protocol';
import { WorkerCatalog } from '../pool/worker-catalog';
import { workerFile } from '../pool/worker-files';

/** A pool on an instance whose own CRAWL_ALLOW_TARGETS are `allow`, as CrawlKind registers its worker. */
function poolWith(allow: string[]): PiscinaScheduler {
  const catalog = new WorkerCatalog();
  const settings: CrawlWorkerSettings = { allow };
  catalog.register({ name: 'crawl', file: workerFile('crawl'), profile: 'io', settings: { ...settings } });
  return new PiscinaScheduler({ threads: 1, maxOldGenerationMb: 128, taskTimeoutMs: 10_000, catalog });
}

/** One page task as a coordinator elsewhere might send it, with a wide allow list of its own. */
async function crawlOn(scheduler: PiscinaScheduler, url: string): Promise<PageResult> {
  const updates: TaskUpdate[] = [];
  const payload = {
    pages: [{ index: 0, page: { url, depth: 0, parent: null } }],
    options: { timeoutMs: 5_000, maxBytes: 65_536, maxRedirects: 0, retries: 0, userAgent: 'test', maxLinks: 10, parseBudgetMs: 100, domMaxBytes: 65_536 },
    // What a coordinator configured with a wide CRAWL_ALLOW_TARGETS used to send along.
    allow: ['127.0.0.0/8', '::1/128', '0.0.0.0/0', '::/0'],
    robots: null,
    owner: '',
  };
  await scheduler.run('crawl', payload, { onUpdates: (batch) => updates.push(...batch) });
  const last = updates.at(-1);
  if (!last?.result) throw new Error(`no page result: ${JSON.stringify(updates)}`);
  return last.result as PageResult;
}

describe('the crawl worker enforces its own instance CRAWL_ALLOW_TARGETS, not the task', () => {
  // A loopback page that counts who reaches it.
  let server: Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<title>private</title>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a loopback page when this instance allows nothing, whatever the task carries', async () => {
    const scheduler = poolWith([]);
    try {
      const result = await crawlOn(scheduler, url);
      expect(result.error).toMatchObject({ code: 'blocked_address' });
      expect(hits).toBe(0);
    } finally {
      await scheduler.close();
    }
  });

  it("reaches it when this instance's own list opens it", async () => {
    const scheduler = poolWith(['127.0.0.1/32']);
    try {
      const result = await crawlOn(scheduler, url);
      expect(result).toMatchObject({ status: 200, title: 'private' });
      expect(hits).toBe(1);
    } finally {
      await scheduler.close();
    }
  });
});

describe('a group of pages in one pool task', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<title>${req.url}</title>`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('says its pages run in the message that starts it, then reports each page once as it ends', async () => {
    const scheduler = poolWith(['127.0.0.1/32']);
    const batches: TaskUpdate[][] = [];
    try {
      const pages = ['/a', '/b', '/c'].map((path, index) => ({ index, page: { url: `${origin}${path}`, depth: 0, parent: null } }));
      const options = { timeoutMs: 5_000, maxBytes: 65_536, maxRedirects: 0, retries: 0, userAgent: 'test', maxLinks: 10, parseBudgetMs: 100, domMaxBytes: 65_536 };
      await scheduler.run('crawl', { pages, options, robots: null, owner: '' }, { onUpdates: (batch) => batches.push(batch) });
    } finally {
      await scheduler.close();
    }
    // One batch per port message (plus the task's return): the three running together, then one per page.
    expect(batches[0]).toEqual([0, 1, 2].map((index) => ({ index, state: 'running' })));
    expect(batches.slice(1).map((batch) => batch.length)).toEqual([1, 1, 1]);
    const finished = batches.slice(1).flat();
    expect(finished.map((update) => update.index).sort()).toEqual([0, 1, 2]);
    for (const update of finished) expect(update).toMatchObject({ state: 'completed', result: { status: 200, title: ['/a', '/b', '/c'][update.index] } });
  });
});

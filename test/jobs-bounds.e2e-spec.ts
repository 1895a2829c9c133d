import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { TaskScheduler } from '../src/pool/task-scheduler';
import { eventually, startApp, type RunningApp } from './support/app';
import { startFixtureSite, type FixtureSite } from './support/fixture-site';

const FINAL = ['completed', 'failed', 'cancelled'];

/** Waits (bounded poll) until the job is final and returns it. */
function finished(svc: RunningApp, id: string, key?: string) {
  return eventually(
    async () => {
      const req = request(svc.url).get(`/jobs/${id}`);
      const { body } = await (key ? req.set('authorization', `Bearer ${key}`) : req).expect(200);
      return FINAL.includes(body.status) ? body : undefined;
    },
    60_000,
    `job ${id} to finish`,
  );
}

interface Item {
  index: number;
  n: number;
  value: string;
  shortened?: boolean;
}

describe('results pages are bounded by bytes (RESULTS_MAX_PAGE_BYTES)', () => {
  const MAX_PAGE_BYTES = 65_536;
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ RESULTS_MAX_PAGE_BYTES: String(MAX_PAGE_BYTES) });
  });
  afterAll(() => svc.close());

  // The 84 MB page (40 x F(10,000,000) at limit=10000), scaled down: values of 2-200 KB
  // against a 64 KiB page, small ones between them, and one value bigger than a whole page.
  const numbers = [...Array.from({ length: 30 }, (_, i) => 100_000 + i * 5_000), ...Array.from({ length: 30 }, (_, i) => i * 37), 1_000_000, ...Array.from({ length: 10 }, (_, i) => 20_000 + i)];

  it('ends a page before the item that would pass the bound, says where the next starts, and paging returns every item once', async () => {
    const { body: job } = await request(svc.url).post('/fibonacci?wait=30000&limit=10000').send({ numbers }).expect(200);
    expect(job.status).toBe('completed');
    // Even the ?wait answer's first page keeps the bound.
    expect(Buffer.byteLength(JSON.stringify(job.results))).toBeLessThanOrEqual(MAX_PAGE_BYTES);

    for (const format of ['decimal', 'hex'] as const) {
      const seen: number[] = [];
      let offset: number | null = 0;
      let pages = 0;
      while (offset !== null) {
        const res: request.Response = await request(svc.url).get(`/jobs/${job.id}/results?offset=${offset}&limit=10000&format=${format}`).expect(200);
        const page: { offset: number; limit: number; nextOffset: number | null; items: Item[] } = res.body;
        const bytes = Buffer.byteLength(res.text);
        expect(page.items.length).toBeGreaterThan(0);
        // Only a page of one item may pass the bound (that item alone is bigger).
        if (page.items.length > 1) expect(bytes, `page at ${offset}`).toBeLessThanOrEqual(MAX_PAGE_BYTES);
        else expect(bytes).toBeLessThanOrEqual(MAX_PAGE_BYTES + Buffer.byteLength(JSON.stringify(page.items[0])));
        expect(page.offset).toBe(offset);
        const last = offset + page.items.length;
        expect(page.nextOffset).toBe(last < numbers.length ? last : null);
        if (page.nextOffset !== null) expect(page.limit).toBe(page.items.length);
        for (const item of page.items as Item[]) {
          seen.push(item.index);
          expect(item.n).toBe(numbers[item.index]);
          const exact = fib(item.n);
          expect(item.value).toBe(format === 'hex' ? exact.toString(16) : exact.toString());
        }
        offset = page.nextOffset;
        pages++;
      }
      expect(seen).toEqual(numbers.map((_, i) => i));
      // The bound did cut: the values take far more than one page.
      expect(pages).toBeGreaterThan(10);
    }
  });

  it('keeps the requested limit when the page is not cut, and nextOffset null at the end', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=10000')
      .send({ numbers: [1, 2, 3, 4, 5] })
      .expect(200);
    const { body: page } = await request(svc.url).get(`/jobs/${job.id}/results?offset=1&limit=2`).expect(200);
    expect(page).toMatchObject({ offset: 1, limit: 2, nextOffset: 3 });
    const { body: tail } = await request(svc.url).get(`/jobs/${job.id}/results?offset=3&limit=100`).expect(200);
    expect(tail).toMatchObject({ offset: 3, limit: 100, nextOffset: null });
    expect(tail.items.map((i: Item) => i.value)).toEqual(['3', '5']);
  });
});

describe('format=hex of a page stays off the main thread', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    // 1 MiB pages: this test is about conversion; the client's JSON.parse runs in this process too.
    svc = await startApp({ RESULTS_MAX_PAGE_BYTES: String(1024 ** 2) });
  });
  afterAll(() => svc.close());

  it('serves 2,000 x F(49,999) as hex, whole and as previews, page by page, with the event loop never held 100 ms', async () => {
    const numbers = Array.from({ length: 2_000 }, (_, i) => 49_999 - (i % 3));
    const { body: job } = await request(svc.url).post('/fibonacci?wait=30000&limit=1').send({ numbers }).expect(200);
    expect(job.status).toBe('completed');
    const hex = new Map([49_999, 49_998, 49_997].map((n) => [n, fib(n).toString(16)]));

    // Only the transfer is measured: the client's JSON.parse (this process too) comes after.
    const read = async (query: string) => {
      const res = await fetch(`${svc.url}/jobs/${job.id}/results?${query}`);
      expect(res.status).toBe(200);
      const chunks: Buffer[] = [];
      for await (const chunk of res.body!) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    };
    /** Every page from `offset` 0 on, as raw bytes. */
    const readAll = async (query: string) => {
      const pages: Buffer[] = [];
      for (let offset: number | null = 0; offset !== null; ) {
        const bytes = await read(`offset=${offset}&limit=2000&format=hex${query}`);
        pages.push(bytes);
        // Only the next offset is read here; the pages are parsed after the measurement.
        offset = JSON.parse(/"nextOffset":(null|\d+)\}$/.exec(bytes.toString('latin1'))![1]);
      }
      return pages;
    };
    // One unmeasured round first: the 38 MB of fresh results get promoted out of the young
    // generation (a scavenge copying them took 345 ms on a loaded box) and the code is warm.
    await read('limit=2000&format=hex&maxChars=41');
    await read('limit=2000&format=hex');
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const previewPages = await readAll('&maxChars=41');
    const wholePages = await readAll('');
    delay.disable();
    const parse = (pages: Buffer[]) => pages.map((bytes) => JSON.parse(bytes.toString()) as { offset: number; items: Item[] });
    const previews = parse(previewPages);
    const wholes = parse(wholePages);

    // A page of previews costs what the page of whole values does: it ends at the same item.
    expect(previews.map((page) => page.items.length)).toEqual(wholes.map((page) => page.items.length));
    expect(previews.length).toBeGreaterThan(10);
    expect(previews.flatMap((page) => page.items.map((item) => item.index))).toEqual(numbers.map((_, i) => i));
    for (const item of previews.flatMap((page) => page.items)) {
      const full = hex.get(item.n)!;
      expect(item).toMatchObject({ shortened: true, value: `${full.slice(0, 20)}…${full.slice(-20)}` });
    }
    for (const item of wholes.flatMap((page) => page.items)) expect(item.value).toBe(hex.get(item.n));
    expect(delay.max / 1e6, `event loop delay max ${(delay.max / 1e6).toFixed(1)} ms`).toBeLessThan(100);
  });
});

describe("reading results does not hold up another key's job", () => {
  const KEY_A = 'key-a-0123456789abcdef';
  const KEY_B = 'key-b-0123456789abcdef';
  let svc: RunningApp;
  beforeAll(async () => {
    // Two threads (startApp's POOL_SIZE): four readers could hold both of them with conversions.
    svc = await startApp({ API_KEYS: `${KEY_A},${KEY_B}`, MAX_WAIT_MS: '120000' });
  });
  afterAll(() => svc.close());

  it("four hex readers of key A delay key B's small job by at most one conversion", async () => {
    const as = (key: string, req: request.Test) => req.set('authorization', `Bearer ${key}`);
    // 12 x F(2,000,000): 418,000 digits each, about 48 ms to convert; a page holds five.
    const numbers = Array.from({ length: 12 }, (_, i) => 2_000_000 - i);
    const { body: job } = await as(KEY_A, request(svc.url).post('/fibonacci?wait=120000&limit=1')).send({ numbers }).expect(200);
    expect(job.status).toBe('completed');

    // Every pool task, in the order they end: conversions (a page's presentation work) and job tasks.
    const scheduler = svc.app.get(TaskScheduler);
    const run = scheduler.run.bind(scheduler);
    const ended: ('conversion' | 'job')[] = [];
    let jobSubmitted = -1;
    scheduler.run = (worker, payload, options) => {
      const what = options.presentFor === undefined ? 'job' : 'conversion';
      if (what === 'job' && jobSubmitted < 0) jobSubmitted = ended.length;
      return run(worker, payload, options).finally(() => ended.push(what));
    };
    try {
      const reader = async () => {
        for (let round = 0; round < 3; round++) await as(KEY_A, request(svc.url).get(`/jobs/${job.id}/results?limit=12&format=hex`)).expect(200);
      };
      const readers = Array.from({ length: 4 }, reader);
      // The readers are converting (one conversion done) when key B submits a small job of its own.
      await eventually(async () => (ended.includes('conversion') ? true : undefined), 30_000, 'a first conversion');
      const small = Array.from({ length: 20 }, (_, i) => 3_000 + i);
      const { body: other } = await as(KEY_B, request(svc.url).post('/fibonacci?wait=60000&limit=1')).send({ numbers: small }).expect(200);
      expect(other.status).toBe('completed');
      const jobEnded = ended.lastIndexOf('job');
      await Promise.all(readers);
      expect(jobSubmitted).toBeGreaterThanOrEqual(0);
      const during = ended.slice(jobSubmitted, jobEnded).filter((what) => what === 'conversion').length;
      expect(during, `conversions ended while key B's job waited or ran: ${ended.join(' ')}`).toBeLessThanOrEqual(1);
      // The readers were still converting after it: it did not simply run after them.
      expect(ended.slice(jobEnded).filter((what) => what === 'conversion').length).toBeGreaterThan(1);
    } finally {
      scheduler.run = run;
    }
  }, 120_000);
});

describe('per-key admission bounds on running work', () => {
  const KEY_A = 'key-a-0123456789abcdef';
  const KEY_B = 'key-b-0123456789abcdef';
  let svc: RunningApp;
  let site: FixtureSite;
  const as = (key: string) => ({
    post: (path: string, body: object) => request(svc.url).post(path).set('authorization', `Bearer ${key}`).send(body),
    del: (id: string) => request(svc.url).delete(`/jobs/${id}`).set('authorization', `Bearer ${key}`),
  });
  /** A crawl that stays running: its one page never finishes sending. */
  const hangingCrawl = (maxPages: number) => ({ urls: [`${site.url}/slow/hang`], maxPages, maxDepth: 0, timeoutMs: 60_000, respectRobotsTxt: false, retries: 0 });

  beforeAll(async () => {
    site = await startFixtureSite();
    svc = await startApp({
      API_KEYS: `${KEY_A},${KEY_B}`,
      CRAWL_ALLOW_TARGETS: '127.0.0.2/32',
      CRAWL_ALLOW_IGNORE_ROBOTS: 'true',
      // F(9,000,000) reserves about 1.9 MB (its decimal digits): one fits, two do not.
      MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY: '3000000',
      MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY: '10',
      MAX_CRAWL_CONCURRENCY_PER_KEY: '40',
    });
  });
  afterAll(async () => {
    await svc.close();
    await site.close();
  });

  it('refuses a key past its result bytes in flight with 429 + Retry-After, admits another key, and releases on cancel and on finish', async () => {
    const first = await as(KEY_A)
      .post('/fibonacci', { numbers: [9_000_000] })
      .expect(202);
    const refused = await as(KEY_A)
      .post('/fibonacci', { numbers: [9_000_001] })
      .expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.message).toMatch(/MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY/);
    // Another key's reservation is its own.
    const other = await as(KEY_B)
      .post('/fibonacci', { numbers: [9_000_002] })
      .expect(202);

    // Released on cancel: the same job is admitted once the first one is cancelled.
    await as(KEY_A).del(first.body.id).expect(200);
    const second = await as(KEY_A)
      .post('/fibonacci', { numbers: [9_000_001] })
      .expect(202);
    await as(KEY_A)
      .post('/fibonacci', { numbers: [9_000_003] })
      .expect(429);
    // Released on finish.
    expect((await finished(svc, second.body.id, KEY_A)).status).toBe('completed');
    const third = await as(KEY_A)
      .post('/fibonacci', { numbers: [9_000_003] })
      .expect(202);
    await as(KEY_A).del(third.body.id).expect(200);
    await as(KEY_B).del(other.body.id).expect(200);
  }, 90_000);

  it('refuses a key past its crawl fetches at once (the sum of concurrency) with 429, admits another key, releases on cancel', async () => {
    const crawlAt = (concurrency: number) => ({ ...hangingCrawl(1), concurrency });
    const first = await as(KEY_A).post('/crawl', crawlAt(30)).expect(202);
    const refused = await as(KEY_A).post('/crawl', crawlAt(11)).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.message).toMatch(/MAX_CRAWL_CONCURRENCY_PER_KEY 40/);
    const fits = await as(KEY_A).post('/crawl', crawlAt(10)).expect(202);
    const other = await as(KEY_B).post('/crawl', crawlAt(30)).expect(202);
    await as(KEY_A).del(first.body.id).expect(200);
    const again = await as(KEY_A).post('/crawl', crawlAt(11)).expect(202);
    for (const [key, id] of [
      [KEY_A, fits.body.id],
      [KEY_A, again.body.id],
      [KEY_B, other.body.id],
    ]) {
      await as(key).del(id).expect(200);
    }
  });

  it('refuses a key past its crawl pages in flight (the sum of maxPages) with 429, admits another key, releases on cancel', async () => {
    const first = await as(KEY_A).post('/crawl', hangingCrawl(6)).expect(202);
    const refused = await as(KEY_A).post('/crawl', hangingCrawl(6)).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.message).toMatch(/MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY/);
    // A crawl that fits next to it is fine, and so is another key's.
    const small = await as(KEY_A).post('/crawl', hangingCrawl(4)).expect(202);
    const other = await as(KEY_B).post('/crawl', hangingCrawl(10)).expect(202);
    await as(KEY_A).del(first.body.id).expect(200);
    const again = await as(KEY_A).post('/crawl', hangingCrawl(6)).expect(202);
    for (const [key, id] of [
      [KEY_A, small.body.id],
      [KEY_A, again.body.id],
      [KEY_B, other.body.id],
    ]) {
      const { body } = await as(key).del(id).expect(200);
      expect(body.status).toBe('cancelled');
    }
  });
});

describe('MAX_QUEUED_TASKS counts a crawl by its maxPages', () => {
  let svc: RunningApp;
  let site: FixtureSite;
  beforeAll(async () => {
    site = await startFixtureSite();
    svc = await startApp({ MAX_QUEUED_TASKS: '10', CRAWL_ALLOW_TARGETS: '127.0.0.2/32', CRAWL_ALLOW_IGNORE_ROBOTS: 'true' });
  });
  afterAll(async () => {
    await svc.close();
    await site.close();
  });

  it('refuses a crawl whose pages would pass the queue (503 + Retry-After), and counts a running crawl by maxPages', async () => {
    const crawl = { urls: [`${site.url}/slow/hang`], maxDepth: 0, timeoutMs: 60_000, respectRobotsTxt: false, retries: 0 };
    const running = await request(svc.url)
      .post('/crawl')
      .send({ ...crawl, maxPages: 8 })
      .expect(202);
    // One page discovered, eight reserved: five more numbers pass the queue of ten.
    const fibRefused = await request(svc.url)
      .post('/fibonacci')
      .send({ numbers: [1, 2, 3, 4, 5] })
      .expect(503);
    expect(fibRefused.body.message).toMatch(/MAX_QUEUED_TASKS/);
    const crawlRefused = await request(svc.url)
      .post('/crawl')
      .send({ ...crawl, maxPages: 5 })
      .expect(503);
    expect(Number(crawlRefused.headers['retry-after'])).toBeGreaterThan(0);
    expect(crawlRefused.body.message).toMatch(/MAX_QUEUED_TASKS/);
    await request(svc.url)
      .post('/fibonacci?wait=10000')
      .send({ numbers: [1, 2] })
      .expect(200);
    await request(svc.url).delete(`/jobs/${running.body.id}`).expect(200);
    await request(svc.url)
      .post('/crawl')
      .send({ ...crawl, maxPages: 1, urls: [`${site.url}/leaf/x`] })
      .expect(202);
  });
});

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskScheduler } from '../src/pool/task-scheduler';
import { eventually, startApp, type RunningApp } from './support/app';
import { BIG_BLOCKS, type BigPagesSite, LINKS_PER_BLOCK, startBigPages } from './support/big-pages';

const MiB = 1024 * 1024;
/** Six big pages; maxBytes cuts the last two. */
const SIZES = [20, 25, 30, 36, 42, 48].map((n) => n * MiB);
const MAX_BYTES = 40 * MiB;
const SMALL = 8;

/**
 * Big pages go through the streaming parser, on one I/O thread shared with small pages: nothing
 * dies, every page has its links, the small pages are served while the big ones stream, and the
 * process's memory stays bounded. (Before: a crawl of six 48 MB pages took RSS from 176 MB to
 * 2.3 GB and timed out two of them.)
 */
describe('crawl: big pages', () => {
  let svc: RunningApp;
  let site: BigPagesSite;
  const api = () => request(svc.url);

  beforeAll(async () => {
    site = await startBigPages();
    // One thread per pool: every page of the crawl shares the one I/O thread. The link cap and
    // the parse budget at their maximum, so a page of 400,000 links is parsed to its end (seconds
    // on a busy machine) and keeps them all.
    svc = await startApp({ CRAWL_ALLOW_TARGETS: '127.0.0.2/32', POOL_SIZE: '1', CRAWL_MAX_LINKS_PER_PAGE: '1000000', CRAWL_PARSE_BUDGET_MS: '60000' });
  });
  afterAll(async () => {
    await Promise.all([svc?.close(), site?.close()]);
  });

  const bigUrl = (k: number) => `${site.url}/big/${k}/?bytes=${SIZES[k - 1] ?? 2 * MiB}`;
  const linksOf = (k: number) => Array.from({ length: BIG_BLOCKS * LINKS_PER_BLOCK }, (_, i) => `${site.url}/big/${k}/b${Math.floor(i / LINKS_PER_BLOCK)}/${i % LINKS_PER_BLOCK}`);

  it('streams six pages of 20-48 MiB next to small pages on one thread, cuts at maxBytes, and memory stays bounded', async () => {
    const scheduler = svc.app.get(TaskScheduler);
    // Warm-up: the I/O thread has loaded its modules and streamed a page once, so the baseline includes that.
    const warm = await api()
      .post('/crawl?wait=30000')
      .send({ urls: [`${site.url}/big/0/?bytes=${2 * MiB}`], maxDepth: 0 })
      .expect(200);
    expect(warm.body.results.items[0]).toMatchObject({ state: 'completed', title: 'Big 0', bytes: 2 * MiB });
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    // 16 pages at once each listen for their job's cancel: no "possible memory leak" warning for that.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const bigs = SIZES.map((_, i) => bigUrl(i + 1));
      const smalls = Array.from({ length: SMALL }, (_, i) => `${site.url}/small/${i}`);
      const { body: job } = await api()
        .post('/crawl')
        .send({ urls: [...bigs, ...smalls], maxDepth: 0, maxBytes: MAX_BYTES, timeoutMs: 60_000, retries: 0, concurrency: 16, perHostConcurrency: 16 })
        .expect(202);
      const responses = () => site.responses.filter((r) => r.path !== '/big/0/');
      // The small pages answer only once every big page is well under way...
      await eventually(async () => (responses().length === SIZES.length && responses().every((r) => r.written >= 4 * MiB) ? true : undefined), 60_000, 'big pages under way');
      site.releaseSmall();
      // ...and are crawled while every big page is still streaming: the thread is not held by parsing.
      await eventually(
        async () => {
          const { body } = await api().get(`/jobs/${job.id}/results?offset=${SIZES.length}&limit=${SMALL}`).expect(200);
          return body.items.length === SMALL && body.items.every((i: { state: string }) => i.state === 'completed') ? body.items : undefined;
        },
        60_000,
        'small pages done',
      );
      expect(
        responses().map((r) => r.closed),
        'big responses still streaming',
      ).toEqual(SIZES.map(() => false));

      const done = await eventually(
        async () => {
          const { body } = await api().get(`/jobs/${job.id}`).expect(200);
          return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
        },
        180_000,
        'the crawl to finish',
      );
      expect(done).toMatchObject({ status: 'completed', total: SIZES.length + SMALL, completed: SIZES.length + SMALL, failed: 0 });
      const { body } = await api().get(`/jobs/${job.id}/results?limit=100`).expect(200);
      const items = body.items;
      SIZES.forEach((size, i) => {
        const k = i + 1;
        const whole = size <= MAX_BYTES;
        const { links, ...rest } = items[i];
        expect(rest, `page ${k}`).toMatchObject({ state: 'completed', status: 200, title: `Big ${k}`, bytes: Math.min(size, MAX_BYTES) });
        expect(links, `page ${k}`).toEqual(whole ? [...linksOf(k), `${site.url}/big/${k}/end`] : linksOf(k));
        if (whole) expect(rest.truncated, `page ${k}`).toBeUndefined();
        else expect([rest.truncated, rest.truncatedBy], `page ${k}`).toEqual([true, 'maxBytes']);
      });
      for (let i = 0; i < SMALL; i++) {
        expect(items[SIZES.length + i]).toMatchObject({ state: 'completed', title: `Small ${i}`, links: [`${site.url}/small/${i}/a`, `${site.url}/small/${i}/b`] });
      }
      // No I/O thread died (its tasks would have been run again).
      expect(scheduler.stats().retried).toBe(0);
      expect(warnings).toEqual([]);
    } finally {
      clearInterval(sampler);
      process.off('warning', onWarning);
    }
    const grown = (peak - baseline) / MiB;
    console.log(`big pages: RSS baseline ${Math.round(baseline / MiB)} MiB, peak +${Math.round(grown)} MiB`);
    // 191 MiB of HTML went through; a DOM of it would take several GiB.
    expect(grown, 'RSS growth at the peak (MiB)').toBeLessThan(300);
    // Memory comes back: within 150 MiB of the baseline once idle (V8 and malloc keep some).
    const settled = await eventually(async () => (process.memoryUsage.rss() - baseline < 150 * MiB ? process.memoryUsage.rss() : undefined), 30_000, 'RSS back near baseline');
    console.log(`big pages: RSS after ${Math.round(settled / MiB)} MiB (+${Math.round((settled - baseline) / MiB)} MiB)`);
  });

  it("parses a 12 MB page of 400,000 links without killing the thread another job's pages share", async () => {
    site.releaseSmall();
    const scheduler = svc.app.get(TaskScheduler);
    const links = 400_000;
    const { body: dense } = await api()
      .post('/crawl')
      .send({ urls: [`${site.url}/dense/?links=${links}`], maxDepth: 0, timeoutMs: 60_000, maxBytes: 16 * MiB })
      .expect(202);
    const other = await api()
      .post('/crawl?wait=30000')
      .send({ urls: Array.from({ length: SMALL }, (_, i) => `${site.url}/small/${i}`), maxDepth: 0 })
      .expect(200);
    expect(other.body).toMatchObject({ status: 'completed', total: SMALL, completed: SMALL, failed: 0 });
    const done = await eventually(
      async () => {
        const { body } = await api().get(`/jobs/${dense.id}`).expect(200);
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      120_000,
      'the dense page',
    );
    expect(done).toMatchObject({ status: 'completed', completed: 1, failed: 0 });
    const { body } = await api().get(`/jobs/${dense.id}/results`).expect(200);
    const page = body.items[0];
    expect(page).toMatchObject({ state: 'completed', title: 'Dense' });
    expect([page.truncated, page.truncatedBy, page.links.length]).toEqual([undefined, undefined, links]);
    expect(page.links).toHaveLength(links);
    expect(page.links).toEqual(Array.from({ length: links }, (_, i) => `${site.url}/dense/d/${i}`));
    expect(scheduler.stats().retried).toBe(0);
  });
});

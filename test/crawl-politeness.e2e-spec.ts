import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.schema';
import { startApp, type RunningApp } from './support/app';
import { type BusyHost, startBusyHost } from './support/busy-host';
import { Cluster, call, isFinal, waitUntil } from './support/cluster';
import { haveRedis } from './support/redis-server';

/**
 * Politeness shared across jobs, keys and instances: two crawls of two keys on one host, which
 * answers fast, then 429/503, then slowly. The host never sees more than CRAWL_HOST_MAX_CONCURRENCY
 * page requests at once (each crawl alone would run 4), fewer once it has throttled and slowed,
 * and both crawls finish.
 */
const CAP = 3;
const KEYS = ['politeness-key-one-0001', 'politeness-key-two-0002'];
/**
 * Back-off capped at the host's Retry-After (1 s): four throttling answers still halve the slots and
 * space the starts (250, 500, 1000 ms), but the spacing winds down in seconds, not the ~15 s that
 * 2 s of doubling pause takes to halve back, four good answers per halving.
 */
const env = { CRAWL_ALLOW_TARGETS: '127.0.0.0/8', CRAWL_HOST_MAX_CONCURRENCY: String(CAP), CRAWL_HOST_MAX_BACKOFF_MS: '1000', API_KEYS: KEYS.join(',') };
const PAGES = 16;

async function crawlTwice(instances: { url: string }[]): Promise<{ site: BusyHost; jobs: any[] }> {
  const site = await startBusyHost({ fast: 10, fastMs: 80, errors: 4, slowMs: 200, pages: PAGES });
  try {
    const body = { urls: [`${site.url}/`], maxDepth: 1, maxPages: PAGES + 1, concurrency: 4, perHostConcurrency: 4, retries: 0 };
    const submitted = await Promise.all(KEYS.map((key, i) => call(instances[i % instances.length], 'POST', '/crawl', body, key)));
    for (const answer of submitted) expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const jobs = await Promise.all(
      submitted.map((answer, i) =>
        waitUntil(
          async () => {
            const view = await call(instances[i % instances.length], 'GET', `/jobs/${answer.body.id}`, undefined, KEYS[i]);
            return view.status === 200 && isFinal(view.body) ? view.body : undefined;
          },
          90_000,
          `crawl ${answer.body.id} to end`,
        ),
      ),
    );
    return { site, jobs };
  } catch (error) {
    await site.close();
    throw error;
  }
}

function expectPolite(site: BusyHost, jobs: any[]): void {
  for (const job of jobs) expect([job.status, job.summary.pagesOk + job.summary.pagesFailed], JSON.stringify(job)).toEqual(['completed', PAGES + 1]);
  const peak = Math.max(...site.hits.map((hit) => hit.concurrent));
  expect(peak, 'page requests at once, ever').toBeLessThanOrEqual(CAP);
  expect(site.hits.filter((hit) => hit.phase === 'error')).toHaveLength(4);
  // Once the throttling answers were taken into account (a settle, a slow page at most), the host is slowed for
  // both crawls; it recovers gradually (a slot per run of good answers, and slow ones are not good), so the next
  // pages still run fewer at once.
  const settled = site.lastErrorAt() + 1_000;
  const after = site.hits.filter((hit) => hit.startedAt > settled).slice(0, 6);
  const timeline = JSON.stringify(site.hits.map((hit) => [hit.phase, hit.startedAt - site.hits[0].startedAt, hit.concurrent]));
  expect(after, timeline).toHaveLength(6);
  expect(Math.max(...after.map((hit) => hit.concurrent)), `page requests at once after the errors: ${timeline}`).toBeLessThan(CAP);
}

// The two modes side by side (each on its own host, app and budget): most of each run is the host's
// pacing, not work, so this saves one run's wait.
describe('one host budget shared by two crawls of two keys', { concurrent: true }, () => {
  describe('embedded: two crawls of two keys share one host budget', () => {
    it('never exceeds CRAWL_HOST_MAX_CONCURRENCY, backs off after 429/503 and slowness, and finishes both', { timeout: 120_000 }, async () => {
      const svc: RunningApp = await startApp(env);
      try {
        const { site, jobs } = await crawlTwice([svc]);
        await site.close();
        expectPolite(site, jobs);
      } finally {
        await svc.close();
      }
    });

    it('refuses a bad setting at boot, naming it', () => {
      expect(() => loadConfig({ CRAWL_HOST_MAX_CONCURRENCY: '0' })).toThrow(/CRAWL_HOST_MAX_CONCURRENCY/);
      expect(() => loadConfig({ CRAWL_HOST_MIN_DELAY_MS: 'soon' })).toThrow(/CRAWL_HOST_MIN_DELAY_MS/);
      expect(() => loadConfig({ CRAWL_HOST_MAX_BACKOFF_MS: '-1' })).toThrow(/CRAWL_HOST_MAX_BACKOFF_MS/);
    });
  });

  describe.skipIf(!haveRedis('crawl politeness cluster e2e'))('cluster: two crawls of two keys on two instances share one host budget in Redis', () => {
    let cluster: Cluster | undefined;
    afterAll(async () => {
      await cluster?.close();
    });

    it('never exceeds CRAWL_HOST_MAX_CONCURRENCY across instances, backs off for both, and finishes both', { timeout: 180_000 }, async () => {
      cluster = await Cluster.start({ env, poolSize: 1 });
      const instances = await Promise.all([cluster.startInstance('polite-1'), cluster.startInstance('polite-2')]);
      const { site, jobs } = await crawlTwice(instances);
      await site.close();
      expectPolite(site, jobs);
    });
  });
});

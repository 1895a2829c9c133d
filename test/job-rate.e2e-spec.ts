import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app';
import { call, Cluster, waitUntil } from './support/cluster';
import { readSse } from './support/cluster-feed';
import { type FixtureSite, startFixtureSite } from './support/fixture-site';
import { haveRedis } from './support/redis-server';
import { FeedClient } from './support/ws-client';

/**
 * Issue 15, item 6: every job view and snapshot carries `rate` and `etaMs`, derived from what the
 * store holds, so an instance that does not run the job answers the same. The crawl fetches one
 * page at a time from a site that answers each request after LATENCY_MS: it runs for seconds,
 * and its rate can never exceed what that allows (an upper bound that load cannot break).
 */
const LATENCY_MS = 200;
const PAGES = 20;
/** One page at a time, each at least LATENCY_MS: at most this many pages finish in any second. */
const MAX_RATE = 1000 / LATENCY_MS + 1;
const ENV = { CRAWL_ALLOW_TARGETS: '127.0.0.0/8', RATE_LIMIT_MAX: '1000000' };

type Via = { url: string; wsUrl: string };
type View = Record<string, any>;

const slowCrawl = (site: FixtureSite) => ({ urls: [`${site.url}/long/${PAGES + 10}/4`], maxDepth: 1, maxPages: PAGES, concurrency: 1, perHostConcurrency: 1 });

/** What the view's ETA must be at its own rate: the unfinished tasks, or the crawl's queued pages if more. */
function expectedEta(job: View): number {
  const remaining = Math.max(job.total - job.completed - job.failed - job.cancelled, job.summary?.queued ?? 0);
  return Math.round((remaining / job.rate) * 1000);
}

async function submit(via: Via, path: string, body: unknown): Promise<View> {
  const res = await call(via, 'POST', path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ rate: null, etaMs: null });
  return res.body;
}

async function viewOf(via: Via, id: string, done: (job: View) => boolean, what: string): Promise<View> {
  let last: View | undefined;
  return waitUntil(
    async () => {
      last = (await call(via, 'GET', `/jobs/${id}`)).body;
      return last && done(last) ? last : undefined;
    },
    60_000,
    () => `${what}; last view ${JSON.stringify(last)}`,
  );
}

/** Submits a slow crawl on `runner` and reads it through `reader`, which may be another instance. */
async function proveRateAndEta(runner: Via, reader: Via, site: FixtureSite): Promise<void> {
  const job = await submit(runner, '/crawl', slowCrawl(site));
  const running = await viewOf(reader, job.id, (v) => v.status === 'running' && v.rate > 0 && v.etaMs > 0, 'a running view with a rate and an ETA');
  expect(running.rate).toBeLessThanOrEqual(MAX_RATE);
  expect(running.etaMs).toBe(expectedEta(running));

  // The feeds' snapshots carry them too (the job may have ended in between: then final figures).
  const client = await FeedClient.connect(reader.wsUrl);
  client.subscribe(job.id);
  const snapshot = await client.waitFor((m) => m.event === 'job.snapshot' && m.data?.id === job.id);
  client.close();
  expect(snapshot.data.rate).toBeGreaterThan(0);
  expect(snapshot.data.etaMs).toEqual(expect.any(Number));
  const [first, ...rest] = await readSse(`${reader.url}/jobs/${job.id}/events`, 60_000);
  expect(first.event).toBe('job.snapshot');
  expect(first.data).toMatchObject({ rate: expect.any(Number), etaMs: expect.any(Number) });

  // At the end: the whole run's rate, nothing left to wait for.
  const final = rest.at(-1)?.data;
  expect(final.status).toBe('completed');
  const done = await viewOf(reader, job.id, (v) => v.status === 'completed', 'the completed view');
  expect(done.rate).toBe(Math.round(((done.completed + done.failed) / done.durationMs) * 100_000) / 100);
  expect(done.rate).toBeGreaterThan(0);
  expect(done.rate).toBeLessThanOrEqual(MAX_RATE);
  expect([done.etaMs, final.rate, final.etaMs]).toEqual([0, done.rate, 0]);
}

/** A one-page crawl whose page fails: no absurd rate ("76.9 tasks/s") from a run of a few ms. */
async function proveOneFailedPage(runner: Via, reader: Via): Promise<void> {
  const job = await submit(runner, '/crawl', { urls: ['http://127.0.0.2:1/'], maxDepth: 0, maxPages: 1 });
  const done = await viewOf(reader, job.id, (v) => ['completed', 'failed'].includes(v.status), 'the ended view');
  expect(done.failed).toBe(1);
  // Null for a run under a second; over a longer one, one page can make at most 1 page/s.
  if (done.rate !== null) expect(done.rate).toBeLessThanOrEqual(1);
  expect(done.etaMs).toBe(0);
}

// Both modes side by side, their jobs too (each its own site and app or cluster): the crawls wait
// on the site's latency, and every bound here is an upper bound that load cannot break.
describe('rate and ETA', { concurrent: true }, () => {
  describe('rate and ETA, embedded mode', () => {
    let app: RunningApp;
    let site: FixtureSite;
    beforeAll(async () => {
      [app, site] = await Promise.all([startApp(ENV), startFixtureSite({ latencyMs: LATENCY_MS })]);
    });
    afterAll(async () => {
      await Promise.all([app?.close(), site?.close()]);
    });

    it('a running crawl shows pages/s and an ETA on GET, WebSocket and SSE; the whole run at the end', async () => {
      await proveRateAndEta(app, app, site);
    }, 90_000);

    it('a failed one-page job shows no absurd rate', async () => {
      await proveOneFailedPage(app, app);
    }, 30_000);
  });

  describe.skipIf(!haveRedis('rate e2e, cluster mode'))('rate and ETA, cluster mode: two instances on one Redis', () => {
    let cluster: Cluster;
    let site: FixtureSite;
    beforeAll(async () => {
      [cluster, site] = await Promise.all([Cluster.start({ env: ENV, poolSize: 1 }), startFixtureSite({ latencyMs: LATENCY_MS })]);
      await Promise.all([cluster.startInstance('a'), cluster.startInstance('b')]);
    }, 90_000);
    afterAll(async () => {
      await Promise.all([cluster?.close(), site?.close()]);
    });

    it('B shows the rate and ETA of a crawl A runs, while it runs and at the end', async () => {
      await proveRateAndEta(cluster.get('a'), cluster.get('b'), site);
    }, 90_000);

    it('a failed one-page job shows no absurd rate on the other instance', async () => {
      await proveOneFailedPage(cluster.get('a'), cluster.get('b'));
    }, 30_000);
  });
});

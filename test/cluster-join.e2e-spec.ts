import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResults, call, Cluster, type JobView, poolOf, waitUntil } from './support/cluster';
import { type FixtureSite, startFixtureSite } from './support/fixture-site';
import { haveRedis } from './support/redis-server';

/**
 * Scaling out while a job runs: an instance started during a crawl must get a share of its pages
 * (through the shared queue), not wait for the next job. Guards any scheme that keeps a job's
 * tasks on its coordinator (one tried on 2026-12-07 ran every page of a crawl begun on a lone
 * instance there, and the instance that joined got none).
 */
const ENV = { CRAWL_ALLOW_TARGETS: '127.0.0.0/8', RATE_LIMIT_MAX: '1000000', SHUTDOWN_GRACE_MS: '3000' };
const PAGES = 120;

describe.skipIf(!haveRedis('cluster join e2e'))('an instance that joins during a crawl', () => {
  let cluster: Cluster;
  let site: FixtureSite;

  beforeAll(async () => {
    cluster = await Cluster.start({ env: ENV, leaseMs: 3_000, poolSize: 1 });
    // Slow pages, two at a time: the crawl lasts well beyond the second instance's start-up.
    site = await startFixtureSite({ latencyMs: 150 });
  }, 60_000);
  afterAll(async () => {
    await site?.close();
    await cluster?.close();
  });

  it('takes a share of the pages started after it joined; every page is fetched once', async () => {
    const a = await cluster.startInstance('a');
    const submitted = await call<JobView>(a, 'POST', '/crawl', { urls: [`${site.url}/long/${PAGES}/4`], maxDepth: 1, maxPages: PAGES + 1, concurrency: 2, perHostConcurrency: 2 });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const id = submitted.body.id;
    // A alone: the crawl runs there, a few pages in before B exists.
    await waitUntil(async () => ((await call<JobView>(a, 'GET', `/jobs/${id}`)).body.completed >= 4 ? true : undefined), 30_000, 'the crawl to start on A');
    const b = await cluster.startInstance('b');
    const done = await cluster.waitForJob(a, id, undefined, 90_000);
    expect(done).toMatchObject({ status: 'completed', completed: PAGES + 1, failed: 0 });
    const ranOnB = (await poolOf(b))?.completed ?? 0;
    expect(ranOnB, 'pool tasks B ran').toBeGreaterThan(0);
    expect([...site.hits].filter(([path, n]) => path.startsWith('/leaf/') && n > 1)).toEqual([]);
    expect(new Set((await allResults(b, id)).map((item) => item.url)).size).toBe(PAGES + 1);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResults, call, Cluster } from './support/cluster';
import { type FixtureSite, startFixtureSite } from './support/fixture-site';
import { haveRedis } from './support/redis-server';

/**
 * In the cluster mode a crawl sends its pages in groups (CRAWL_PAGES_PER_TASK to a queue job).
 * When a group's pool task fails on its worker (here: one page outlives TASK_TIMEOUT_MS), the pages
 * of the group that had not finished are sent again one by one (splitOnCrash), and only they: the
 * page that hung gets a task of its own (and this time answers), its neighbours keep their results
 * and are not fetched again. A real redis-server and a real instance (node dist/main.js).
 */
describe.skipIf(!haveRedis('crawl split on crash'))('cluster mode: a page group whose task dies is split, not failed', () => {
  let cluster: Cluster | undefined;
  let site: FixtureSite | undefined;
  beforeAll(async () => {
    site = await startFixtureSite();
    cluster = await Cluster.start({
      env: { TASK_TIMEOUT_MS: '1500', CRAWL_PAGES_PER_TASK: '4', CRAWL_ALLOW_TARGETS: '127.0.0.0/8', CRAWL_ALLOW_IGNORE_ROBOTS: 'true', MAX_WAIT_MS: '60000' },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await site?.close();
  });

  it('sends the unfinished page of a timed-out group again alone; the finished ones keep their results and are fetched once', async () => {
    const instance = await cluster!.startInstance();
    const seeds = ['/slow/once/split', '/leaf/a', '/leaf/b', '/leaf/c'].map((path) => `${site!.url}${path}`);
    const res = await call(instance, 'POST', '/crawl?wait=30000', { urls: seeds, maxDepth: 0, concurrency: 4, retries: 0, respectRobotsTxt: false });
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
    expect(res.body).toMatchObject({ status: 'completed', total: 4, completed: 4, failed: 0 });
    const items = await allResults(instance, res.body.id);
    expect(items.map((item) => ({ url: item.url, state: item.state }))).toEqual(seeds.map((url) => ({ url, state: 'completed' })));
    // Fetched in the group (it hung until the task's timeout), then alone (it answered).
    expect(site!.hit('/slow/once/split')).toBe(2);
    for (const path of ['/leaf/a', '/leaf/b', '/leaf/c']) expect(site!.hit(path), path).toBe(1);
    // It travelled with others (the pages started in one pass share a task): that task is what was split.
    expect(instance.stdout()).toMatch(/its unfinished tasks are sent again one by one","tasks":[2-4]\}/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app';
import { allResults, call, Cluster, type Instance } from './support/cluster';
import { type DiscoverySite, HIDDEN, HUGE_SITEMAP, startDiscoverySite } from './support/discovery-site';
import { haveRedis } from './support/redis-server';

/**
 * Sitemaps, de-duplication and trap guards against a local site, in both modes: the same cases
 * through an embedded app, and through two instances on one real Redis (submitted to one, results
 * read from the other).
 */
type Crawl = (body: object) => Promise<{ job: any; items: any[] }>;
type Post = (body: object) => Promise<{ status: number; body: any }>;

const paths = (site: DiscoverySite, items: any[]) => items.map((item) => item.url.slice(site.url.length)).sort();

function discoveryCases(setup: () => { site: DiscoverySite; crawl: Crawl; post: Post }) {
  it('reads /sitemap.xml and robots.txt Sitemap: lines, an index and its gzip child: pages no link reaches, within robots, scope, patterns and caps', async () => {
    const { site, crawl } = setup();
    const { job, items } = await crawl({ urls: [`${site.url}/home`], maxDepth: 1, maxBytes: 1_000_000, exclude: ['/hidden/excluded'] });
    const at = (path: string) => items.find((item) => item.url === site.url + path);
    expect(paths(site, items)).toEqual(['/about', '/bomb/first', ...HIDDEN, '/home', '/huge/first', '/listed/root', '/private/secret'].sort());
    expect(at('/home')).toMatchObject({ via: 'seed', parent: null, state: 'completed' });
    expect(at('/about')).toMatchObject({ via: 'link', parent: `${site.url}/home` });
    expect(at('/hidden/1')).toMatchObject({ via: 'sitemap', parent: `${site.url}/maps/pages.xml.gz`, depth: 0, state: 'completed' });
    expect(at('/listed/root')).toMatchObject({ via: 'sitemap', parent: `${site.url}/sitemap.xml` });
    // robots.txt applies to sitemap pages as to links: never fetched.
    expect(at('/private/secret')).toMatchObject({ state: 'failed', error: { code: 'robots_disallowed' } });
    expect(site.hit('/private/secret')).toBe(0);
    // The bomb (1 GiB inflated) and the 32 MiB sitemap stop at maxBytes: their first URL is in, their last is not.
    expect(job.summary).toMatchObject({ sitemapsRead: 5, sitemapsFailed: 0, sitemapsTruncated: 2 });
    expect(site.huge.written).toBeLessThan(HUGE_SITEMAP);
    expect([site.hit('/robots.txt'), site.hit('/sitemap-index.xml'), site.hit('/maps/pages.xml.gz')]).toEqual([1, 1, 1]);
  });

  it('sitemap "only" crawls the listed pages alone; "skip" reads no sitemap', async () => {
    const { site, crawl } = setup();
    const only = await crawl({ urls: [`${site.url}/home`], sitemap: 'only', maxBytes: 1_000_000, exclude: ['/hidden/excluded', '/private/'] });
    expect(paths(site, only.items)).toEqual(['/bomb/first', ...HIDDEN, '/huge/first', '/listed/root'].sort());
    expect(only.items.every((item) => item.via === 'sitemap')).toBe(true);
    const before = site.hit('/sitemap.xml');
    const skip = await crawl({ urls: [`${site.url}/home`], sitemap: 'skip' });
    expect(paths(site, skip.items)).toEqual(['/about', '/home']);
    expect(site.hit('/sitemap.xml')).toBe(before);
    expect(skip.job.summary.sitemapsRead).toBeUndefined();
  });

  it('drops tracking parameters before de-duplication: one page for four spellings', async () => {
    const { site, crawl } = setup();
    const { items } = await crawl({ urls: [`${site.url}/dup/`], sitemap: 'skip' });
    expect(paths(site, items)).toEqual(['/dup/', '/dup/a?id=1']);
    const kept = await crawl({ urls: [`${site.url}/dup/`], sitemap: 'skip', ignoreQueryParams: [] });
    expect(kept.items).toHaveLength(5);
  });

  it('records rel=canonical; with canonical "follow" a page whose canonical was crawled is a duplicate, and a canonical URL is never fetched after', async () => {
    const { site, crawl } = setup();
    const serial = { urls: [`${site.url}/canon/`], sitemap: 'skip', maxDepth: 3, concurrency: 1, perHostConcurrency: 1 };
    const record = await crawl(serial);
    expect(paths(site, record.items)).toEqual(['/canon/', '/canon/copy', '/canon/from-other', '/canon/main', '/canon/other', '/canon/unlinked']);
    const at = (items: any[], path: string) => items.find((item) => item.url === site.url + path);
    expect(at(record.items, '/canon/copy')).toMatchObject({ canonical: `${site.url}/canon/main` });
    expect(record.items.some((item) => item.duplicateOf)).toBe(false);
    const before = site.hit('/canon/unlinked');
    const follow = await crawl({ ...serial, canonical: 'follow' });
    expect(paths(site, follow.items)).toEqual(['/canon/', '/canon/copy', '/canon/from-other', '/canon/main', '/canon/other']);
    expect(at(follow.items, '/canon/copy')).toMatchObject({ duplicateOf: `${site.url}/canon/main`, duplicateBy: 'canonical' });
    expect(at(follow.items, '/canon/main').duplicateOf).toBeUndefined();
    expect(site.hit('/canon/unlinked')).toBe(before);
    expect(follow.job.summary.duplicates).toBe(1);
  });

  it('flags near-duplicate text by simhash: the later page names the earlier one', async () => {
    const { site, crawl } = setup();
    const serial = { urls: [`${site.url}/near/`], sitemap: 'skip', concurrency: 1, perHostConcurrency: 1 };
    const { job, items } = await crawl({ ...serial, nearDuplicateBits: 3 });
    const at = (path: string) => items.find((item) => item.url === site.url + path);
    expect(at('/near/1')).toMatchObject({ fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(at('/near/1').duplicateOf).toBeUndefined();
    expect(at('/near/2')).toMatchObject({ duplicateOf: `${site.url}/near/1`, duplicateBy: 'content' });
    expect(at('/near/3').duplicateOf).toBeUndefined();
    expect(job.summary.duplicates).toBe(1);
    // Off by default (it costs CPU on every page); -1 says so explicitly.
    expect((await crawl(serial)).items.some((item) => item.duplicateOf || item.fingerprint)).toBe(false);
    const off = await crawl({ ...serial, nearDuplicateBits: -1 });
    expect(off.items.some((item) => item.duplicateOf || item.fingerprint)).toBe(false);
  });

  it('guards against traps: calendars, session ids, repeated segments and a prefix budget, each counted by name', async () => {
    const { site, crawl } = setup();
    const deep = { sitemap: 'skip', maxDepth: 10, maxPages: 200, perHostConcurrency: 4 };
    const query = await crawl({ ...deep, urls: [`${site.url}/cal?month=2024-06`], traps: { maxCalendarPages: 5 } });
    expect(query.items).toHaveLength(5);
    expect(query.job.summary['skipped.calendar']).toBeGreaterThan(0);
    const path = await crawl({ ...deep, urls: [`${site.url}/cal/2024/06/`], traps: { maxCalendarPages: 8 } });
    expect(path.items).toHaveLength(8);
    expect(path.job.summary['skipped.calendar']).toBeGreaterThan(0);
    const sessions = await crawl({ ...deep, urls: [`${site.url}/sess/start`] });
    expect(paths(site, sessions.items)).toEqual(['/sess/list?p=1', '/sess/other', '/sess/page', '/sess/start']);
    expect(sessions.job.summary['skipped.sessionId']).toBeGreaterThan(0);
    const loop = await crawl({ ...deep, urls: [`${site.url}/loop/`], traps: { maxSegmentRepeats: 2 } });
    expect(paths(site, loop.items)).toEqual(['/loop/', '/loop/a/b/', '/loop/a/b/a/b/']);
    expect(loop.job.summary['skipped.repeatedSegments']).toBe(1);
    const wide = await crawl({ ...deep, urls: [`${site.url}/wide/`], traps: { maxPagesPerPrefix: 5 } });
    expect(wide.items).toHaveLength(5);
    expect(wide.job.summary['skipped.prefixBudget']).toBe(16);
    const long = await crawl({ ...deep, urls: [`${site.url}/wide/`], traps: { maxUrlLength: site.url.length + 7 } });
    expect(paths(site, long.items)).toEqual(['/wide/', ...Array.from({ length: 9 }, (_, i) => `/wide/${i + 1}`)].sort());
    expect(long.job.summary['skipped.urlTooLong']).toBe(11);
  });

  it('refuses bad values of every new option with a 400 naming it', async () => {
    const { site, post } = setup();
    const cases: [object, string][] = [
      [{ sitemap: 'all' }, 'sitemap'],
      [{ ignoreQueryParams: ['a b'] }, 'ignoreQueryParams.0'],
      [{ ignoreQueryParams: ['*a*b*c'] }, 'ignoreQueryParams.0'],
      [{ ignoreQueryParams: 'utm_*' }, 'ignoreQueryParams'],
      [{ canonical: 'always' }, 'canonical'],
      [{ nearDuplicateBits: 7 }, 'nearDuplicateBits'],
      [{ nearDuplicateBits: -2 }, 'nearDuplicateBits'],
      [{ traps: { maxUrlLength: -1 } }, 'traps.maxUrlLength'],
      [{ traps: { maxCalendarPages: 1.5 } }, 'traps.maxCalendarPages'],
      [{ traps: { sessionIds: 'yes' } }, 'traps.sessionIds'],
      [{ traps: { bogus: 1 } }, 'traps.bogus'],
      [{ traps: [] }, 'traps'],
    ];
    for (const [extra, field] of cases) {
      const res = await post({ urls: [`${site.url}/home`], ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(
        res.body.issues.map((issue: { field: string }) => issue.field),
        JSON.stringify(extra),
      ).toContain(field);
    }
  });
}

/** A crawl submitted with ?wait that must have completed within it: its job as the answer shows it. */
async function completed(post: Post, body: object) {
  const res = await post(body);
  expect(res.status, JSON.stringify(res.body).slice(0, 1000)).toBe(200);
  expect(res.body.status).toBe('completed');
  return res.body;
}

describe('crawl discovery, embedded', () => {
  let site: DiscoverySite;
  let svc: RunningApp;
  beforeAll(async () => {
    site = await startDiscoverySite();
    svc = await startApp({ CRAWL_ALLOW_TARGETS: '127.0.0.2/32' });
  });
  afterAll(async () => {
    await Promise.all([svc?.close(), site?.close()]);
  });
  const post: Post = async (body) => {
    const res = await fetch(`${svc.url}/crawl?wait=30000`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  discoveryCases(() => ({
    site,
    post,
    crawl: async (body) => {
      const job = await completed(post, body);
      return { job, items: await allResults(svc, job.id) };
    },
  }));
});

describe.skipIf(!haveRedis('crawl discovery, cluster'))('crawl discovery, two instances on one Redis', () => {
  let site: DiscoverySite;
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    site = await startDiscoverySite();
    cluster = await Cluster.start({ env: { CRAWL_ALLOW_TARGETS: '127.0.0.2/32', MAX_WAIT_MS: '60000', RATE_LIMIT_MAX: '1000000' } });
    [a, b] = await Promise.all([cluster.startInstance('disc-a'), cluster.startInstance('disc-b')]);
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    await site?.close();
  });
  const post: Post = async (body) => call(a, 'POST', '/crawl?wait=60000', body);
  discoveryCases(() => ({
    site,
    post,
    crawl: async (body) => {
      const { id } = await completed(post, body);
      return { job: (await call(b, 'GET', `/jobs/${id}`)).body, items: await allResults(b, id) };
    },
  }));
});

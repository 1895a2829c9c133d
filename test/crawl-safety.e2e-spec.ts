import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBothModesInProcess } from './support/both-modes';
import { startCanary, type Canary } from './support/canary';
import { gzipBomb, MANY_LINKS, startFixtureSite, type FixtureSite } from './support/fixture-site';

/**
 * The crawler must never connect to an address outside CRAWL_ALLOW_TARGETS (here only 127.0.0.2/32):
 * not as a seed, not as a redirect target, not for robots.txt. Everything here stays on loopback:
 * the non-loopback cases (10.0.0.1, 169.254.169.254) run only after the canary has proved that
 * blocking happens before connecting, and with short timeouts. In both modes: in the cluster mode
 * a page runs on whichever instance takes it, each applying its own address policy.
 */
describeBothModesInProcess('crawl safety: blocked addresses are never connected', { CRAWL_ALLOW_TARGETS: '127.0.0.2/32' }, (svc) => {
  let site: FixtureSite;
  let canary: Canary;
  /** Set once 127.0.0.1 has been shown blocked (seed and redirect) with zero canary connections. */
  let proven = false;
  const redirectTo = (target: string, code = 302) => `${site.url}/redirect/to?url=${encodeURIComponent(target)}&code=${code}`;

  async function crawl(urls: string[], options: object = {}) {
    const started = Date.now();
    const res = await request(svc.url)
      .post('/crawl?wait=20000')
      .send({ urls, maxDepth: 0, timeoutMs: 1000, retries: 0, ...options });
    expect(res.status, JSON.stringify(res.body).slice(0, 2000)).toBe(200);
    if (!('maxDepth' in options)) expect(res.body.results.total).toBe(urls.length);
    return { job: res.body, items: res.body.results.items as any[], elapsed: Date.now() - started };
  }
  const expectBlocked = (items: any[]) => {
    for (const item of items) expect({ url: item.url, state: item.state, code: item.error?.code }).toEqual({ url: item.url, state: 'failed', code: 'blocked_address' });
  };

  beforeAll(async () => {
    canary = await startCanary();
    site = await startFixtureSite({ canaryPort: canary.port });
  });
  afterAll(async () => {
    expect(canary.connections, JSON.stringify(canary.log)).toBe(0);
    await Promise.all([site.close(), canary.close()]);
  });

  it('blocks 127.0.0.1 as a seed and as a redirect target, in the default scope and in "any"; the canary sees nothing', async () => {
    for (const scope of [undefined, 'any']) {
      site.reset();
      const { items } = await crawl([canary.url, `${site.url}/redirect/canary`], { scope });
      expectBlocked(items);
      expect(site.hit('/redirect/canary')).toBe(1);
      expect(items.find((i) => i.url === `${site.url}/redirect/canary`).status ?? null).not.toBe(200);
    }
    // The allowed target still works, so the blocks above are not a crawler that fetches nothing.
    const { items } = await crawl([`${site.url}/tree/`]);
    expect(items[0]).toMatchObject({ state: 'completed', status: 200 });
    expect(canary.connections, JSON.stringify(canary.log)).toBe(0);
    proven = true;
  });

  it('blocks every other spelling of loopback, and a name resolving to it, as seeds and as redirects', async () => {
    const hosts = ['localhost', '[::1]', '[::ffff:127.0.0.1]', '[::127.0.0.1]', '[::7f00:3]', '0.0.0.0', '127.1', '2130706433', '0x7f000001', '127.0.0.3', '[::]', '[0:0:0:0:0:0:0:1]'];
    const targets = hosts.map((host, i) => `http://${host}:${canary.port}/seed-${i}`);
    const seeds = await crawl(targets, { scope: 'any' });
    expect(seeds.items.map((i) => new URL(i.url).pathname)).toEqual(hosts.map((_, i) => `/seed-${i}`));
    expectBlocked(seeds.items);
    expect(seeds.elapsed).toBeLessThan(5_000);
    const codes = [301, 302, 303, 307, 308];
    const redirects = await crawl(
      targets.map((t, i) => redirectTo(t, codes[i % codes.length])),
      { scope: 'any' },
    );
    expectBlocked(redirects.items);
    expect(site.hit('/redirect/to')).toBe(targets.length);
    expect(canary.connections, JSON.stringify(canary.log)).toBe(0);
  });

  it('blocks private and link-local addresses before any connection attempt', async () => {
    // Guard: never risk traffic off loopback unless blocking has been shown to work.
    expect(proven, 'loopback blocking must be proven first').toBe(true);
    expect(canary.connections).toBe(0);
    const targets = ['http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/'];
    const { items, elapsed } = await crawl([...targets, `${site.url}/redirect/metadata`, redirectTo('http://10.0.0.1/', 307)], { scope: 'any', timeoutMs: 500 });
    expectBlocked(items);
    // Refused up front: no connect timeout was waited for.
    expect(elapsed).toBeLessThan(1_500);
    for (const item of items) if (typeof item.ms === 'number') expect(item.ms).toBeLessThan(500);
  });

  it('never follows a redirect to a non-http(s) URL or one with credentials', async () => {
    site.reset();
    const targets = ['file:///etc/passwd', 'ftp://127.0.0.2/x', 'data:text/html,<title>x</title>', 'javascript:alert(1)', 'http://[bad', `http://u:p@127.0.0.2:${site.port}/leaf/cred`];
    const { items } = await crawl(targets.map((t) => redirectTo(t)));
    for (const item of items)
      expect({ url: item.url, state: item.state, code: item.error?.code, finalUrl: item.finalUrl }).toEqual({
        url: item.url,
        state: 'failed',
        code: 'invalid_url',
        finalUrl: expect.not.stringContaining('u:p@'),
      });
    expect(site.hit('/leaf/cred')).toBe(0);
    expect(site.requests.filter((r) => r.authorization)).toEqual([]);
  });

  describe('hostile pages: time and memory stay bounded', () => {
    it('stops a gzip bomb (1 GiB from 1 MB) at maxBytes quickly, with RSS growth under 200 MB', async () => {
      gzipBomb();
      const before = process.memoryUsage.rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
      const { items, elapsed } = await crawl([`${site.url}/bomb.html`], { timeoutMs: 10_000 }).finally(() => clearInterval(sampler));
      expect(elapsed).toBeLessThan(5_000);
      // Cut at exactly maxBytes (the request default, 5,000,000 decoded bytes), with what was read kept.
      expect(items[0]).toMatchObject({ state: 'completed', bytes: 5_000_000, truncated: true, truncatedBy: 'maxBytes' });
      expect(items[0].error).toBeUndefined();
      expect(peak - before, 'RSS growth').toBeLessThan(200 * 1024 * 1024);
    });

    it('keeps exactly the first CRAWL_MAX_LINKS_PER_PAGE (5,000) of a page with 30,000 links, and the next job runs', async () => {
      const { job, items } = await crawl([`${site.url}/many-links.html`]);
      expect(job).toMatchObject({ status: 'completed', total: 1, completed: 1 });
      expect(MANY_LINKS).toBeGreaterThan(5_000);
      expect(items[0].links).toEqual(Array.from({ length: 5_000 }, (_, i) => `${site.url}/many/${i}`));
      expect(items[0]).toMatchObject({ truncated: true, truncatedBy: 'maxLinks' });
      const next = await crawl([`${site.url}/tree/`]);
      expect(next.job.status).toBe('completed');
    });

    it('stops a crawler trap (an infinite URL space) at maxDepth and at maxPages', async () => {
      const trap = (...paths: string[]) => paths.map((p) => `${site.url}/trap/${p}`).sort();
      const byDepth = await crawl(trap('0'), { maxDepth: 3 });
      expect(byDepth.items.map((i) => i.url).sort()).toEqual(trap('0', '1', '0/1', '2', '1/2', '0/1/2', '3', '2/3', '1/2/3', '0/1/2/3'));
      site.reset();
      const byPages = await crawl(trap('0'), { maxDepth: 10, maxPages: 25 });
      expect(byPages.job).toMatchObject({ status: 'completed', total: 25, completed: 25 });
      expect([...site.hits.keys()].filter((p) => p.startsWith('/trap/'))).toHaveLength(25);
    });
  });

  describe('rejects unsafe or invalid submissions with 400 naming the field', () => {
    const OK = 'http://127.0.0.2/';
    const cases: [string, object, string][] = [
      ['no urls', {}, 'urls'],
      ['empty urls', { urls: [] }, 'urls'],
      ['file:', { urls: ['file:///etc/passwd'] }, 'urls.0'],
      ['data:', { urls: ['data:text/html,<a href=x>x</a>'] }, 'urls.0'],
      ['javascript:', { urls: ['javascript:alert(1)'] }, 'urls.0'],
      ['ftp:', { urls: ['ftp://127.0.0.2/'] }, 'urls.0'],
      ['credentials', { urls: [OK, 'http://u:p@127.0.0.2/'] }, 'urls.1'],
      ['user name only', { urls: ['http://u@127.0.0.2/'] }, 'urls.0'],
      ['not a URL', { urls: ['not a url'] }, 'urls.0'],
      ['relative URL', { urls: ['/tree/'] }, 'urls.0'],
      ['over-long URL', { urls: [OK + 'a'.repeat(2100)] }, 'urls.0'],
      ['non-string URL', { urls: [42] }, 'urls.0'],
      ['unknown field', { urls: [OK], follow: true }, 'follow'],
      ['bad scope', { urls: [OK], scope: 'planet' }, 'scope'],
      ['bad include regex', { urls: [OK], include: ['('] }, 'include.0'],
      ['bad exclude regex', { urls: [OK], exclude: ['ok', '[a-'] }, 'exclude.1'],
      ['backreference (RE2 has none)', { urls: [OK], include: ['(a)\\1'] }, 'include.0'],
      ['lookahead (RE2 has none)', { urls: [OK], exclude: ['x', 'a(?=b)'] }, 'exclude.1'],
      ['patterns too big together', { urls: [OK], include: ['(a|b){30}'], exclude: ['(a|b){50}', '(a|b){50}'] }, 'exclude.1'],
      ['robots.txt off (not allowed by CRAWL_ALLOW_IGNORE_ROBOTS)', { urls: [OK], respectRobotsTxt: false }, 'respectRobotsTxt'],
      ['negative maxDepth', { urls: [OK], maxDepth: -1 }, 'maxDepth'],
      ['fractional maxDepth', { urls: [OK], maxDepth: 1.5 }, 'maxDepth'],
      ['zero maxPages', { urls: [OK], maxPages: 0 }, 'maxPages'],
      ['huge maxPages', { urls: [OK], maxPages: 1e12 }, 'maxPages'],
      ['zero concurrency', { urls: [OK], concurrency: 0 }, 'concurrency'],
      ['zero perHostConcurrency', { urls: [OK], perHostConcurrency: 0 }, 'perHostConcurrency'],
      ['negative delayMs', { urls: [OK], delayMs: -1 }, 'delayMs'],
      ['zero timeoutMs', { urls: [OK], timeoutMs: 0 }, 'timeoutMs'],
      ['zero maxBytes', { urls: [OK], maxBytes: 0 }, 'maxBytes'],
      ['negative maxRedirects', { urls: [OK], maxRedirects: -1 }, 'maxRedirects'],
      ['negative retries', { urls: [OK], retries: -1 }, 'retries'],
      ['string respectRobotsTxt', { urls: [OK], respectRobotsTxt: 'yes' }, 'respectRobotsTxt'],
      ['numeric userAgent', { urls: [OK], userAgent: 7 }, 'userAgent'],
    ];
    it.each(cases)('%s', async (_name, body, field) => {
      const res = await request(svc.url).post('/crawl').send(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const issue = res.body.issues?.find((i: { field: string }) => i.field === field);
      expect(issue, JSON.stringify(res.body)).toBeDefined();
      expect(typeof issue.rule).toBe('string');
      expect(issue.message).toBeTruthy();
    });

    it('the service stays healthy and the canary untouched', async () => {
      await request(svc.url).get('/health/ready').expect(200);
      expect(canary.connections).toBe(0);
    });
  });
});

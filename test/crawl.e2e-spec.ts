import net from 'node:net';
import zlib from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApp, type RunningApp } from './support/app';
import { describeBothModesInProcess } from './support/both-modes';
import { BIG_BLOCKS, type BigPagesSite, LINKS_PER_BLOCK, startBigPages } from './support/big-pages';
import { startCanary, type Canary } from './support/canary';
import { BIG_FILE_BYTES, gzipBomb, MANY_LINKS, startFixtureSite, TITLES, type FixtureSite } from './support/fixture-site';
import { FeedClient, type Message } from './support/ws-client';

const sorted = (list: string[]) => [...list].sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fixture site (self-test, no crawler involved)', () => {
  let site: FixtureSite;
  let canary: Canary;
  const get = (path: string, init: RequestInit = {}) => fetch(`${site.url}${path}`, { redirect: 'manual', ...init });
  const location = async (path: string) => (await get(path)).headers.get('location');
  beforeAll(async () => {
    canary = await startCanary();
    site = await startFixtureSite({ canaryPort: canary.port, crawlDelay: 1 });
  });
  afterAll(async () => {
    await site.close();
    await canary.close();
  });

  it('serves links, redirects, failures and robots.txt, and counts hits', async () => {
    expect(site.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    const root = await (await get('/tree/')).text();
    for (const part of [`href="${site.url}/tree/c.html"`, 'rel="nofollow"', '<area ', `http://localhost:${canary.port}/tree/`, 'href="mailto:']) expect(root).toContain(part);
    expect(await (await get('/tree/b.html')).text()).toContain('<base href="/tree/sub/">');
    expect([(await get('/tree/nope')).status, site.hit('/tree/'), site.hit('/tree/nope')]).toEqual([404, 1, 1]);
    expect(await (await get('/robots.txt')).text()).toBe('User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n');
    expect(await (await get('/trap/4/5')).text()).toMatch(/href="\/trap\/6".*href="\/trap\/4\/5\/6"/s);
    expect([await location('/redirect/308'), await location('/redirect/chain/3'), await location('/redirect/loop/b')]).toEqual(['/leaf/308', '/redirect/chain/2', '/redirect/loop/a']);
    expect([await location('/redirect/canary'), await location('/redirect/metadata')]).toEqual([canary.url, 'http://169.254.169.254/latest/meta-data/']);
    expect(await location('/redirect/to?url=http%3A%2F%2F%5B%3A%3A1%5D%2F&code=307')).toBe('http://[::1]/');
    const first = await get('/flaky/503/self');
    expect([first.status, first.headers.get('retry-after'), (await get('/flaky/503/self')).status]).toEqual([503, '1', 200]);
    await expect(get('/drop/self')).rejects.toThrow();
    expect((await get('/drop/self')).status).toBe(200);
    expect(canary.connections).toBe(0);
  });

  it('serves declared charsets, a never-ending body, a cut-short big file and a valid gzip bomb', async () => {
    // Bytes, not TextDecoder: Node >= 20.18.3 decodes windows-1252 as latin1 (nodejs/node#60888).
    const cp = await get('/enc/cp1252.html');
    expect(cp.headers.get('content-type')).toBe('text/html; charset=windows-1252');
    expect(Buffer.from(await cp.arrayBuffer()).toString('latin1')).toContain('<title>Caf\xe9 \x96 \x93quoted\x94 \x80</title>');
    const kr = await get('/enc/euc-kr.html');
    expect(kr.headers.get('content-type')).toBe('text/html');
    expect(new TextDecoder('euc-kr').decode(await kr.arrayBuffer())).toContain(`<meta charset="euc-kr"><title>${TITLES.eucKr}</title>`);
    const hang = await get('/slow/hang', { signal: AbortSignal.timeout(300) });
    await expect(hang.text()).rejects.toThrow();
    const pdf = await get('/files/big.pdf');
    expect([pdf.headers.get('content-type'), pdf.headers.get('content-length')]).toEqual(['application/pdf', String(BIG_FILE_BYTES)]);
    await pdf.body?.cancel();
    const outcome = await eventually(async () => site.outcomes.find((o) => o.path === '/files/big.pdf' && o.closed), 5_000, 'pdf response closed');
    expect([outcome.finished, outcome.written < BIG_FILE_BYTES]).toEqual([false, true]);
    const bomb = gzipBomb();
    const res = await get('/bomb.html');
    expect([res.headers.get('content-encoding'), res.headers.get('content-length')]).toEqual(['gzip', String(bomb.length)]);
    await res.body?.cancel();
    expect([bomb.length < 1_200_000, bomb.readUInt32LE(bomb.length - 4)]).toEqual([true, 2 ** 30]);
    const start = zlib.gunzipSync(bomb.subarray(0, 20_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect([start.length > 10 << 20, start.every((b) => b === 0)]).toEqual([true, true]);
  });

  it('the canary counts raw TCP connections', async () => {
    const probe = await startCanary();
    await new Promise<void>((resolve) =>
      net
        .connect(probe.port, '127.0.0.1')
        .resume()
        .on('close', () => resolve())
        .on('error', () => undefined),
    );
    await eventually(async () => (probe.connections === 1 ? true : undefined), 2_000, 'canary connection');
    await probe.close();
  });
});

/** In both modes: in the cluster mode the jobs go to A, their pages to either instance, and the feeds listen on B. */
describeBothModesInProcess('crawl jobs', { CRAWL_ALLOW_TARGETS: '127.0.0.2/32', CRAWL_ALLOW_IGNORE_ROBOTS: 'true' }, (svc) => {
  let site: FixtureSite;
  let peer: FixtureSite;
  let canary: Canary;
  const api = () => request(svc.url);
  const T = (path: string) => `${site.url}/tree/${path}`;
  async function results(id: string): Promise<any[]> {
    const items: any[] = [];
    for (;;) {
      const { body } = await api().get(`/jobs/${id}/results?offset=${items.length}&limit=1000`).expect(200);
      items.push(...body.items);
      if (items.length >= body.total || body.items.length === 0) return items;
    }
  }
  async function crawl(body: object, wait = 30_000) {
    const res = await api().post(`/crawl?wait=${wait}`).send(body);
    expect(res.status, JSON.stringify(res.body).slice(0, 2000)).toBe(200);
    const items = await results(res.body.id);
    return { job: res.body, items, at: (url: string) => items.find((i) => i.url === url) ?? expect.fail(`no task for ${url}: ${items.map((i) => i.url)}`) };
  }

  beforeAll(async () => {
    canary = await startCanary();
    peer = await startFixtureSite({ canaryPort: canary.port });
    site = await startFixtureSite({ canaryPort: canary.port, peer: peer.url });
  });
  afterAll(async () => {
    expect(canary.connections).toBe(0);
    await Promise.all([site.close(), peer.close(), canary.close()]);
  });

  it('crawls exactly the pages within maxDepth, once each, breadth first, with parents and link sets', async () => {
    site.reset();
    const { job, items } = await crawl({ urls: [T('')], maxDepth: 3 });
    expect(job).toMatchObject({ kind: 'crawl', status: 'completed', total: 9, completed: 9, failed: 0 });
    // The site has no /sitemap.xml: the guess answering 404 is not a failed sitemap.
    expect(job.summary).toMatchObject({ pagesOk: 9, pagesFailed: 0, queued: 0, sitemapsRead: 0, sitemapsFailed: 0 });
    expect(site.hit('/sitemap.xml')).toBe(1);
    expect(items.map((i) => i.index)).toEqual([...items.keys()]);
    // Crawl order is discovery order: a page comes after the page that linked it, one level deeper
    // (not strictly level by level: d.html may be fetched, and f.html found, while b.html is in flight).
    expect(items[0]).toMatchObject({ depth: 0, parent: null });
    for (const item of items.slice(1)) {
      const parent = items.find((i) => i.url === item.parent);
      expect([parent?.index < item.index, item.depth], item.url).toEqual([true, parent?.depth + 1]);
    }
    const depth = (d: number) => sorted(items.filter((i) => i.depth === d).map((i) => i.url));
    expect([depth(0), depth(1), depth(2), depth(3)]).toEqual([
      [T('')],
      sorted([T('a.html'), T('b.html'), T('c.html'), T('area.html')]),
      sorted([T('d.html'), T('sub/e.html')]),
      sorted([T('deep/f.html'), T('sub/g.html')]),
    ]);
    const expected: Record<string, [string | null, string[]]> = {
      '': [null, [T('a.html'), T('b.html'), T('c.html'), T('nofollow.html'), `http://localhost:${canary.port}/tree/`, T('area.html')]],
      'a.html': [T(''), [T(''), T('d.html')]],
      'b.html': [T(''), [T('sub/e.html'), T('c.html')]],
      'c.html': [T(''), [T('a.html')]],
      'area.html': [T(''), []],
      'd.html': [T('a.html'), [T('deep/f.html')]],
      'sub/e.html': [T('b.html'), [T(''), T('sub/g.html')]],
      'deep/f.html': [T('d.html'), []],
      'sub/g.html': [T('sub/e.html'), []],
    };
    for (const item of items) {
      const [parent, links] = expected[item.url.slice(T('').length)];
      expect({ url: item.url, parent: item.parent, links: sorted(item.links), state: item.state, status: item.status }).toEqual({
        url: item.url,
        parent,
        links: sorted(links),
        state: 'completed',
        status: 200,
      });
      expect(item.finalUrl).toBe(item.url);
      expect(item.title).toBe(`Tree ${new URL(item.url).pathname}`);
      expect(item.contentType).toMatch(/^text\/html/);
      expect(item.bytes).toBeGreaterThan(0);
    }
    expect(items[0].nofollow).toEqual([T('nofollow.html')]);
    for (const path of Object.keys(expected)) expect(site.hit(`/tree/${path}`), path).toBe(1);
    expect(site.hit('/tree/nofollow.html')).toBe(0);
    expect(site.hit('/robots.txt')).toBe(1);
  });

  it('sends pages started together as one pool task (CRAWL_PAGES_PER_TASK), each fetched once and recorded on its own', async () => {
    // A host of its own: the shared one's budget may have been lowered by slow answers earlier in
    // this file (adaptive back-off, remembered for minutes), which would split the groups.
    const own = await startFixtureSite({ canaryPort: canary.port });
    // Every instance's pool: in the cluster mode the groups run on both.
    const completedTasks = async () => {
      const pools = await Promise.all(svc.apps.map((app) => request(app.url).get('/pool').expect(200)));
      return pools.reduce((sum, pool) => sum + (pool.body.completed as number), 0);
    };
    const before = await completedTasks();
    // A page linking to 40 leaves, 8 fetches at once over 2 threads: groups of up to 8 / 2 = 4 pages.
    const { job, items } = await crawl({ urls: [`${own.url}/long/40/4`], maxDepth: 1, maxPages: 41, concurrency: 8, perHostConcurrency: 8 }).finally(() => own.close());
    expect(job).toMatchObject({ status: 'completed', total: 41, completed: 41, failed: 0 });
    expect(new Set(items.map((item) => item.url)).size).toBe(41);
    for (const item of items) expect([item.state, item.status, own.hit(new URL(item.url).pathname)], item.url).toEqual(['completed', 200, 1]);
    // One task per page would be 41 (and one for the /sitemap.xml guess); groups of 4 make 11 and that one.
    const tasks = (await completedTasks()) - before;
    expect(tasks, `pool tasks for 41 pages: ${tasks}`).toBeGreaterThanOrEqual(12);
    expect(tasks, `pool tasks for 41 pages: ${tasks}`).toBeLessThanOrEqual(22);
  });

  it('a page of a group that ended frees its slot and offers its links without waiting for a slow page of its group', async () => {
    site.reset();
    // Two start pages sent together (4 fetches at once over 2 threads: groups of 2): one never
    // finishes its body (it fails at timeoutMs), the other links to 6 leaves.
    const res = await api()
      .post('/crawl')
      .send({ urls: [`${site.url}/slow/hang`, `${site.url}/long/6/4`], maxDepth: 1, concurrency: 4, perHostConcurrency: 4, timeoutMs: 20_000, retries: 0 })
      .expect(202);
    const leaves = Array.from({ length: 6 }, (_, i) => `/leaf/${i}/aaaa`);
    await eventually(async () => (leaves.every((path) => site.hit(path) === 1) ? true : undefined), 15_000, 'the leaves to be fetched');
    // The leaves came while the hanging page of the group was still being read.
    const { body: partial } = await api().get(`/jobs/${res.body.id}/results?limit=100`).expect(200);
    expect(partial.items.find((item: any) => item.url === `${site.url}/slow/hang`)?.state).toBe('running');
    const { body: job } = await api().delete(`/jobs/${res.body.id}`).expect(200);
    expect(job).toMatchObject({ status: 'cancelled', completed: 7, cancelled: 1 });
  });

  it('stops at maxDepth and maxPages, and applies include/exclude', async () => {
    site.reset();
    const shallow = await crawl({ urls: [T('')], maxDepth: 1 });
    expect(sorted(shallow.items.map((i) => i.url))).toEqual(sorted([T(''), T('a.html'), T('b.html'), T('c.html'), T('area.html')]));
    expect(shallow.at(T('a.html')).links).toContain(T('d.html'));
    expect(site.hit('/tree/d.html')).toBe(0);
    const capped = await crawl({ urls: [T('')], maxDepth: 3, maxPages: 3 });
    expect(capped.job.total).toBe(3);
    expect(capped.items[0].url).toBe(T(''));
    const excluded = await crawl({ urls: [T('')], maxDepth: 3, exclude: ['/sub/'] });
    expect(sorted(excluded.items.map((i) => i.url))).toEqual(sorted([T(''), T('a.html'), T('b.html'), T('c.html'), T('area.html'), T('d.html'), T('deep/f.html')]));
    const included = await crawl({ urls: [T('')], maxDepth: 3, include: ['/tree/$', '/tree/[ad]\\.html$', '/deep/'] });
    expect(sorted(included.items.map((i) => i.url))).toEqual(sorted([T(''), T('a.html'), T('d.html'), T('deep/f.html')]));
  });

  it('normalises, de-duplicates and filters the links of a page', async () => {
    const P = site.url;
    const { items } = await crawl({ urls: [`${P}/links.html`], maxDepth: 0 });
    expect(items).toHaveLength(1);
    expect(sorted(items[0].links)).toEqual(
      sorted([
        `${P}/tree/a.html`,
        `${P}/Tree/B.html`,
        'http://127.0.0.2/default-port',
        'https://127.0.0.2/secure',
        `${P}/~user/`,
        `${P}/caf%C3%A9`,
        `${P}/caf%C3%A9-raw`,
        `${P}/a%2Fb`,
        'http://xn--bcher-kva.example/',
        'http://example.com/',
        `${P}/spaced`,
        `${P}/q?x=1`,
        `${P}/protocol-relative`,
        `${P}/nf-target`,
        `${P}/nf2`,
        `${P}/area-target`,
      ]),
    );
    expect(sorted(items[0].nofollow)).toEqual([`${P}/nf-target`, `${P}/nf2`]);
  });

  it('keeps exactly the first CRAWL_MAX_LINKS_PER_PAGE links of a page with 30,000', async () => {
    const { job, items } = await crawl({ urls: [`${site.url}/many-links.html`], maxDepth: 0 });
    expect(job).toMatchObject({ status: 'completed', total: 1, completed: 1 });
    expect(items[0]).toMatchObject({ state: 'completed', title: 'Many links', truncated: true, truncatedBy: 'maxLinks' });
    expect(items[0].links).toEqual(Array.from({ length: svc.config.CRAWL_MAX_LINKS_PER_PAGE }, (_, i) => `${site.url}/many/${i}`));
    expect(svc.config.CRAWL_MAX_LINKS_PER_PAGE).toBeLessThan(MANY_LINKS);
  });

  it('keeps to the scope: same-origin, same-host (other port), any (other host, blocked)', async () => {
    const seed = `${site.url}/scope/`;
    const run = async (scope: string) => sorted((await crawl({ urls: [seed], maxDepth: 1, scope })).items.map((i) => i.url));
    expect(await run('same-origin')).toEqual(sorted([seed, `${site.url}/scope/a`]));
    expect(await run('same-host')).toEqual(sorted([seed, `${site.url}/scope/a`, `${peer.url}/scope/b`]));
    const any = await crawl({ urls: [seed], maxDepth: 1, scope: 'any' });
    expect(sorted(any.items.map((i) => i.url))).toEqual(sorted([seed, `${site.url}/scope/a`, `${peer.url}/scope/b`, `http://localhost:${canary.port}/scope/c`]));
    expect(any.at(`http://localhost:${canary.port}/scope/c`)).toMatchObject({ state: 'failed', error: { code: 'blocked_address' } });
    expect(canary.connections).toBe(0);
  });

  it('gives every failing page its error code, follows redirects, retries, and decodes charsets', async () => {
    site.reset();
    const paths = [
      '/status/404',
      '/status/500',
      '/flaky/503/a',
      '/flaky/429/a',
      '/drop/a',
      '/redirect/301',
      '/redirect/302',
      '/redirect/307',
      '/redirect/308',
      '/redirect/chain/3',
      '/redirect/loop/a',
      '/redirect/relative',
      '/slow/hang',
      '/slow/headers',
      '/huge.html',
      '/files/big.pdf',
      '/files/big.json',
      '/text.txt',
      '/xhtml',
      '/enc/cp1252.html',
      '/enc/euc-kr.html',
    ];
    const started = Date.now();
    const { job, at } = await crawl({ urls: paths.map((p) => site.url + p), maxDepth: 0, timeoutMs: 1000, maxBytes: 1_000_000, retries: 1, maxRedirects: 5, userAgent: 'fixture-agent/1.0' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(job).toMatchObject({ status: 'completed', total: paths.length });
    expect(site.requests.filter((r) => r.userAgent !== 'fixture-agent/1.0')).toEqual([]);
    const page = (p: string) => at(site.url + p);
    const failed = (code: string, status: number | null = null) => ({ state: 'failed', status, error: { code } });
    expect(page('/status/404')).toMatchObject(failed('http_error', 404));
    expect(page('/status/500')).toMatchObject(failed('http_error', 500));
    expect([site.hit('/status/404'), site.hit('/status/500')]).toEqual([1, 2]);
    for (const p of ['/flaky/503/a', '/flaky/429/a']) {
      expect(page(p)).toMatchObject({ state: 'completed', status: 200, title: TITLES.recovered });
      const times = site.requests.filter((r) => r.path === p).map((r) => r.at);
      expect(times).toHaveLength(2);
      expect(times[1] - times[0], 'Retry-After: 1 honoured').toBeGreaterThanOrEqual(900);
    }
    expect(page('/drop/a')).toMatchObject({ state: 'completed', status: 200 });
    expect(site.hit('/drop/a')).toBe(2);
    for (const code of [301, 302, 307, 308]) expect(page(`/redirect/${code}`)).toMatchObject({ state: 'completed', status: 200, finalUrl: `${site.url}/leaf/${code}`, title: `Leaf /leaf/${code}` });
    expect(page('/redirect/chain/3')).toMatchObject({ state: 'completed', finalUrl: `${site.url}/leaf/chain` });
    expect(page('/redirect/relative')).toMatchObject({ state: 'completed', finalUrl: `${site.url}/leaf/relative` });
    expect(page('/redirect/loop/a')).toMatchObject({ state: 'failed', error: { code: 'too_many_redirects' } });
    expect(site.hit('/redirect/loop/a') + site.hit('/redirect/loop/b')).toBeLessThanOrEqual(6);
    for (const p of ['/slow/hang', '/slow/headers']) expect(page(p)).toMatchObject({ state: 'failed', error: { code: 'timeout' } });
    // Cut at maxBytes, keeping what was read: a 50 MB page of filler read up to exactly 1,000,000 bytes.
    expect(page('/huge.html')).toMatchObject({ state: 'completed', status: 200, title: 'Huge', links: [], bytes: 1_000_000, truncated: true, truncatedBy: 'maxBytes' });
    expect(page('/files/big.pdf')).toMatchObject({ ...failed('not_html', 200), contentType: expect.stringMatching(/^application\/pdf/) });
    expect(page('/files/big.json')).toMatchObject(failed('not_html', 200));
    expect(page('/text.txt')).toMatchObject(failed('not_html', 200));
    for (const p of ['/files/big.pdf', '/files/big.json']) expect(page(p).bytes ?? 0).toBeLessThan(BIG_FILE_BYTES / 8);
    for (const p of ['/huge.html', '/files/big.pdf', '/files/big.json']) {
      const outcome = await eventually(async () => site.outcomes.find((o) => o.path === p && o.closed), 5_000, `${p} connection closed`);
      expect({ p, finished: outcome.finished }).toEqual({ p, finished: false });
    }
    // Port 1 refuses connections (with robots.txt respected, an unreachable robots.txt means disallow, RFC 9309).
    const strict = await crawl({
      urls: [...['/redirect/chain/3', '/redirect/chain/2'].map((p) => site.url + p), 'http://127.0.0.2:1/'],
      maxDepth: 0,
      maxRedirects: 2,
      retries: 0,
      respectRobotsTxt: false,
    });
    expect(strict.at('http://127.0.0.2:1/')).toMatchObject({ state: 'failed', status: null, error: { code: 'network_error' } });
    expect(strict.at(`${site.url}/redirect/chain/3`)).toMatchObject({ state: 'failed', error: { code: 'too_many_redirects' } });
    expect(strict.at(`${site.url}/redirect/chain/2`)).toMatchObject({ state: 'completed', finalUrl: `${site.url}/leaf/chain` });
    expect.soft(page('/xhtml')).toMatchObject({ state: 'completed', title: 'XHTML', links: [`${site.url}/leaf/xhtml`] });
    expect.soft(page('/enc/cp1252.html')).toMatchObject({ state: 'completed', title: TITLES.cp1252 });
    expect.soft(page('/enc/euc-kr.html')).toMatchObject({ state: 'completed', title: TITLES.eucKr });
  });

  it('obeys robots.txt: Disallow (never fetched), fetched once per job, off when asked; Crawl-delay spaces requests', async () => {
    site.reset();
    const { at } = await crawl({ urls: [`${site.url}/robots-test/`], maxDepth: 1 });
    expect(at(`${site.url}/private/secret.html`)).toMatchObject({ state: 'failed', error: { code: 'robots_disallowed' } });
    expect(at(`${site.url}/public/page.html`)).toMatchObject({ state: 'completed', status: 200 });
    expect([site.hit('/private/secret.html'), site.hit('/robots.txt')]).toEqual([0, 1]);
    const seed = await crawl({ urls: [`${site.url}/private/seed.html`], maxDepth: 0 });
    expect(seed.items[0]).toMatchObject({ state: 'failed', error: { code: 'robots_disallowed' } });
    const off = await crawl({ urls: [`${site.url}/private/seed.html`], maxDepth: 0, respectRobotsTxt: false });
    expect(off.items[0]).toMatchObject({ state: 'completed', status: 200 });
    expect(site.hit('/private/seed.html')).toBe(1);

    const slow = await startFixtureSite({ crawlDelay: 1 });
    try {
      const paired = await crawl({ urls: [`${slow.url}/pair/`], maxDepth: 1 });
      expect(paired.job).toMatchObject({ status: 'completed', total: 3, completed: 3 });
      const times = slow.requests.filter((r) => r.path.startsWith('/pair/')).map((r) => r.at);
      expect(times).toHaveLength(3);
      expect(
        [times[1] - times[0], times[2] - times[1]].every((gap) => gap >= 900),
        `gaps ${times.map((t) => t - times[0])}`,
      ).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('checks robots.txt on every redirect hop, not only on the first URL', async () => {
    site.reset();
    const viaRedirect = `${site.url}/redirect/to?url=%2Fprivate%2Fvia-redirect`;
    const { items } = await crawl({ urls: [viaRedirect], maxDepth: 0 });
    expect(items[0]).toMatchObject({ url: viaRedirect, state: 'failed', error: { code: 'robots_disallowed' } });
    expect(site.hit('/private/via-redirect')).toBe(0);
  });

  it('cancels a running crawl promptly; nothing is fetched afterwards', async () => {
    site.reset();
    const { body: job } = await api()
      .post('/crawl')
      .send({ urls: [`${site.url}/slowtrap/0`], maxDepth: 10, maxPages: 500, perHostConcurrency: 2 })
      .expect(202);
    expect(job).toMatchObject({ kind: 'crawl' });
    const fetched = () => [...site.hits].filter(([p]) => p.startsWith('/slowtrap/')).reduce((n, [, c]) => n + c, 0);
    await eventually(async () => (fetched() >= 6 ? true : undefined), 10_000, 'some pages fetched');
    const started = Date.now();
    const { body: cancelled } = await api().delete(`/jobs/${job.id}`).expect(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.completed + cancelled.failed + cancelled.cancelled).toBe(cancelled.total);
    await sleep(200);
    const settled = fetched();
    await sleep(700);
    expect(fetched()).toBe(settled);
    expect(site.peakInFlight).toBe(2);
    const { body: later } = await api().get(`/jobs/${job.id}`).expect(200);
    expect([later.status, later.total]).toEqual(['cancelled', cancelled.total]);
  });

  it('streams a crawl over the WebSocket feed: snapshot, per-page updates, one final event', async () => {
    site.reset();
    const watcher = await FeedClient.connect(svc.wsUrl);
    watcher.subscribe('*');
    // The server has handled the subscribe once it answers the barrier sent after it.
    await watcher.barrier();
    const { body: job } = await api()
      .post('/crawl')
      .send({ urls: [`${site.url}/slowtrap/0`], maxDepth: 2 })
      .expect(202);
    const late = await FeedClient.connect(svc.wsUrl);
    late.subscribe(job.id);
    try {
      const isFinal = (m: Message) => FINAL.includes(m.event) && m.data.id === job.id;
      const final = await watcher.waitFor(isFinal);
      await late.waitFor(isFinal);
      expect(final).toMatchObject({ event: 'job.completed', data: { total: 6, completed: 6, failed: 0 } });
      for (const client of [watcher, late]) {
        const mine = client.messages.filter((m) => m.data?.id === job.id || m.data?.jobId === job.id);
        expect(mine[0].event).toBe(client === late ? 'job.snapshot' : 'job.created');
        expect(mine.at(-1)!.event).toBe('job.completed');
        expect(mine.filter((m) => FINAL.includes(m.event))).toHaveLength(1);
        expect(finishedCounts(mine, 6)).toEqual([1, 1, 1, 1, 1, 1]);
      }
      const updates = watcher.messages.flatMap((m) => (m.event === 'task.progress' && m.data.jobId === job.id ? m.data.updates : []));
      const root = updates.find((u: { index: number; state: string }) => u.index === 0 && u.state === 'completed');
      expect(root).toMatchObject({ url: `${site.url}/slowtrap/0`, depth: 0, status: 200, links: 2 });
      expect(site.peakInFlight, 'pages fetched in parallel').toBeGreaterThanOrEqual(2);
    } finally {
      watcher.close();
      late.close();
    }
  });

  it('stays healthy after all of it', async () => {
    await api().get('/health/ready').expect(200);
    expect(canary.connections).toBe(0);
  });
});

describe('crawl limits: CRAWL_PARSE_BUDGET_MS and CRAWL_MAX_RESULT_BYTES', () => {
  let svc: RunningApp;
  let site: FixtureSite;
  let big: BigPagesSite;
  async function crawl(body: object) {
    const res = await request(svc.url).post('/crawl?wait=30000').send(body);
    expect(res.status, JSON.stringify(res.body).slice(0, 2000)).toBe(200);
    return { job: res.body, items: res.body.results.items as any[] };
  }

  beforeAll(async () => {
    [site, big] = await Promise.all([startFixtureSite(), startBigPages()]);
    // 10 ms of parsing per page; results of one crawl past 1 KiB stop it from growing.
    svc = await startApp({ CRAWL_ALLOW_TARGETS: '127.0.0.2/32', CRAWL_PARSE_BUDGET_MS: '10', CRAWL_MAX_RESULT_BYTES: '1024' });
  });
  afterAll(async () => {
    await Promise.all([svc?.close(), site?.close(), big?.close()]);
  });

  it('the parse budget cuts the link list of a page parsed into a DOM, and of a streamed one', async () => {
    // 30,000 links (under CRAWL_DOM_MAX_BYTES): the DOM alone takes longer than 10 ms to build.
    const dom = (await crawl({ urls: [`${site.url}/many-links.html`], maxDepth: 0 })).items[0];
    expect(dom).toMatchObject({ state: 'completed', title: 'Many links', truncated: true, truncatedBy: 'parseBudget' });
    expect(dom.links.length).toBeGreaterThan(0);
    expect(dom.links.length).toBeLessThan(svc.config.CRAWL_MAX_LINKS_PER_PAGE);
    expect(dom.links).toEqual(Array.from({ length: dom.links.length }, (_, i) => `${site.url}/many/${i}`));
    // 30 MiB, streamed: parsing stops after 10 ms of it, and so does the reading.
    const bytes = 30 * 1024 * 1024;
    const streamed = (await crawl({ urls: [`${big.url}/big/1/?bytes=${bytes}`], maxDepth: 0, maxBytes: 40 * 1024 * 1024 })).items[0];
    expect(streamed).toMatchObject({ state: 'completed', title: 'Big 1', truncated: true, truncatedBy: 'parseBudget' });
    const all = [...Array.from({ length: BIG_BLOCKS * LINKS_PER_BLOCK }, (_, i) => `${big.url}/big/1/b${Math.floor(i / LINKS_PER_BLOCK)}/${i % LINKS_PER_BLOCK}`), `${big.url}/big/1/end`];
    expect(streamed.links.length).toBeGreaterThan(0);
    expect(streamed.links).toEqual(all.slice(0, streamed.links.length));
    expect(streamed.links).not.toContain(`${big.url}/big/1/end`);
    expect(streamed.bytes).toBeLessThan(bytes);
  });

  it('a crawl whose results pass CRAWL_MAX_RESULT_BYTES starts no new pages', async () => {
    const T = (path: string) => `${site.url}/tree/${path}`;
    // One page at a time, so the order is fixed. The root's result (~650 bytes) is under 1 KiB;
    // a.html's takes the crawl past it: from then on, pages queued before still run, and nothing
    // new is queued, not even a.html's own links (d.html), which are considered after its result.
    const { job, items } = await crawl({ urls: [T('')], maxDepth: 3, concurrency: 1 });
    expect(job).toMatchObject({ status: 'completed', failed: 0 });
    expect(items.map((i) => i.url)).toEqual([T(''), T('a.html'), T('b.html'), T('c.html'), T('area.html')]);
    // Without the limit the same crawl has 9 pages (see 'crawl jobs'): b.html's links were seen, not queued.
    expect(items.find((i) => i.url === T('b.html')).links).toEqual([T('sub/e.html'), T('c.html')]);
  });
});

const FINAL = ['job.completed', 'job.failed', 'job.cancelled'];

/** How often each task index is seen finished, across a snapshot's task map and the updates after it. */
function finishedCounts(messages: Message[], total: number): number[] {
  const counts = new Array<number>(total).fill(0);
  for (const m of messages) {
    if (m.event === 'job.snapshot') [...(m.data.tasks as string)].forEach((code, i) => 'cfx'.includes(code) && counts[i]++);
    if (m.event === 'task.progress') for (const u of m.data.updates) if (['completed', 'failed', 'cancelled'].includes(u.state)) counts[u.index]++;
  }
  return counts;
}

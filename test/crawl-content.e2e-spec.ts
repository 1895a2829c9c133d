import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './support/app';
import { describeBothModesInProcess } from './support/both-modes';
import { allResults, call, Cluster, type Instance } from './support/cluster';
import { type FixtureSite, startFixtureSite } from './support/fixture-site';
import { watchLoopDelay } from './support/loop-delay';
import { haveRedis } from './support/redis-server';

/**
 * Issue 16, item 1: page content (formats, onlyMainContent, select) made on the worker threads,
 * stored, paged and exported like any result, in both modes; bad options refused; pages hostile
 * to the converters kept within the limits while the main thread stays responsive.
 */
const BASE_ENV = { CRAWL_ALLOW_TARGETS: '127.0.0.0/8', MAX_WAIT_MS: '60000', RATE_LIMIT_MAX: '1000000' };
/**
 * The scenarios check what content says, so a page's parse budget is ample here (a 174 KB page's
 * markdown takes most of the default 2 s on a loaded 2-core host); the hostile pages below run
 * with the default budget.
 */
const ENV = { ...BASE_ENV, RESULTS_MAX_PAGE_BYTES: '65536', CRAWL_PARSE_BUDGET_MS: '30000' };
type Node = { url: string };
const HOSTILE = ['nested', 'elements', 'attrs'];

async function crawl(via: Node, body: object): Promise<{ id: string; items: any[] }> {
  const res = await call(via, 'POST', '/crawl?wait=60000', { timeoutMs: 10_000, ...body });
  expect(res.status, JSON.stringify(res.body).slice(0, 1_000)).toBe(200);
  expect(res.body.status, JSON.stringify(res.body.results?.items).slice(0, 1_000)).toBe('completed');
  return { id: res.body.id, items: res.body.results.items };
}

const byPath = (items: any[], site: FixtureSite) => Object.fromEntries(items.map((item) => [item.url.slice(site.url.length), item]));

function contentScenarios(nodes: () => Node[], site: () => FixtureSite) {
  it('markdown and text of a documentation site, main content only, read from any instance; links followed but not shown', async () => {
    const [first, last] = [nodes()[0], nodes().at(-1)!];
    const { id } = await crawl(first, { urls: [`${site().url}/docs/`], maxDepth: 1, include: ['/docs/'], formats: ['markdown', 'text'], onlyMainContent: true });
    const items = await allResults(last, id);
    const pages = byPath(items, site());
    expect(Object.keys(pages).sort()).toEqual(['/docs/', '/docs/libffi.html', '/docs/underscore.html']);
    for (const item of items) {
      expect(item).toMatchObject({ state: 'completed', status: 200 });
      expect(item).not.toHaveProperty('links');
      expect(item).not.toHaveProperty('html');
    }
    expect(pages['/docs/'].markdown).toBe(`# Documentation\n\n* [Underscore](${site().url}/docs/underscore.html)\n* [libffi](${site().url}/docs/libffi.html)`);
    expect(pages['/docs/'].text).not.toMatch(/Site header|Docs navigation|Site footer/);
    const underscore = pages['/docs/underscore.html'];
    expect(underscore.markdown).toMatch(/^## Package Installation$/m);
    expect(underscore.markdown).toContain('```\n_.each([1, 2, 3], alert);');
    expect(underscore.markdown).not.toContain('Annotated Source (single read)'); // the sidebar
    expect(underscore.text).toContain('Iterates over a list of elements');
    expect(pages['/docs/libffi.html'].markdown).toMatch(/^### 2\.1 The Basics$/m);
  });

  it('without formats the result is today’s: links, no content fields', async () => {
    const { items } = await crawl(nodes()[0], { urls: [`${site().url}/docs/`], maxDepth: 0 });
    expect(items[0].links).toEqual([`${site().url}/`, `${site().url}/docs/`, `${site().url}/docs/underscore.html`, `${site().url}/docs/libffi.html`]);
    for (const field of ['markdown', 'text', 'html', 'fields', 'truncatedBy']) expect(items[0]).not.toHaveProperty(field);
  });

  it('select and html, maxContentChars cuts and says so; pages by bytes; NDJSON carries content, CSV the fields', async () => {
    const [first, last] = [nodes()[0], nodes().at(-1)!];
    const { id } = await crawl(first, {
      urls: [`${site().url}/content/select.html`, `${site().url}/content/long.html`, `${site().url}/docs/underscore.html`],
      maxDepth: 0,
      formats: ['links', 'html'],
      maxContentChars: 100_000,
      select: { title: { css: 'meta[property="og:title"]', attr: 'content' }, heading: { css: 'h1' }, tags: { css: 'a.tag', all: true }, tagLinks: { css: 'a.tag', attr: 'href', all: true } },
    });
    const items = await allResults(last, id);
    const pages = byPath(items, site());
    expect(pages['/content/select.html'].fields, JSON.stringify(pages['/content/select.html'])).toEqual({
      title: 'OG title',
      heading: 'Product name',
      tags: ['one', 'two & more'],
      tagLinks: ['/t/1', '/t/2'],
    });
    expect(pages['/content/select.html'].links).toEqual([`${site().url}/t/1`, `${site().url}/t/2`]);
    expect(pages['/content/long.html']).toMatchObject({ truncated: true, truncatedBy: 'contentChars' });
    expect(pages['/content/long.html'].html).toHaveLength(100_000);
    expect(pages['/docs/underscore.html'].html.length).toBeGreaterThan(65_536);

    // A results page ends before the item that would take it past RESULTS_MAX_PAGE_BYTES (64 KiB).
    const page = await call(last, 'GET', `/jobs/${id}/results?limit=3`);
    expect(page.status).toBe(200);
    expect(page.body.items.length).toBeLessThan(3);
    expect(page.body.nextOffset).toBe(page.body.items.length);

    const ndjson = await (await fetch(`${last.url}/jobs/${id}/results`, { headers: { accept: 'application/x-ndjson' } })).text();
    const lines = ndjson
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.html.length)).toEqual(items.map((item) => item.html.length));
    const csv = await (await fetch(`${last.url}/jobs/${id}/results`, { headers: { accept: 'text/csv' } })).text();
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('index,url,depth,parent,state,status,finalUrl,contentType,title,bytes,ms,links,error,fields,truncatedBy');
    expect(rows[1]).toContain('"{""title"":""OG title"",""heading"":""Product name""');
    expect(csv).not.toContain('All work and no play'); // content stays out of CSV
    expect(rows[2]).toMatch(/,contentChars$/);
  });
}

describe('crawl content, embedded', () => {
  let svc: RunningApp;
  let site: FixtureSite;
  beforeAll(async () => {
    site = await startFixtureSite();
    svc = await startApp({ ...ENV, MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY: String(8 * 1024 ** 2) });
  });
  afterAll(async () => {
    await Promise.all([svc?.close(), site?.close()]);
  });

  contentScenarios(
    () => [svc],
    () => site,
  );

  it('refuses bad options with a 400 naming each', async () => {
    const refused = async (body: object) => {
      const res = await call(svc, 'POST', '/crawl', { urls: [`${site.url}/docs/`], ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      return (res.body.issues as { field: string; message: string }[]).map((issue) => `${issue.field}: ${issue.message}`);
    };
    expect(await refused({ formats: ['pdf'] })).toEqual([expect.stringMatching(/^formats\.0: must be one of links, text, markdown, html/)]);
    expect(await refused({ formats: 'markdown' })).toEqual([expect.stringMatching(/^formats: /)]);
    expect(await refused({ formats: [] })).toEqual(['formats: must not be empty']);
    expect(await refused({ formats: ['text', 'text'] })).toEqual(['formats: must not repeat a format']);
    expect(await refused({ onlyMainContent: 'yes' })).toEqual(['onlyMainContent: must be true or false']);
    expect(await refused({ select: { title: { css: 'h1[' } } })).toEqual([expect.stringMatching(/^select\.title\.css: must be a valid CSS selector: /)]);
    expect(await refused({ select: { title: { css: 'div:has(p:has(a))' } } })).toEqual([expect.stringMatching(/^select\.title\.css: .*at most one :has/)]);
    expect(await refused({ select: { title: { css: '' } } })).toEqual(['select.title.css: must not be empty']);
    expect(await refused({ select: { title: { css: 'a'.repeat(301) } } })).toEqual(['select.title.css: must be at most 300 characters']);
    expect(await refused({ select: { title: { css: 'h1', attr: 'a b' } } })).toEqual(['select.title.attr: must be an attribute name']);
    expect(await refused({ select: { title: { css: 'h1', all: 1 } } })).toEqual(['select.title.all: must be true or false']);
    expect(await refused({ select: { title: { css: 'h1', other: 1 } } })).toEqual(['select.title.other: is not a known field']);
    expect(await refused({ select: { title: 'h1' } })).toEqual(['select.title: must be an object {css, attr?, all?}']);
    expect(await refused({ select: { '1bad': { css: 'h1' } } })).toEqual([expect.stringMatching(/^select(\.1bad)?: a field name is/)]);
    expect(await refused({ select: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, { css: 'h1' }])) })).toEqual(['select: at most 20 fields']);
    expect(await refused({ select: ['h1'] })).toEqual([expect.stringMatching(/^select: /)]);
    expect(await refused({ maxContentChars: 10 })).toEqual(['maxContentChars: must be >= 100']);
    expect(await refused({ maxContentChars: 2_000_000 })).toEqual(['maxContentChars: must be <= 1000000 (limit CRAWL_MAX_CONTENT_CHARS)']);
  });

  it('reserves result bytes for content at admission: what links alone may ask is refused with markdown', async () => {
    // 8 MiB per key: 100 pages of links reserve 3.2 MB, of links and markdown 9.6 MB.
    const links = await call(svc, 'POST', '/crawl', { urls: [`${site.url}/docs/`], maxDepth: 0, maxPages: 100 });
    expect(links.status).toBe(202);
    const markdown = await call(svc, 'POST', '/crawl', { urls: [`${site.url}/docs/`], maxDepth: 0, maxPages: 100, formats: ['links', 'markdown'] });
    expect(markdown.status, JSON.stringify(markdown.body)).toBe(429);
    expect(markdown.body.message).toMatch(/MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY/);
  });
});

// CRAWL_DOM_MAX_BYTES: the DOM path for the 1.6 MB page of 400,000 elements (streamed pages make content of
// their first CRAWL_DOM_MAX_BYTES only). A pool task per page, so that the instances share the hostile pages
// (grouped, the three go to one).
describeBothModesInProcess('crawl content, hostile pages (default parse budget)', { ...BASE_ENV, CRAWL_DOM_MAX_BYTES: String(4 * 1024 ** 2), CRAWL_PAGES_PER_TASK: '1' }, (service) => {
  let site: FixtureSite;
  beforeAll(async () => {
    site = await startFixtureSite();
    await crawl(await service.ready, { urls: [`${site.url}/docs/`], maxDepth: 0, formats: ['markdown'] }); // warm: threads up, code compiled
    for (const name of HOSTILE) await (await fetch(`${site.url}/content/${name}.html`)).arrayBuffer(); // the fixture builds its pages: not measured
  });
  afterAll(async () => {
    await site?.close();
  });

  it('stay within the content bounds; the main thread never stalls', async () => {
    const delay = watchLoopDelay();
    const { items } = await crawl(service, {
      urls: HOSTILE.map((name) => `${site.url}/content/${name}.html`),
      maxDepth: 0,
      formats: ['links', 'markdown', 'text', 'html'],
      select: { all: { css: 'p', all: true }, deep: { css: 'div div div p' } },
      maxBytes: 5_000_000,
      maxPages: 3,
    });
    const maxDelayMs = delay.stop();
    const pages = byPath(items, site);
    expect(pages['/content/nested.html'].markdown).toContain('deep text');
    expect(pages['/content/nested.html'].text).toContain('after the nest');
    expect(pages['/content/elements.html'].state).toBe('completed');
    // Whichever bound comes first on this machine: 50,000 elements or the parse budget.
    expect(pages['/content/elements.html'].truncatedBy).toMatch(/^(contentElements|parseBudget)$/);
    expect(pages['/content/elements.html'].html.length).toBeLessThanOrEqual(200_000);
    expect(pages['/content/attrs.html'].markdown).toBe(`[attribute text](${site.url}/leaf/ok)`);
    expect(JSON.stringify(pages['/content/attrs.html']).length).toBeLessThan(10_000);
    expect(maxDelayMs, 'event-loop delay max (ms)').toBeLessThan(100);
  });
});

describe.skipIf(!haveRedis('crawl content across instances'))('crawl content on two instances (submitted on A, read from B)', () => {
  let cluster: Cluster;
  let site: FixtureSite;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    site = await startFixtureSite();
    cluster = await Cluster.start({ poolSize: 1, env: ENV });
    a = await cluster.startInstance('a');
    b = await cluster.startInstance('b');
  }, 60_000);
  afterAll(async () => {
    await Promise.all([cluster?.close(), site?.close()]);
  });

  contentScenarios(
    () => [a, b],
    () => site,
  );
});

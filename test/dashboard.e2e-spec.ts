import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app';
import { browserRequired, hasChromium, launchBrowser, SKIP_MESSAGE, type Browser } from './support/browser';
import { startFixtureSite, type FixtureSite } from './support/fixture-site';

// Locally, no Chromium skips with one line saying how to enable it; in CI it fails (launchBrowser throws).
const skip = !hasChromium && !browserRequired;
if (skip) console.log(SKIP_MESSAGE);

const KEY = 'k-0123456789abcdef';
const WAIT = 20_000;
/**
 * The 1,000-page crawl's end: a wait for an event, not a measure of speed (on a loaded 2-core
 * machine the crawl alone took 21 s). Its 30,000-link seed page gets a parse budget that such a
 * machine cannot run out of (the default 2 s kept 340 links), so that the job has its 1,000 pages.
 */
const CRAWL_END_WAIT = 90_000;
const PARSE_BUDGET_MS = 60_000;

async function rest(app: RunningApp, path: string, init: RequestInit & { key?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  const res = await fetch(`${app.url}${path}`, { ...init, headers });
  return { status: res.status, body: (await res.json()) as any };
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();
const connected = (page: Page) => page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT });

/** Submits numbers through the form and returns the new job's id (from the job view's hash). */
async function submitNumbers(page: Page, numbers: number[]): Promise<string> {
  const before = page.url();
  await page.fill('#fib-numbers', numbers.join(', '));
  await page.click('#fib-submit');
  await page.waitForURL((url) => url.href !== before && /#job\//.test(url.hash), { timeout: WAIT });
  return new URL(page.url()).hash.slice('#job/'.length);
}

async function waitFinished(page: Page, total: number) {
  await page.locator('#job-progress[aria-valuenow="100"]').waitFor({ timeout: WAIT });
  await page.locator(`#task-grid[data-filled="${total}"]`).waitFor({ timeout: WAIT });
}

/**
 * The README's picture of the dashboard: docs/dashboard.png with DOCS_SCREENSHOT=1 (then commit it),
 * otherwise a temporary file, so that an ordinary test run leaves the tree as it was.
 */
async function docsScreenshot(page: Page): Promise<Buffer> {
  const forDocs = process.env.DOCS_SCREENSHOT === '1';
  const path = forDocs ? join(__dirname, '..', 'docs', 'dashboard.png') : join(mkdtempSync(join(tmpdir(), 'dashboard-docs-')), 'dashboard.png');
  try {
    await page.screenshot({ path, fullPage: true });
    return readFileSync(path);
  } finally {
    if (!forDocs) rmSync(dirname(path), { recursive: true, force: true });
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Pages with long titles (and some that fail, with none), so that the results table meets text
 * longer than its columns and pages whose items have different fields.
 */
const LONG_TITLE = (i: number) => `Page ${i}: ${'a very long title that goes on and on '.repeat(8)}end ${i}`;
async function startTitleSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const m = /^\/p(\d+)$/.exec(req.url ?? '');
    if (req.url === '/') {
      const links = Array.from({ length: 14 }, (_, i) => `<a href="/p${i}">${i}</a>`).join(' ');
      return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><head><title>${LONG_TITLE(0)}</title></head><body>${links}</body></html>`);
    }
    if (m && Number(m[1]) % 3 === 2) return res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
    if (m) return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><head><title>${LONG_TITLE(Number(m[1]))}</title></head><body>${'x'.repeat(3000 * Number(m[1]))}</body></html>`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A box's layout as the browser drew it. */
const box = (page: Page, selector: string) =>
  page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, width: r.width, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
  });

async function countsShown(page: Page) {
  const data = await page.locator('#job-counts').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  return { total: Number(data.total), completed: Number(data.completed), failed: Number(data.failed), cancelled: Number(data.cancelled) };
}

describe.skipIf(skip)('dashboard in a real browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let site: FixtureSite;
  /** The crawl the form test runs (9 pages, two failed): the phone and unknown-id tests reopen it. */
  let crawlId = '';

  beforeAll(async () => {
    // The browser first: without it (CI, no Chromium) nothing else is started and left behind.
    browser = await launchBrowser();
    [app, site] = await Promise.all([
      startApp({ FIB_MAX_RESULT_BYTES: '200000000', CRAWL_ALLOW_TARGETS: '127.0.0.2/32', CRAWL_PARSE_BUDGET_MS: String(PARSE_BUDGET_MS) }, { waitForThreads: true }),
      startFixtureSite(),
    ]);
    page = await browser.page();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await site?.close();
  });

  afterEach(() => {
    // CSP violations, uncaught exceptions and failed requests all land here; what a test allowed
    // stops being allowed when it ends.
    const errors = browser?.takeErrors() ?? [];
    expect(errors, `browser errors:\n${errors.join('\n')}`).toEqual([]);
  });

  it('loads under the CSP, shows the pool, and reports validation errors next to the form', async () => {
    // The two bad submissions below, and only those.
    browser.allow(/status of 400 \(Bad Request\) \(http:\/\/[^)]+\/fibonacci\)$/);
    await page.goto(app.url);
    await connected(page);
    await page
      .locator('#pool-threads')
      .filter({ hasText: /^\d+ \/ \d+$/ })
      .waitFor({ timeout: WAIT });
    expect(await page.locator('#pool-state').getAttribute('data-status')).toBe('up');
    // Two pools of POOL_SIZE=2 threads, idle: what runs right now, per thread.
    await page
      .locator('#pool-running')
      .filter({ hasText: /^0 running on 4 threads$/ })
      .waitFor({ timeout: WAIT });
    expect(await page.getAttribute('#pool-util', 'aria-valuetext')).toBe('0 running on 4 threads');
    // Embedded mode: the instances table has one row, this instance, marked as the one answering.
    const instances = page.locator('#pool-instances-list tr');
    await instances.first().waitFor({ timeout: WAIT });
    expect(await instances.count()).toBe(1);
    expect(await instances.first().getAttribute('aria-current')).toBe('true');
    expect(await instances.first().locator('td').first().innerText()).toMatch(/ \(this one\)$/);
    expect(await instances.first().locator('td').nth(1).innerText()).toMatch(/^\d+ \/ 4$/);

    await page.fill('#fib-numbers', '5, -1, x');
    await page.click('#fib-submit');
    await page.locator('#fib-errors li').first().waitFor({ timeout: WAIT });
    const errors = await text(page, '#fib-errors');
    expect(errors).toContain('must be >= 0');
    expect(await page.getAttribute('#fib-numbers', 'aria-invalid')).toBe('true');

    await page.fill('#range-from', '10');
    await page.fill('#range-to', '5');
    await page.click('#range-submit');
    await page.locator('#range-errors li').first().waitFor({ timeout: WAIT });
    expect(await text(page, '#range-errors')).toContain('from must be <= to');
  });

  it('runs a 2000-number batch from the form to 100%, with counts that match the API, and pages through results', async () => {
    const numbers = Array.from({ length: 2000 }, (_, i) => i * 25);
    const id = await submitNumbers(page, numbers);
    await waitFinished(page, 2000);
    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });

    const { body: job } = await rest(app, `/jobs/${id}`);
    expect(job.status).toBe('completed');
    expect(await countsShown(page)).toEqual({ total: job.total, completed: job.completed, failed: job.failed, cancelled: job.cancelled });
    expect(job.completed).toBe(2000);
    expect(await page.getAttribute('#job-progress', 'role')).toBe('progressbar');

    // The list row is live too.
    const row = page.locator(`#jobs-list tr[data-job-id="${id}"]`);
    await row.locator('.badge[data-status="completed"]').waitFor({ timeout: WAIT });
    expect(await row.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('100');

    // Results: page 1, then page 2; columns come from the items.
    await page.locator('#results-info').filter({ hasText: '1–20 of 2,000' }).waitFor({ timeout: WAIT });
    const headers = await page.locator('#results thead th').allInnerTexts();
    expect(headers).toEqual(expect.arrayContaining(['index', 'n', 'state', 'value', 'digits', 'ms']));
    await page.click('#results-next');
    await page.locator('#results-info').filter({ hasText: '21–40 of 2,000' }).waitFor({ timeout: WAIT });
    expect(await page.locator('#results tbody tr').first().locator('td').first().innerText()).toBe('20');

    // A long value is shortened, and its Copy button copies the whole value.
    await page.selectOption('#results-limit', '10');
    await page.locator('#results-info').filter({ hasText: '1–10 of 2,000' }).waitFor({ timeout: WAIT });
    await page.click('#results-next');
    await page.locator('#results-info').filter({ hasText: '11–20 of 2,000' }).waitFor({ timeout: WAIT });
    const lastRow = page.locator('#results tbody tr').last();
    const { body: results } = await rest(app, `/jobs/${id}/results?offset=19&limit=1`);
    const full: string = results.items[0].value;
    expect(full.length).toBeGreaterThan(48);
    const valueColumn = (await page.locator('#results thead th').allInnerTexts()).indexOf('value');
    const shown = await lastRow.locator('td').nth(valueColumn).innerText();
    expect(shown).toContain(`${full.slice(0, 20)}…${full.slice(-20)}`);
    await lastRow.locator('button.copy').click();
    await lastRow.locator('button.copy').filter({ hasText: 'Copied' }).waitFor({ timeout: WAIT });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(full);

    // Download: every result of the job, as CSV and as NDJSON, through the export route.
    for (const as of ['csv', 'ndjson'] as const) {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.click(`#results-download-${as}`)]);
      expect(download.suggestedFilename()).toBe(`${id}.${as}`);
      const lines = readFileSync((await download.path())!, 'utf8')
        .trimEnd()
        .split(/\r?\n/);
      if (as === 'csv') {
        expect(lines[0]).toBe('index,n,state,value,digits,ms,error');
        expect(lines).toHaveLength(2_001);
      } else {
        expect(lines).toHaveLength(2_000);
        expect(JSON.parse(lines[19]).value).toBe(full);
      }
    }

    // Keyboard: Enter on a list entry opens that job.
    await page.locator(`#jobs-list [data-open="${id}"]`).focus();
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).hash).toBe(`#job/${id}`);

    await browser.screenshot(page, 'dashboard.png');
  });

  it('saves the documentation screenshot of a job it watched run (docs/dashboard.png with DOCS_SCREENSHOT=1)', async () => {
    // A fresh tab (no form errors left over from the tests before) that watches the job from the
    // start, so the grid, the throughput chart and the first results page are all drawn.
    const tab = await browser.page();
    await tab.goto(app.url);
    await connected(tab);
    const id = await submitNumbers(
      tab,
      Array.from({ length: 3000 }, (_, i) => i * 30),
    );
    await waitFinished(tab, 3000);
    await tab.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
    await tab.locator('#results-info').filter({ hasText: '1–20 of 3,000' }).waitFor({ timeout: WAIT });
    await tab.locator(`#jobs-list tr[data-job-id="${id}"] .badge[data-status="completed"]`).waitFor({ timeout: WAIT });
    // The pool panel polls once a second: let it catch up with the finished job.
    await tab
      .locator('#pool-running')
      .filter({ hasText: /^0 running on 4 threads$/ })
      .waitFor({ timeout: WAIT });
    const png = await docsScreenshot(tab);
    expect(png.length).toBeGreaterThan(PNG_SIGNATURE.length);
    expect(png.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)).toBe(true);
    await tab.close();
  });

  it('cancels a long job with the button', async () => {
    const numbers = Array.from({ length: 20 }, (_, i) => 9_000_000 + i);
    const id = await submitNumbers(page, numbers);
    await page.locator('#job-status[data-status="running"]').waitFor({ timeout: WAIT });
    await page.click('#cancel-job');
    await page.locator('#job-status[data-status="cancelled"]').waitFor({ timeout: WAIT });
    expect(await page.locator('#cancel-job').isDisabled()).toBe(true);

    const { body: job } = await rest(app, `/jobs/${id}`);
    expect(job.status).toBe('cancelled');
    expect(job.cancelled).toBeGreaterThan(0);
    await page.locator(`#task-grid[data-filled="20"]`).waitFor({ timeout: WAIT });
    expect(await countsShown(page)).toEqual({ total: 20, completed: job.completed, failed: job.failed, cancelled: job.cancelled });
    expect(await text(page, '#job-reason')).toContain('cancelled by request');
    await page.locator(`#jobs-list tr[data-job-id="${id}"] .badge[data-status="cancelled"]`).waitFor({ timeout: WAIT });
    await browser.screenshot(page, 'dashboard-cancelled.png');
  });

  it('runs a crawl from the form: pages arrive live (errors marked), the summary and counts match the API', async () => {
    // A bad seed is refused, next to the form, naming the URL.
    browser.allow(/status of 400 \(Bad Request\) \(http:\/\/[^)]+\/crawl\)$/);
    await page.fill('#crawl-urls', 'ftp://example.org/');
    await page.click('#crawl-submit');
    await page.locator('#crawl-errors li').first().waitFor({ timeout: WAIT });
    expect(await text(page, '#crawl-errors')).toContain('URL #1 ("ftp://example.org/"): must be http or https, not ftp:');
    expect(await page.getAttribute('#crawl-urls', 'aria-invalid')).toBe('true');

    // Watch the page: the grid's task count as it grows, and the live list while the job runs.
    await page.evaluate(() => {
      const w = window as any;
      w.__totals = [];
      w.__liveWhileRunning = 0;
      new MutationObserver(() => w.__totals.push(Number(document.getElementById('task-grid')!.dataset.total))).observe(document.getElementById('task-grid')!, { attributeFilter: ['data-total'] });
      new MutationObserver(() => {
        const rows = document.querySelectorAll('#crawl-pages tbody tr').length;
        if (document.getElementById('job-status')!.dataset.status === 'running') w.__liveWhileRunning = Math.max(w.__liveWhileRunning, rows);
      }).observe(document.querySelector('#crawl-pages tbody')!, { childList: true });
    });

    // The /tree/ subtree two levels deep (7 pages), a 404 and a page robots.txt disallows: 9 pages,
    // one at a time 100 ms apart, so that they visibly trickle in.
    const seeds = [`${site.url}/tree/`, `${site.url}/status/404`, `${site.url}/private/secret.html`];
    const before = page.url();
    await page.fill('#crawl-urls', seeds.join('\n'));
    await page.fill('#crawl-max-depth', '2');
    await page.fill('#crawl-max-pages', '50');
    await page.selectOption('#crawl-scope', 'same-host');
    await page.setChecked('#crawl-robots', true);
    await page.fill('#crawl-concurrency', '4');
    await page.fill('#crawl-per-host', '1');
    await page.fill('#crawl-delay', '100');
    await page.click('#crawl-submit');
    await page.waitForURL((url) => url.href !== before && /#job\//.test(url.hash), { timeout: WAIT });
    const id = new URL(page.url()).hash.slice('#job/'.length);
    crawlId = id;
    expect(await text(page, '#crawl-errors')).toBe('');
    await page.locator('#crawl-live').waitFor({ state: 'visible', timeout: WAIT });

    // Failed pages show their error code, styled as an error.
    const notFound = page.locator('#crawl-pages tbody tr[data-error-code="http_error"]');
    await notFound.waitFor({ timeout: WAIT });
    expect(await notFound.locator('td').nth(2).innerText()).toBe('404');
    expect(await notFound.locator('td.err').innerText()).toBe('http_error');
    expect(await notFound.locator('td.err').evaluate((el) => getComputedStyle(el).color)).toBe('rgb(180, 35, 24)');

    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
    const { body: job } = await rest(app, `/jobs/${id}`);
    expect(job).toMatchObject({ kind: 'crawl', status: 'completed', total: 9, completed: 7, failed: 2, cancelled: 0 });
    await page.locator(`#task-grid[data-filled="${job.total}"]`).waitFor({ timeout: WAIT });
    expect(await countsShown(page)).toEqual({ total: job.total, completed: job.completed, failed: job.failed, cancelled: job.cancelled });
    expect(await page.getAttribute('#job-progress', 'aria-valuenow')).toBe('100');

    // Live: rows were listed while the job ran, and the grid grew as pages were discovered.
    const watched = await page.evaluate(() => ({ totals: (window as any).__totals as number[], live: (window as any).__liveWhileRunning as number }));
    expect(watched.live).toBeGreaterThan(0);
    expect(watched.totals.at(-1)).toBe(job.total);
    expect(watched.totals.some((t) => t > 0 && t < job.total)).toBe(true);

    // The summary shown is the job's.
    const summary = await page.locator('#job-summary dd').evaluateAll((dds) => Object.fromEntries(dds.map((dd) => [(dd as HTMLElement).dataset.key, Number((dd as HTMLElement).dataset.value)])));
    expect(summary).toEqual(job.summary);
    expect(job.summary).toMatchObject({ pagesOk: 7, pagesFailed: 2, queued: 0, discovered: 9 });
    expect(await text(page, '#job-summary')).toMatch(/Bytes fetched\s+[\d.]+ (B|KiB)/);

    // Every page fetched is listed once, newest first, with what the results say about it.
    const { body: results } = await rest(app, `/jobs/${id}/results?limit=100`);
    const rows = await page.locator('#crawl-pages tbody tr').evaluateAll((trs) =>
      trs.map((tr) => {
        const cells = [...(tr as HTMLTableRowElement).cells].map((td) => td.textContent);
        return { index: Number(cells[0]), depth: Number(cells[1]), status: cells[2], links: cells[3], url: cells[4], error: cells[5] };
      }),
    );
    expect(rows).toHaveLength(9);
    expect(new Set(rows.map((r) => r.index)).size).toBe(9);
    for (const row of rows) {
      const item = results.items[row.index];
      expect(row).toEqual({
        index: item.index,
        depth: item.depth,
        status: item.status === null ? '–' : String(item.status),
        links: String(item.links.length),
        url: item.url,
        error: item.error?.code ?? '',
      });
    }
    expect(rows.find((r) => r.url.endsWith('/private/secret.html'))?.error).toBe('robots_disallowed');
    expect(await text(page, '#crawl-live-note')).toBe('9 pages fetched.');

    // Results: a long link list is a count and the first two, with Copy all; errors are `code: message`.
    await page.locator('#results-info').filter({ hasText: '1–9 of 9' }).waitFor({ timeout: WAIT });
    const headers = await page.locator('#results thead th').allInnerTexts();
    expect(headers).toEqual(['index', 'url', 'status', 'title', 'links', 'bytes', 'ms', 'error']);
    const linksColumn = headers.indexOf('links');
    const root = page.locator('#results tbody tr').first();
    const rootLinks: string[] = results.items[0].links;
    expect(rootLinks.length).toBe(6);
    const linksCell = root.locator('td').nth(linksColumn);
    expect(await linksCell.getAttribute('data-count')).toBe('6');
    // Links on the page's own origin are shown as paths.
    expect(await linksCell.innerText()).toMatch(new RegExp(`^6: ${rootLinks[0].slice(site.url.length)}, ${rootLinks[1].slice(site.url.length)}, …`));
    await linksCell.locator('button.copy').click();
    await linksCell.locator('button.copy').filter({ hasText: 'Copied' }).waitFor({ timeout: WAIT });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(rootLinks.join('\n'));
    const errorColumn = headers.indexOf('error');
    const failedIndex = results.items.findIndex((item: any) => item.error?.code === 'http_error');
    expect(await page.locator('#results tbody tr').nth(failedIndex).locator('td').nth(errorColumn).innerText()).toBe('http_error: HTTP 404');

    await page.locator('#results').evaluate((table) => (table.parentElement!.scrollLeft = 0));
    await browser.screenshot(page, 'dashboard-crawl.png');
  });

  it('on a 400 px phone: the job list comes right after the folded forms, and the live pages show their URLs', async () => {
    expect(crawlId).not.toBe('');
    const phone = await browser.page();
    await phone.setViewportSize({ width: 400, height: 800 });
    await phone.goto(`${app.url}/#job/${crawlId}`);
    await connected(phone);
    await phone.locator('#crawl-live-note').filter({ hasText: '9 pages fetched.' }).waitFor({ timeout: WAIT });
    // The forms start folded: the list is reached without scrolling past them (it was ~1,400 px down).
    expect(await phone.locator('#fib-card').evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    const list = await box(phone, '#jobs-title');
    console.log(`[dashboard e2e] 400 px: job list at ${Math.round(list.top)} px`);
    expect(list.top).toBeLessThan(400);
    // The live table fits the phone, and its URL column has room for text (it had 0 px).
    const url = await box(phone, '#crawl-pages th.c-url');
    const wrap = await box(phone, '#crawl-live .livewrap');
    console.log(`[dashboard e2e] 400 px: live URL column ${Math.round(url.width)} px of ${Math.round(wrap.width)} px`);
    expect(url.width).toBeGreaterThan(100);
    expect(wrap.scrollWidth).toBeLessThanOrEqual(wrap.clientWidth);
    const firstUrl = phone.locator('#crawl-pages tbody tr td.url').first();
    expect((await firstUrl.innerText()).startsWith(site.url)).toBe(true);
    expect(await firstUrl.getAttribute('title')).toMatch(/^http:\/\/127\.0\.0\.2:/);
    // Nothing of the page is wider than the phone but the results table's own scroll box.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    // Unfolding a form still works.
    await phone.locator('#fib-card > summary').click();
    await phone.locator('#fib-numbers').waitFor({ state: 'visible', timeout: WAIT });
    await browser.screenshot(phone, 'dashboard-phone.png');
    await phone.close();
  });

  it('opening an unknown job id clears the previous job: no status, bar, figures or results of it stay', async () => {
    browser.allow(/status of 404 \(Not Found\)/);
    await page.goto(`${app.url}/#job/${crawlId}`);
    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
    await page.locator('#results-info').filter({ hasText: '1–9 of 9' }).waitFor({ timeout: WAIT });
    const unknown = '00000000-0000-4000-8000-000000000000';
    await page.evaluate((id) => (location.hash = `job/${id}`), unknown);
    await page.locator('#job-status').filter({ hasText: 'not found' }).waitFor({ timeout: WAIT });
    expect(await text(page, '#job-reason')).toContain(`No job ${unknown}`);
    expect(await page.getAttribute('#job-progress', 'aria-valuenow')).toBe('0');
    expect(await page.locator('#job-progress > span').evaluate((el) => (el as HTMLElement).style.width)).toBe('0%');
    expect(await text(page, '#job-counts')).toBe('–');
    for (const figure of ['#job-duration', '#job-rate', '#job-avg-rate']) expect(await text(page, figure)).toBe('–');
    expect(await page.locator('#job-summary').isHidden()).toBe(true);
    expect(await page.locator('#crawl-live').isHidden()).toBe(true);
    expect(await page.locator('#results tbody tr').count()).toBe(0);
    expect(await page.locator('#cancel-job').isDisabled()).toBe(true);
    expect(await page.getAttribute('#task-grid', 'data-total')).toBe('0');
  });

  it('the crawl results table fits its box with the same columns on every page; long titles end in an ellipsis with a tooltip; sizes are human', async () => {
    const titles = await startTitleSite();
    try {
      const { status, body: job } = await rest(app, '/crawl', { method: 'POST', body: JSON.stringify({ urls: [`${titles.url}/`], maxDepth: 1, maxPages: 15, respectRobotsTxt: true }) });
      expect(status).toBe(202);
      await page.goto(`${app.url}/#job/${job.id}`);
      await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
      await page.selectOption('#results-limit', '10');
      await page.locator('#results-info').filter({ hasText: '1–10 of 15' }).waitFor({ timeout: WAIT });
      const firstHeaders = await page.locator('#results thead th').allInnerTexts();
      const fits = async () => {
        const wrap = await box(page, '#results-title ~ .scroll');
        const table = await box(page, '#results');
        expect(table.width).toBeLessThanOrEqual(wrap.clientWidth + 0.5);
        expect(wrap.scrollWidth).toBeLessThanOrEqual(wrap.clientWidth);
        // Every Copy button is whole and inside the box (it was clipped).
        const buttons = await page.locator('#results button.copy').evaluateAll((els) => els.map((el) => el.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right, width: r.width })));
        expect(buttons.length).toBeGreaterThan(0);
        for (const b of buttons) {
          expect(b.width).toBeGreaterThan(20);
          expect(b.right).toBeLessThanOrEqual(wrap.right);
        }
        // Each column keeps its width from page to page.
        return page.locator('#results thead th').evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().width)));
      };
      const widths = await fits();
      console.log(`[dashboard e2e] results table columns: ${firstHeaders.map((h, i) => `${h} ${widths[i]}`).join(', ')}`);

      // A long title: the start of it, an ellipsis at the end (not in the middle), the whole in its tooltip.
      const titleColumn = firstHeaders.indexOf('title');
      const { body: results } = await rest(app, `/jobs/${job.id}/results?limit=10`);
      const row = results.items.findIndex((item: any) => typeof item.title === 'string' && item.title.length > 200);
      const cell = page.locator('#results tbody tr').nth(row).locator('td').nth(titleColumn).locator('.txt');
      expect(await cell.getAttribute('title')).toBe(results.items[row].title);
      expect(await cell.innerText()).toBe(results.items[row].title);
      const clipped = await cell.evaluate((el) => ({ overflow: getComputedStyle(el).textOverflow, cut: el.scrollWidth > el.clientWidth }));
      expect(clipped).toEqual({ overflow: 'ellipsis', cut: true });

      // Bytes in binary units, the exact count in the tooltip.
      const bytesColumn = firstHeaders.indexOf('bytes');
      const bytesCell = page.locator('#results tbody tr').nth(row).locator('td').nth(bytesColumn);
      expect(await bytesCell.innerText()).toMatch(/^\d+(\.\d+)? (B|KiB)$/);
      expect(await bytesCell.getAttribute('title')).toBe(`${results.items[row].bytes.toLocaleString('en')} bytes`);
      // The page's own formatter (a string: the test's bundler would rewrite a dynamic import).
      expect(await page.evaluate("import('/js/format.js').then((m) => [m.formatBytes(20898764075), m.formatBytes(512), m.formatBytes(1536)])")).toEqual(['19.5 GiB', '512 B', '1.5 KiB']);

      await page.click('#results-next');
      await page.locator('#results-info').filter({ hasText: '11–15 of 15' }).waitFor({ timeout: WAIT });
      expect(await page.locator('#results thead th').allInnerTexts()).toEqual(firstHeaders);
      expect(await fits()).toEqual(widths);
      await browser.screenshot(page, 'dashboard-crawl-titles.png');
    } finally {
      await titles.close();
    }
  });

  it('a failed 1-page job shows no throughput figure (it showed "76.9 tasks/s"), and no time left once over', async () => {
    const { body: job } = await rest(app, '/crawl', { method: 'POST', body: JSON.stringify({ urls: [`${site.url}/status/404`], maxPages: 1 }) });
    await page.goto(`${app.url}/#job/${job.id}`);
    await page.locator('#job-status[data-status="failed"]').waitFor({ timeout: WAIT });
    await page.locator('#job-counts').filter({ hasText: '1 of 1 finished' }).waitFor({ timeout: WAIT });
    expect(await text(page, '#job-avg-rate')).toBe('–');
    expect(await text(page, '#job-rate')).toBe('–');
    expect(await page.locator('#job-eta-item').isHidden()).toBe(true);
    expect(await text(page, '#throughput-title')).toMatch(/pages\/s/i);
  });

  it('shows a time left and a pages/s rate while a crawl runs, and no time left once it is over', async () => {
    // A crawl paced by its own delayMs lasts seconds whatever the machine's speed: the rate and the
    // time left have a window to be measured in.
    const { body: job } = await rest(app, '/crawl', { method: 'POST', body: JSON.stringify({ urls: [`${site.url}/tree/`], maxPages: 8, delayMs: 500, concurrency: 1, perHostConcurrency: 1 }) });
    await page.goto(`${app.url}/#job/${job.id}`);
    await page.locator('#job-eta-item:not([hidden])').waitFor({ timeout: WAIT });
    expect(await text(page, '#job-eta')).toMatch(/^(\d+ ms|\d+\.\d s|\d+ min \d+ s|\d+ h \d+ min)$/);
    expect(await text(page, '#throughput-title')).toMatch(/pages\/s/i);
    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
    await page.locator('#job-eta-item[hidden]').waitFor({ state: 'attached', timeout: WAIT });
  });

  it('the pool panel gives one busy figure (bar, "Busy now", instance row) and its table header fits', async () => {
    await page.goto(app.url);
    await connected(page);
    // Long enough for the pool panel's 1 s poll to see it run; let to finish (a cancelled task's
    // thread may still be computing, and would slow the tests after this one).
    // (F(9,000,000) takes about a second on this machine: four rounds of two threads outlast several polls.)
    const numbers = Array.from({ length: 8 }, (_, i) => 9_000_000 + i);
    const { body: job } = await rest(app, '/fibonacci', { method: 'POST', body: JSON.stringify({ numbers }) });
    await page
      .locator('#pool-running')
      .filter({ hasText: /^[1-9]\d* running on 4 threads$/ })
      .waitFor({ timeout: WAIT });
    const shown = await page.evaluate(() => ({
      running: document.getElementById('pool-running')!.textContent,
      bar: document.getElementById('pool-util')!.getAttribute('aria-valuenow'),
      busy: document.getElementById('pool-utilization')!.textContent,
      row: [...document.querySelectorAll('#pool-instances-list tr[aria-current="true"] td')].map((td) => td.textContent),
    }));
    const running = Number(/^(\d+)/.exec(shown.running!)![1]);
    const pct = Math.round((running * 100) / 4);
    expect(shown.busy).toBe(`${pct}%`);
    expect(shown.bar).toBe(String(Math.min(100, pct)));
    expect(shown.row.slice(2)).toEqual([String(running), `${pct}%`]);
    const table = await box(page, '#pool-instances');
    const wrap = await box(page, '#pool .scroll');
    expect(table.width).toBeLessThanOrEqual(wrap.clientWidth + 0.5);
    const headers = await page.locator('#pool-instances th').evaluateAll((ths) => ths.map((th) => th.scrollWidth <= th.clientWidth));
    expect(headers).toEqual([true, true, true, true]);
    await page.locator(`#jobs-list tr[data-job-id="${job.id}"] .badge[data-status="completed"]`).waitFor({ timeout: WAIT });
    await page
      .locator('#pool-running')
      .filter({ hasText: /^0 running on 4 threads$/ })
      .waitFor({ timeout: WAIT });
  });

  it('shows the limits of each form field before submitting, read from the API document', async () => {
    const { config } = app;
    await page.locator('#crawl-max-pages-limit').filter({ hasText: /\(/ }).waitFor({ timeout: WAIT });
    expect(await text(page, '#crawl-max-pages-limit')).toBe(`(1–${config.CRAWL_MAX_PAGES.toLocaleString('en')})`);
    expect(await page.getAttribute('#crawl-max-pages', 'max')).toBe(String(config.CRAWL_MAX_PAGES));
    expect(await text(page, '#crawl-max-depth-limit')).toBe(`(0–${config.CRAWL_MAX_DEPTH.toLocaleString('en')})`);
    expect(await text(page, '#crawl-concurrency-limit')).toBe(`(1–${config.CRAWL_MAX_CONCURRENCY.toLocaleString('en')})`);
    expect(await text(page, '#crawl-urls-limit')).toBe(`(up to ${config.CRAWL_MAX_SEEDS.toLocaleString('en')})`);
    expect(await text(page, '#fib-numbers-limit')).toMatch(/^\(up to [\d,]+, each 0–[\d,]+\)$/);
  });

  it('names and labels a job from the form, shows them in the list and the job view, and filters the list by kind', async () => {
    // A crawl for the kind filter to find.
    const { status } = await rest(app, '/crawl', { method: 'POST', body: JSON.stringify({ urls: [`${site.url}/`], maxDepth: 0, name: 'one page' }) });
    expect(status).toBe(202);
    await page.goto(app.url);
    await connected(page);
    await page.fill('#fib-name', 'nightly batch for the report');
    await page.fill('#fib-labels', 'team:data, env:test');
    const id = await submitNumbers(page, [10, 20, 30]);
    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
    const { body: job } = await rest(app, `/jobs/${id}`);
    expect(job).toMatchObject({ name: 'nightly batch for the report', labels: { team: 'data', env: 'test' } });
    expect(await text(page, '#job-name')).toBe('nightly batch for the report');
    expect(await page.locator('#job-labels li').allInnerTexts()).toEqual(['team: data', 'env: test']);
    // Inputs: the numbers submitted.
    expect(await text(page, '#job-inputs')).toContain('10, 20, 30 (3 numbers)');
    const row = page.locator(`#jobs-list tr[data-job-id="${id}"]`);
    expect(await row.locator('.open').innerText()).toBe('nightly batch for the report');
    expect(await row.locator('.sub').innerText()).toBe(`fibonacci ${id.slice(0, 8)} · team:data · env:test`);

    // A bad label is refused before sending.
    await page.fill('#fib-labels', 'nocolon');
    await page.fill('#fib-numbers', '1');
    await page.click('#fib-submit');
    await page.locator('#fib-errors li').filter({ hasText: 'not key:value' }).waitFor({ timeout: WAIT });
    expect(await page.getAttribute('#fib-labels', 'aria-invalid')).toBe('true');
    await page.fill('#fib-labels', '');

    // Filter by kind: only crawls stay, and the named Fibonacci job leaves the list.
    await page.selectOption('#filter-kind', 'crawl');
    await row.waitFor({ state: 'detached', timeout: WAIT });
    await page.locator('#jobs-list tr').first().waitFor({ timeout: WAIT });
    const listed = await page.locator('#jobs-list tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.jobId!));
    for (const listedId of listed) expect((await rest(app, `/jobs/${listedId}`)).body.kind).toBe('crawl');
    await page.click('#filter-clear');
    await row.waitFor({ timeout: WAIT });
  });

  it('finds jobs by label and by name, pages the list with "Show more", and keeps jobs the filter excludes out of it', async () => {
    await page.goto(app.url);
    await connected(page);
    // More jobs under one label than the list's first page (50) holds.
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) {
      const { status, body } = await rest(app, '/fibonacci', { method: 'POST', body: JSON.stringify({ numbers: [i], name: `paged job ${i}`, labels: { set: 'paging' } }) });
      expect(status).toBe(202);
      ids.push(body.id);
    }
    await page.fill('#filter-label', 'set:paging');
    await page.locator('#jobs-list tr').nth(49).waitFor({ timeout: WAIT });
    await page.locator('#jobs-more:not([hidden])').waitFor({ timeout: WAIT });
    expect(await page.locator('#jobs-list tr').count()).toBe(50);
    await page.click('#jobs-more');
    await page.locator('#jobs-list tr').nth(54).waitFor({ timeout: WAIT });
    await page.locator('#jobs-more').waitFor({ state: 'hidden', timeout: WAIT });
    const listed = await page.locator('#jobs-list tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.jobId!));
    expect(new Set(listed)).toEqual(new Set(ids));

    // A job the filter would not find, announced by the feed, stays out of the list.
    const { body: other } = await rest(app, '/fibonacci', { method: 'POST', body: JSON.stringify({ numbers: [3], labels: { set: 'other' } }) });
    const { body: same } = await rest(app, '/fibonacci', { method: 'POST', body: JSON.stringify({ numbers: [4], labels: { set: 'paging' } }) });
    await page.locator(`#jobs-list tr[data-job-id="${same.id}"]`).waitFor({ timeout: WAIT });
    expect(await page.locator(`#jobs-list tr[data-job-id="${other.id}"]`).count()).toBe(0);

    // By name: one job.
    await page.fill('#filter-label', '');
    await page.fill('#filter-q', 'paged job 17');
    await page
      .locator('#jobs-list tr')
      .first()
      .locator('.open')
      .filter({ hasText: /^paged job 17$/ })
      .waitFor({ timeout: WAIT });
    await page.locator('#jobs-list tr').nth(1).waitFor({ state: 'detached', timeout: WAIT });
    expect(await page.locator('#jobs-list tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.jobId))).toEqual([ids[17]]);
    await page.click('#filter-clear');
    await page.locator(`#jobs-list tr[data-job-id="${other.id}"]`).waitFor({ timeout: WAIT });
  });

  it('keeps the live page list to the newest 200 rows on a 1,000-page crawl, and fills it from the results when opened late', { timeout: CRAWL_END_WAIT + 60_000 }, async () => {
    const { status, body: job } = await rest(app, '/crawl', {
      method: 'POST',
      body: JSON.stringify({ urls: [`${site.url}/many-links.html`], maxDepth: 1, maxPages: 1000, concurrency: 32, perHostConcurrency: 16 }),
    });
    expect(status).toBe(202);
    await page.locator(`#jobs-list [data-open="${job.id}"]`).click({ timeout: WAIT });
    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: CRAWL_END_WAIT });
    const { body: done } = await rest(app, `/jobs/${job.id}`);
    expect(done).toMatchObject({ total: 1000, completed: 1000 });
    console.log(`[dashboard e2e] 1,000-page crawl: ${done.durationMs} ms`);
    await page.locator('#task-grid[data-filled="1000"]').waitFor({ timeout: WAIT });
    await page.locator('#crawl-live-note').filter({ hasText: 'Showing the newest 200 of 1,000 pages fetched' }).waitFor({ timeout: WAIT });
    const indexes = await page.locator('#crawl-pages tbody tr').evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.index)));
    expect(indexes).toHaveLength(200);
    expect(new Set(indexes).size).toBe(200);
    expect(Math.max(...indexes)).toBe(999);
    await browser.screenshot(page, 'dashboard-crawl-1000.png');

    // Opened after the end: no updates to hear, so the newest pages come from the results.
    const late = await browser.page();
    await late.goto(`${app.url}/#job/${job.id}`);
    await late.locator('#crawl-live-note').filter({ hasText: 'Showing the newest 20 of 1,000 pages fetched' }).waitFor({ timeout: WAIT });
    const seeded = await late.locator('#crawl-pages tbody tr').evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.index)));
    expect(seeded).toEqual(Array.from({ length: 20 }, (_, i) => 999 - i));
    await late.close();
  });

  it('keeps up with a 100k-task job: counts and the canvas grid reach the final state, and the page keeps drawing frames', async () => {
    expect(await page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('long-animation-frame'))).toBe(true);
    await page.evaluate(() => {
      const probe: { frames: number; maxGapMs: number; longFrames: number[]; filled: number[]; stop: boolean } = ((window as any).__probe = {
        frames: 0,
        maxGapMs: 0,
        longFrames: [],
        filled: [],
        stop: false,
      });
      // Frame gaps: what a user sees as the page freezing while the grid fills.
      let last = performance.now();
      const tick = (now: number) => {
        probe.frames++;
        probe.maxGapMs = Math.max(probe.maxGapMs, now - last);
        last = now;
        if (!probe.stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      // Script time per long animation frame (> 50 ms), for the log.
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as any[]) probe.longFrames.push(entry.scripts.reduce((ms: number, s: any) => ms + s.duration, 0));
      }).observe({ type: 'long-animation-frame' });
      const grid = document.getElementById('task-grid')!;
      new MutationObserver(() => probe.filled.push(Number(grid.dataset.filled))).observe(grid, { attributeFilter: ['data-filled'] });
    });
    const numbers = Array.from({ length: 100_000 }, (_, i) => i % 1000);
    const { status, body: job } = await rest(app, '/fibonacci', { method: 'POST', body: JSON.stringify({ numbers }) });
    expect(status).toBe(202);
    await page.locator(`#jobs-list [data-open="${job.id}"]`).click({ timeout: WAIT });
    await waitFinished(page, 100_000);
    await page.locator('#job-status[data-status="completed"]').waitFor({ timeout: WAIT });
    const { body: done } = await rest(app, `/jobs/${job.id}`);
    expect(done).toMatchObject({ status: 'completed', total: 100_000, completed: 100_000, failed: 0, cancelled: 0 });

    // The numbers a user reads.
    expect(await countsShown(page)).toEqual({ total: 100_000, completed: 100_000, failed: 0, cancelled: 0 });
    expect(await text(page, '#job-counts')).toBe('100,000 of 100,000 finished (100%): 100,000 completed · 0 failed · 0 cancelled');
    expect(await page.getAttribute('#task-grid', 'aria-label')).toBe('Task grid: 100,000 of 100,000 tasks finished (100,000 completed, 0 failed, 0 cancelled), 0 running, 0 queued');

    // The grid a user sees: every cell painted "completed" green, nothing left grey (queued) or blue (running).
    const pixels = await page.locator('#task-grid').evaluate((canvas: HTMLCanvasElement) => {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours: Record<string, number> = {};
      for (let i = 0; i < data.length; i += 4) {
        const rgb = `${data[i]},${data[i + 1]},${data[i + 2]}`;
        colours[rgb] = (colours[rgb] ?? 0) + 1;
      }
      return { width: canvas.width, height: canvas.height, colours };
    });
    expect(pixels.width * pixels.height).toBeGreaterThan(10_000);
    const GAP = '255,255,255';
    const COMPLETED = '26,127,55'; // #1a7f37
    expect(Object.keys(pixels.colours).filter((rgb) => rgb !== GAP && rgb !== COMPLETED)).toEqual([]);
    expect(pixels.colours[COMPLETED]).toBeGreaterThan(pixels.width * pixels.height * 0.5);

    // Responsive throughout: frames kept coming, none held back a second or more, and the grid
    // only ever moved forward to the last task.
    const probe = await page.evaluate(() => {
      const p = (window as any).__probe;
      p.stop = true;
      return p as { frames: number; maxGapMs: number; longFrames: number[]; filled: number[] };
    });
    console.log(
      `[dashboard e2e] 100k tasks: ${probe.frames} frames, longest gap ${Math.round(probe.maxGapMs)} ms, ${probe.longFrames.length} long frames (most script time in one ${Math.round(Math.max(0, ...probe.longFrames))} ms), ${probe.filled.length} grid draws`,
    );
    expect(probe.frames).toBeGreaterThan(10);
    expect(probe.maxGapMs).toBeLessThan(1_000);
    expect(probe.filled.length).toBeGreaterThan(0);
    expect(probe.filled.at(-1)).toBe(100_000);
    expect(probe.filled.filter((filled, i) => i > 0 && filled < probe.filled[i - 1])).toEqual([]);
    await browser.screenshot(page, 'dashboard-100k.png');
  });

  it('shows "reconnecting" when the feed drops, then reconnects and rebuilds the list', async () => {
    browser.allow(/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/);
    await connected(page);
    await page.context().setOffline(true);
    await page.evaluate(() => (window as any).__sockets.forEach((s: WebSocket) => s.close()));
    await page.locator('#connection-status[data-state="reconnecting"]').waitFor({ timeout: WAIT });
    expect(await text(page, '#connection-status')).toMatch(/reconnecting/i);

    // A job the page cannot hear about while it is cut off.
    const { body: missed } = await rest(app, '/fibonacci?wait=5000', { method: 'POST', body: JSON.stringify({ numbers: [1, 2, 3] }) });
    expect(missed.status).toBe('completed');
    await browser.screenshot(page, 'dashboard-reconnecting.png');
    expect(await page.locator(`#jobs-list tr[data-job-id="${missed.id}"]`).count()).toBe(0);

    await page.context().setOffline(false);
    await connected(page);
    await page.locator(`#jobs-list tr[data-job-id="${missed.id}"] .badge[data-status="completed"]`).waitFor({ timeout: WAIT });

    // And it is live again: a new job shows up and completes over the feed.
    const { body: next } = await rest(app, '/fibonacci', { method: 'POST', body: JSON.stringify({ range: { from: 1, to: 500 } }) });
    await page.locator(`#jobs-list tr[data-job-id="${next.id}"] .badge[data-status="completed"]`).waitFor({ timeout: WAIT });
  });

  describe('with API keys', () => {
    let keyed: RunningApp;
    beforeAll(async () => {
      keyed = await startApp({ API_KEYS: KEY }, { waitForThreads: true });
    });
    afterAll(async () => {
      await keyed?.close();
    });

    it('asks for the key once, keeps it for the tab, and works with it', async () => {
      browser.allow(/status of 401 \(Unauthorized\)/);
      const tab = await browser.page();
      await tab.goto(keyed.url);
      await tab.locator('#api-key-form').waitFor({ state: 'visible', timeout: WAIT });
      await tab.locator('#connection-status[data-state="unauthorized"]').waitFor({ timeout: WAIT });
      await browser.screenshot(tab, 'dashboard-api-key.png');

      // A wrong key is refused and asked for again.
      await tab.fill('#api-key', 'k-not-the-right-key');
      await tab.click('#api-key-submit');
      await tab.locator('#api-key-hint').filter({ hasText: 'rejected' }).waitFor({ timeout: WAIT });
      expect(await tab.locator('#api-key-form').isVisible()).toBe(true);
      expect(await tab.evaluate(() => sessionStorage.getItem('dashboard.apiKey'))).toBeNull();

      await tab.fill('#api-key', KEY);
      await tab.click('#api-key-submit');
      await connected(tab);
      expect(await tab.locator('#api-key-form').isHidden()).toBe(true);
      expect(await tab.evaluate(() => sessionStorage.getItem('dashboard.apiKey'))).toBe(KEY);

      const id = await submitNumbers(
        tab,
        Array.from({ length: 300 }, (_, i) => i),
      );
      await waitFinished(tab, 300);
      const { status, body: job } = await rest(keyed, `/jobs/${id}`, { key: KEY });
      expect(status).toBe(200);
      expect(await countsShown(tab)).toEqual({ total: 300, completed: job.completed, failed: 0, cancelled: 0 });
      await tab.locator('#results-info').filter({ hasText: '1–20 of 300' }).waitFor({ timeout: WAIT });

      // A reload keeps the key: no second question.
      await tab.reload();
      await connected(tab);
      expect(await tab.locator('#api-key-form').isHidden()).toBe(true);
      await tab.locator(`#jobs-list tr[data-job-id="${id}"]`).waitFor({ timeout: WAIT });
      await tab.close();
    });
  });
});

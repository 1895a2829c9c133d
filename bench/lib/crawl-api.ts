/** The client side of bench:crawl's service runs: POST /crawl, poll the job, read every result. */

/** The most a results page may hold (MAX_PAGE in the service). */
const PAGE = 10_000;

export interface CrawlOptions {
  concurrency: number;
  /** Retries for network errors, 429 and 5xx (the service's `retries`). */
  retries: number;
  maxPages: number;
  maxDepth: number;
  timeoutMs: number;
}

export interface CrawlJob {
  id: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  durationMs: number | null;
  reason?: string;
  summary?: { pagesOk: number; pagesFailed: number; linksDiscovered: number; bytesFetched: number; queued: number; discovered: number };
}

export interface CrawlItem {
  index: number;
  state: string;
  url: string;
  finalUrl?: string;
  status?: number | null;
  links?: string[];
  error?: { code: string; message: string } | string;
}

/** Submits the crawl; answers the 202's job. */
export async function submitCrawl(baseUrl: string, startUrl: string, options: CrawlOptions): Promise<CrawlJob> {
  const body = crawlBody(startUrl, options);
  const res = await fetch(`${baseUrl}/crawl`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /crawl answered ${res.status}, expected 202: ${text.slice(0, 500)}`);
  return JSON.parse(text) as CrawlJob;
}

function crawlBody(startUrl: string, options: CrawlOptions) {
  return {
    urls: [startUrl],
    maxDepth: options.maxDepth,
    maxPages: options.maxPages,
    scope: 'same-origin',
    concurrency: options.concurrency,
    perHostConcurrency: options.concurrency,
    respectRobotsTxt: false,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    maxBytes: 5_000_000,
  };
}

/** Polls GET /jobs/:id every `everyMs` until the job is final; throws unless it completed. */
export async function waitForJob(baseUrl: string, id: string, { everyMs, timeoutMs }: { everyMs: number; timeoutMs: number }): Promise<CrawlJob> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${baseUrl}/jobs/${id}`);
    const job = (await res.json()) as CrawlJob;
    if (res.status !== 200) throw new Error(`GET /jobs/${id} answered ${res.status}: ${JSON.stringify(job).slice(0, 500)}`);
    if (job.status === 'completed') return job;
    if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`crawl job ${id} ended ${job.status}${job.reason ? `: ${job.reason}` : ''}`);
    if (performance.now() > deadline) throw new Error(`crawl job ${id} still ${job.status} after ${timeoutMs} ms (${job.completed + job.failed}/${job.total} pages)`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A page of results. A page may stop early (the service caps pages by bytes) and then says where the next starts. */
export interface ResultsPage {
  total: number;
  offset: number;
  items: CrawlItem[];
  nextOffset?: number | null;
}

/**
 * Submits the crawl and holds the request until the job is final (`?wait=`, which the service's
 * MAX_WAIT_MS must allow): the answer is the finished job with its first results page, so the
 * client learns of completion the moment it happens, with no polling interval in the timing.
 */
export async function crawlAndWait(baseUrl: string, startUrl: string, options: CrawlOptions, waitMs: number): Promise<CrawlJob & { results: ResultsPage }> {
  const res = await fetch(`${baseUrl}/crawl?wait=${waitMs}&limit=${PAGE}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(crawlBody(startUrl, options)) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /crawl?wait=${waitMs} answered ${res.status}, expected 200 (finished within the wait): ${text.slice(0, 500)}`);
  const job = JSON.parse(text) as CrawlJob & { results: ResultsPage };
  if (job.status !== 'completed') throw new Error(`crawl job ${job.id} ended ${job.status}${job.reason ? `: ${job.reason}` : ''}`);
  return job;
}

/** Every result item of a finished job, in task order, starting from a page already read (if any). */
export async function allResults(baseUrl: string, id: string, total: number, first?: ResultsPage): Promise<CrawlItem[]> {
  const items: CrawlItem[] = [];
  let page = first ?? (await resultsPage(baseUrl, id, 0));
  for (;;) {
    items.push(...page.items);
    // Before results were paged by bytes a page had no nextOffset: it ended where its items did.
    const next = typeof page.nextOffset === 'number' ? page.nextOffset : page.offset + page.items.length;
    if (next >= total || page.nextOffset === null) break;
    if (next <= page.offset) throw new Error(`job ${id}: the results page at offset ${page.offset} of ${total} does not move on`);
    page = await resultsPage(baseUrl, id, next);
  }
  if (items.length !== total) throw new Error(`job ${id}: read ${items.length} results, the job has ${total}`);
  return items;
}

async function resultsPage(baseUrl: string, id: string, offset: number): Promise<ResultsPage> {
  const res = await fetch(`${baseUrl}/jobs/${id}/results?offset=${offset}&limit=${PAGE}`);
  const body = (await res.json()) as ResultsPage;
  if (res.status !== 200) throw new Error(`GET /jobs/${id}/results answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
  return body;
}

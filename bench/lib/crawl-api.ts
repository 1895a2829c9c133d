/** The client side of bench:crawl's service runs: POST /crawl, poll the job, read every result. */

/** The most a results page may hold (MAX_PAGE in the service). */
const PAGE = 10_000;

export interface CrawlOptions {
  concurrency: number;
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
  const body = {
    urls: [startUrl],
    maxDepth: options.maxDepth,
    maxPages: options.maxPages,
    scope: 'same-origin',
    concurrency: options.concurrency,
    perHostConcurrency: options.concurrency,
    respectRobotsTxt: false,
    timeoutMs: options.timeoutMs,
    maxBytes: 5_000_000,
  };
  const res = await fetch(`${baseUrl}/crawl`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /crawl answered ${res.status}, expected 202: ${text.slice(0, 500)}`);
  return JSON.parse(text) as CrawlJob;
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

/** Every result item of a finished job, in task order. */
export async function allResults(baseUrl: string, id: string, total: number): Promise<CrawlItem[]> {
  const items: CrawlItem[] = [];
  while (items.length < total) {
    const res = await fetch(`${baseUrl}/jobs/${id}/results?offset=${items.length}&limit=${PAGE}`);
    const page = (await res.json()) as { items: CrawlItem[] };
    if (res.status !== 200) throw new Error(`GET /jobs/${id}/results answered ${res.status}: ${JSON.stringify(page).slice(0, 500)}`);
    if (page.items.length === 0) throw new Error(`job ${id}: empty results page at offset ${items.length} of ${total}`);
    items.push(...page.items);
  }
  return items;
}

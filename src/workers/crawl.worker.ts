/**
 * Pool entry point for crawl pages. Thread glue only: fetching and parsing are in src/crawl.
 * Runs many pages at once per thread (the I/O pool); one keep-alive agent per thread.
 */
import { isMainThread, type MessagePort } from 'node:worker_threads';
import type { Agent } from 'undici';
import { parseCidrs } from '../crawl/address-policy';
import { type CrawlWorkerSettings, crawlPage, type PageInput, type PageOptions } from '../crawl/crawl-page';
import { loadRobots, robotsHopCheck } from '../crawl/robots';
import { RobotsRulesCache } from '../crawl/robots-cache';
import type { RobotsRules } from '../crawl/robots-rules';
import { createSafeAgent } from '../crawl/safe-agent';
import { warmUpCrawling } from '../crawl/warm-up';
import { readSitemap, type SitemapOptions } from '../crawl/sitemap-read';
import type { TaskEnd, TaskUpdate } from '../pool/task-protocol';
import { UpdateReporter } from '../pool/update-reporter';
import { threadWarmsUp, workerSettings } from '../pool/worker-settings';

/** One page of a crawl task: the job task it is, and what to fetch. */
export interface PageEntry {
  index: number;
  page: PageInput;
}

export interface CrawlTask {
  /**
   * The pages to fetch, all of one origin: one in the embedded mode; in the cluster mode several
   * pages started together travel as one queue task (each queue task costs store round trips).
   */
  pages: PageEntry[];
  options: PageOptions;
  /** Rules of the pages' origin's robots.txt, to check redirect hops; null when robots are ignored. */
  robots: RobotsRules | null;
  /** Who the crawl belongs to (API key owner id, '' when keys are off): the robots cache is per owner. */
  owner: string;
  port: MessagePort;
}

/**
 * One keep-alive agent per thread, checking addresses against this instance's own
 * CRAWL_ALLOW_TARGETS: a task planned by another instance's coordinator cannot widen them.
 */
let agent: Agent | undefined;
/** Rules of origins that redirects lead to, per owner and user agent; renewed now and then. */
const robotsCache = new RobotsRulesCache(200, 10 * 60_000);

function robotsFor(owner: string, options: Pick<PageOptions, 'userAgent' | 'timeoutMs'>, agent: Agent) {
  const fetch = { userAgent: options.userAgent, timeoutMs: options.timeoutMs };
  return (origin: string) => robotsCache.get(owner, options.userAgent, origin, () => loadRobots(origin, fetch, agent));
}

/** A sitemap document to read for the coordinator (not a page of the job): its result is the task's one update. */
export interface SitemapTask {
  sitemap: string;
  options: SitemapOptions;
  robots: RobotsRules | null;
  owner: string;
  port: MessagePort;
}

function sharedAgent(): Agent {
  agent ??= createSafeAgent(parseCidrs(workerSettings<CrawlWorkerSettings>('crawl').allow ?? []));
  return agent;
}

async function crawlWorker(task: CrawlTask | SitemapTask): Promise<TaskEnd | TaskUpdate[]> {
  if ('sitemap' in task) return sitemapWorker(task);
  const { pages, options, robots, owner, port } = task;
  // A one-page task shows as running when the pool takes it (TaskExecutor); pages of a group do
  // here, all in the message that says the task started.
  const running: TaskUpdate[] = pages.length > 1 ? pages.map(({ index }) => ({ index, state: 'running' })) : [];
  // Pages of a group are reported as each ends, but the last: like a lone page's result, it rides on the task's return.
  const reporter = new UpdateReporter(port, pages.length > 1 ? 0 : Number.POSITIVE_INFINITY, undefined, running);
  let unfinished = pages.length;
  try {
    const shared = sharedAgent();
    const robotsOf = robots === null ? undefined : robotsFor(owner, options, shared);
    // Pages of a group run side by side.
    await Promise.all(
      pages.map(async ({ index, page }) => {
        const checkHop = robotsOf && robots ? robotsHopCheck(page.url, robots, robotsOf) : undefined;
        const result = await crawlPage(page, options, shared, reporter.signal, checkHop);
        const update: TaskUpdate = result.error ? { index, state: 'failed', result, error: `${result.error.code}: ${result.error.message}` } : { index, state: 'completed', result };
        if (--unfinished === 0) reporter.hold(update);
        else reporter.push(update);
      }),
    );
  } catch (err) {
    reporter.end(); // what finished before the failure still reaches the main thread
    throw err;
  }
  return reporter.finish();
}

async function sitemapWorker({ sitemap, options, robots, owner, port }: SitemapTask): Promise<TaskEnd | TaskUpdate[]> {
  const reporter = new UpdateReporter(port, Number.POSITIVE_INFINITY);
  try {
    const shared = sharedAgent();
    const checkHop = robots === null ? undefined : robotsHopCheck(sitemap, robots, robotsFor(owner, options, shared));
    const result = await readSitemap(sitemap, options, shared, reporter.signal, checkHop);
    reporter.push({ index: 0, state: 'completed', result });
  } catch (err) {
    reporter.end();
    throw err;
  }
  return reporter.finish();
}

/**
 * A pool thread loads this module when it starts (PiscinaScheduler.start, at boot) and takes tasks
 * once its handler is loaded: Piscina awaits a handler given as a promise, so the thread's JIT
 * warm-up runs first, and the instance reports ready only after it (a rescue thread, which lives
 * for one task, skips it). A warm-up that fails (no
 * loopback in this container, a bug) leaves the thread cold, with a warning, never without a handler.
 */
async function warmedUp(): Promise<typeof crawlWorker> {
  if (isMainThread || !threadWarmsUp()) return crawlWorker;
  try {
    await warmUpCrawling(workerSettings<CrawlWorkerSettings>('crawl').warmUpPasses ?? 0);
  } catch (err) {
    process.emitWarning(`crawl warm-up failed, this thread starts cold: ${err instanceof Error ? err.message : String(err)}`);
  }
  return crawlWorker;
}
export default warmedUp();

import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { JobContext, JobKind } from '../jobs/job-kind';
import { MetricsService } from '../metrics/metrics.service';
import { parseCidrs } from './address-policy';
import type { PageInput, PageOptions, PageResult } from './crawl-page';
import type { CrawlRequest } from './crawl.schema';
import { Frontier } from './frontier';
import { loadRobots } from './robots';
import { ALLOW_ALL, disallowAll, isAllowed, type RobotsRules } from './robots-rules';
import { createSafeAgent } from './safe-agent';
import { ScopeFilter } from './scope';
import { normalizeUrl } from './url-normalize';
import { UrlPatterns } from './url-patterns';

/** Main-thread time spent considering discovered links (patterns, scope) before other work gets a turn. */
const LINK_SLICE_MS = 10;

/**
 * How crawl jobs run. The coordinator (frontier, robots.txt, politeness) lives here on the main
 * thread; every page fetch + parse is a task on the I/O pool. Pages become job tasks as they are
 * discovered, so the job's task list is the crawl order.
 */
@Injectable()
export class CrawlKind implements JobKind<PageInput, PageResult> {
  readonly name = 'crawl' as const;
  /** robots.txt is fetched here on the main thread, through the same address checks. */
  private readonly robotsAgent;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.robotsAgent = createSafeAgent(parseCidrs(config.CRAWL_ALLOW_TARGETS), { connections: 4 });
  }

  async execute(context: JobContext<PageInput, PageResult>): Promise<void> {
    const { job, signal } = context;
    const request = job.params as CrawlRequest;
    const options: PageOptions = {
      timeoutMs: request.timeoutMs,
      maxBytes: request.maxBytes,
      maxRedirects: request.maxRedirects,
      retries: request.retries,
      userAgent: request.userAgent,
      maxLinks: this.config.CRAWL_MAX_LINKS_PER_PAGE,
      parseBudgetMs: this.config.CRAWL_PARSE_BUDGET_MS,
      domMaxBytes: this.config.CRAWL_DOM_MAX_BYTES,
    };
    const summary = { pagesOk: 0, pagesFailed: 0, linksDiscovered: 0, bytesFetched: 0, queued: 0, discovered: 0 };
    job.summary = summary;
    let wake: () => void = () => {};
    const robotsFetch = { userAgent: request.userAgent, timeoutMs: request.timeoutMs };
    const frontier = new Frontier(
      new ScopeFilter(request.urls, { scope: request.scope, include: new UrlPatterns(request.include), exclude: new UrlPatterns(request.exclude) }),
      {
        maxDepth: request.maxDepth,
        maxPages: request.maxPages,
        perHost: request.perHostConcurrency,
        delayMs: request.delayMs,
        maxDelayMs: this.config.CRAWL_MAX_DELAY_MS,
        maxRobotsBytes: this.config.CRAWL_MAX_ROBOTS_BYTES,
        maxRobotsLoads: request.concurrency,
      },
      (page) => context.addTask(page),
      (origin, setRules) => {
        if (!request.respectRobotsTxt) return setRules(ALLOW_ALL);
        loadRobots(origin, robotsFetch, this.robotsAgent, signal).then(
          (rules) => {
            setRules(rules);
            wake();
          },
          () => setRules(disallowAll('robots.txt could not be read')),
        );
      },
    );
    const allow = this.config.CRAWL_ALLOW_TARGETS;
    const running = new Set<Promise<void>>();
    const refresh = () => Object.assign(summary, { pagesOk: job.completed, pagesFailed: job.failed, queued: frontier.queued, discovered: job.total, linksDiscovered: frontier.discovered });

    const start = (index: number, host: string, rules: RobotsRules) => {
      const page = job.inputs[index];
      if (!isAllowed(rules, page.url)) {
        const message = rules.unreachable ?? 'disallowed by robots.txt';
        context.report([
          {
            index,
            state: 'failed',
            result: { ...page, finalUrl: page.url, status: null, contentType: null, bytes: 0, ms: 0, title: null, links: [], error: { code: 'robots_disallowed', message } },
            error: `robots_disallowed: ${message}`,
          },
        ]);
        this.metrics.recordCrawlPage('robots_disallowed');
        frontier.release(host);
        return;
      }
      const payload = { index, page, options, allow, robots: request.respectRobotsTxt ? rules : null, owner: job.owner ?? '' };
      const task = context.runTask('crawl', payload, [index]).then(() => {
        frontier.release(host);
        this.afterPage(job.results[index], frontier, summary);
        if (job.resultBytes > this.config.CRAWL_MAX_RESULT_BYTES) frontier.closed = true;
        running.delete(task);
        wake();
      });
      running.add(task);
    };

    frontier.offerLater(
      request.urls.map((url) => normalizeUrl(url) ?? url),
      0,
      null,
    );
    while (!signal.aborted) {
      const morePending = frontier.drain(LINK_SLICE_MS);
      let waitMs: number | undefined;
      while (running.size < request.concurrency) {
        const next = frontier.next(Date.now());
        if (!('index' in next)) {
          waitMs = next.wakeAt !== undefined ? Math.max(1, next.wakeAt - Date.now()) : undefined;
          break;
        }
        start(next.index, next.host, next.rules);
      }
      refresh();
      if (running.size === 0 && frontier.queued === 0 && !morePending) break;
      if (morePending) waitMs = 1; // let I/O and other requests in between slices
      // Whatever comes first (a page done, robots.txt read, a host's delay over, a cancel) ends
      // the wait, and ending it always removes the other triggers.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = () => {};
          resolve();
        };
        const timer = waitMs !== undefined ? setTimeout(done, waitMs) : undefined;
        signal.addEventListener('abort', done, { once: true });
        wake = done;
      });
    }
    await Promise.all(running);
    refresh();
  }

  summarize(page: PageInput, result: PageResult | undefined): Record<string, unknown> {
    return {
      url: page.url,
      depth: page.depth,
      ...(result ? { status: result.status, links: result.links.length, ...(result.error ? { errorCode: result.error.code } : {}) } : {}),
    };
  }

  present(_page: PageInput, result: PageResult): Record<string, unknown> {
    return { ...result };
  }

  sizeOf(result: PageResult): number {
    return 300 + result.url.length * 2 + result.links.reduce((sum, link) => sum + link.length + 16, 0);
  }

  /** Feeds a finished page's links back into the frontier and its figures into the summary. */
  private afterPage(result: PageResult | undefined, frontier: Frontier, summary: Record<string, number>): void {
    if (!result) return; // cancelled or the worker died: nothing to follow
    const outcome = result.error?.code ?? 'ok';
    this.metrics.recordCrawlPage(outcome, result.bytes);
    summary.bytesFetched += result.bytes;
    if (result.error) return;
    frontier.markSeen(result.finalUrl);
    const nofollow = new Set(result.nofollow ?? []);
    frontier.offerLater(
      result.links.filter((link) => !nofollow.has(link)),
      result.depth + 1,
      result.url,
    );
  }

  /**
   * A dead worker leaves no page result: the item still carries an error `{code, message}` like
   * every other failed page (code `worker_failed`).
   */
  presentError(_page: PageInput, message: string): Record<string, unknown> {
    return { error: { code: 'worker_failed', message } };
  }

  /**
   * Admission counts a crawl as its maxPages (tasks and pages) and its concurrency (fetches at
   * once, so many crawls of one key cannot multiply CRAWL_MAX_CONCURRENCY), and reserves 32 KiB of results
   * per page (a typical page's result is ~5 KB: 66 links), capped by CRAWL_MAX_RESULT_BYTES,
   * which also stops a crawl whose pages turn out bigger.
   */
  reserve(params: unknown): ReturnType<JobKind['reserve']> {
    const { maxPages, concurrency } = params as CrawlRequest;
    return { tasks: maxPages, resultBytes: Math.min(this.config.CRAWL_MAX_RESULT_BYTES, maxPages * 32 * 1024), crawlPages: maxPages, crawlFetches: concurrency };
  }
}

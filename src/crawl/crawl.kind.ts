import { Inject, Injectable, Logger } from '@nestjs/common';
import { BACKEND, type Backend } from '../backends/backend';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { TaskRecord } from '../jobs/job-data';
import { isFinished } from '../pool/task-protocol';
import type { CounterBound, JobContext, JobKind, PoolRunner, PresentContext, ResultFormat } from '../jobs/job-kind';
import { JobKinds } from '../jobs/job-kinds';
import { TaskScheduler, type WorkerSpec } from '../pool/task-scheduler';
import { workerFile } from '../pool/worker-files';
import { SummaryWriter } from '../jobs/summary-writer';
import { parseCidrs } from './address-policy';
import { CONTENT_FORMATS, contentRequestOf } from './content/content-options';
import type { CrawlWorkerSettings, PageInput, PageOptions, PageResult } from './crawl-page';
import type { CrawlRequest } from './crawl.schema';
import { Duplicates, verdictsFor } from './duplicates';
import { Frontier } from './frontier';
import type { HostCaps } from './host-budget';
import { HostSlots } from './host-slots';
import { QueryParamFilter } from './query-params';
import { SitemapDiscovery } from './sitemap-discovery';
import { TrapGuards } from './trap-guards';
import { loadRobots } from './robots';
import { robotsLoaderWithNotes } from './robots-notes';
import { ALLOW_ALL, isAllowed, type RobotsRules } from './robots-rules';
import { createSafeAgent } from './safe-agent';
import { ScopeFilter } from './scope';
import { normalizeUrl } from './url-normalize';
import { UrlPatterns } from './url-patterns';

/** Admission counters: pages a caller's crawls may fetch, and fetches they may run at once. */
const PAGES = 'crawl.pages';
const FETCHES = 'crawl.fetches';
const PAGES_METRIC = 'crawl_pages_total';
const BYTES_METRIC = 'crawl_bytes_total';
const BACKOFF_METRIC = 'crawl_host_backoffs_total';
/** Main-thread time spent considering discovered links (patterns, scope) before other work gets a turn. */
const LINK_SLICE_MS = 10;
/** Times a page whose pool task ended without recording it is sent again before it fails. */
const MAX_RESENDS = 2;
/** Pages read at once when a job is taken over. */
const RESUME_BATCH = 500;
/**
 * A page of a group that ended before its group is settled this long after (with the others that
 * ended meanwhile), or with its group if that ends first: a page does not hold its slot and its
 * links for long behind a slow neighbour (a server that answers in seconds, a page that times
 * out), while the groups of a crawl bound by CPU, whose pages end within tens of milliseconds of
 * each other, are settled whole. (At 10 and 50 ms the PostgreSQL manual's first crawl was split
 * into 900-1,000 and 400-500 pool tasks for 1,169 pages, and cost 17% more time at 10 ms than
 * settling groups whole; at 250 ms, 232 tasks, within the noise of settling whole.)
 */
const EARLY_SETTLE_MS = 250;

/** The webhook event of recorded pages (batched by the webhooks module). */
const PAGE_NOTICE = 'crawl.page';

/** A page as a `crawl.page` webhook carries it: its outcome, without its link list (read that from the results). */
function pageNotice(index: number, state: string, result: PageResult) {
  const { url, finalUrl, depth, status, contentType, title, bytes, ms, links, error } = result;
  return { index, url, finalUrl, depth, state, status, contentType, title, bytes, ms, links: links.length, ...(error ? { error } : {}) };
}

/** Pages sent as one pool task: their host and its rules, and whether the task has ended. */
interface Group {
  host: string;
  rules: RobotsRules;
  ended: boolean;
}

/** A crawl's running figures (its summary). */
interface Tally {
  ok: number;
  failed: number;
  bytes: number;
  resultBytes: number;
  /** Trap guards' counts from before a takeover (the summary's `skipped.*`). */
  skipped: Record<string, number>;
  resumed: boolean;
}

/**
 * How crawl jobs run. The coordinator (frontier, robots.txt, politeness) lives here on the main
 * thread; every page fetch + parse is a task on the I/O pool. Pages become job tasks as they are
 * discovered, so the job's task list is the crawl order.
 */
@Injectable()
export class CrawlKind implements JobKind<PageInput, PageResult> {
  readonly name = 'crawl' as const;
  private readonly logger = new Logger(CrawlKind.name);
  readonly workers: WorkerSpec[];
  /** CSV leaves the page content out (multi-line cells of 200,000 characters help no spreadsheet; NDJSON has it); select's fields are one JSON cell. */
  readonly exportColumns = ['index', 'url', 'depth', 'parent', 'state', 'status', 'finalUrl', 'contentType', 'title', 'bytes', 'ms', 'links', 'error', 'fields', 'truncatedBy'];
  readonly counters: CounterBound[];
  readonly notices = [PAGE_NOTICE];
  readonly metrics = [
    { name: 'crawl_pages_total', help: 'Crawled pages by outcome.', labelNames: ['outcome'] },
    { name: 'crawl_bytes_total', help: 'Bytes downloaded by crawls, by page outcome.', labelNames: ['outcome'] },
    {
      name: BACKOFF_METRIC,
      help: 'Times a host was slowed down for every crawl: reason throttled (a burst of 429/503) or slow (latency over twice its usual).',
      labelNames: ['reason'],
    },
  ];
  /** robots.txt is fetched here on the main thread, through the same address checks. */
  private readonly robotsAgent;
  private readonly hostCaps: HostCaps;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    kinds: JobKinds,
    /** This instance's pool: sitemap documents are read on its I/O threads for the coordinator. */
    private readonly scheduler: TaskScheduler,
    /** Its host budget is shared by every crawl (and instance). */
    @Inject(BACKEND) private readonly backend: Backend,
  ) {
    this.hostCaps = { maxConcurrency: config.CRAWL_HOST_MAX_CONCURRENCY, minDelayMs: config.CRAWL_HOST_MIN_DELAY_MS, maxBackoffMs: config.CRAWL_HOST_MAX_BACKOFF_MS };
    this.robotsAgent = createSafeAgent(parseCidrs(config.CRAWL_ALLOW_TARGETS), { connections: 4 });
    // The worker checks addresses against the CRAWL_ALLOW_TARGETS of the instance it runs on, given
    // to its threads at start: a page planned by another instance's coordinator does not carry them.
    const settings: CrawlWorkerSettings = { allow: config.CRAWL_ALLOW_TARGETS, warmUpPasses: config.CRAWL_WARM_UP_PASSES };
    this.workers = [{ name: 'crawl', file: workerFile('crawl'), profile: 'io', settings: { ...settings } }];
    this.counters = [
      {
        name: PAGES,
        perCaller: config.MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY,
        refusal: (held, wants, bound) => `your unfinished crawls reserve ${held} pages and this one ${wants}, over MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY ${bound}; retry when one ends`,
      },
      {
        name: FETCHES,
        perCaller: config.MAX_CRAWL_CONCURRENCY_PER_KEY,
        refusal: (held, wants, bound) =>
          `your unfinished crawls run ${held} fetches at once and this one asks for ${wants}, over MAX_CRAWL_CONCURRENCY_PER_KEY ${bound}; lower concurrency or retry when one ends`,
      },
    ];
    kinds.register(this);
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
      fingerprint: request.nearDuplicateBits >= 0,
      content: contentRequestOf(request),
    };
    /**
     * Set by whatever happens while the loop is busy (awaiting the store) rather than waiting: the
     * loop looks again instead of sleeping through it. Rules read from a note arrive within a store
     * round trip, often before the wait below begins.
     */
    let woken = false;
    const note = () => {
      woken = true;
    };
    let wake: () => void = note;
    /**
     * A page's bookkeeping that failed for a reason other than an outage (the context waits those
     * out): the crawl stops and the job fails with it, rather than leaving a rejection unhandled.
     */
    let broken: unknown;
    const stopOn = (error: unknown) => {
      broken ??= error;
      wake();
    };
    // The host budget shared with every other crawl (and instance): slots held while fetches run.
    const slots = new HostSlots(
      this.backend.hostBudget,
      job.id,
      this.hostCaps,
      () => wake(),
      (reason) => context.count(BACKOFF_METRIC, { reason }),
      (error) => {
        if (!this.backend.isOutage(error)) stopOn(error); // an outage: asked again at the next sync
      },
    );
    const robotsFetch = { userAgent: request.userAgent, timeoutMs: request.timeoutMs };
    // Decisions are notes on the job: a takeover (or a re-read after the frontier dropped them) finds them there.
    const loadRules = robotsLoaderWithNotes(context, (origin) => loadRobots(origin, robotsFetch, this.robotsAgent, signal));
    const scope = new ScopeFilter(request.urls, { scope: request.scope, include: new UrlPatterns(request.include), exclude: new UrlPatterns(request.exclude) });
    const guards = new TrapGuards(request.traps);
    const frontier = new Frontier(
      scope,
      {
        maxDepth: request.maxDepth,
        maxPages: request.maxPages,
        perHost: request.perHostConcurrency,
        delayMs: request.delayMs,
        maxDelayMs: this.config.CRAWL_MAX_DELAY_MS,
        maxRobotsBytes: this.config.CRAWL_MAX_ROBOTS_BYTES,
        maxRobotsLoads: request.concurrency,
      },
      (origin, setRules) => {
        if (!request.respectRobotsTxt) return setRules(ALLOW_ALL);
        loadRules(origin, (rules) => {
          setRules(rules);
          sitemaps.rulesArrived(origin, rules);
          wake();
        });
      },
      { params: new QueryParamFilter(request.ignoreQueryParams), guards },
      slots,
    );
    const sitemaps = new SitemapDiscovery(request.sitemap, request.urls, frontier, scope, context);
    const duplicates = new Duplicates({ canonical: request.canonical, nearBits: request.nearDuplicateBits }, frontier, scope, context);
    /** Waiting and running pages by task index (the frontier orders indexes). */
    const pages = new Map<number, PageInput>();
    let stopWatching = () => {};
    try {
      const tally = await this.resume(context, frontier, pages, duplicates);
      await sitemaps.start(tally.resumed);
      const sitemapPayload = { options: { ...options, maxUrls: this.config.CRAWL_MAX_LINKS_PER_PAGE }, robots: null, owner: job.owner ?? '' };
      const summary = new SummaryWriter(context, () => ({
        pagesOk: tally.ok,
        pagesFailed: tally.failed,
        linksDiscovered: frontier.discovered,
        bytesFetched: tally.bytes,
        queued: frontier.queued,
        discovered: frontier.total,
        duplicates: duplicates.count,
        ...(sitemaps.enabled ? sitemaps.tally : {}),
        ...Object.fromEntries(Object.entries(guards.skipped).map(([guard, count]) => [`skipped.${guard}`, (tally.skipped[guard] ?? 0) + count])),
      }));
      const running = new Set<Promise<void>>();
      /**
       * Pages started together share a pool task: a task's hand-off (Piscina's messages, a port, the
       * clone of its payload; in the cluster mode a queue job's Redis round trips) costs more than a
       * small page's fetch. Never so many that a thread is left without a share of the crawl.
       */
      const pagesPerTask = Math.max(1, Math.min(this.config.CRAWL_PAGES_PER_TASK, Math.ceil(request.concurrency / context.threads)));
      /** Pages of groups not settled yet, with their group (whose `ended` says its pool task did). */
      const grouped = new Map<number, Group>();
      /** Pages of groups recorded finished (on any instance: see watchFinished), to settle before their group ends (see EARLY_SETTLE_MS). */
      const ended = new Set<number>();
      let settleTimer: NodeJS.Timeout | undefined;
      const settleEnded = () => {
        settleTimer = undefined;
        const pages = [...ended].flatMap((index) => {
          const group = grouped.get(index);
          grouped.delete(index);
          return group ? [{ index, group }] : [];
        });
        ended.clear();
        if (pages.length === 0 || signal.aborted) return;
        const task: Promise<void> = settle(pages)
          .catch(stopOn)
          .finally(() => {
            running.delete(task);
            wake();
          });
        running.add(task);
      };
      const unwatch = context.watchFinished((indexes) => {
        for (const index of indexes) if (grouped.has(index)) ended.add(index);
        if (ended.size > 0 && !settleTimer) settleTimer = setTimeout(settleEnded, EARLY_SETTLE_MS);
      });
      stopWatching = () => {
        unwatch();
        clearTimeout(settleTimer);
      };

      /** Pages sent again because their pool task ended without recording them, and how often. */
      const resent = new Map<number, number>();
      /** Pages, sitemap documents and robots verdicts being worked on (at most `concurrency`). */
      let inFlight = 0;
      /** Pages taken from the frontier in this pass, by host and rules: sent as pool tasks when the pass ends. */
      let starting: { host: string; rules: RobotsRules; indexes: number[] }[] = [];

      const readSitemap = (url: string, host: string, rules: RobotsRules) => {
        const payload = { ...sitemapPayload, robots: request.respectRobotsTxt ? rules : null };
        slots.take(host);
        inFlight++;
        const task = sitemaps
          .read(url, rules, (worker, data, options) => this.scheduler.run(worker, data, options), payload, signal)
          .then(() => {
            frontier.release(host);
            slots.done(host, undefined, frontier.demand(host));
            inFlight--;
            running.delete(task);
            wake();
          });
        running.add(task);
      };

      const start = (index: number, host: string, rules: RobotsRules) => {
        const page = pages.get(index)!;
        inFlight++;
        if (!isAllowed(rules, page.url)) {
          const message = rules.unreachable ?? 'disallowed by robots.txt';
          const result: PageResult = { ...page, finalUrl: page.url, status: null, contentType: null, bytes: 0, ms: 0, title: null, links: [], error: { code: 'robots_disallowed', message } };
          const task = context.report([{ index, state: 'failed', result, error: `robots_disallowed: ${message}` }], [page]).then(() => {
            tally.failed++;
            context.count(PAGES_METRIC, { outcome: 'robots_disallowed' });
            context.notify(PAGE_NOTICE, pageNotice(index, 'failed', result));
            frontier.release(host);
            pages.delete(index);
            inFlight--;
            running.delete(task);
            wake();
          }, stopOn);
          running.add(task);
          return;
        }
        slots.take(host);
        const group = starting.find((group) => group.host === host && group.rules === rules);
        if (group) group.indexes.push(index);
        else starting.push({ host, rules, indexes: [index] });
      };

      /** One pool task for pages of one host; each page's slot is freed, and its links offered, once the task ended. */
      const send = (host: string, rules: RobotsRules, indexes: number[]) => {
        const entries = indexes.map((index) => ({ index, page: pages.get(index)! }));
        const payload = { pages: entries, options, robots: request.respectRobotsTxt ? rules : null, owner: job.owner ?? '' };
        // A page's key is stable, so a takeover re-sending it joins the task still queued or running; a group's is not (see architecture.md).
        const key = indexes.length === 1 ? `${job.id}:p${indexes[0]}` : `${job.id}:p${indexes[0]}+${indexes.length}`;
        const group: Group = { host, rules, ended: false };
        if (indexes.length > 1) for (const index of indexes) grouped.set(index, group);
        const task: Promise<void> = context
          .runTask({ key, worker: 'crawl', payload, indexes, inputs: entries.map((entry) => entry.page), splitOnCrash: indexes.length > 1 })
          .then(() => {
            group.ended = true;
            // Those of its pages not settled already (see settleEnded), now.
            return settle(indexes.filter((index) => indexes.length === 1 || grouped.delete(index)).map((index) => ({ index, group })));
          })
          .catch(stopOn)
          .finally(() => {
            running.delete(task);
            wake();
          });
        running.add(task);
      };

      /**
       * Pages whose pool task ended, or that were recorded finished before it did: each frees its
       * slot and offers its links. One whose task ended without recording it (its group failed on
       * its worker: see splitOnCrash; or the task found no job to run for) goes again alone, its
       * slot still held, a few times.
       */
      const settle = async (settling: { index: number; group: Group }[]) => {
        const records = signal.aborted ? [] : await Promise.all(settling.map(({ index }) => context.task(index)));
        for (const [i, { index, group }] of settling.entries()) {
          const { host, rules } = group;
          let record = records[i];
          if (record && !isFinished(record.state)) {
            if (!group.ended) {
              grouped.set(index, group); // not stored as finished after all: its group's end settles it
              continue;
            }
            const tries = (resent.get(index) ?? 0) + 1;
            resent.set(index, tries);
            this.logger.warn({ jobId: job.id, msg: `page ${index} (${record.state}) came back unrecorded from its pool task: sent again (${tries})` });
            if (tries <= MAX_RESENDS) {
              send(host, rules, [index]);
              continue;
            }
            const error = `worker_failed: its pool task ended ${tries} times without recording it`;
            await context.report([{ index, state: 'failed', error }], [record.input]);
            record = { ...record, state: 'failed', error };
          }
          // The verdict is stored before the page's links are offered: a takeover finds it.
          const verdict = record ? await duplicates.judge(record) : undefined;
          frontier.release(host);
          slots.done(host, record?.result?.host, frontier.demand(host));
          pages.delete(index);
          inFlight--;
          if (record) this.afterPage(record, frontier, tally, context, request.sitemap !== 'only' && verdict?.by !== 'canonical');
        }
        if (tally.resultBytes > this.config.CRAWL_MAX_RESULT_BYTES) frontier.closed = true;
      };

      /** Sends this pass's pages, at most pagesPerTask to a pool task, in groups as even as can be. */
      const sendStarting = () => {
        for (const { host, rules, indexes } of starting) {
          const groups = Math.ceil(indexes.length / pagesPerTask);
          for (let g = 0, from = 0; g < groups; g++) {
            const to = from + Math.ceil((indexes.length - from) / (groups - g));
            send(host, rules, indexes.slice(from, to));
            from = to;
          }
        }
        starting = [];
      };

      while (!signal.aborted) {
        if (broken) break;
        woken = false;
        const morePending = frontier.drain(LINK_SLICE_MS);
        const candidates = frontier.takeCandidates();
        if (candidates.length > 0) {
          const added = await context.addTasks(
            candidates.map((page) => ({ key: page.url, input: page })),
            request.maxPages,
          );
          for (const { index, input } of added) {
            pages.set(index, input);
            frontier.add(index, input, true);
          }
        }
        let waitMs: number | undefined;
        while (inFlight < request.concurrency) {
          const next = frontier.next(Date.now());
          if ('sitemap' in next) readSitemap(next.sitemap, next.host, next.rules);
          else if ('index' in next) start(next.index, next.host, next.rules);
          else {
            waitMs = next.wakeAt !== undefined ? Math.max(1, next.wakeAt - Date.now()) : undefined;
            break;
          }
        }
        sendStarting();
        await sitemaps.finishIfDone();
        await summary.write();
        // Before the end check: a page that ended during the await may have offered links.
        if (woken) continue;
        if (running.size === 0 && frontier.queued === 0 && !morePending) break;
        if (morePending) waitMs = 1; // let I/O and other requests in between slices
        // Whatever comes first (a page done, robots.txt read, a host's delay over, a cancel) ends
        // the wait, and ending it always removes the other triggers.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = note;
            resolve();
          };
          const timer = waitMs !== undefined ? setTimeout(done, waitMs) : undefined;
          signal.addEventListener('abort', done, { once: true });
          wake = done;
        });
      }
      await Promise.all(running);
      if (broken) throw broken;
      if (!signal.aborted) await summary.write(true);
    } finally {
      stopWatching();
      await slots.close();
    }
  }

  /**
   * The crawl as the store has it: nothing yet (a new job: its seeds are offered), or the pages of
   * a job taken over from a runner that died: waiting and running ones go back in the frontier
   * (a running page's pool task, still queued or running elsewhere, is joined by its key), and
   * the links of fetched pages are offered again (the store's seen set drops those already had).
   */
  private async resume(context: JobContext<PageInput, PageResult>, frontier: Frontier, pages: Map<number, PageInput>, duplicates: Duplicates): Promise<Tally> {
    const tally: Tally = { ok: 0, failed: 0, bytes: 0, resultBytes: 0, skipped: {}, resumed: false };
    const { header } = await context.snapshot();
    const request = context.job.params as CrawlRequest;
    // With sitemap "only", the seeds name the sites whose sitemaps are read; they are not pages.
    const seeds = () => {
      if (request.sitemap !== 'only')
        frontier.offerLater(
          request.urls.map((url) => normalizeUrl(url) ?? url),
          0,
          null,
          'seed',
        );
    };
    if (header.total === 0) {
      seeds();
      return tally;
    }
    tally.resumed = true;
    await duplicates.restore();
    // Pages skipped by a guard before the takeover stay counted.
    for (const [key, count] of Object.entries(header.summary ?? {})) if (key.startsWith('skipped.')) tally.skipped[key.slice('skipped.'.length)] = count;
    seeds(); // already pages: the seen set drops them, but one that failed to be added is added now
    for (let offset = 0; offset < header.total; offset += RESUME_BATCH) {
      for (const record of await context.tasks(offset, RESUME_BATCH)) {
        const waiting = record.state === 'queued' || record.state === 'running';
        frontier.add(record.index, record.input, waiting, true);
        if (waiting) pages.set(record.index, record.input);
        else if (record.result) this.afterPage(record, frontier, tally, undefined, request.sitemap !== 'only' && (record.state !== 'completed' || duplicates.replay(record)));
        else if (record.state === 'failed') tally.failed++;
      }
    }
    return tally;
  }

  summarize(page: PageInput, result: PageResult | undefined): Record<string, unknown> {
    return {
      url: page.url,
      depth: page.depth,
      ...(result ? { status: result.status, links: result.links.length, ...(result.error ? { errorCode: result.error.code } : {}) } : {}),
    };
  }

  /** A page's duplicate verdict is a job note (see duplicates.ts), shown with its result. */
  async prepare(records: TaskRecord<PageInput, PageResult>[], _format: ResultFormat, _pool: PoolRunner, job: PresentContext): Promise<void> {
    const done = records.filter((record) => record.result && record.state === 'completed');
    if (done.length === 0) return;
    const verdicts = await verdictsFor(
      done.map((record) => record.index),
      (prefix) => job.readNotes(prefix),
    );
    for (const record of done) {
      const verdict = verdicts.get(record.index);
      if (verdict) record.result = { ...record.result!, duplicateOf: verdict.of, duplicateBy: verdict.by };
    }
  }

  /**
   * The host's answers feed the shared pacing, not the caller; without `links` in formats the list
   * is still stored (a takeover follows it again) but not shown.
   */
  present(_page: PageInput, result: PageResult, _format: ResultFormat, params?: unknown): Record<string, unknown> {
    const { host: _pacing, ...shown } = result;
    const formats = (params as Partial<CrawlRequest> | undefined)?.formats;
    if (!formats || formats.includes('links')) return shown;
    const { links: _links, nofollow: _nofollow, ...rest } = shown;
    return rest;
  }

  /** Links and content as the store holds them (UTF-8), so content counts against retention and CRAWL_MAX_RESULT_BYTES. */
  sizeOf(result: PageResult): number {
    let size = 300 + result.url.length * 2 + result.links.reduce((sum, link) => sum + link.length + 16, 0);
    for (const format of CONTENT_FORMATS) if (result[format] !== undefined) size += Buffer.byteLength(result[format]!) + 16;
    if (result.fields)
      for (const [name, value] of Object.entries(result.fields))
        size += name.length + 16 + (Array.isArray(value) ? value.reduce((sum, item) => sum + Buffer.byteLength(item) + 4, 0) : Buffer.byteLength(value ?? ''));
    return size;
  }

  /** Feeds a finished page's links back into the frontier and its figures into the tally. */
  /** `live`: the context of a page that just ended (its metrics are counted); none for a page read back on a takeover. */
  /** `follow`: its links are offered (not with sitemap "only", nor for a duplicate by canonical). */
  private afterPage(record: TaskRecord<PageInput, PageResult>, frontier: Frontier, tally: Tally, live: JobContext<PageInput, PageResult> | undefined, follow: boolean): void {
    const result = record.result;
    if (record.state === 'completed') tally.ok++;
    else if (record.state === 'failed') tally.failed++;
    if (!result) return; // cancelled or the worker died: nothing to follow
    const outcome = result.error?.code ?? 'ok';
    if (live) {
      live.notify(PAGE_NOTICE, pageNotice(record.index, record.state, result));
      live.count(PAGES_METRIC, { outcome });
      live.count(BYTES_METRIC, { outcome }, result.bytes);
    }
    tally.bytes += result.bytes;
    tally.resultBytes += this.sizeOf(result);
    if (result.error) return;
    frontier.markSeen(frontier.clean(result.finalUrl));
    if (!follow) return;
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
   * which also stops a crawl whose pages turn out bigger. Content reserves 64 KiB more per page per
   * content format (a 14 KB documentation page makes ~8 KB of markdown; a big one up to
   * maxContentChars) and 8 KiB for select's fields.
   */
  reserve(params: unknown): ReturnType<JobKind['reserve']> {
    const { maxPages, concurrency, formats = ['links'], select } = params as CrawlRequest;
    const contentFormats = CONTENT_FORMATS.filter((format) => formats.includes(format)).length;
    const perPage = 32 * 1024 + contentFormats * 64 * 1024 + (select && Object.keys(select).length > 0 ? 8 * 1024 : 0);
    return { tasks: maxPages, resultBytes: Math.min(this.config.CRAWL_MAX_RESULT_BYTES, maxPages * perPage), counters: { [PAGES]: maxPages, [FETCHES]: concurrency } };
  }
}

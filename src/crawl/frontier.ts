/**
 * The crawl frontier: which page to fetch next, as seen by the job's runner. The job's pages
 * and the set of URLs seen live in the job store (the store appends a page only for a URL the
 * job has not seen, up to maxPages, so takeovers and retries never add one twice); the frontier
 * decides which links are worth offering (scope, depth, patterns) and orders the waiting pages. Breadth-first: the shallowest waiting page goes
 * first (then the earliest discovered), whichever origin it is on; de-duplicated across the job on
 * normalised URLs, within scope, depth and page limits, and polite per origin: at most
 * `perHost` fetches at once and a minimum interval between starts (delayMs or Crawl-delay).
 *
 * robots.txt rules are held here, per origin, as compact rules, and only while useful: they are
 * read when an origin has a page waiting (at most `maxRobotsLoads` at once), and past
 * `maxRobotsBytes` the least recently used origins with nothing queued or running lose theirs
 * (read again if a page of theirs turns up later). While the held rules are over the budget and
 * none can be dropped, no more are read: the origins holding them are served first.
 */
import type { PageInput, Via } from './crawl-page';
import type { QueryParamFilter } from './query-params';
import { type RobotsRules, robotsRulesBytes } from './robots-rules';
import type { ScopeFilter } from './scope';
import type { TrapGuards } from './trap-guards';

interface OriginState {
  /** Waiting task indexes by depth, each in discovery order. */
  queues: number[][];
  waiting: number;
  active: number;
  /** Earliest time the next fetch may start. */
  nextAt: number;
  /** Known once robots.txt was read (or immediately when robots are ignored). */
  rules?: RobotsRules;
  rulesBytes: number;
  loading: boolean;
  /** When the rules last arrived or served a page (a counter), for least-recently-used eviction. */
  usedAt: number;
  /** Sitemap documents waiting (counted in `waiting`): read before the origin's pages. */
  sitemaps: string[];
}

/** What the frontier does to a discovered URL before it is considered (both optional). */
export interface UrlCleaning {
  /** ignoreQueryParams. */
  params?: QueryParamFilter;
  /** Trap guards (session ids are removed by them too). */
  guards?: TrapGuards;
}

export interface FrontierLimits {
  maxDepth: number;
  maxPages: number;
  perHost: number;
  delayMs: number;
  maxDelayMs: number;
  /** Memory of robots rules held at once (a few origins' rules more while they are being read). */
  maxRobotsBytes: number;
  /** robots.txt files read at once. */
  maxRobotsLoads: number;
}

/**
 * The budget shared with other crawls (HostSlots): whether a fetch may start on `origin` now,
 * this crawl being able to use `want` slots there; if not, when to look again (none: it wakes the crawl).
 */
export interface HostGate {
  ready(origin: string, want: number, now: number): true | { wakeAt?: number };
}

/** Reads the rules of `origin` and hands them to `set` (at once or later). */
export type RulesLoader = (origin: string, set: (rules: RobotsRules) => void) => void;

export class Frontier {
  /** Every URL seen here as a link or a redirect target, in scope or not (the store holds the job's whole set). */
  private readonly seen = new Set<string>();
  /** The job's pages' URLs (a subset of seen). */
  private readonly pageUrls = new Set<string>();
  private readonly origins = new Map<string, OriginState>();
  /** Links waiting to be considered, page by page in completion order (see offerLater). */
  private readonly pending: { links: readonly string[]; at: number; depth: number; parent: string | null; via: Via }[] = [];
  /** Sitemap documents queued so far (each read once per run). */
  private readonly sitemapsSeen = new Set<string>();
  /** Links that passed, waiting to be appended to the job (in the store) by the caller. */
  private candidates: PageInput[] = [];
  private pages = 0;
  private waiting = 0;
  private loads = 0;
  private clock = 0;
  private heldBytes = 0;
  private sitemapsWaiting = 0;
  /** Set when the crawl must not grow any more (result budget reached). */
  closed = false;

  constructor(
    private readonly scope: ScopeFilter,
    private readonly limits: FrontierLimits,
    private readonly loadRules: RulesLoader,
    private readonly cleaning: UrlCleaning = {},
    private readonly gate?: HostGate,
  ) {}

  /** `url` as the job knows it: without ignored parameters and session ids. */
  clean(url: string): string {
    const { params, guards } = this.cleaning;
    const stripped = params ? params.strip(url) : url;
    return guards ? guards.clean(stripped) : stripped;
  }

  get discovered(): number {
    return this.seen.size;
  }

  get queued(): number {
    return this.waiting;
  }

  /** Pages of the job (fetched, waiting or running). */
  get total(): number {
    return this.pages;
  }

  /** Memory of the robots rules held now, and how many origins hold some. */
  get robots(): { bytes: number; origins: number } {
    let origins = 0;
    for (const state of this.origins.values()) if (state.rules) origins++;
    return { bytes: this.heldBytes, origins };
  }

  /**
   * Considers a URL found at `depth`: a candidate page if it is new here, in scope, within the
   * limits and no trap guard stops it (seeds are never stopped by one).
   */
  offer(found: string, depth: number, parent: string | null, via: Via = 'link'): void {
    const url = this.clean(found);
    if (this.seen.has(url)) {
      if (url !== found && this.cleaning.guards && url !== this.cleaning.params?.strip(found)) this.cleaning.guards.countSessionCopy();
      return;
    }
    this.seen.add(url);
    if (this.closed || depth > this.limits.maxDepth || this.pages + this.candidates.length >= this.limits.maxPages || !this.scope.allows(url)) return;
    if (via === 'seed') this.cleaning.guards?.count(new URL(url));
    else if (this.cleaning.guards?.check(url)) return;
    this.candidates.push({ url, depth, parent, via });
  }

  /** A sitemap document to read (once per run, whatever lists it); false if it was queued before. */
  addSitemap(url: string): boolean {
    if (this.sitemapsSeen.has(url)) return false;
    this.sitemapsSeen.add(url);
    const state = this.origin(url);
    state.sitemaps.push(url);
    this.sitemapsWaiting++;
    state.waiting++;
    this.waiting++;
    return true;
  }

  get sitemapsQueued(): number {
    return this.sitemapsSeen.size;
  }

  /** Every sitemap queued was handed out and the pages they listed were considered and taken. */
  get sitemapsSettled(): boolean {
    return this.sitemapsWaiting === 0 && this.candidates.length === 0 && !this.pending.some((batch) => batch.via === 'sitemap');
  }

  /** The candidates found since the last call, to append to the job. */
  takeCandidates(): PageInput[] {
    const taken = this.candidates;
    this.candidates = [];
    return taken;
  }

  /**
   * A page of the job: waiting (to be fetched) or already done (only counted). `restored`: read
   * back on a takeover, never offered here, so it counts against the trap guards' budgets now.
   */
  add(index: number, page: PageInput, waiting: boolean, restored = false): void {
    this.seen.add(page.url);
    this.pageUrls.add(page.url);
    if (restored) this.cleaning.guards?.count(new URL(page.url));
    this.pages++;
    if (!waiting) return;
    this.waiting++;
    const state = this.origin(page.url);
    state.waiting++;
    (state.queues[page.depth] ??= []).push(index);
  }

  /**
   * Links to consider later, in `drain` slices: checking a URL against the caller's patterns and
   * the scope costs up to milliseconds for long URLs, and a page brings up to
   * CRAWL_MAX_LINKS_PER_PAGE of them, which must not hold the main thread in one go.
   */
  offerLater(links: readonly string[], depth: number, parent: string | null, via: Via = 'link'): void {
    if (links.length > 0) this.pending.push({ links, at: 0, depth, parent, via });
  }

  /** Considers waiting links until `budgetMs` has passed (one at least); true if some remain. */
  drain(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    while (this.pending.length > 0) {
      const batch = this.pending[0];
      while (batch.at < batch.links.length) {
        this.offer(batch.links[batch.at++], batch.depth, batch.parent, batch.via);
        if (performance.now() >= until) {
          if (batch.at === batch.links.length) this.pending.shift();
          return this.pending.length > 0;
        }
      }
      this.pending.shift();
    }
    return false;
  }

  /** Whether `url` is a page of the job (waiting, running or done). */
  isPage(url: string): boolean {
    return this.pageUrls.has(url);
  }

  /** A redirect target is a page already fetched under another name. */
  markSeen(url: string): void {
    this.seen.add(url);
  }

  /**
   * The next page (or sitemap document) that may start now, or undefined; `wakeAt` says when to
   * look again. An origin's sitemaps go before its pages: they may list pages no link reaches.
   */
  next(now: number): { index: number; host: string; rules: RobotsRules } | { sitemap: string; host: string; rules: RobotsRules } | { wakeAt?: number } {
    this.readRulesWhereNeeded();
    let best: { name: string; state: OriginState; queue: number[]; depth: number } | undefined;
    let wakeAt: number | undefined;
    for (const [name, state] of this.origins) {
      if (!state.rules || state.waiting === 0 || state.active >= this.limits.perHost) continue;
      if (state.nextAt > now) {
        wakeAt = Math.min(wakeAt ?? Infinity, state.nextAt);
        continue;
      }
      const open = this.gate ? this.gate.ready(name, this.demand(name), now) : true;
      if (open !== true) {
        if (open.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, open.wakeAt);
        continue;
      }
      if (state.sitemaps.length > 0) {
        this.sitemapsWaiting--;
        return { sitemap: this.start(state, now).sitemaps.shift()!, host: name, rules: state.rules };
      }
      const depth = state.queues.findIndex((queue) => queue?.length > 0);
      const queue = state.queues[depth];
      if (!best || depth < best.depth || (depth === best.depth && queue[0] < best.queue[0])) best = { name, state, queue, depth };
    }
    if (!best) return { wakeAt };
    const { name, state, queue } = best;
    this.start(state, now);
    return { index: queue.shift()!, host: name, rules: state.rules! };
  }

  private start(state: OriginState, now: number): OriginState {
    state.active++;
    state.waiting--;
    state.usedAt = ++this.clock;
    state.nextAt = now + this.delayOf(state);
    this.waiting--;
    return state;
  }

  /** A fetch on `host` (as `next` named it) finished. */
  release(host: string): void {
    const state = this.origins.get(host);
    if (state) state.active--;
  }

  /** Fetches this crawl could run on `origin` now: its running and waiting pages, up to perHost. */
  demand(origin: string): number {
    const state = this.origins.get(origin);
    return state ? Math.min(this.limits.perHost, state.active + state.waiting) : 0;
  }

  private origin(url: string): OriginState {
    const name = new URL(url).origin;
    let state = this.origins.get(name);
    if (!state) this.origins.set(name, (state = { queues: [], waiting: 0, active: 0, nextAt: 0, rulesBytes: 0, loading: false, usedAt: 0, sitemaps: [] }));
    return state;
  }

  private readRulesWhereNeeded(): void {
    for (const [name, state] of this.origins) {
      if (state.rules || state.loading || state.waiting === 0) continue;
      if (this.loads >= this.limits.maxRobotsLoads) return;
      if (this.heldBytes >= this.limits.maxRobotsBytes && !this.evict()) return;
      state.loading = true;
      this.loads++;
      this.loadRules(name, (rules) => {
        state.loading = false;
        this.loads--;
        state.rules = rules;
        state.rulesBytes = robotsRulesBytes(rules);
        this.heldBytes += state.rulesBytes;
        state.usedAt = ++this.clock;
      });
    }
  }

  /** Drops rules of idle origins, least recently used first, until under budget; false if it cannot. */
  private evict(): boolean {
    while (this.heldBytes >= this.limits.maxRobotsBytes) {
      let victim: OriginState | undefined;
      for (const state of this.origins.values()) {
        if (state.rules && state.active === 0 && state.waiting === 0 && (!victim || state.usedAt < victim.usedAt)) victim = state;
      }
      if (!victim) return false;
      this.heldBytes -= victim.rulesBytes;
      victim.rules = undefined;
      victim.rulesBytes = 0;
    }
    return true;
  }

  private delayOf(state: OriginState): number {
    const robotsDelay = (state.rules?.crawlDelay ?? 0) * 1000;
    return Math.min(this.limits.maxDelayMs, Math.max(this.limits.delayMs, robotsDelay));
  }
}

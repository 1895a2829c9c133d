/**
 * The crawl frontier: which page to fetch next. Breadth-first: the shallowest waiting page goes
 * first (then the earliest discovered), whichever host it is on; de-duplicated across the job on
 * normalised URLs, within scope, depth and page limits, and polite per host: at most
 * `perHost` fetches at once and a minimum interval between starts (delayMs or Crawl-delay).
 */
import type { PageInput } from './crawl-page';
import type { RobotsRules } from './robots';
import type { ScopeFilter } from './scope';

interface HostState {
  /** Waiting task indexes by depth, each in discovery order. */
  queues: number[][];
  active: number;
  /** Earliest time the next fetch may start. */
  nextAt: number;
  /** Known once robots.txt was read (or immediately when robots are ignored). */
  rules?: RobotsRules;
}

export interface FrontierLimits {
  maxDepth: number;
  maxPages: number;
  perHost: number;
  delayMs: number;
  maxDelayMs: number;
}

export class Frontier {
  /** Every URL seen as a link or a redirect target, in scope or not. */
  private readonly seen = new Set<string>();
  private readonly hosts = new Map<string, HostState>();
  private pages = 0;
  private waiting = 0;
  /** Set when the crawl must not grow any more (result budget reached). */
  closed = false;

  constructor(
    private readonly scope: ScopeFilter,
    private readonly limits: FrontierLimits,
    private readonly enqueue: (page: PageInput) => number,
    private readonly onNewHost: (url: string, set: (rules: RobotsRules) => void) => void,
  ) {}

  get discovered(): number {
    return this.seen.size;
  }

  get queued(): number {
    return this.waiting;
  }

  /** Considers a URL found at `depth`; returns the new task's index if it will be fetched. */
  offer(url: string, depth: number, parent: string | null): number | undefined {
    if (this.seen.has(url)) return undefined;
    this.seen.add(url);
    if (this.closed || depth > this.limits.maxDepth || this.pages >= this.limits.maxPages || !this.scope.allows(url)) return undefined;
    const index = this.enqueue({ url, depth, parent });
    this.pages++;
    this.waiting++;
    const queues = this.host(url).queues;
    (queues[depth] ??= []).push(index);
    return index;
  }

  /** A redirect target is a page already fetched under another name. */
  markSeen(url: string): void {
    this.seen.add(url);
  }

  /** The next page that may start now, or undefined; `wakeAt` says when to look again. */
  next(now: number): { index: number; host: string; rules: RobotsRules } | { wakeAt?: number } {
    let best: { name: string; host: HostState; queue: number[]; depth: number } | undefined;
    let wakeAt: number | undefined;
    for (const [name, host] of this.hosts) {
      if (!host.rules || host.active >= this.limits.perHost) continue;
      const depth = host.queues.findIndex((queue) => queue?.length > 0);
      if (depth < 0) continue;
      if (host.nextAt > now) {
        wakeAt = Math.min(wakeAt ?? Infinity, host.nextAt);
        continue;
      }
      const queue = host.queues[depth];
      if (!best || depth < best.depth || (depth === best.depth && queue[0] < best.queue[0])) best = { name, host, queue, depth };
    }
    if (!best) return { wakeAt };
    const { name, host, queue } = best;
    host.active++;
    host.nextAt = now + this.delayOf(host);
    this.waiting--;
    return { index: queue.shift()!, host: name, rules: host.rules! };
  }

  /** A fetch on `host` finished. */
  release(host: string): void {
    const state = this.hosts.get(host);
    if (state) state.active--;
  }

  private host(url: string): HostState {
    const name = new URL(url).host;
    let state = this.hosts.get(name);
    if (!state) {
      const created: HostState = { queues: [], active: 0, nextAt: 0 };
      this.hosts.set(name, (state = created));
      this.onNewHost(url, (rules) => (created.rules = rules));
    }
    return state;
  }

  private delayOf(host: HostState): number {
    const robotsDelay = (host.rules?.crawlDelay ?? 0) * 1000;
    return Math.min(this.limits.maxDelayMs, Math.max(this.limits.delayMs, robotsDelay));
  }
}

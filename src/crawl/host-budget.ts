/**
 * The port that keeps every crawl polite to a host together: one budget per host (origin) for the
 * whole service, or the whole cluster (in the store), whatever the number of jobs, keys and
 * instances fetching from it. A holder (a crawl job) settles its slots with the budget now and
 * then, several hosts in one call: it says how many fetches it runs there and how many it could
 * use, reports how the host answered since, and gets how many slots it holds. Between settles it
 * reuses its slots without asking, so an uncontended crawl costs a round trip per sync, not per page.
 *
 * The budget adapts to each host (AutoThrottle-like): a 429 or 503 halves the host's concurrency
 * and doubles the pause between fetch starts (Retry-After also holds every start until it passed),
 * a response slower than twice the host's usual latency lowers the concurrency by one; a run of
 * good answers gives one slot back and shortens the pause, never after an error. Fair: while
 * others wait, a holder keeps at most its share (the host's slots over the holders wanting some),
 * and when there are more holders than slots, a freed slot goes to the one that has waited
 * longest with none, so no crawl starves.
 */

/** The service's settings for every host (the same on every instance). */
export interface HostCaps {
  /** CRAWL_HOST_MAX_CONCURRENCY: fetches in flight to one host at most. */
  maxConcurrency: number;
  /** CRAWL_HOST_MIN_DELAY_MS: pause between fetch starts to one host at least. */
  minDelayMs: number;
  /** CRAWL_HOST_MAX_BACKOFF_MS: the longest pause back-off or a Retry-After may impose. */
  maxBackoffMs: number;
}

/** How a host answered a holder's fetches since its last settle. */
export interface HostFeedback {
  /** Answers that were not 429/503 (any status, errors of the page's own included). */
  ok: number;
  /** The slowest of those answers (time to the response headers), ms. */
  latencyMs: number;
  /** 429 and 503 answers. */
  throttled: number;
  /** The longest Retry-After among them, ms (0: none). */
  retryAfterMs: number;
}

export interface HostRequest {
  /** The origin, e.g. https://example.com */
  host: string;
  /** Fetches the holder runs there now: slots it cannot give back. */
  busy: number;
  /** Slots it could use now (0: it is done with the host and gives everything back). */
  want: number;
  /** Reserve a fetch start on a paced host (one at a time). */
  start?: boolean;
  feedback?: HostFeedback;
}

export interface HostGrant {
  /** Slots the holder holds now (never fewer than its busy ones). */
  held: number;
  /** Starts must be reserved one by one (`start`): the host has a pause between starts, or a Retry-After runs. */
  paced: boolean;
  /** The reserved start may go in this many ms; -1 when none was reserved. */
  startInMs: number;
  /** Others wait for slots of this host: settle again as soon as a fetch ends, to hand idle slots on. */
  contended: boolean;
  /** What this settle's feedback did to the host, for the metrics. */
  backoff?: 'throttled' | 'slow';
  /** The host's adapted concurrency and pause now. */
  limit: number;
  delayMs: number;
}

export abstract class HostBudget {
  /** Settles `holder`'s slots on each host of `requests` (answers in the same order). */
  abstract settle(holder: string, requests: readonly HostRequest[], caps: HostCaps): Promise<HostGrant[]>;
  close(): void {}
}

/** Tuning of the back-off, the same in every implementation (the Redis one gets them as arguments). */
export const PACING = {
  /** The first pause a 429/503 imposes on a host with none, ms; each further one doubles it. */
  backoffStepMs: 250,
  /** 429/503 answers within this long of the last back-off are the same burst: they slow the host once, ms. */
  burstMs: 1_000,
  /** Good answers in a row that give one slot back (and halve the pause). */
  recoverAfter: 4,
  /** A response slower than twice the usual latency and by more than this counts as a slowdown, ms. */
  slowMarginMs: 250,
  /** How fast the usual latency follows slower answers (it follows faster ones at once). */
  baseDrift: 0.05,
  /** How long a host's adapted state is kept once nobody fetches from it, ms. */
  memoryMs: 10 * 60_000,
} as const;

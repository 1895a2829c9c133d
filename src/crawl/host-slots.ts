import type { HostBudget, HostCaps, HostFeedback, HostGrant, HostRequest } from './host-budget';

/** How often held slots are settled again (renewing their lease, reporting answers, learning of waiters), ms. */
const SYNC_MS = 200;
/** How soon a holder that got fewer slots than it wants asks again, ms. */
const POLL_MS = 25;

interface HostSlot {
  held: number;
  busy: number;
  want: number;
  paced: boolean;
  contended: boolean;
  /** A reserved start on a paced host: when it may go. */
  startAt?: number;
  /** A start is wanted on a paced host (asked at the next settle). */
  needStart: boolean;
  /** No asking for more before this (after a refusal). */
  askAt: number;
  dirty: boolean;
  /** A settle that may take idle slots back is out: no start here until it answers. */
  settling: boolean;
  /** The want the budget was last told (a waiting holder it knows of, even with no slot). */
  told: number;
  /** The last answer said the host's limit is below what this crawl holds (lowered by back-off). */
  overCap: boolean;
  feedback: HostFeedback;
}

const noFeedback = (): HostFeedback => ({ ok: 0, latencyMs: 0, throttled: 0, retryAfterMs: 0 });

/**
 * One crawl's side of the shared per-host budget (HostBudget). It holds the job's slots per host
 * and reuses them from page to page without asking, settling with the budget only when it needs
 * more, when others wait, when a host throttled, on a paced host for each start, and every
 * SYNC_MS; every host due goes in one settle call, one at a time. A slot is held exactly while
 * the job may start or runs a fetch there; `close` gives them all back.
 */
export class HostSlots {
  private readonly hosts = new Map<string, HostSlot>();
  private readonly timer: NodeJS.Timeout;
  private settling = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly budget: HostBudget,
    private readonly holder: string,
    private readonly caps: HostCaps,
    /** Called once a settle answered (the crawl looks again) or failed. */
    private readonly wake: () => void,
    private readonly onBackoff: (reason: NonNullable<HostGrant['backoff']>) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => this.sync(), SYNC_MS);
    this.timer.unref();
  }

  /**
   * Whether a fetch may start on `host` now, the job being able to use `want` slots there. If not,
   * `wakeAt` says when to look again (none: a settle is under way and wakes the crawl).
   */
  ready(host: string, want: number, now: number): true | { wakeAt?: number } {
    const slot = this.slot(host);
    if (slot.settling) {
      slot.want = want;
      return {};
    }
    // Fewer pages waiting is no reason to settle: the slots stay held (and reused) until the host is
    // done with, contended or throttled, so that demand going up and down costs no round trips.
    slot.want = want;
    if (slot.busy < slot.held) {
      if (!slot.paced) return true;
      if (slot.startAt !== undefined) return slot.startAt <= now ? true : { wakeAt: slot.startAt };
      slot.needStart = true;
      this.due(slot);
      return {};
    }
    if (slot.held >= want) return {};
    if (slot.askAt > now) return { wakeAt: slot.askAt };
    this.due(slot);
    return {};
  }

  /** A fetch starts on `host` (ready said so). */
  take(host: string): void {
    const slot = this.slot(host);
    slot.busy++;
    slot.startAt = undefined;
  }

  /** A fetch on `host` ended; `want`: slots the job could still use there. */
  done(host: string, feedback: HostFeedback | undefined, want: number): void {
    const slot = this.hosts.get(host);
    if (!slot) return;
    slot.busy--;
    slot.want = want;
    if (feedback) {
      const sum = slot.feedback;
      sum.ok += feedback.ok;
      sum.latencyMs = Math.max(sum.latencyMs, feedback.latencyMs);
      sum.throttled += feedback.throttled;
      sum.retryAfterMs = Math.max(sum.retryAfterMs, feedback.retryAfterMs);
    }
    if (slot.feedback.throttled > 0 || this.shrinking(slot)) this.due(slot);
  }

  /** Gives every slot back (the crawl ended); no settle after this. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // Every host the budget knows this crawl by: those it holds slots of, and those it waits for (a
    // waiter left behind would make the host look contended to every other crawl until its lease lapsed).
    const held = [...this.hosts].filter(([, slot]) => slot.held > 0 || slot.told > 0).map(([host]): HostRequest => ({ host, busy: 0, want: 0 }));
    this.hosts.clear();
    if (held.length > 0) await this.budget.settle(this.holder, held, this.caps).catch(() => undefined); // unreachable: the leases lapse
  }

  private slot(host: string): HostSlot {
    let slot = this.hosts.get(host);
    if (!slot)
      this.hosts.set(
        host,
        (slot = { held: 0, busy: 0, want: 0, paced: false, contended: false, needStart: false, askAt: 0, dirty: false, settling: false, told: 0, overCap: false, feedback: noFeedback() }),
      );
    return slot;
  }

  /** Whether the crawl should give idle slots back: others wait, the limit was lowered, or it is done with the host. */
  private shrinking(slot: HostSlot): boolean {
    return slot.contended || slot.overCap || (slot.want === 0 && (slot.held > slot.busy || slot.told > 0));
  }

  private due(slot: HostSlot): void {
    slot.dirty = true;
    queueMicrotask(() => void this.flush());
  }

  /** Every SYNC_MS: settle the hosts the job holds or waits for. */
  private sync(): void {
    for (const slot of this.hosts.values()) if (slot.held > 0 || slot.want > 0) slot.dirty = true;
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.closed) return;
    if (this.settling) {
      this.again = true;
      return;
    }
    const due = [...this.hosts].filter(([, slot]) => slot.dirty);
    if (due.length === 0) return;
    this.settling = true;
    const requests = due.map(([host, slot]): HostRequest => {
      slot.dirty = false;
      const feedback = slot.feedback;
      slot.feedback = noFeedback();
      const start = slot.needStart && slot.startAt === undefined;
      // Keeping its slots (most settles: renewal, feedback, asking for more), the crawl counts them all as
      // busy, so the answer never takes back one it starts a fetch on meanwhile; giving back, it stops
      // starting there until the answer.
      slot.settling = feedback.throttled > 0 || this.shrinking(slot);
      // (On a paced host no fetch starts without a reserved start, so asking for one can say the true busy.)
      const busy = slot.settling || start ? slot.busy : Math.max(slot.busy, slot.held);
      const want = slot.settling ? Math.max(slot.want, slot.busy) : Math.max(slot.want, slot.held);
      slot.told = want;
      return { host, busy, want, ...(start ? { start } : {}), ...(feedback.ok || feedback.throttled ? { feedback } : {}) };
    });
    try {
      const grants = await this.budget.settle(this.holder, requests, this.caps);
      const now = Date.now();
      grants.forEach((grant, i) => this.apply(due[i][0], due[i][1], requests[i], grant, now));
    } catch (error) {
      for (const [, slot] of due) slot.dirty = true; // asked again at the next sync
      this.onError(error);
    } finally {
      this.settling = false;
      for (const [, slot] of due) slot.settling = false;
    }
    if (this.closed) return;
    this.wake();
    if (this.again) {
      this.again = false;
      void this.flush();
    }
  }

  private apply(host: string, slot: HostSlot, request: HostRequest, grant: HostGrant, now: number): void {
    // Fetches that ended while the settle was out are counted already in `busy`; the budget kept at least the busy ones of then.
    slot.held = grant.held;
    slot.paced = grant.paced;
    slot.contended = grant.contended;
    slot.overCap = grant.held > grant.limit;
    if (grant.startInMs >= 0) {
      slot.startAt = now + grant.startInMs;
      slot.needStart = false;
    }
    if (!grant.paced) slot.needStart = false;
    if (grant.held < request.want) slot.askAt = now + POLL_MS;
    if (grant.backoff) this.onBackoff(grant.backoff);
    if (slot.held === 0 && slot.busy === 0 && slot.want === 0 && request.want === 0) this.hosts.delete(host);
  }
}

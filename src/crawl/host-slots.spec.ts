import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHostBudget } from '../backends/memory/memory-host-budget';
import { type HostCaps, HostBudget, type HostGrant, type HostRequest } from './host-budget';
import { HostSlots } from './host-slots';

/** The embedded budget, counting the settle calls made to it (each would be a round trip in the cluster). */
class CountingBudget extends HostBudget {
  calls = 0;
  readonly inner = new MemoryHostBudget(60_000);
  settle(holder: string, requests: readonly HostRequest[], caps: HostCaps): Promise<HostGrant[]> {
    this.calls++;
    return this.inner.settle(holder, requests, caps);
  }
  override close(): void {
    this.inner.close();
  }
}

const caps: HostCaps = { maxConcurrency: 2, minDelayMs: 0, maxBackoffMs: 1_000 };
const HOST = 'http://site.test';
const turn = () => new Promise((resolve) => setImmediate(resolve));
const ok = { ok: 1, latencyMs: 5, throttled: 0, retryAfterMs: 0 };

describe('HostSlots (one crawl side of the shared host budget)', () => {
  const opened: HostSlots[] = [];
  let budget: CountingBudget;
  beforeEach(() => {
    budget = new CountingBudget();
  });
  const slots = (holder: string) => {
    const made = new HostSlots(
      budget,
      holder,
      caps,
      () => undefined,
      () => undefined,
      (error) => {
        throw error;
      },
    );
    opened.push(made);
    return made;
  };
  /** ready() until it says yes, for up to `ms` (each no starts a settle; held slots are settled again every 200 ms). */
  const whenReady = async (of: HostSlots, want: number, ms = 1_000) => {
    const until = Date.now() + ms;
    do {
      if (of.ready(HOST, want, Date.now()) === true) return true;
      await new Promise((resolve) => setTimeout(resolve, 5));
    } while (Date.now() < until);
    return false;
  };
  afterEach(async () => {
    for (const made of opened.splice(0)) await made.close();
    budget.close();
  });

  it('reuses its slots from page to page without a settle per page', async () => {
    const crawl = slots('job-a');
    expect(await whenReady(crawl, 2)).toBe(true);
    const before = budget.calls;
    for (let page = 0; page < 50; page++) {
      expect(crawl.ready(HOST, 2, Date.now())).toBe(true);
      crawl.take(HOST);
      crawl.done(HOST, ok, 2);
    }
    expect(budget.calls - before).toBe(0);
  });

  it('shares the host with another crawl: never more slots in use than the cap, and the newcomer gets its turn', async () => {
    const [a, b] = [slots('job-a'), slots('job-b')];
    expect(await whenReady(a, 2)).toBe(true);
    a.take(HOST);
    expect(a.ready(HOST, 2, Date.now())).toBe(true);
    a.take(HOST);
    // Both of A's slots are busy: B waits, through A's syncs too.
    expect(await whenReady(b, 2, 500)).toBe(false);
    // A's fetches end; at its next settle it learns that B waits and hands the idle slot on.
    a.done(HOST, ok, 2);
    a.done(HOST, ok, 2);
    expect(await whenReady(b, 2)).toBe(true);
    b.take(HOST);
    expect(await whenReady(a, 2)).toBe(true);
    a.take(HOST);
    expect(b.ready(HOST, 2, Date.now())).not.toBe(true);
  });

  it('settles at once after a 429, and holds no more slots than the lowered limit', async () => {
    const crawl = slots('job-a');
    expect(await whenReady(crawl, 2)).toBe(true);
    crawl.take(HOST);
    crawl.take(HOST);
    const before = budget.calls;
    crawl.done(HOST, { ok: 0, latencyMs: 0, throttled: 1, retryAfterMs: 0 }, 2);
    await turn();
    expect(budget.calls).toBe(before + 1);
    // Limit 1 and one fetch still running: no start until it ends; paced from now on.
    expect(crawl.ready(HOST, 2, Date.now())).not.toBe(true);
    crawl.done(HOST, ok, 2);
    expect(await whenReady(crawl, 2)).toBe(true);
  });
});

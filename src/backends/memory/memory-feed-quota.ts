import { type FeedAdmission, type FeedCaps, type FeedHolder, FeedQuota, type FeedSpend } from '../../progress/feed-quota';

/**
 * This process's feed connections and message windows: the embedded mode. Its slots need no
 * lease: they live and die with the process that holds the connections.
 */
export class MemoryFeedQuota extends FeedQuota {
  private readonly byKey = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();
  private readonly leases = new Map<string, FeedHolder>();
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;

  constructor(sweepEveryMs = 60_000) {
    super();
    // Ended windows are dropped now and then, so one-off callers do not pile up.
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  async open(holder: FeedHolder, caps: FeedCaps): Promise<FeedAdmission> {
    const { owner, address } = holder;
    if ((this.byAddress.get(address) ?? 0) >= caps.perAddress) return { refused: 'address' };
    if (owner !== undefined && (this.byKey.get(owner) ?? 0) >= caps.perKey) return { refused: 'key' };
    bump(this.byAddress, address, 1);
    if (owner !== undefined) bump(this.byKey, owner, 1);
    const lease = String(++this.next);
    this.leases.set(lease, { owner, address });
    return { lease };
  }

  async release(lease: string): Promise<void> {
    const holder = this.leases.get(lease);
    if (!holder) return;
    this.leases.delete(lease);
    bump(this.byAddress, holder.address, -1);
    if (holder.owner !== undefined) bump(this.byKey, holder.owner, -1);
  }

  async spend(caller: string, windowMs: number): Promise<FeedSpend> {
    const now = Date.now();
    let window = this.windows.get(caller);
    if (!window || window.resetAt <= now) this.windows.set(caller, (window = { count: 0, resetAt: now + windowMs }));
    window.count++;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  override close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(now = Date.now()): void {
    for (const [caller, window] of this.windows) if (window.resetAt <= now) this.windows.delete(caller);
  }
}

function bump(counts: Map<string, number>, id: string, by: number): void {
  const next = (counts.get(id) ?? 0) + by;
  if (next > 0) counts.set(id, next);
  else counts.delete(id);
}

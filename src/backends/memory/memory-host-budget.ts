import { type HostCaps, HostBudget, type HostGrant, type HostRequest, PACING } from '../../crawl/host-budget';
import { type HostState, newHostState, settleHost } from './host-pacing';

/**
 * The per-host budget of this process: the embedded mode. Holders' slots lapse `leaseMs` after
 * their last settle like the cluster's, so a crawl that vanished without giving back frees its host.
 */
export class MemoryHostBudget extends HostBudget {
  private readonly hosts = new Map<string, { state: HostState; touched: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly leaseMs: number) {
    super();
    this.sweeper = setInterval(() => this.sweep(), PACING.memoryMs / 10);
    this.sweeper.unref();
  }

  async settle(holder: string, requests: readonly HostRequest[], caps: HostCaps): Promise<HostGrant[]> {
    const now = Date.now();
    return requests.map((request) => {
      let entry = this.hosts.get(request.host);
      if (!entry) this.hosts.set(request.host, (entry = { state: newHostState(caps), touched: now }));
      entry.touched = now;
      return settleHost(entry.state, holder, request, caps, now, this.leaseMs);
    });
  }

  override close(): void {
    clearInterval(this.sweeper);
  }

  /** Forgets hosts nobody settled on for a while (their back-off with them). */
  private sweep(now = Date.now()): void {
    for (const [host, entry] of this.hosts) if (entry.touched + PACING.memoryMs < now) this.hosts.delete(host);
  }
}

import { AuthFailures, secondsLeft } from '../../auth/auth-failures';

/** This instance's counts only: the embedded mode. */
export class MemoryAuthFailures extends AuthFailures {
  private readonly windows = new Map<string, { failures: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(max: number, windowMs: number) {
    super(max, windowMs);
    // Ended windows are dropped now and then, so one-off addresses do not pile up.
    this.sweeper = setInterval(() => this.sweep(), Math.max(windowMs, 10_000));
    this.sweeper.unref();
  }

  async retryAfter(address: string): Promise<number> {
    return this.blockedFor(address, Date.now());
  }

  async fail(address: string): Promise<number> {
    const now = Date.now();
    const wait = this.blockedFor(address, now);
    if (wait > 0) return wait;
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) this.windows.set(address, (window = { failures: 0, resetAt: now + this.windowMs }));
    window.failures++;
    return 0;
  }

  override close(): void {
    clearInterval(this.sweeper);
  }

  private blockedFor(address: string, now: number): number {
    const window = this.windows.get(address);
    if (!window || window.resetAt <= now || window.failures < this.max) return 0;
    return secondsLeft(window.resetAt - now);
  }

  private sweep(now = Date.now()): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
  }
}

/**
 * Failed authentications per client address, in fixed windows. Once an address passes the limit,
 * every request of it that needs a key is refused until its window ends, a correct key included:
 * refusing only bad keys would still let a guesser learn which guess was right.
 */
export class AuthFailures {
  private readonly windows = new Map<string, { failures: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {
    // Ended windows are dropped now and then, so one-off addresses do not pile up.
    this.sweeper = setInterval(() => this.sweep(), Math.max(windowMs, 10_000));
    this.sweeper.unref();
  }

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  retryAfter(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (!window || window.resetAt <= now || window.failures < this.max) return 0;
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  record(address: string, now = Date.now()): void {
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) this.windows.set(address, (window = { failures: 0, resetAt: now + this.windowMs }));
    window.failures++;
  }

  get message(): string {
    return `too many failed authentications from this address (AUTH_FAILURES_MAX ${this.max} per ${this.windowMs} ms)`;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(now = Date.now()): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
  }
}

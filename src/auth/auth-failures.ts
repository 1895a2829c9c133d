/**
 * Failed authentications per client address, in fixed windows. Once an address passes the limit,
 * every request of it that needs a key is refused until its window ends, a correct key included:
 * refusing only bad keys would still let a guesser learn which guess was right.
 *
 * The port (an abstract class, so it is also the injection token): MemoryAuthFailures counts in
 * this process, RedisAuthFailures (src/cluster) across the cluster, so that spreading guesses
 * over the instances buys nothing. Async, since the shared count is a round trip.
 */
export abstract class AuthFailures {
  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  abstract retryAfter(address: string): Promise<number>;

  /** Counts one failed authentication of the address. */
  abstract record(address: string): Promise<void>;

  get message(): string {
    return `too many failed authentications from this address (AUTH_FAILURES_MAX ${this.max} per ${this.windowMs} ms)`;
  }

  close(): void {}
}

/** Whole seconds, at least 1, of what remains of a window. */
export const secondsLeft = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

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
    const now = Date.now();
    const window = this.windows.get(address);
    if (!window || window.resetAt <= now || window.failures < this.max) return 0;
    return secondsLeft(window.resetAt - now);
  }

  async record(address: string): Promise<void> {
    const now = Date.now();
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) this.windows.set(address, (window = { failures: 0, resetAt: now + this.windowMs }));
    window.failures++;
  }

  override close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(now = Date.now()): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
  }
}

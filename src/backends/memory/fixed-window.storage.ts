import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  resetAt: number;
}

/**
 * Rate-limit counters in fixed windows: O(1) per request. The throttler's default storage keeps a
 * timestamp per hit and filters that list on every request, which cost 11% of the main thread
 * under load (bench:load) once a caller had thousands of hits in its window. A caller over the
 * limit stays blocked until its window ends (Retry-After says when).
 */
export class FixedWindowStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000) {
    // Ended windows are dropped now and then, so one-off callers do not pile up.
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string) {
    const now = Date.now();
    const id = `${throttlerName}\u0000${key}`;
    let window = this.windows.get(id);
    if (!window || window.resetAt <= now) this.windows.set(id, (window = { hits: 0, resetAt: now + ttl }));
    window.hits++;
    const timeToExpire = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
    const isBlocked = window.hits > limit;
    return { totalHits: window.hits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }

  private sweep(now = Date.now()): void {
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}

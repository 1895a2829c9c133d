/** When a failed delivery is tried again. Pure. */
export interface RetrySchedule {
  maxAttempts: number;
  /** Delay after the first attempt; doubled after each later one. */
  backoffMs: number;
  /** Longest delay, Retry-After included. */
  maxDelayMs: number;
}

/**
 * The delay after `attempts` failed attempts, or null when the delivery is given up. Exponential
 * with "equal jitter" (between half and all of the step), so receivers that fail together are not
 * all hit again at once; a receiver's Retry-After (429, 503) replaces it, bounded by maxDelayMs.
 */
export function retryDelay(attempts: number, schedule: RetrySchedule, retryAfterMs?: number, random: () => number = Math.random): number | null {
  if (attempts >= schedule.maxAttempts) return null;
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), schedule.maxDelayMs);
  const step = Math.min(schedule.maxDelayMs, schedule.backoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** First and longest pause between attempts while the backend is unreachable. */
const FIRST_PAUSE_MS = 50;
const LONGEST_PAUSE_MS = 2_000;

export interface OutageWait {
  /** The backend's word on whether an error means "unreachable now" (Backend.isOutage). */
  isOutage(error: unknown): boolean;
  /** Told once when an outage starts to hold the call, and once when it is over. */
  onOutage?(error: unknown): void;
  onRecovered?(waitedMs: number): void;
  /** Ends the wait early: its reason is thrown. */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, waiting out backend outages with exponential back-off and
 * jitter; any other error is thrown at once. Background work (recording task updates, running a
 * job) goes through here, so an outage holds it until the backend is back instead of failing it
 * or rejecting a promise nobody awaits. `attempt` must be safe to repeat (the store's writes are).
 */
export async function untilAvailable<T>(attempt: () => Promise<T>, wait: OutageWait): Promise<T> {
  let pause = FIRST_PAUSE_MS;
  let since: number | undefined;
  for (;;) {
    try {
      const value = await attempt();
      if (since !== undefined) wait.onRecovered?.(Date.now() - since);
      return value;
    } catch (error) {
      if (!wait.isOutage(error)) throw error;
      if (since === undefined) {
        since = Date.now();
        wait.onOutage?.(error);
      }
      if (wait.signal?.aborted) throw wait.signal.reason;
      await sleep(pause / 2 + Math.random() * pause, wait.signal);
      pause = Math.min(LONGEST_PAUSE_MS, pause * 2);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

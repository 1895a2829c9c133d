import { expect } from 'vitest';

/** A window short enough for a test, long enough that 600 ms into it whole seconds still tell. */
export const SHORT_WINDOW_MS = 1_500;
const WAIT_MS = 600;

export interface WindowProbe {
  /** Opens a window (first hit or failure) and answers its seconds left. */
  open(): Promise<number>;
  /** Hits it again later: the seconds left it answers, one figure per call it made. */
  again(): Promise<number[]>;
}

/**
 * Proves that a fixed window keeps its end, with the whole seconds the ports answer (Retry-After):
 * opens a window of SHORT_WINDOW_MS, waits WAIT_MS measured, hits it again, and checks that each
 * later answer is what is left of the window begun at the first call, within the times measured
 * around the calls. That is 1 s, where a window that restarted at a later hit says 2 s, so a
 * window reset by every hit fails. A machine that stalls past the window's end leaves nothing to
 * judge: then the probe starts over on a fresh window (at most three times).
 */
export async function expectWindowKeepsItsEnd(fresh: () => WindowProbe): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const probe = fresh();
    const openedFrom = Date.now();
    await probe.open();
    const openedBy = Date.now();
    while (Date.now() - openedBy < WAIT_MS) await new Promise((wake) => setTimeout(wake, WAIT_MS - (Date.now() - openedBy)));
    const askedFrom = Date.now();
    const later = await probe.again();
    const askedBy = Date.now();
    if (askedBy - openedFrom >= SHORT_WINDOW_MS - 100 && attempt < 3) continue;
    const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
    const least = seconds(SHORT_WINDOW_MS - (askedBy - openedFrom));
    const most = seconds(SHORT_WINDOW_MS - (askedFrom - openedBy));
    // What a window restarted by the later hit would answer is out of that range.
    expect(most).toBeLessThan(seconds(SHORT_WINDOW_MS));
    for (const left of later) {
      expect(left).toBeGreaterThanOrEqual(least);
      expect(left).toBeLessThanOrEqual(most);
    }
    return;
  }
}

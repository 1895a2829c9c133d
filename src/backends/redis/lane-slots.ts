/**
 * The slots of one queue lane on this instance (its BullMQ worker's concurrency), shared by the
 * tasks its worker takes from the queue and those the runner here runs without the queue (see
 * Placement). A direct run takes a slot only if one is free (otherwise it goes to the queue); a
 * task taken from the queue waits for one. The worker is told to fetch no more than the slots
 * direct runs leave it, so that it does not take tasks that another instance could run at once
 * (BullMQ's concurrency is at least 1: it may hold one task while it waits for a slot).
 */
export class LaneSlots {
  private used = 0;
  private here = 0;
  /** Tasks taken from the queue, waiting for a slot, in order. */
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly size: number,
    /** Told how many tasks the worker may fetch now. */
    private readonly fetchable: (count: number) => void,
  ) {}

  /** Takes a slot for a direct run if one is free. */
  tryTakeHere(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    this.here++;
    this.fetchable(Math.max(1, this.size - this.here));
    return true;
  }

  releaseHere(): void {
    this.here--;
    this.fetchable(Math.max(1, this.size - this.here));
    this.release();
  }

  /** Resolves true once a slot is this task's, false if `signal` aborted first. */
  take(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const handOver = () => {
        signal.removeEventListener('abort', giveUp);
        resolve(true);
      };
      const giveUp = () => {
        const at = this.waiting.indexOf(handOver);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      };
      this.waiting.push(handOver);
      signal.addEventListener('abort', giveUp, { once: true });
    });
  }

  /** Frees a slot taken with take(): handed to the next waiting task, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}

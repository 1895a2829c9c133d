/** One local `run` waiting for a BullMQ job to end. */
interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  since: number;
}

/**
 * The local `run` calls waiting for BullMQ jobs to end, by job id. Settled by this instance's
 * worker when it ends a job itself, by another instance's word (pub/sub) when that one ended it,
 * and by the TaskEndReader from the queue's event stream when that word was lost. Several runs
 * of one task (a second `run` of a key that exists attaches to the same BullMQ job) all settle
 * together.
 */
export class TaskWaiters {
  private readonly byId = new Map<string, Set<Waiter>>();

  /** Jobs waited for. */
  get size(): number {
    return this.byId.size;
  }

  /** Registers a waiter; `cancel` forgets it and resolves it (the caller stopped waiting). */
  wait(id: string): { done: Promise<void>; cancel: () => void } {
    let waiter!: Waiter;
    const done = new Promise<void>((resolve, reject) => (waiter = { resolve, reject, since: Date.now() }));
    let waiters = this.byId.get(id);
    if (!waiters) this.byId.set(id, (waiters = new Set()));
    waiters.add(waiter);
    const cancel = () => {
      const current = this.byId.get(id);
      if (!current?.delete(waiter)) return;
      if (current.size === 0) this.byId.delete(id);
      waiter.resolve();
    };
    return { done, cancel };
  }

  /** Settles the runs waiting for `id`; false if none did. */
  completed(id: string): boolean {
    return this.settle(id, (waiter) => waiter.resolve());
  }

  /** Rejects the runs waiting for `id`; false if none did. */
  failed(id: string, reason: string): boolean {
    return this.settle(id, (waiter) => waiter.reject(new Error(`task ${id} failed: ${reason}`)));
  }

  /** Ids whose oldest waiter has waited longer than `ms`: candidates for a check that they still exist. */
  waitingLongerThan(ms: number): string[] {
    const before = Date.now() - ms;
    const ids: string[] = [];
    for (const [id, waiters] of this.byId) {
      for (const waiter of waiters) {
        if (waiter.since < before) {
          ids.push(id);
          break;
        }
      }
    }
    return ids;
  }

  /** Rejects every waiter (this instance is leaving). */
  rejectAll(error: () => Error): void {
    for (const id of [...this.byId.keys()]) this.settle(id, (waiter) => waiter.reject(error()));
  }

  private settle(id: string, how: (waiter: Waiter) => void): boolean {
    const waiters = this.byId.get(id);
    if (!waiters) return false;
    this.byId.delete(id);
    for (const waiter of waiters) how(waiter);
    return true;
  }
}

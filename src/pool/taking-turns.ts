/**
 * Runs work one piece at a time, its owners taking turns: each owner's pieces in the order they
 * came, the owners round robin. A results page's conversions go through one of these (see
 * PiscinaScheduler), so presentation work holds at most one pool thread and is never queued in the
 * pool ahead of a job's tasks by more than one piece, and one key's many readers make another
 * key's reader wait one turn, not all of theirs.
 */
export class TakingTurns {
  /** Owners waiting, in turn order (a Map keeps insertion order), each with its pieces' go-aheads. */
  private readonly waiting = new Map<string, (() => void)[]>();
  private busy = false;

  async run<T>(owner: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.busy) await this.turn(owner, signal);
    this.busy = true;
    try {
      return await work();
    } finally {
      this.next();
    }
  }

  /** Pieces waiting for their turn. */
  get queued(): number {
    let n = 0;
    for (const pieces of this.waiting.values()) n += pieces.length;
    return n;
  }

  private turn(owner: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let found = this.waiting.get(owner);
      if (!found) this.waiting.set(owner, (found = []));
      const pieces = found;
      const onAbort = () => {
        pieces.splice(pieces.indexOf(go), 1);
        if (pieces.length === 0 && this.waiting.get(owner) === pieces) this.waiting.delete(owner);
        reject(signal?.reason);
      };
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      pieces.push(go);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the turn to the first owner waiting, who then goes to the back of the line. */
  private next(): void {
    const first = this.waiting.entries().next();
    if (first.done) {
      this.busy = false;
      return;
    }
    const [owner, pieces] = first.value;
    const go = pieces.shift()!;
    this.waiting.delete(owner);
    if (pieces.length) this.waiting.set(owner, pieces);
    go();
  }
}

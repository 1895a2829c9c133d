import type { TaskRecord } from './job-data';

/**
 * Reads of single tasks coalesced into one store call: a crawl reads each page's record when its
 * task ends, and with many pages in flight several end while a read is out. Asked while no read
 * is out, a task is read on the next microtask (with whatever else was asked in that turn);
 * asked while one is out, it goes in the next read, sent as soon as that one answers. In the
 * cluster mode that is one Redis round trip for every page that ended meanwhile, not one each.
 */
export class TaskReads {
  private waiting = new Map<number, { resolve: (record: TaskRecord | undefined) => void; reject: (error: unknown) => void }[]>();
  private reading = false;
  private scheduled = false;

  constructor(private readonly read: (indexes: number[]) => Promise<TaskRecord[]>) {}

  get(index: number): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(index);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(index, [{ resolve, reject }]);
      if (!this.reading && !this.scheduled) {
        this.scheduled = true;
        // next() never rejects: a failed read rejects its waiters instead.
        queueMicrotask(() => void this.next());
      }
    });
  }

  private async next(): Promise<void> {
    this.scheduled = false;
    if (this.reading || this.waiting.size === 0) return;
    const batch = this.waiting;
    this.waiting = new Map();
    this.reading = true;
    try {
      const records = new Map((await this.read([...batch.keys()])).map((record) => [record.index, record]));
      for (const [index, waiters] of batch) for (const waiter of waiters) waiter.resolve(records.get(index));
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    } finally {
      this.reading = false;
    }
    if (this.waiting.size > 0) await this.next();
  }
}

import { HandedBack, type PoolTask, TaskQueue } from './task-queue';

export type Execute = (task: PoolTask, signal: AbortSignal) => Promise<void>;

/**
 * The embedded mode's task queue: nothing to share, so `run` hands the task straight to
 * `execute` (the local pool queues it). close() aborts what still runs, with a HandedBack
 * reason so the executor can tell "this instance is leaving" from a cancelled job, and waits
 * for those tasks to settle.
 */
export class LocalTaskQueue extends TaskQueue {
  private readonly leaving = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly execute: Execute) {
    super();
  }

  run(task: PoolTask, signal: AbortSignal): Promise<void> {
    if (this.leaving.signal.aborted) return Promise.reject(new HandedBack());
    if (signal.aborted) return Promise.resolve();
    const run = this.execute(task, AbortSignal.any([signal, this.leaving.signal]));
    const settled = run.catch(() => {});
    this.running.add(settled);
    settled.finally(() => this.running.delete(settled));
    return run;
  }

  async close(): Promise<void> {
    this.leaving.abort(new HandedBack());
    await Promise.all(this.running);
  }
}

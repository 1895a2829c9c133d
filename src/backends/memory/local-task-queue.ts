import { type Execute, HandedBack, type PoolTask, TaskQueue } from '../../jobs/task-queue';

/**
 * The embedded mode's task queue: nothing to share, so `run` hands the task straight to
 * `execute` (the local pool queues it). close() aborts what still runs, with a HandedBack
 * reason so the executor can tell "this instance is leaving" from a cancelled job, and waits
 * for those tasks to settle.
 */
export class LocalTaskQueue extends TaskQueue {
  private readonly leaving = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  /**
   * `abortAll` (the executor's) stops its running tasks on close(): each task gets the caller's
   * signal as it is, instead of one combined with close's (an AbortSignal.any per task,
   * measurable when a job is a handful of small numbers).
   */
  constructor(
    private readonly execute: Execute,
    private readonly abortAll: (reason: HandedBack) => void,
  ) {
    super();
  }

  run(task: PoolTask, signal: AbortSignal): Promise<void> {
    if (this.leaving.signal.aborted) return Promise.reject(new HandedBack());
    if (signal.aborted) return Promise.resolve();
    const run = this.execute(task, signal);
    const settled = run.catch(() => {});
    this.running.add(settled);
    settled.finally(() => this.running.delete(settled));
    return run;
  }

  async close(): Promise<void> {
    this.leaving.abort(new HandedBack());
    this.abortAll(this.leaving.signal.reason);
    await Promise.all(this.running);
  }
}

import { HandedBack, type PoolTask, TaskQueue } from './task-queue';

type Execute = (task: PoolTask, signal: AbortSignal) => Promise<void>;

/** The embedded mode's queue: a pool task runs at once on this process's pool (Piscina queues it). */
export class LocalTaskQueue extends TaskQueue {
  private readonly running = new Set<{ controller: AbortController; done: Promise<unknown> }>();

  constructor(private readonly execute: Execute) {
    super();
  }

  async run(task: PoolTask, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    if (signal.aborted) forward();
    signal.addEventListener('abort', forward, { once: true });
    const done = this.execute(task, controller.signal);
    const entry = { controller, done: done.catch(() => {}) };
    this.running.add(entry);
    try {
      await done;
    } finally {
      signal.removeEventListener('abort', forward);
      this.running.delete(entry);
    }
  }

  /** Nobody to hand tasks to: they stop (and the runner ends their jobs cancelled). */
  async close(): Promise<void> {
    const entries = [...this.running];
    for (const { controller } of entries) controller.abort(new HandedBack());
    await Promise.all(entries.map((entry) => entry.done));
  }
}

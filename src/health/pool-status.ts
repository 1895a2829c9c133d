import { Injectable } from '@nestjs/common';
import { JobStore } from '../jobs/job.store';
import { JobsService } from '../jobs/jobs.service';
import { type PoolStats, TaskScheduler } from '../pool/task-scheduler';

export interface PoolStatus extends PoolStats {
  status: 'up' | 'down';
  reason?: string;
  /** Unfinished tasks across all jobs (what MAX_QUEUED_TASKS counts). */
  queuedTasks: number;
}

/** How long readiness waits for the job store (Redis) before calling it unreachable. */
const STORE_PING_MS = 1_000;

/** Whether the service takes work, and why not; readiness shows the verdict, GET /pool the figures. */
@Injectable()
export class PoolStatusReader {
  constructor(
    private readonly scheduler: TaskScheduler,
    private readonly jobs: JobsService,
    private readonly store: JobStore,
  ) {}

  /** Why this instance takes no work now (draining, no threads, its job store unreachable), or undefined. */
  async verdict(): Promise<string | undefined> {
    if (this.jobs.draining) return 'shutting down';
    if (this.scheduler.stats().maxThreads < 1) return 'no worker threads';
    if (!this.scheduler.ready()) return 'worker threads starting';
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`no answer within ${STORE_PING_MS} ms`)), STORE_PING_MS)));
    try {
      await Promise.race([this.store.ping(), late]);
      return undefined;
    } catch (err) {
      return `job store unreachable: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      clearTimeout(timer);
    }
  }

  async read(): Promise<PoolStatus> {
    const reason = await this.verdict();
    const queuedTasks = reason?.startsWith('job store') ? 0 : await this.jobs.queuedTasks();
    return { status: reason ? 'down' : 'up', ...(reason ? { reason } : {}), ...this.scheduler.stats(), queuedTasks };
  }
}

import { Injectable } from '@nestjs/common';
import { JobsService } from '../jobs/jobs.service';
import { type PoolStats, TaskScheduler } from '../pool/task-scheduler';

export interface PoolStatus extends PoolStats {
  status: 'up' | 'down';
  reason?: string;
  /** Unfinished tasks across all jobs (what MAX_QUEUED_TASKS counts). */
  queuedTasks: number;
}

/** Whether the service takes work, and why not; readiness shows the verdict, GET /pool the figures. */
@Injectable()
export class PoolStatusReader {
  constructor(
    private readonly scheduler: TaskScheduler,
    private readonly jobs: JobsService,
  ) {}

  read(): PoolStatus {
    const stats = this.scheduler.stats();
    const reason = this.jobs.draining ? 'shutting down' : stats.maxThreads < 1 ? 'no worker threads' : undefined;
    return { status: reason ? 'down' : 'up', ...(reason ? { reason } : {}), ...stats, queuedTasks: this.jobs.queuedTasks() };
  }
}

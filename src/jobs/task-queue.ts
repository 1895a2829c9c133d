import type { WorkerName, WorkerProfile } from '../pool/task-scheduler';
import type { JobKindName } from './job.model';

/** One pool task: the unit a worker thread runs, covering one or more of a job's tasks. */
export interface PoolTask {
  /** Stable across a takeover (the same chunk or page gets the same key), so a re-queue de-duplicates. */
  key: string;
  jobId: string;
  /** The job's kind and owner, for the progress events its updates make wherever it runs. */
  kind: JobKindName;
  owner?: string;
  worker: WorkerName;
  /** The worker's profile (from its kind's registration): a queue keeps CPU and I/O tasks in separate lanes. */
  profile: WorkerProfile;
  payload: object;
  /** The job tasks it works on, and their inputs (for the progress events it makes). */
  indexes: number[];
  inputs: unknown[];
  /** See RunOptions.stream. */
  stream?: boolean;
  /**
   * If it fails on its worker (its thread died twice, see PiscinaScheduler, or it passed
   * TASK_TIMEOUT_MS), its unfinished tasks are left as they were rather than failed, for the kind
   * to send again one by one: a group of a crawl's pages, where one page that kills its thread or
   * hangs must not fail the pages it travelled with.
   */
  splitOnCrash?: boolean;
}

/** Runs one pool task on this instance's pool (TaskExecutor.execute), for whichever queue took it. */
export type Execute = (task: PoolTask, signal: AbortSignal) => Promise<void>;

/** Why a pool task did not run to its end here: its job was cancelled, or this instance is leaving. */
export class HandedBack extends Error {
  constructor() {
    super('handed back: this instance is shutting down');
    this.name = 'HandedBack';
  }
}

/**
 * Where a job's runner sends pool tasks. Embedded (LocalTaskQueue): run them on this process's
 * pool. Cluster (BullTaskQueue): as BullMQ jobs that every instance's workers take and run on
 * their own pools; a task whose instance died is taken again by another (at-least-once), and
 * the store records its results once. Either way the task's updates are stored by the instance
 * that ran it before `run` resolves.
 */
export abstract class TaskQueue {
  /**
   * Resolves when the task has ended (its updates stored), however it ended. `signal` removes a
   * queued task and ends the wait; a running task stops on its job's cancel signal (embedded:
   * also on this signal).
   */
  abstract run(task: PoolTask, signal: AbortSignal): Promise<void>;
  /** Stops taking tasks; unfinished ones are handed back to other instances (cluster) or cancelled (embedded). */
  abstract close(): Promise<void>;
}

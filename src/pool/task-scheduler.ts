import type { TaskUpdate } from './task-protocol';

/** A worker entry point's name, as a job kind registered it (WorkerCatalog). */
export type WorkerName = string;

/** cpu: one task per thread; io: many concurrent tasks per thread (they mostly wait). */
export type WorkerProfile = 'cpu' | 'io';
/** A pool per profile, each of POOL_SIZE threads. */
export const WORKER_PROFILES: readonly WorkerProfile[] = ['cpu', 'io'];

/** A worker entry point a job kind brings: a module whose default export runs one task. */
export interface WorkerSpec {
  name: WorkerName;
  /** Absolute path of the module (.js, or .ts when running from sources: loaded through tsx). */
  file: string;
  profile: WorkerProfile;
  /**
   * This instance's settings the worker needs (plain data), given to every thread when it starts
   * and read there with workerSettings(name). Never carried by a task: a task may have been
   * planned by another instance's coordinator, and it is this instance's settings that hold here.
   */
  settings?: Record<string, unknown>;
}

export interface RunOptions {
  /** Aborting removes a queued task, or stops the worker thread running it. */
  signal?: AbortSignal;
  /** Updates in the order the worker sent them; all of them arrive before the promise settles. */
  onUpdates(updates: TaskUpdate[]): void;
  /** A worker picked the task up. */
  onStart?(): void;
  /**
   * false for short tasks: no port, no progress, no start signal or task timeout; the worker
   * returns its updates as the task's result. Saves a MessageChannel and three messages a task,
   * which dominate when a job is a handful of small numbers.
   */
  stream?: boolean;
  /**
   * Presentation work (a results page's conversions) for this owner, the job's caller: it runs
   * after the presentation work already waiting, one piece at a time, the owners taking turns, so
   * reading results never holds more than one thread nor delays a job's tasks by more than one piece.
   */
  presentFor?: string;
}

export interface PoolStats {
  threads: number;
  maxThreads: number;
  /** Tasks a worker is running right now (Piscina's utilization only counts finished ones). */
  running: number;
  queued: number;
  utilization: number;
  completed: number;
  /** I/O tasks run again, alone on a thread, because the thread they shared died under them. */
  retried: number;
}

/**
 * Runs one task on some worker. The embedded implementation is a Piscina pool in this process;
 * the multi-node mode puts a queue behind the same interface.
 */
export abstract class TaskScheduler {
  /** Starts the workers (once every kind registered its own); run() starts them too if needed. */
  start(): void {}
  /**
   * Every thread started at boot has loaded its worker module (a crawl thread: warmed up too) and
   * takes tasks. Until then the instance is not ready: work sent to it would wait for its threads,
   * and they compete for the cores with whatever it is sent.
   */
  ready(): boolean {
    return true;
  }
  abstract run(worker: WorkerName, payload: object, options: RunOptions): Promise<void>;
  abstract stats(): PoolStats;
  abstract close(): Promise<void>;
}

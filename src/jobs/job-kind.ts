import type { TaskUpdate } from '../pool/task-protocol';
import type { WorkerName } from '../pool/task-scheduler';
import type { JobKindName, JobRecord } from './job.model';

export type ResultFormat = 'decimal' | 'hex';

/** What a job kind gets from the jobs service while its job runs. */
export interface JobContext<TInput, TResult> {
  readonly job: JobRecord<TInput, TResult>;
  /** Aborted when the job is cancelled. */
  readonly signal: AbortSignal;
  /**
   * Runs one pool task that works on the given task indexes. Never throws: if the task dies
   * (crash, out of memory, timeout, cancel) its unfinished indexes are marked failed or cancelled.
   */
  runTask(worker: WorkerName, payload: object, indexes: readonly number[], options?: { stream?: boolean }): Promise<void>;
  /** Adds a task while the job runs (a crawl discovers pages); subscribers see it queued. */
  addTask(input: TInput): number;
  /** Settles tasks decided without a worker (a page robots.txt forbids). */
  report(updates: TaskUpdate<TResult>[]): void;
}

/**
 * What a job holds while it runs, counted by admission from submit to end (whatever the end):
 * refused upfront if the caller's or the service's share would pass its bound.
 */
export interface Reservation {
  /** Tasks it will queue at most (a crawl: its maxPages), counted against MAX_QUEUED_TASKS. */
  tasks: number;
  /** Result bytes it may hold, counted against MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY. */
  resultBytes: number;
  /** Pages it may fetch (crawls only), counted against MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY. */
  crawlPages: number;
  /** Fetches it may run at once (crawls only: its concurrency), counted against MAX_CRAWL_CONCURRENCY_PER_KEY. */
  crawlFetches: number;
}

/**
 * One kind of work (Fibonacci, crawl). The jobs service owns the lifecycle, the store and the
 * events; a kind decides how tasks map onto pool tasks and how its results look.
 */
export interface JobKind<TInput = unknown, TResult = unknown> {
  readonly name: JobKindName;
  execute(context: JobContext<TInput, TResult>): Promise<void>;
  /** Small per-task fields for progress events and result items (never the big value). */
  summarize(input: TInput, result: TResult | undefined): Record<string, unknown>;
  /** A finished task's result as the results endpoint shows it (input fields included). */
  present(input: TInput, result: TResult, format: ResultFormat): Record<string, unknown>;
  /**
   * Extra bytes of work presenting this result costs beyond the JSON it yields (a hex value
   * converted on the main thread), counted against a results page's byte bound.
   */
  presentCost?(result: TResult, format: ResultFormat): number;
  /**
   * A task that failed without a result (its pool task died: crash, heap, TASK_TIMEOUT_MS), as
   * the results endpoint shows it; `message` says why. Each kind keeps its own error shape.
   */
  presentError(input: TInput, message: string): Record<string, unknown>;
  /** Memory a stored result takes, for retention limits. */
  sizeOf(result: TResult): number;
  /** What the job will hold while it runs, known at submit (see Reservation). */
  reserve(params: unknown, inputs: readonly TInput[]): Reservation;
}

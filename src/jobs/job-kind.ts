import type { TaskRecord, JobHeader, JobSnapshotData, NewTask, StoredUpdate } from './job-data';
import type { JobKindName } from './job.model';
import type { TaskScheduler, WorkerSpec } from '../pool/task-scheduler';
import type { PoolTask } from './task-queue';

/** The pool as a kind reaches it outside a job's run (a results page's conversions). */
export type PoolRunner = Pick<TaskScheduler, 'run'>;

export type ResultFormat = 'decimal' | 'hex';

/** A pool task as a kind asks for it; the runner adds the job's id, kind and owner. */
export type TaskRequest = Omit<PoolTask, 'jobId' | 'kind' | 'owner' | 'profile'>;

/**
 * What a job kind gets from the runner while it coordinates a job. Everything the job is lives in
 * the store; a kind reads it through here and changes it only through these calls, so a runner
 * on another instance can take the job over after a crash and carry on from the stored state.
 */
export interface JobContext<TInput, TResult> {
  /** The job as the runner took it (params, owner, counts at that moment). */
  readonly job: JobHeader;
  /** Worker threads the job's pool tasks can spread over (every instance's, in the cluster mode), when the runner took it. */
  readonly threads: number;
  /** Aborted when this runner stops coordinating: the job was cancelled, or it is handed to another instance. */
  readonly signal: AbortSignal;
  /** Every task's state now: a kind resuming a job skips what is finished. */
  snapshot(): Promise<JobSnapshotData>;
  inputs(offset: number, limit: number): Promise<TInput[]>;
  /**
   * Calls `watcher` with tasks of the job that a pool task has recorded finished, as they are
   * stored, before that pool task ends (a crawl's pages of one pool task end one by one); read them
   * with task(). Tasks of pool tasks on this instance come from its recorder; in the cluster mode,
   * those stored by another instance come from the job's task.progress events (one lost costs only
   * time: the pool task's end is still the sign). A task may be reported more than once. Returns the
   * function that stops it.
   */
  watchFinished(watcher: (indexes: number[]) => void): () => void;
  /** One task with its result, once its pool task ended. */
  task(index: number): Promise<TaskRecord<TInput, TResult>>;
  /** Tasks `offset` .. `offset + limit - 1` with their results (a kind resuming a job). */
  tasks(offset: number, limit: number): Promise<TaskRecord<TInput, TResult>[]>;
  /**
   * Runs one pool task (on this instance or another) and resolves when it ended, its updates
   * stored. Never throws: if it dies (crash, out of memory, timeout, cancel) its unfinished tasks
   * are marked failed or cancelled.
   */
  runTask(task: TaskRequest): Promise<void>;
  /** Adds tasks while the job runs, each once per key (a crawl's pages), up to `maxTotal`. */
  addTasks(tasks: NewTask<TInput>[], maxTotal: number): Promise<{ index: number; input: TInput }[]>;
  /** Marks keys seen without tasks (a redirect target); returns how many the job has seen. */
  markSeen(keys: string[]): Promise<number>;
  /** Settles tasks decided without a worker (a page robots.txt forbids). */
  report(updates: StoredUpdate<TResult>[], inputs: TInput[]): Promise<void>;
  /** Kind-specific totals shown with the job (a crawl's pages, links, bytes). */
  setSummary(summary: Record<string, number>): Promise<void>;
  /**
   * The kind's own notes on the job, kept in the store so a runner taking the job over reads the
   * decisions made before (a crawl's robots.txt rules) instead of making them again.
   */
  saveNotes(notes: Record<string, string>): Promise<void>;
  /** The notes whose key starts with `prefix`. */
  readNotes(prefix: string): Promise<Record<string, string>>;
  /** Adds to one of the kind's declared counter metrics (JobKind.metrics), on this instance. */
  count(metric: string, labels: Record<string, string>, by?: number): void;
  /** One item of one of the kind's own notices (JobKind.notices; a crawl's `crawl.page`), for webhooks that asked for it. */
  notify(event: string, item: unknown): void;
}

/** What a kind may read of a job while it presents its results: the notes it saved while the job ran. */
export interface PresentContext {
  readNotes(prefix: string): Promise<Record<string, string>>;
}

/** A counter metric a kind reports through its job context (exported at 0 from the start). */
export interface KindMetric {
  name: string;
  help: string;
  labelNames: readonly string[];
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
  /** The kind's own counters (see JobKind.counters), by name; a missing one holds 0. */
  counters?: Record<string, number>;
}

/**
 * A quantity a kind's jobs hold while they run, bounded per caller across all of its unfinished
 * jobs (a crawl's pages, its fetches at once). The store sums it per caller by name.
 */
export interface CounterBound {
  /** Unique across kinds: prefix it with the kind's name (`crawl.pages`). */
  name: string;
  /** What one caller's unfinished jobs may hold together. */
  perCaller: number;
  /** The refusal's message (429), given what is held, what the new job wants and the bound. */
  refusal(held: number, wants: number, perCaller: number): string;
}

/**
 * One kind of work (Fibonacci, crawl), registered at start-up (JobKinds). The jobs core owns the
 * lifecycle, the store and the events; a kind decides how tasks map onto pool tasks and how its
 * results look. `execute` must be resumable: called again for a job taken over from a dead
 * instance, it carries on from the stored state.
 */
export interface JobKind<TInput = unknown, TResult = unknown> {
  readonly name: JobKindName;
  execute(context: JobContext<TInput, TResult>): Promise<void>;
  /** Small per-task fields for progress events and result items (never the big value). */
  summarize(input: TInput, result: TResult | undefined): Record<string, unknown>;
  /** A finished task's result as the results endpoint shows it (input fields included); `params`: the job's request. */
  present(input: TInput, result: TResult, format: ResultFormat, params?: unknown): Record<string, unknown>;
  /**
   * What presenting this result costs a results page, known from the stored result before any
   * work is done for it: the bytes of its item in full (as if no `maxChars` shortened it) plus the
   * work of making it (a value converted to hexadecimal counts the bytes converted). A page ends
   * before the item that would take these past RESULTS_MAX_PAGE_BYTES, and only the items that fit
   * are prepared, so a page of previews reads and converts no more than a page of whole values.
   * Without it, an item costs the bytes of its full JSON (measured once presented).
   */
  presentCost?(result: TResult, format: ResultFormat): number;
  /**
   * A task that failed without a result (its pool task died: crash, heap, TASK_TIMEOUT_MS), as
   * the results endpoint shows it; `message` says why. Each kind keeps its own error shape.
   */
  presentError(input: TInput, message: string): Record<string, unknown>;
  /**
   * Work a page of results needs before it is presented, done off the main thread (a Fibonacci
   * value's hexadecimal text, made on a worker for `format=hex`): replaces `record.result` of the
   * records it prepares (never changes the stored result object). Its pool tasks run as
   * presentation work of the job's caller (RunOptions.presentFor): one in the pool at a time, the
   * callers taking turns.
   */
  prepare?(records: TaskRecord<TInput, TResult>[], format: ResultFormat, pool: PoolRunner, job: PresentContext): Promise<void>;
  /** Memory a stored result takes, for retention limits. */
  sizeOf(result: TResult): number;
  /** What the job will hold while it runs, known at submit (see Reservation). */
  reserve(params: unknown, inputs: readonly TInput[]): Reservation;
  /** Columns of its CSV export, from the fields of its result items (none: NDJSON only). */
  readonly exportColumns?: readonly string[];
  /** The worker entry points its pool tasks run (TaskRequest.worker names one). */
  readonly workers?: readonly WorkerSpec[];
  /** The counters its reservations name, each with its per-caller bound. */
  readonly counters?: readonly CounterBound[];
  /** Counter metrics it reports (JobContext.count). */
  readonly metrics?: readonly KindMetric[];
  /** The kind's own webhook events besides the job's lifecycle (a crawl's `crawl.page`), sent through JobContext.notify. */
  readonly notices?: readonly string[];
}

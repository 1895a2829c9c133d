import { BackendUnavailableError } from '../backends/backend-unavailable';
import type { AdmissionFigures, Announce, Applied, JobHeader, JobPage, JobQuery, JobSnapshotData, NewJob, NewTask, StoredUpdate, TaskRecord } from './job-data';

export type { JobPage, JobQuery, RetentionPolicy } from './job-data';

/**
 * Where jobs live: the embedded store keeps them in this process (MemoryJobStore), the cluster
 * mode in Redis (RedisJobStore), behind this one contract (test/contracts/job-store.contract.ts
 * runs against both). Every method speaks plain data and every write is explicit and atomic:
 *
 * - Task updates are idempotent: a finished task never changes again, so a pool task run twice
 *   (at-least-once execution after a crash) records its results once (exactly-once results).
 * - Writes to a finished job are ignored.
 * - Every write that changes a job increments its `seq`; a snapshot is read at one seq, so a
 *   subscriber that reads a snapshot and then applies the events with a higher seq counts every
 *   task exactly once.
 * - Admission figures (per-caller holdings, queue depth) are kept by the store with the jobs, so
 *   they hold across instances and are released exactly once, when the job ends.
 * - A lease names the instance running a job's coordinator; a job whose lease lapsed is taken
 *   over by another instance.
 */
export abstract class JobStore {
  /** Whether `apply` publishes the announced event itself (see Announce); callers then do not. */
  readonly announces: boolean = false;

  /** What `callerId`'s unfinished jobs hold, the queue depth, and a version of both. */
  abstract admission(callerId: string): Promise<AdmissionFigures>;
  /**
   * Creates the job (status queued, seq 1) with its first tasks and counts its reservation, if
   * the admission figures are still at `version`; false means another job came in meanwhile:
   * read the figures again and re-check.
   */
  abstract create(job: NewJob, inputs: unknown[], version: string): Promise<boolean>;

  /**
   * Admits and creates a job in one step: `check` sees the figures and throws the refusal, if
   * any; when another job came in between, the figures are read again (up to `attempts` times,
   * then `tooBusy` is thrown). A store that can check and create atomically does it at once.
   */
  async admit(job: NewJob, inputs: unknown[], check: (figures: AdmissionFigures) => void, tooBusy: () => Error, attempts = 20): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const figures = await this.admission(job.callerId);
      check(figures);
      if (await this.create(job, inputs, figures.version)) return;
      if (attempt >= attempts) throw tooBusy();
    }
  }
  abstract get(id: string): Promise<JobHeader | undefined>;
  /**
   * Jobs matching every filter, newest first, from `before` on. Read from per-scope indexes
   * (every job, each owner's; by status, kind and label), so the cost is the page, or
   * LIST_SCAN_BUDGET candidates when filters are checked job by job, never every stored job.
   * Jobs past retention are in no page and no count.
   */
  abstract list(query: JobQuery): Promise<JobPage>;
  /** The header, every task's state and progress, all at one seq. */
  abstract snapshot(id: string): Promise<JobSnapshotData | undefined>;
  /** Tasks `offset` .. `offset + limit - 1` (fewer past the end), with inputs, results and errors. */
  abstract tasks(id: string, offset: number, limit: number): Promise<TaskRecord[]>;
  /** The tasks at `indexes` (in that order; those past the end left out): one read for pages that ended together. */
  abstract tasksAt(id: string, indexes: readonly number[]): Promise<TaskRecord[]>;
  /** Inputs of tasks `offset` .. `offset + limit - 1`. */
  abstract inputs(id: string, offset: number, limit: number): Promise<unknown[]>;
  /**
   * Appends tasks (status queued) whose key the job has not seen, marking the keys seen, while
   * the job has fewer than `maxTotal` tasks; returns the appended tasks' indexes and inputs.
   * Keys past `maxTotal` are still marked seen. With `announce` (each task's `queued` update by
   * position), a store that can publishes those of the appended tasks in the same atomic step.
   */
  abstract appendTasks(id: string, tasks: NewTask[], maxTotal: number, announce?: Announce): Promise<{ index: number; input: unknown }[]>;
  /** Marks keys seen without tasks (a redirect's target); returns how many keys the job has seen. */
  abstract markSeen(id: string, keys: string[]): Promise<number>;
  /** queued -> running (seq + 1); undefined if the job was not queued. */
  abstract start(id: string, now: number): Promise<JobHeader | undefined>;
  /**
   * Applies task updates in order; see the class comment for which take effect. With `announce`,
   * a store that can also publishes their `task.progress` event in the same atomic step (and says so).
   */
  abstract apply(id: string, updates: StoredUpdate[], announce?: Announce): Promise<Applied>;
  /** Marks every unfinished task cancelled (the job is ending); returns what changed, inputs included. */
  abstract settle(id: string): Promise<Applied>;
  abstract setSummary(id: string, summary: Record<string, number>): Promise<void>;
  /**
   * A kind's notes on the job (a crawl's robots.txt decisions): coordination state a runner taking
   * the job over reads back instead of redoing the work. Sets each key (others untouched); ignored
   * for an unknown or finished job. Notes change no seq and count toward no bound; they go with the
   * job's other data (expiry, eviction).
   */
  abstract saveNotes(id: string, notes: Record<string, string>): Promise<void>;
  /** Every note of the job whose key starts with `prefix` ({} for an unknown job). */
  abstract readNotes(id: string, prefix: string): Promise<Record<string, string>>;
  /** Records a cancel for the job's runner, wherever it runs; undefined if the job is unknown. */
  abstract requestCancel(id: string, reason: string): Promise<JobHeader | undefined>;
  /**
   * Ends the job with its final status (seq + 1), releases its admission holdings and applies
   * retention (the oldest finished jobs may be evicted); undefined if it had already ended.
   */
  abstract finish(id: string, status: 'completed' | 'failed' | 'cancelled', reason: string | undefined, now: number): Promise<JobHeader | undefined>;
  /**
   * Ids of `owner`'s unfinished jobs, read from a per-owner index so the cost is what the owner
   * has, not what every tenant has; without an owner (keys off, or an internal sweep) every
   * unfinished job's. A job created without an owner is in no owner's list.
   */
  abstract unfinished(owner?: string): Promise<string[]>;
  /** Takes the job's lease for `holder` if nobody holds it (or `holder` already does). */
  abstract claim(id: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends `holder`'s lease; false if it lapsed and somebody else took it (stop running the job). */
  abstract renew(id: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (a graceful shutdown hands the job to another instance at once). */
  abstract release(id: string, holder: string): Promise<void>;
  /** Unfinished jobs whose lease nobody holds: their runner died or handed them back. */
  abstract unclaimed(): Promise<string[]>;
  /** Whether the store answers (readiness); rejects quickly when it does not. */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}

/** Thrown by a store that cannot reach its backend: the service answers 503 and retries later. */
export class StoreUnavailableError extends BackendUnavailableError {
  constructor(cause: unknown) {
    super('job store', cause);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The job model as plain, serialisable data: what every job store keeps and hands out. Nothing
 * here is a live object; a change to a job is an explicit, async store write (see JobStore).
 */
import type { TaskState, TaskUpdate } from '../pool/task-protocol';
import type { Reservation } from './job-kind';
import type { JobKindName, JobStatus } from './job.model';
import type { WebhookSubscription } from './job-options';

/** What a store keeps about a job besides its tasks. */
export interface JobHeader {
  id: string;
  kind: JobKindName;
  /** The API key that created the job, if keys are on. */
  owner?: string;
  /** Who admission counts the job against (owner, or the client address when keys are off). */
  callerId: string;
  /** The request's options, for kinds whose tasks are not all known upfront (a crawl). */
  params?: unknown;
  /** The caller's name for the job (JobOptions). */
  name?: string;
  /** The caller's labels (JobOptions), to filter jobs by. */
  labels?: Record<string, string>;
  /** Where to deliver the job's events; its secret is never shown (toView leaves it out). */
  webhook?: WebhookSubscription;
  /** What admission holds for the job until it ends. */
  reservation: Reservation;
  status: JobStatus;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Why the job ended failed or cancelled. */
  reason?: string;
  /** Set by a cancel (from any instance) until the job's runner has stopped it. */
  cancelRequested?: string;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Bytes the stored results take, for retention limits. */
  resultBytes: number;
  /** Sequence number of the job's last state change: every event carries the seq it made. */
  seq: number;
  /** Kind-specific running totals (a crawl's pages, links and bytes). */
  summary?: Record<string, number>;
  /**
   * Recent (time, tasks done) samples, flat [t0, n0, t1, n1, ...], written with the task counts:
   * the job's rate and ETA derive from them (src/jobs/job-rate.ts).
   */
  rateSamples?: number[];
}

/** A job as a new submission creates it. */
export type NewJob = Pick<JobHeader, 'id' | 'kind' | 'owner' | 'callerId' | 'params' | 'reservation' | 'createdAt' | 'name' | 'labels' | 'webhook'>;

/** The header plus every task's state, read at one point of the job's history (header.seq). */
export interface JobSnapshotData {
  header: JobHeader;
  /** One letter per task (STATE_CODES). */
  tasks: string;
  /** Progress 0..1 of running tasks that report it, by index. */
  progress: Record<number, number>;
}

/** One task as the results endpoint reads it. */
export interface TaskRecord<I = unknown, R = unknown> {
  index: number;
  input: I;
  state: TaskState;
  result?: R;
  error?: string;
}

/** A task update to store: the worker's update plus the result's size (for retention). */
export interface StoredUpdate<R = unknown> extends TaskUpdate<R> {
  bytes?: number;
}

/**
 * The `task.progress` event of an apply, rendered before it: a store that can publish atomically
 * with the write (Redis: from the same Lua script) sends the updates that took effect, so no
 * crash between storing and publishing can lose an event, and events go out in seq order.
 */
export interface Announce {
  owner?: string;
  /** Each update as the event shows it (JSON), by position in the apply's updates. */
  updates: string[];
}

/** What a write changed: the updates that took effect (finished tasks never change again). */
export interface Applied {
  /** The store published the event itself (see Announce). */
  announced?: boolean;
  /** The job's seq after the write (unchanged when nothing took effect). */
  seq: number;
  /** The updates that took effect, in order; `input` is set for tasks settled by the store itself. */
  changed: (StoredUpdate & { input?: unknown })[];
  header: Pick<JobHeader, 'status' | 'total' | 'completed' | 'failed' | 'cancelled' | 'resultBytes' | 'summary'>;
}

/** What one caller's unfinished jobs hold, as admission counts it. */
export interface Held {
  jobs: number;
  resultBytes: number;
  /** Sums of the kinds' counters (Reservation.counters), by name; a missing one is 0. */
  counters: Record<string, number>;
}

/** Admission's inputs, read together; `version` changes whenever any caller's holdings grow. */
export interface AdmissionFigures {
  held: Held;
  /** Unfinished tasks across every unfinished job, a crawl counting its maxPages. */
  queued: number;
  version: string;
}

/** A task to append unless its key was seen in the job before (a crawl's normalised URL). */
export interface NewTask<I = unknown> {
  key?: string;
  input: I;
}

/**
 * What GET /jobs asks a store for: one scope (an owner's jobs, or every job without one), filters
 * that must all hold, and a page of `limit` jobs created before `before`, newest first.
 */
export interface JobQuery {
  status?: JobStatus;
  kind?: JobKindName;
  owner?: string;
  /** Label key/value pairs the job must all carry. */
  labels?: [string, string][];
  /** Lower-cased: a prefix of the job's id, or a substring of its lower-cased name. */
  q?: string;
  /** A position (JobPage.next) to continue from: only jobs created before it. */
  before?: number;
  limit: number;
}

/**
 * Candidates a list examines at most per call when filters must be checked job by job (several
 * filters, or `q`): a page may then hold fewer than `limit` jobs while `next` is still set, so
 * one request's cost stays bounded whatever the owner holds.
 */
export const LIST_SCAN_BUDGET = 2_000;

/** A page of jobs, newest first. */
export interface JobPage {
  items: JobHeader[];
  /** Where the next page starts (pass as `before`); null when nothing older can match. */
  next: number | null;
  /**
   * How many jobs match, when one index answers that (no filter, or one of status, kind or a
   * single label, and no `q`); null when counting would mean examining every candidate.
   */
  total: number | null;
}

export interface RetentionPolicy {
  /** How long a finished job stays readable. */
  maxAgeMs: number;
  /** How many finished jobs are kept at most. */
  maxCount: number;
  /** How many bytes of results finished jobs may hold together. */
  maxBytes: number;
}

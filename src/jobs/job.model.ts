/**
 * The job model shared by every job kind: a job is a list of tasks, each with a state and,
 * once finished, a result or an error. Kinds differ only in what a task is and what it yields.
 * The data itself (JobHeader, tasks) lives in the job store: see job-data.ts.
 */
import type { TaskState } from '../pool/task-protocol';

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** A registered job kind's name (JobKinds); the core names none. */
export type JobKindName = string;
/** What a kind's name looks like: it appears in URLs, metric labels and store keys. */
export const KIND_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export function isFinal(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** One character per task state in compact task maps (snapshots, dashboards, the Redis store). */
export const STATE_CODES: Record<TaskState, string> = {
  queued: 'q',
  running: 'r',
  completed: 'c',
  failed: 'f',
  cancelled: 'x',
};

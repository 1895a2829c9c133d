import type { JobRecord } from './job.model';

/** A job as the API shows it (GET /jobs/:id, the 202 of a submission, event payloads). */
export interface JobView {
  id: string;
  kind: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  reason?: string;
  links: { self: string; results: string; events: string };
}

/** The snapshot a subscriber gets first: the view plus every task's state, one letter each. */
export interface JobSnapshot extends JobView {
  /** q queued, r running, c completed, f failed, x cancelled; position = task index. */
  tasks: string;
  /** Progress 0..1 of running tasks that report it, by index. */
  progress: Record<number, number>;
}

const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());

export function toView(job: JobRecord): JobView {
  const self = `/jobs/${job.id}`;
  const end = job.finishedAt ?? (job.startedAt !== undefined ? Date.now() : undefined);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    total: job.total,
    completed: job.completed,
    failed: job.failed,
    cancelled: job.cancelled,
    createdAt: iso(job.createdAt)!,
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    durationMs: job.startedAt !== undefined && end !== undefined ? end - job.startedAt : null,
    ...(job.reason ? { reason: job.reason } : {}),
    links: { self, results: `${self}/results`, events: `${self}/events` },
  };
}

export function toSnapshot(job: JobRecord): JobSnapshot {
  return { ...toView(job), tasks: job.taskMap(), progress: Object.fromEntries(job.progress) };
}

import { z } from 'zod';
import type { JobHeader, JobSnapshotData } from './job-data';
import { etaOf, rateOf } from './job-rate';
import { JOB_STATUSES } from './job.model';
import { DEFAULT_WEBHOOK_EVENTS } from './job-options';

/** A job as the API shows it (GET /jobs/:id, the 202 of a submission, event payloads). */
export const jobViewSchema = z
  .object({
    id: z.uuid(),
    kind: z.string().describe('the job kind (fibonacci, crawl, or another registered kind)'),
    name: z.string().optional().describe("the caller's name for the job, as submitted"),
    labels: z.record(z.string(), z.string()).optional().describe("the caller's labels, as submitted"),
    webhook: z
      .object({ url: z.string(), events: z.array(z.string()) })
      .optional()
      .describe("where the job's events are delivered (the secret is never shown); see GET /jobs/{id}/webhooks"),
    status: z.enum(JOB_STATUSES),
    total: z.int().describe('tasks in the job (numbers, pages)'),
    completed: z.int(),
    failed: z.int(),
    cancelled: z.int(),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    durationMs: z.number().nullable().describe('from start to finish, or to now while running'),
    reason: z.string().optional().describe('why the job ended failed or cancelled'),
    rate: z
      .number()
      .nonnegative()
      .nullable()
      .describe(
        'tasks done (completed or failed; for a crawl, pages fetched) per second. While the job runs: over the last 10 s, so a stalled job falls to 0; null in its first second. Once final: over the whole run, null when it lasted under 1 s. Null while queued. The same on every instance (derived from stored samples).',
      ),
    etaMs: z
      .int()
      .nonnegative()
      .nullable()
      .describe(
        'estimated milliseconds until the last task finishes, at `rate`: what remains is total − finished tasks (for a crawl, its queued and running pages: a lower bound, since it may discover more). 0 once the job is final; null while queued, while the rate is unknown or 0, or while nothing is known to remain.',
      ),
    summary: z.record(z.string(), z.number()).optional().describe('kind-specific totals, e.g. a crawl: pagesOk, pagesFailed, linksDiscovered, bytesFetched, queued, discovered'),
    links: z.object({ self: z.string(), results: z.string(), events: z.string() }),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof jobViewSchema>;

/** The snapshot a subscriber gets first: the view plus every task's state, one letter each. */
export const jobSnapshotSchema = jobViewSchema
  .extend({
    tasks: z.string().describe('one letter per task, by index: q queued, r running, c completed, f failed, x cancelled'),
    progress: z.record(z.string(), z.number()).describe('progress 0..1 of running tasks that report it, by index'),
    resume: z
      .object({ afterSeq: z.int(), replayed: z.literal(false) })
      .optional()
      .describe('set when a feed resumed (SSE Last-Event-ID, WebSocket afterSeq) from a seq whose later events cannot be replayed: this snapshot replaces them; count events after its seq as usual'),
  })
  .meta({ id: 'JobSnapshot' });
export type JobSnapshot = z.infer<typeof jobSnapshotSchema>;

/** GET /jobs: a page of jobs, newest first. */
export const jobListSchema = z
  .object({
    items: z.array(jobViewSchema),
    nextCursor: z
      .string()
      .nullable()
      .describe(
        'pass as `cursor` (with the same filters) for the next page; null when no older job can match. A page may hold fewer than `limit` jobs while this is set: with several filters or `q`, one request examines at most 2,000 candidates',
      ),
    limit: z.int(),
    total: z.int().nullable().describe('jobs matching the filters, when one index counts them (no filter, or exactly one of status, kind or label, and no q); null otherwise'),
  })
  .meta({ id: 'JobList' });
export type JobList = z.infer<typeof jobListSchema>;

const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());

export function toView(job: JobHeader): JobView {
  const self = `/jobs/${job.id}`;
  const now = Date.now();
  const end = job.finishedAt ?? (job.startedAt !== undefined ? now : undefined);
  const rate = rateOf(job, now);
  return {
    id: job.id,
    kind: job.kind,
    ...(job.name !== undefined ? { name: job.name } : {}),
    ...(job.labels !== undefined ? { labels: { ...job.labels } } : {}),
    ...(job.webhook !== undefined ? { webhook: { url: job.webhook.url, events: job.webhook.events ?? DEFAULT_WEBHOOK_EVENTS } } : {}),
    status: job.status,
    total: job.total,
    completed: job.completed,
    failed: job.failed,
    cancelled: job.cancelled,
    createdAt: iso(job.createdAt)!,
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    durationMs: job.startedAt !== undefined && end !== undefined ? end - job.startedAt : null,
    rate,
    etaMs: etaOf(job, rate),
    ...(job.reason ? { reason: job.reason } : {}),
    ...(job.summary ? { summary: { ...job.summary } } : {}),
    links: { self, results: `${self}/results`, events: `${self}/events` },
  };
}

export function toSnapshot({ header, tasks, progress }: JobSnapshotData): JobSnapshot {
  return { ...toView(header), tasks, progress: Object.fromEntries(Object.entries(progress)) };
}

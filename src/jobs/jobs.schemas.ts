import { z } from 'zod';
import { KIND_NAME, JOB_STATUSES } from './job.model';

const count = (name: string, max: number, fallback: number, min = 0) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be an integer` })
    .min(min, { error: `${name} must be >= ${min}` })
    .max(max, { error: `${name} must be <= ${max}` })
    .default(fallback);

export const MAX_PAGE = 10_000;

export const pageQuery = z.object({
  offset: count('offset', Number.MAX_SAFE_INTEGER, 0),
  limit: count('limit', MAX_PAGE, 1_000, 1),
});

export const resultsQuery = pageQuery.extend({
  format: z.enum(['decimal', 'hex'], { error: 'format must be "decimal" or "hex"' }).default('decimal'),
  /** Values longer than this come back as their first and last characters (`shortened: true`). */
  maxChars: z.coerce
    .number({ error: 'maxChars must be a number' })
    .int({ error: 'maxChars must be an integer' })
    .min(16, { error: 'maxChars must be >= 16' })
    .max(1_000_000_000, { error: 'maxChars must be <= 1000000000' })
    .optional(),
  /** A streamed export (Accept: application/x-ndjson or text/csv) of a running job stays open until its last result. */
  follow: z
    .enum(['true', 'false'], { error: 'follow must be "true" or "false"' })
    .default('false')
    .transform((value) => value === 'true'),
});

export const listQuery = pageQuery.extend({
  status: z.enum(JOB_STATUSES, { error: `status must be one of ${JOB_STATUSES.join(', ')}` }).optional(),
  kind: z.string().regex(KIND_NAME, { error: 'kind must be a job kind name (the kinds this service runs: see the POST routes)' }).optional(),
  limit: count('limit', 1_000, 50, 1),
});

/** `?wait=<ms>` on submissions: how long to hold the request for the job to finish. */
export const waitQuery = (maxWaitMs: number) => z.object({ wait: count('wait', maxWaitMs, 0), limit: count('limit', MAX_PAGE, 1_000, 1) });

/** A page of results; the shape of each item depends on the job's kind. */
export const resultsPageSchema = z
  .object({
    jobId: z.uuid(),
    status: z.enum(JOB_STATUSES),
    total: z.int(),
    offset: z.int(),
    limit: z.int().describe('items asked for, or the items served when RESULTS_MAX_PAGE_BYTES ended the page first'),
    nextOffset: z.int().nullable().describe('offset of the next page; null when this page reaches the last result known so far'),
    format: z.enum(['decimal', 'hex']),
    items: z.array(z.record(z.string(), z.unknown())).describe('one per task in input order; finished tasks carry their result or error'),
  })
  .meta({ id: 'ResultsPage' });

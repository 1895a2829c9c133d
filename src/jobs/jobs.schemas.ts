import { z } from 'zod';
import { KIND_NAME, JOB_STATUSES } from './job.model';
import { LABEL_KEY, MAX_LABEL_KEY_CHARS, MAX_LABEL_VALUE_CHARS, MAX_LABELS, MAX_NAME_CHARS, PRINTABLE } from './job-options';
import { jobViewSchema } from './job.view';

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

/** `label=key:value`: the key as job labels have it (no `:`), the value everything after the first `:`. */
const labelFilter = z
  .string()
  .max(MAX_LABEL_KEY_CHARS + 1 + MAX_LABEL_VALUE_CHARS, { error: 'a label filter has at most 264 characters' })
  .refine(
    (filter) => {
      const at = filter.indexOf(':');
      const [key, value] = [filter.slice(0, at), filter.slice(at + 1)];
      return at > 0 && key.length <= MAX_LABEL_KEY_CHARS && LABEL_KEY.test(key) && value.length <= MAX_LABEL_VALUE_CHARS && PRINTABLE.test(value);
    },
    { error: `must be key:value, the key a label key (letters, digits and _ . / -, at most ${MAX_LABEL_KEY_CHARS}), the value at most ${MAX_LABEL_VALUE_CHARS} printable characters` },
  );

export const listQuery = z.object({
  status: z.enum(JOB_STATUSES, { error: `status must be one of ${JOB_STATUSES.join(', ')}` }).optional(),
  kind: z.string().regex(KIND_NAME, { error: 'kind must be a job kind name (the kinds this service runs: see the POST routes)' }).optional(),
  label: z
    .union([labelFilter, z.array(labelFilter).max(MAX_LABELS, { error: `at most ${MAX_LABELS} label filters` })], { error: 'must be key:value (repeat the parameter for more)' })
    .optional()
    .transform((given) => (given === undefined ? undefined : (Array.isArray(given) ? given : [given]).map(splitLabel)))
    .describe('key:value; repeat for more (every one must match)'),
  q: z
    .string({ error: 'q must be a string' })
    .min(1, { error: 'q must not be empty' })
    .max(MAX_NAME_CHARS, { error: `q has at most ${MAX_NAME_CHARS} characters` })
    .regex(PRINTABLE, { error: 'q must not contain control characters' })
    .optional()
    .describe("a prefix of the job's id, or a part of its name (either case)"),
  limit: count('limit', 1_000, 50, 1),
  cursor: z
    .string({ error: 'cursor must be a string' })
    .max(200, { error: 'cursor must be a nextCursor this service gave' })
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'cursor must be a nextCursor this service gave' })
    .optional()
    .describe('the nextCursor of the previous page, with the same filters'),
  offset: z.never({ error: "GET /jobs pages with cursor: pass the previous page's nextCursor" }).optional().describe('not accepted: page with cursor'),
});

function splitLabel(filter: string): [string, string] {
  const at = filter.indexOf(':');
  return [filter.slice(0, at), filter.slice(at + 1)];
}

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

/** The 200 of a submission that finished within `?wait`: the job and its first page of results. */
export const finishedSubmissionSchema = jobViewSchema.extend({ results: resultsPageSchema }).meta({ id: 'JobWithResults' });

/**
 * What every job kind's submission may carry besides its own body: a name and labels to find the
 * job by, and a webhook to be told about it. One schema for every kind (fibonacci, crawl, plug-ins):
 * the kind's body pipe never sees these fields (KindBodyPipe strips them), the controller reads
 * them with `@JobOptionsOf()`, and the jobs core stores them on the job.
 */
import { Body, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ZodValidationPipe } from '../common/zod-validation';

export const JOB_OPTION_FIELDS = ['name', 'labels', 'webhook'] as const;

export const MAX_NAME_CHARS = 200;
export const MAX_LABELS = 20;
export const MAX_LABEL_KEY_CHARS = 63;
export const MAX_LABEL_VALUE_CHARS = 200;

/** Webhook events a job can send (a kind may add its own, e.g. `crawl.page`). */
export const JOB_WEBHOOK_EVENTS = ['job.started', 'job.completed', 'job.failed', 'job.cancelled'] as const;
export const DEFAULT_WEBHOOK_EVENTS = ['job.completed', 'job.failed', 'job.cancelled'];
export const WEBHOOK_EVENTS = [...JOB_WEBHOOK_EVENTS, 'crawl.page'] as const;

// Control characters would break logs, CSV and the dashboard; everything else is the caller's.
export const PRINTABLE = /^[^\p{Cc}]*$/u;
export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]*$/;
// Standard Webhooks secrets: "whsec_" and the base64 of the key.
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

const webhookSchema = z.strictObject({
  url: z
    .string({ error: 'must be a string' })
    .max(2048, { error: 'at most 2048 characters' })
    .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), { error: 'must be an absolute http(s) URL' }),
  secret: z
    .string({ error: 'must be a string' })
    .regex(WEBHOOK_SECRET, { error: 'must be "whsec_" followed by base64' })
    .refine(
      (secret) => {
        const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
        return bytes >= 24 && bytes <= 64;
      },
      { error: 'must encode 24 to 64 bytes' },
    ),
  events: z
    .array(z.enum(WEBHOOK_EVENTS, { error: `must be one of ${WEBHOOK_EVENTS.join(', ')}` }), { error: 'must be an array of event names' })
    .min(1, { error: 'must not be empty' })
    .max(WEBHOOK_EVENTS.length, { error: `at most ${WEBHOOK_EVENTS.length} events` })
    .refine((events) => new Set(events).size === events.length, { error: 'must not repeat an event' })
    .optional(),
});

export const jobOptionsSchema = z.object({
  name: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(MAX_NAME_CHARS, { error: `at most ${MAX_NAME_CHARS} characters` })
    .regex(PRINTABLE, { error: 'must not contain control characters' })
    .optional(),
  labels: z
    .record(
      z
        .string()
        .max(MAX_LABEL_KEY_CHARS, { error: `a label key has at most ${MAX_LABEL_KEY_CHARS} characters` })
        .regex(LABEL_KEY, { error: 'a label key is letters, digits and _ . / - (starting with a letter or digit)' }),
      z
        .string({ error: 'a label value must be a string' })
        .max(MAX_LABEL_VALUE_CHARS, { error: `a label value has at most ${MAX_LABEL_VALUE_CHARS} characters` })
        .regex(PRINTABLE, { error: 'a label value must not contain control characters' }),
      { error: 'must be an object of string keys and string values' },
    )
    .refine((labels) => Object.keys(labels).length <= MAX_LABELS, { error: `at most ${MAX_LABELS} labels` })
    .optional(),
  webhook: webhookSchema.optional(),
});

/** The submission fields every kind shares (webhook.events defaults to the final ones). */
export type JobOptions = z.output<typeof jobOptionsSchema>;
export type WebhookSubscription = NonNullable<JobOptions['webhook']>;

/** The body without the shared fields: what a kind's own schema validates. */
export function withoutJobOptions(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  if (!JOB_OPTION_FIELDS.some((field) => Object.hasOwn(body, field))) return body;
  const rest: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const field of JOB_OPTION_FIELDS) delete rest[field];
  return rest;
}

/** Only the shared fields of a body, validated (400 naming `name`, `labels.<key>`, `webhook.url`…). */
@Injectable()
export class JobOptionsPipe extends ZodValidationPipe<typeof jobOptionsSchema> {
  protected readonly schema = jobOptionsSchema;

  override transform(body: unknown): JobOptions {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
    const picked: Record<string, unknown> = {};
    for (const field of JOB_OPTION_FIELDS) if (Object.hasOwn(body, field)) picked[field] = (body as Record<string, unknown>)[field];
    return super.transform(picked);
  }
}

/** The submission's shared fields (name, labels, webhook), for a kind's POST handler. */
export const JobOptionsOf = () => Body(JobOptionsPipe);

/**
 * A kind's body pipe: validates the body without the shared fields, so a kind's strict schema
 * needs to know nothing of them.
 */
export abstract class KindBodyPipe<S extends z.ZodType> extends ZodValidationPipe<S> {
  override transform(value: unknown): z.output<S> {
    return super.transform(withoutJobOptions(value));
  }
}

/** A KindBodyPipe for a fixed schema (a plug-in kind's body). */
export function kindBodyPipe<S extends z.ZodType>(schema: S) {
  return new (class extends KindBodyPipe<S> {
    protected readonly schema = schema;
  })();
}

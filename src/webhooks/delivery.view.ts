import { z } from 'zod';
import type { WebhookDelivery } from './webhook-outbox';

/** A delivery as GET /jobs/{id}/webhooks lists it: never its secret or payload. */
export const deliveryViewSchema = z
  .object({
    id: z.string().describe('the `webhook-id` header of every attempt of this delivery'),
    event: z.string().describe('job.started, job.completed, job.failed, job.cancelled or crawl.page'),
    state: z.enum(['pending', 'delivered', 'failed']).describe('pending: not yet delivered, another attempt will come; failed: given up after WEBHOOK_MAX_ATTEMPTS'),
    attempts: z.int().describe('attempts started'),
    lastStatus: z.union([z.int(), z.string()]).nullable().describe("the last attempt's HTTP status, or what stopped it: timeout, redirect, blocked_address, connect_error, network_error"),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    nextAttemptAt: z.iso.datetime().nullable().describe('when it is due again (pending only)'),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

export const deliveryListSchema = z.object({ jobId: z.string(), items: z.array(deliveryViewSchema) }).meta({ id: 'WebhookDeliveries' });
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());

export function toDeliveryView(delivery: WebhookDelivery): DeliveryView {
  return {
    id: delivery.id,
    event: delivery.event,
    state: delivery.state,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus ?? null,
    lastError: delivery.lastError ?? null,
    createdAt: new Date(delivery.createdAt).toISOString(),
    nextAttemptAt: delivery.state === 'pending' ? iso(delivery.nextAttemptAt) : null,
    deliveredAt: delivery.state === 'delivered' ? iso(delivery.finishedAt) : null,
  };
}

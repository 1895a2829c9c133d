import type { OpenApiPart } from '../openapi/openapi-registry';
import { ID, notFound, unauthorized } from '../openapi/operations';
import { deliveryListSchema, deliveryViewSchema } from './delivery.view';

/** GET /jobs/{id}/webhooks in the OpenAPI document. */
export const webhooksOpenApi: OpenApiPart = {
  schemas: { WebhookDelivery: deliveryViewSchema, WebhookDeliveries: deliveryListSchema },
  operations: {
    'GET /jobs/{id}/webhooks': {
      tag: 'jobs',
      summary: "The job's webhook deliveries: event, attempts, last status, next attempt",
      description:
        'Deliveries are POSTs signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the body `{"type", "timestamp", "data"}`; retried with exponential back-off and jitter (Retry-After honoured on 429 and 503) up to WEBHOOK_MAX_ATTEMPTS, by any instance. See docs/webhooks.md.',
      pathParams: ['id'],
      responses: {
        200: {
          description: 'the deliveries, oldest first',
          ref: 'WebhookDeliveries',
          example: {
            jobId: ID,
            items: [
              {
                id: 'msg_5d0c8a0e4b9f4c55a1f6a0b2c3d4e5f6',
                event: 'job.completed',
                state: 'delivered',
                attempts: 2,
                lastStatus: 200,
                lastError: null,
                createdAt: '2026-11-25T12:00:00.150Z',
                nextAttemptAt: null,
                deliveredAt: '2026-11-25T12:00:02.210Z',
              },
            ],
          },
        },
        401: unauthorized,
        404: notFound,
      },
    },
  },
};

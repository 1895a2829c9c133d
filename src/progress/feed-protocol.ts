import { z } from 'zod';
import type { JobEvent } from './event-bus';

/**
 * The one event protocol, shared by the WebSocket feed and SSE:
 * server -> client `{"event": name, "data": payload}`;
 * client -> server `{"event": "subscribe" | "unsubscribe", "data": {"jobId": "<id>" | "*"}}`.
 */
export const clientMessage = z.strictObject({
  event: z.enum(['subscribe', 'unsubscribe'], { error: 'event must be "subscribe" or "unsubscribe"' }),
  data: z.strictObject({ jobId: z.string({ error: 'data.jobId must be a string' }).min(1).max(100) }, { error: 'data must be {"jobId": "<id>"}' }),
});
export type ClientMessage = z.infer<typeof clientMessage>;

export interface WireMessage {
  event: string;
  data: unknown;
}

export const FINAL_EVENTS = new Set(['job.completed', 'job.failed', 'job.cancelled']);

export function toWire(event: JobEvent): WireMessage {
  return { event: event.event, data: event.data };
}

export function errorMessage(message: string, extra: Record<string, unknown> = {}): WireMessage {
  return { event: 'error', data: { message, ...extra } };
}

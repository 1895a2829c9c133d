import { z } from 'zod';
import type { JobEvent } from '../jobs/event-bus';

/**
 * The one event protocol, shared by the WebSocket feed and SSE:
 * server -> client `{"event": name, "seq": n, "data": payload}` (seq: the job's sequence number
 * after the change the event reports; a snapshot's seq covers every change up to it);
 * client -> server `{"event": "subscribe" | "unsubscribe", "data": {"jobId": "<id>" | "*"}}`.
 */
export const clientMessage = z.strictObject({
  event: z.enum(['subscribe', 'unsubscribe'], { error: 'event must be "subscribe" or "unsubscribe"' }),
  data: z.strictObject(
    {
      jobId: z.string({ error: 'data.jobId must be a string' }).min(1).max(100),
      /** Resume a job's feed after this seq (the last one the client counted): see JobFeeds.watch. */
      afterSeq: z.int({ error: 'data.afterSeq must be an integer' }).min(0, { error: 'data.afterSeq must be >= 0' }).max(Number.MAX_SAFE_INTEGER).optional(),
    },
    { error: 'data must be {"jobId": "<id>", "afterSeq"?: <seq>}' },
  ),
});
export type ClientMessage = z.infer<typeof clientMessage>;

export interface WireMessage {
  event: string;
  seq?: number;
  data: unknown;
}

/** The events that end a feed of one job (defined with the bus's events). */
export { FINAL_EVENTS } from '../jobs/event-bus';

export function toWire(event: JobEvent): WireMessage {
  return { event: event.event, seq: event.seq, data: event.data };
}

export function errorMessage(message: string, extra: Record<string, unknown> = {}): WireMessage {
  return { event: 'error', data: { message, ...extra } };
}

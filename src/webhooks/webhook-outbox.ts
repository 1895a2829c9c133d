/**
 * The webhook deliveries of every job, durable where the jobs are (a port with a memory and a Redis
 * implementation, one contract: test/contracts/webhook-outbox.contract.ts). A delivery is stored
 * when its event happens; any instance claims it when it is due, under a lease: if the instance
 * sending it dies, the lease lapses and another one sends it again, with the same id.
 */

/** A delivery as its event queued it: what is sent, and to whom. */
export interface NewDelivery {
  /** The `webhook-id` of every attempt (Standard Webhooks: the receiver's deduplication key). */
  id: string;
  jobId: string;
  owner?: string;
  event: string;
  url: string;
  /** Kept with the delivery so any instance can sign it; never shown (see DeliveryView). */
  secret: string;
  /** The JSON body, fixed when queued: every attempt sends the same bytes. */
  payload: string;
  createdAt: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery extends NewDelivery {
  state: DeliveryState;
  /** Attempts started (counted when claimed, so a delivery that kills its sender still runs out). */
  attempts: number;
  /** The last attempt's HTTP status, or what stopped it: timeout, redirect, blocked_address, connect_error, network_error. */
  lastStatus?: number | string;
  lastError?: string;
  /** When it is due again (pending only). */
  nextAttemptAt?: number;
  /** When it was delivered or given up. */
  finishedAt?: number;
}

/** What an attempt's sender stores once it ended. */
export interface AttemptRecord {
  state: DeliveryState;
  lastStatus: number | string;
  lastError?: string;
  /** pending: when to try again. */
  nextAttemptAt?: number;
  at: number;
}

/** A due delivery as the dispatcher chooses among them (who receives it, not what). */
export interface DueDelivery {
  id: string;
  owner?: string;
  url: string;
}

export abstract class WebhookOutbox {
  /** Stores a delivery, due at once. */
  abstract enqueue(delivery: NewDelivery): Promise<void>;
  /** Up to `limit` deliveries due at `now` (pending and unclaimed, or claimed by a holder whose lease lapsed), oldest due first. */
  abstract due(now: number, limit: number): Promise<DueDelivery[]>;
  /** Takes a due delivery for `leaseMs` and counts an attempt; null when it is no longer due (another holder took it, or it ended). */
  abstract claim(id: string, holder: string, now: number, leaseMs: number): Promise<WebhookDelivery | null>;
  /** Stores how an attempt ended, if `holder` still holds the delivery (false: its lease lapsed and another took it). */
  abstract record(id: string, holder: string, attempt: AttemptRecord): Promise<boolean>;
  /** Moves an unfinished delivery later, never earlier, without an attempt (its receiver is busy: others go first). */
  abstract defer(id: string, until: number): Promise<void>;
  /** A job's deliveries, oldest first. */
  abstract list(jobId: string): Promise<WebhookDelivery[]>;
}

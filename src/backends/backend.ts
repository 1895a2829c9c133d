import type { ThrottlerStorage } from '@nestjs/throttler';
import type { AuthFailures } from '../auth/auth-failures';
import type { EventBus } from '../jobs/event-bus';
import type { IdempotencyStore } from '../jobs/idempotency';
import type { JobStore } from '../jobs/job.store';
import type { Execute, HandedBack, TaskQueue } from '../jobs/task-queue';
import type { HostBudget } from '../crawl/host-budget';
import type { InstanceRegistry, LocalInstance } from '../pool/instance-registry';
import type { FeedQuota } from '../progress/feed-quota';
import type { WebhookOutbox } from '../webhooks/webhook-outbox';

/**
 * What the core must do differently depending on whether it is alone or shares its jobs with
 * other instances. The core reads these, never the settings that chose the backend.
 */
export interface BackendCapabilities {
  /**
   * Other instances share the jobs: a runner holds a lease this long on each job it coordinates,
   * renews it while the job runs, and takes over jobs whose lease lapsed. null: this process is
   * alone, so nobody could take a job over and no lease ever needs to lapse.
   */
  readonly leaseMs: number | null;
  /** On shutdown, unfinished work is handed to the other instances, or cancelled after the grace. */
  readonly drain: 'hand-back' | 'cancel';
  /**
   * A pool task may run on another instance than its job's runner: its updates are stored before
   * it counts as done, and it checks that its job still runs before it takes a thread.
   */
  readonly remoteTasks: boolean;
  /** Figures such as worker threads are every instance's (read from the registry), not this process's. */
  readonly sharedFigures: boolean;
}

/**
 * Every port the service needs from where its state lives, from one place: the embedded
 * backend (src/backends/memory) or the cluster one (src/backends/redis). BackendModule picks one
 * at boot; a new backend is a folder that builds this object, one line there, and one run of
 * each contract suite (test/contracts).
 */
export interface Backend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly store: JobStore;
  readonly bus: EventBus;
  /** The HTTP rate limit's windows. */
  readonly rateLimits: ThrottlerStorage;
  readonly authFailures: AuthFailures;
  /** Idempotency-Key records of job-creating POSTs. */
  readonly idempotency: IdempotencyStore;
  /** Feed connections per key and per address, and feed messages per caller (WebSocket and SSE). */
  readonly feedQuota: FeedQuota;
  /** Webhook deliveries: queued when their event happens, sent by whichever instance claims them. */
  readonly webhooks: WebhookOutbox;
  /** Crawl fetches in flight and their pace per host, shared by every job (and instance). */
  readonly hostBudget: HostBudget;
  /** The queue pool tasks go through; `execute` runs one on this instance's pool. */
  taskQueue(execute: Execute, abortAll: (reason: HandedBack) => void): TaskQueue;
  instanceRegistry(local: LocalInstance): InstanceRegistry;
  /** Whether an error a port threw means the backend cannot be reached now (answered 503, retried later). */
  isOutage(error: unknown): boolean;
  /** Closes what the ports share (connections), after every port was closed. */
  close(): Promise<void>;
}

/** The injection token of the Backend object. */
export const BACKEND = Symbol('BACKEND');

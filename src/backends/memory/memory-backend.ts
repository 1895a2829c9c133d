import type { RetentionPolicy } from '../../jobs/job-data';
import { BackendUnavailableError } from '../backend-unavailable';
import type { Backend } from '../backend';
import { FixedWindowStorage } from './fixed-window.storage';
import { LocalTaskQueue } from './local-task-queue';
import { MemoryAuthFailures } from './memory-auth-failures';
import { MemoryEventBus } from './memory-event-bus';
import { MemoryIdempotencyStore } from './memory-idempotency.store';
import { MemoryFeedQuota } from './memory-feed-quota';
import { MemoryHostBudget } from './memory-host-budget';
import { MemoryInstanceRegistry } from './memory-instance-registry';
import { MemoryJobStore } from './memory-job.store';
import { MemoryWebhookOutbox } from './memory-webhook-outbox';

export interface MemoryBackendOptions {
  retention: RetentionPolicy;
  authFailures: { max: number; windowMs: number };
}

/** The embedded mode: every port in this process, nothing to run beside it. */
export function memoryBackend(options: MemoryBackendOptions): Backend {
  const feedQuota = new MemoryFeedQuota();
  // Leases as in the cluster's default: a crawl that vanished without giving back frees its hosts.
  const hostBudget = new MemoryHostBudget(30_000);
  return {
    name: 'memory',
    // Alone: no leases, nobody to hand work to, every figure is this process's own.
    capabilities: { leaseMs: null, drain: 'cancel', remoteTasks: false, sharedFigures: false },
    store: new MemoryJobStore(options.retention),
    bus: new MemoryEventBus(),
    rateLimits: new FixedWindowStorage(),
    authFailures: new MemoryAuthFailures(options.authFailures.max, options.authFailures.windowMs),
    idempotency: new MemoryIdempotencyStore(),
    feedQuota,
    webhooks: new MemoryWebhookOutbox(options.retention.maxAgeMs),
    hostBudget,
    taskQueue: (execute, abortAll) => new LocalTaskQueue(execute, abortAll),
    instanceRegistry: (local) => new MemoryInstanceRegistry(local),
    isOutage: (error) => error instanceof BackendUnavailableError,
    close: async () => {
      feedQuota.close();
      hostBudget.close();
    },
  };
}

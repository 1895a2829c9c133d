import { Logger } from '@nestjs/common';
import type { RetentionPolicy } from '../../jobs/job-data';
import type { Backend } from '../backend';
import { BullTaskQueue } from './bull-task-queue';
import { RedisAuthFailures } from './redis-auth-failures';
import { connectRedis, whenReady } from './redis-connection';
import { RedisEventBus } from './redis-event-bus';
import { RedisWebhookOutbox } from './redis-webhook-outbox';
import { RedisIdempotencyStore } from './redis-idempotency.store';
import { RedisFeedQuota } from './redis-feed-quota';
import { RedisHostBudget } from './redis-host-budget';
import { RedisInstanceRegistry } from './redis-instance-registry';
import { RedisJobStore } from './redis-job.store';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { isRedisDown } from './redis-unavailable';

export interface RedisBackendOptions {
  url: string;
  /** Every key and channel starts with it, so several deployments can share one Redis. */
  prefix: string;
  leaseMs: number;
  instanceId: string;
  retention: RetentionPolicy;
  authFailures: { max: number; windowMs: number };
  /** Pool tasks this instance takes from the queue at once, per worker profile. */
  concurrency: { cpu: number; io: number };
}

const BOOT_WAIT_MS = 5_000;

/**
 * The cluster mode: every port on one Redis (BullMQ for the task queue), shared by any number of
 * instances. Boot waits a little for Redis, so the first requests do not get 503 for nothing; an
 * instance started while Redis is down still boots (readiness says why it takes no work) and
 * recovers by itself when Redis comes back.
 */
export async function redisBackend(options: RedisBackendOptions): Promise<Backend> {
  const { url, prefix } = options;
  const redis = connectRedis(url, { name: 'commands' });
  await whenReady(redis, BOOT_WAIT_MS).catch((err: Error) => new Logger('Redis').warn(`${err.message}; starting anyway, readiness stays 503 until it answers`));
  const bus = await RedisEventBus.connect(url, prefix);
  // Leases as long as the jobs' (CLUSTER_LEASE_MS): a killed instance's feed connections stop counting then.
  const feedQuota = new RedisFeedQuota(redis, prefix, options.leaseMs);
  return {
    name: 'redis',
    capabilities: { leaseMs: options.leaseMs, drain: 'hand-back', remoteTasks: true, sharedFigures: true },
    store: new RedisJobStore(redis, { prefix, retention: options.retention }),
    bus,
    rateLimits: new RedisThrottlerStorage(redis, prefix),
    authFailures: new RedisAuthFailures(redis, prefix, options.authFailures.max, options.authFailures.windowMs),
    idempotency: new RedisIdempotencyStore(redis, prefix),
    feedQuota,
    webhooks: new RedisWebhookOutbox(redis, prefix, options.retention.maxAgeMs),
    // Leases as long as the jobs': a killed instance's host slots are free again then.
    hostBudget: new RedisHostBudget(redis, prefix, options.leaseMs),
    taskQueue: (execute) => new BullTaskQueue({ url, prefix, leaseMs: options.leaseMs, concurrency: options.concurrency, instanceId: options.instanceId }, execute),
    // Its heartbeat starts at bootstrap and stops before shutdown (Nest's hooks on the provider).
    instanceRegistry: (local) => new RedisInstanceRegistry(redis, prefix, local),
    isOutage: isRedisDown,
    // The bus closes itself once the jobs core is done with it; here again for apps without the core.
    close: async () => {
      feedQuota.close();
      await bus.close();
      redis.disconnect();
    },
  };
}

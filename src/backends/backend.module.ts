import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AuthFailures } from '../auth/auth-failures';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { instanceId } from '../config/instance-id';
import { EventBus } from '../jobs/event-bus';
import type { RetentionPolicy } from '../jobs/job-data';
import { IdempotencyStore } from '../jobs/idempotency';
import { JobStore } from '../jobs/job.store';
import { FeedQuota } from '../progress/feed-quota';
import { WebhookOutbox } from '../webhooks/webhook-outbox';
import { BACKEND, type Backend } from './backend';
import { memoryBackend } from './memory/memory-backend';
import { redisBackend } from './redis/redis-backend';

const retention = (config: AppConfig): RetentionPolicy => ({
  maxAgeMs: config.JOB_RETENTION_MS,
  maxCount: config.JOB_RETENTION_COUNT,
  maxBytes: config.JOB_RETENTION_BYTES,
});

/**
 * The one place where the backend is chosen: REDIS_URL set means the cluster backend, unset the
 * embedded one. Nothing else in the service reads that setting.
 */
async function chooseBackend(config: AppConfig): Promise<Backend> {
  const authFailures = { max: config.AUTH_FAILURES_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS };
  if (!config.REDIS_URL) return memoryBackend({ retention: retention(config), authFailures });
  return redisBackend({
    url: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    leaseMs: config.CLUSTER_LEASE_MS,
    instanceId: instanceId(config.INSTANCE_ID),
    retention: retention(config),
    authFailures,
    // Tasks taken at once: what this instance's pools run (a CPU task per thread, I/O tasks many
    // per thread), and for CPU as many again, so a thread never idles while its next task is
    // fetched and its last one's results are stored (a dead instance's extra tasks are recovered).
    concurrency: { cpu: config.POOL_SIZE * 2, io: config.POOL_SIZE * config.CRAWL_TASKS_PER_WORKER },
  });
}

/** Closes what the backend's ports share, after the ports themselves were closed. */
@Injectable()
class BackendCloser implements OnApplicationShutdown {
  constructor(@Inject(BACKEND) private readonly backend: Backend) {}
  onApplicationShutdown(): Promise<void> {
    return this.backend.close();
  }
}

/** Provides every port of the chosen backend under the core's own tokens. */
@Global()
@Module({
  providers: [
    { provide: BACKEND, inject: [APP_CONFIG], useFactory: chooseBackend },
    { provide: JobStore, inject: [BACKEND], useFactory: (backend: Backend) => backend.store },
    { provide: EventBus, inject: [BACKEND], useFactory: (backend: Backend) => backend.bus },
    { provide: AuthFailures, inject: [BACKEND], useFactory: (backend: Backend) => backend.authFailures },
    { provide: IdempotencyStore, inject: [BACKEND], useFactory: (backend: Backend) => backend.idempotency },
    { provide: FeedQuota, inject: [BACKEND], useFactory: (backend: Backend) => backend.feedQuota },
    { provide: WebhookOutbox, inject: [BACKEND], useFactory: (backend: Backend) => backend.webhooks },
    BackendCloser,
  ],
  exports: [BACKEND, JobStore, EventBus, AuthFailures, IdempotencyStore, FeedQuota, WebhookOutbox],
})
export class BackendModule {}

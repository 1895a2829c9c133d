import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Redis } from 'ioredis';
import { RedisInstanceRegistry } from '../cluster/redis-instance-registry';
import { REDIS } from '../cluster/redis.module';
import { instanceId } from '../config/instance-id';
import { InstanceRegistry, LocalInstance, MemoryInstanceRegistry } from './instance-registry';
import { PiscinaScheduler } from './piscina-scheduler';
import { TaskScheduler } from './task-scheduler';

/** Closes the pool last, after the jobs service has cancelled what was still running. */
@Injectable()
class PoolCloser implements OnApplicationShutdown {
  constructor(@Inject(TaskScheduler) private readonly scheduler: TaskScheduler) {}
  onApplicationShutdown(): Promise<void> {
    return this.scheduler.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: TaskScheduler,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new PiscinaScheduler({
          threads: config.POOL_SIZE,
          maxOldGenerationMb: config.WORKER_MAX_OLD_GEN_MB,
          taskTimeoutMs: config.TASK_TIMEOUT_MS,
          ioTasksPerWorker: config.CRAWL_TASKS_PER_WORKER,
        }),
    },
    {
      // Every instance's pool figures: the pool panel, and how many threads a job's tasks can spread over.
      provide: InstanceRegistry,
      inject: [APP_CONFIG, REDIS, TaskScheduler],
      useFactory: (config: AppConfig, redis: Redis | null, scheduler: TaskScheduler): InstanceRegistry => {
        const local = new LocalInstance(instanceId(config.INSTANCE_ID), () => scheduler.stats());
        // Cluster mode: the heartbeat starts at bootstrap and stops before shutdown (Nest's hooks).
        return redis ? new RedisInstanceRegistry(redis, config.REDIS_PREFIX, local) : new MemoryInstanceRegistry(local);
      },
    },
    PoolCloser,
  ],
  exports: [TaskScheduler, InstanceRegistry],
})
export class PoolModule {}

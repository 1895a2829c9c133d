import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BullTaskQueue } from '../cluster/bull-task-queue';
import { RedisEventBus } from '../cluster/redis-event-bus';
import { RedisJobStore } from '../cluster/redis-job.store';
import { REDIS } from '../cluster/redis.module';
import { instanceId } from '../config/instance-id';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventBus, MemoryEventBus } from './event-bus';
import type { RetentionPolicy } from './job-data';
import { JobFeeds } from './job-feeds';
import { JobKinds } from './job-kinds';
import { JobObservers } from './job-observers';
import { JobRunner } from './job-runner';
import { JobStore } from './job.store';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { LocalTaskQueue } from './local-task-queue';
import { MemoryJobStore } from './memory-job.store';
import { TaskExecutor } from './task-executor';
import { TaskQueue } from './task-queue';
import { TaskRecorder } from './task-recorder';

const retention = (config: AppConfig): RetentionPolicy => ({
  maxAgeMs: config.JOB_RETENTION_MS,
  maxCount: config.JOB_RETENTION_COUNT,
  maxBytes: config.JOB_RETENTION_BYTES,
});

/**
 * The jobs core. Its ports (store, bus, queue) get their embedded implementations by default and
 * their Redis/BullMQ ones when REDIS_URL is set; nothing else in the app knows which.
 */
@Module({
  providers: [
    {
      provide: JobStore,
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: AppConfig, redis: Redis | null): JobStore =>
        redis ? new RedisJobStore(redis, { prefix: config.REDIS_PREFIX, retention: retention(config) }) : new MemoryJobStore(retention(config)),
    },
    {
      provide: EventBus,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<EventBus> => {
        if (!config.REDIS_URL) return new MemoryEventBus();
        // Redis down at boot: the instance still starts (readiness reports it); the bus subscribes once it is back.
        return RedisEventBus.connect(config.REDIS_URL, config.REDIS_PREFIX);
      },
    },
    {
      provide: TaskQueue,
      inject: [APP_CONFIG, TaskExecutor],
      useFactory: (config: AppConfig, executor: TaskExecutor): TaskQueue => {
        const execute = executor.execute.bind(executor);
        if (!config.REDIS_URL) return new LocalTaskQueue(execute, (reason) => executor.abortAll(reason));
        // Tasks taken at once: what this instance's pools run (a CPU task per thread, I/O tasks many per
        // thread), and for CPU as many again, so a thread never idles while its next task is fetched
        // and its last one's results are stored (a dead instance's extra tasks are recovered like the rest).
        const concurrency = { cpu: config.POOL_SIZE * 2, io: config.POOL_SIZE * config.CRAWL_TASKS_PER_WORKER };
        return new BullTaskQueue({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX, leaseMs: config.CLUSTER_LEASE_MS, concurrency, instanceId: instanceId(config.INSTANCE_ID) }, execute);
      },
    },
    JobKinds,
    JobObservers,
    TaskRecorder,
    TaskExecutor,
    JobRunner,
    JobFeeds,
    JobsService,
  ],
  controllers: [JobsController],
  exports: [JobsService, JobKinds, JobStore],
})
export class JobsModule {}

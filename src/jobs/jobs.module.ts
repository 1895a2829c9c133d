import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../cluster/redis.module';
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
      useFactory: (config: AppConfig, redis: Redis | null): JobStore => (redis ? clusterStore(config, redis) : new MemoryJobStore(retention(config))),
    },
    {
      provide: EventBus,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): EventBus => (config.REDIS_URL ? clusterBus(config) : new MemoryEventBus()),
    },
    {
      provide: TaskQueue,
      inject: [APP_CONFIG, TaskExecutor],
      useFactory: (config: AppConfig, executor: TaskExecutor): TaskQueue => {
        const execute = executor.execute.bind(executor);
        return config.REDIS_URL ? clusterQueue(config, execute) : new LocalTaskQueue(execute);
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

// biome-ignore lint/correctness/noUnusedFunctionParameters: wired when the cluster implementations land
function clusterStore(config: AppConfig, redis: Redis): JobStore {
  throw new Error('cluster store not wired yet');
}
// biome-ignore lint/correctness/noUnusedFunctionParameters: wired when the cluster implementations land
function clusterBus(config: AppConfig): EventBus {
  throw new Error('cluster bus not wired yet');
}
// biome-ignore lint/correctness/noUnusedFunctionParameters: wired when the cluster implementations land
function clusterQueue(config: AppConfig, execute: unknown): TaskQueue {
  throw new Error('cluster queue not wired yet');
}

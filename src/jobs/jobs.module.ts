import { Module } from '@nestjs/common';
import { BACKEND, type Backend } from '../backends/backend';
import { JobFeeds } from './job-feeds';
import { JobKinds } from './job-kinds';
import { JobLifecycle } from './job-lifecycle';
import { JobObservers } from './job-observers';
import { JobRunner } from './job-runner';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { OutageGuard } from './outage-guard';
import { TaskExecutor } from './task-executor';
import { TaskQueue } from './task-queue';
import { TaskRecorder } from './task-recorder';

/**
 * The jobs core. Its ports (store, bus, queue) come from the backend chosen at boot
 * (BackendModule); nothing here knows which one it is, only its capabilities.
 */
@Module({
  providers: [
    {
      provide: TaskQueue,
      inject: [BACKEND, TaskExecutor],
      useFactory: (backend: Backend, executor: TaskExecutor): TaskQueue => backend.taskQueue(executor.execute.bind(executor), (reason) => executor.abortAll(reason)),
    },
    JobKinds,
    JobObservers,
    JobLifecycle,
    OutageGuard,
    TaskRecorder,
    TaskExecutor,
    JobRunner,
    JobFeeds,
    JobsService,
  ],
  controllers: [JobsController],
  exports: [JobsService, JobKinds, JobLifecycle],
})
export class JobsModule {}

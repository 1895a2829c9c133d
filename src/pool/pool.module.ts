import { Global, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BACKEND, type Backend } from '../backends/backend';
import { instanceId } from '../config/instance-id';
import { InstanceRegistry, LocalInstance } from './instance-registry';
import { PiscinaScheduler } from './piscina-scheduler';
import { TaskScheduler } from './task-scheduler';
import { WorkerCatalog } from './worker-catalog';

/**
 * Starts the pool once every job kind has registered its workers, and closes it last, after the
 * jobs service has cancelled or handed over what was still running.
 */
@Injectable()
class PoolLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(TaskScheduler) private readonly scheduler: TaskScheduler) {}
  onApplicationBootstrap(): void {
    this.scheduler.start();
  }
  onApplicationShutdown(): Promise<void> {
    return this.scheduler.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: TaskScheduler,
      inject: [APP_CONFIG, WorkerCatalog],
      useFactory: (config: AppConfig, catalog: WorkerCatalog) =>
        new PiscinaScheduler({
          catalog,
          threads: config.POOL_SIZE,
          maxOldGenerationMb: config.WORKER_MAX_OLD_GEN_MB,
          taskTimeoutMs: config.TASK_TIMEOUT_MS,
          ioTasksPerWorker: config.CRAWL_TASKS_PER_WORKER,
        }),
    },
    {
      // Every instance's pool figures: the pool panel, and how many threads a job's tasks can spread over.
      provide: InstanceRegistry,
      inject: [APP_CONFIG, BACKEND, TaskScheduler],
      useFactory: (config: AppConfig, backend: Backend, scheduler: TaskScheduler): InstanceRegistry =>
        backend.instanceRegistry(new LocalInstance(instanceId(config.INSTANCE_ID), () => scheduler.stats())),
    },
    WorkerCatalog,
    PoolLifecycle,
  ],
  exports: [TaskScheduler, InstanceRegistry, WorkerCatalog],
})
export class PoolModule {}

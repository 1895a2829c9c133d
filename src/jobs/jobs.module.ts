import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventBus, MemoryEventBus } from '../progress/event-bus';
import { JobStore, MemoryJobStore } from './job.store';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  providers: [
    {
      provide: JobStore,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new MemoryJobStore({
          maxAgeMs: config.JOB_RETENTION_MS,
          maxCount: config.JOB_RETENTION_COUNT,
          maxBytes: config.JOB_RETENTION_BYTES,
        }),
    },
    { provide: EventBus, useClass: MemoryEventBus },
    JobsService,
  ],
  controllers: [JobsController],
  exports: [JobsService],
})
export class JobsModule {}

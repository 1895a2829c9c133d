import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { JobEventsController } from './job-events.controller';
import { ProgressGateway } from './progress.gateway';

@Module({
  imports: [JobsModule],
  controllers: [JobEventsController],
  providers: [ProgressGateway],
  exports: [ProgressGateway],
})
export class ProgressModule {}

import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { FeedConnections } from './feed-connections';
import { JobEventsController } from './job-events.controller';
import { ProgressGateway } from './progress.gateway';

@Module({
  imports: [JobsModule],
  controllers: [JobEventsController],
  providers: [ProgressGateway, FeedConnections],
  exports: [ProgressGateway, FeedConnections],
})
export class ProgressModule {}

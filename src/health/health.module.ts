import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { JobsModule } from '../jobs/jobs.module';
import { HealthController } from './health.controller';
import { PoolController } from './pool.controller';
import { PoolStatusReader } from './pool-status';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), JobsModule],
  controllers: [HealthController, PoolController],
  providers: [PoolStatusReader],
})
export class HealthModule {}

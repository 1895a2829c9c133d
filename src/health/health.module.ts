import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { RedisInstanceRegistry } from '../cluster/redis-instance-registry';
import { REDIS } from '../cluster/redis.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsModule } from '../jobs/jobs.module';
import { TaskScheduler } from '../pool/task-scheduler';
import { HealthController } from './health.controller';
import { InstanceRegistry, LocalInstance, MemoryInstanceRegistry, instanceId } from './instance-registry';
import { PoolController } from './pool.controller';
import { PoolStatusReader } from './pool-status';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), JobsModule],
  controllers: [HealthController, PoolController],
  providers: [
    PoolStatusReader,
    {
      provide: InstanceRegistry,
      inject: [APP_CONFIG, REDIS, TaskScheduler],
      useFactory: (config: AppConfig, redis: Redis | null, scheduler: TaskScheduler): InstanceRegistry => {
        const local = new LocalInstance(instanceId(config.INSTANCE_ID), () => scheduler.stats());
        // Cluster mode: the heartbeat starts at bootstrap and stops before shutdown (Nest's hooks).
        return redis ? new RedisInstanceRegistry(redis, config.REDIS_PREFIX, local) : new MemoryInstanceRegistry(local);
      },
    },
  ],
})
export class HealthModule {}

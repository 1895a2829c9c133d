import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { AppConfig } from './config/config.schema';
import { FibonacciModule } from './fibonacci/fibonacci.module';
import { HealthController } from './health/health.controller';
import { PoolModule } from './pool/pool.module';
import { ProgressModule } from './progress/progress.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), PoolModule, FibonacciModule, ProgressModule],
      controllers: [HealthController],
    };
  }
}

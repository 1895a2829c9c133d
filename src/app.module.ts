import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { BACKEND } from './backends/backend';
import { BackendModule } from './backends/backend.module';
import { rateLimitOptions } from './common/rate-limit';
import { APP_CONFIG } from './config/app-config';
import { ConfigModule, type Env } from './config/config.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { BUILT_IN_KINDS } from './kinds';
import { ShutdownService } from './lifecycle/shutdown.service';
import { MetricsModule } from './metrics/metrics.module';
import { OpenApiModule } from './openapi/openapi-registry';
import { PoolModule } from './pool/pool.module';
import { ProgressModule } from './progress/progress.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /**
   * `env` replaces process.env (tests); by default the process environment is read. `kinds`: the
   * job kinds' modules (BUILT_IN_KINDS by default).
   */
  static forRoot(env?: Env, kinds: Type[] = BUILT_IN_KINDS): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        BackendModule,
        OpenApiModule,
        AuthModule,
        ThrottlerModule.forRootAsync({ inject: [APP_CONFIG, BACKEND], useFactory: rateLimitOptions }),
        PoolModule,
        JobsModule,
        ...kinds,
        WebhooksModule,
        ProgressModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        // Order matters: authentication first, so the rate limit can count per key. Failed
        // authentications never reach the throttler: AuthFailures limits them per address.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        ShutdownService,
      ],
    };
  }
}

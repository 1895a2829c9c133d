import { Inject, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsModule } from '../jobs/jobs.module';
import { OpenApiRegistry } from '../openapi/openapi-registry';
import { FibonacciBodyPipe } from './fibonacci-body.pipe';
import { FibonacciController } from './fibonacci.controller';
import { FibonacciKind } from './fibonacci.kind';
import { fibonacciOpenApi } from './fibonacci.openapi';

/**
 * The Fibonacci job kind as a plug-in: its route (POST /fibonacci), its kind (registered with
 * the jobs core, with its worker), and its part of the OpenAPI document.
 */
@Module({
  imports: [JobsModule],
  controllers: [FibonacciController],
  providers: [FibonacciKind, FibonacciBodyPipe],
})
export class FibonacciModule {
  constructor(openapi: OpenApiRegistry, @Inject(APP_CONFIG) config: AppConfig) {
    openapi.add(fibonacciOpenApi(config));
  }
}

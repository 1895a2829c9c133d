import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ZodValidationPipe } from '../common/zod-validation';
import { fibonacciRequestSchema } from './fibonacci.schema';

@Injectable()
export class FibonacciBodyPipe extends ZodValidationPipe<ReturnType<typeof fibonacciRequestSchema>> {
  protected readonly schema;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.schema = fibonacciRequestSchema({
      maxN: config.FIB_MAX_N,
      maxNumbers: config.FIB_MAX_NUMBERS,
      maxResultBytes: config.FIB_MAX_RESULT_BYTES,
    });
  }
}

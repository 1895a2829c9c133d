import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ZodValidationPipe } from '../common/zod-validation';
import { waitQuery } from './jobs.schemas';

/** Validates `?wait=` (bounded by MAX_WAIT_MS) and `?limit=` on submissions. */
@Injectable()
export class WaitQueryPipe extends ZodValidationPipe<ReturnType<typeof waitQuery>> {
  protected readonly schema;
  protected override readonly where = 'query.';

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.schema = waitQuery(config.MAX_WAIT_MS);
  }
}

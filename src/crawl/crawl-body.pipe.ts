import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ZodValidationPipe } from '../common/zod-validation';
import { crawlRequestSchema } from './crawl.schema';

@Injectable()
export class CrawlBodyPipe extends ZodValidationPipe<ReturnType<typeof crawlRequestSchema>> {
  protected readonly schema;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.schema = crawlRequestSchema(config);
  }
}

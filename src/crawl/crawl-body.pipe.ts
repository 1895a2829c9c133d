import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KindBodyPipe } from '../jobs/job-options';
import { crawlRequestSchema } from './crawl.schema';

@Injectable()
export class CrawlBodyPipe extends KindBodyPipe<ReturnType<typeof crawlRequestSchema>> {
  protected readonly schema;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.schema = crawlRequestSchema(config);
  }
}

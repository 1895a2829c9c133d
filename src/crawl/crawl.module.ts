import { Logger, Module, type OnModuleInit, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsModule } from '../jobs/jobs.module';
import { CrawlBodyPipe } from './crawl-body.pipe';
import { CrawlController } from './crawl.controller';
import { CrawlKind } from './crawl.kind';
import { crawlOpenApi } from './crawl.openapi';
import { OpenApiRegistry } from '../openapi/openapi-registry';

/**
 * The crawl job kind as a plug-in: its route (POST /crawl), its kind (registered with the jobs
 * core, with its worker and admission counters), and its part of the OpenAPI document.
 */
@Module({
  imports: [JobsModule],
  controllers: [CrawlController],
  providers: [CrawlKind, CrawlBodyPipe],
})
export class CrawlModule implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    openapi: OpenApiRegistry,
  ) {
    openapi.add(crawlOpenApi(config));
  }

  onModuleInit(): void {
    if (this.config.CRAWL_ALLOW_TARGETS.length > 0) {
      new Logger('Crawl').warn(`CRAWL_ALLOW_TARGETS is set: the crawler MAY CONNECT TO ${this.config.CRAWL_ALLOW_TARGETS.join(', ')} despite the private-address protection`);
    }
  }
}

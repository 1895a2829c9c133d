import { Logger, Module, type OnModuleInit, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsModule } from '../jobs/jobs.module';
import { CrawlBodyPipe } from './crawl-body.pipe';
import { CrawlController } from './crawl.controller';
import { CrawlKind } from './crawl.kind';

@Module({
  imports: [JobsModule],
  controllers: [CrawlController],
  providers: [CrawlKind, CrawlBodyPipe],
})
export class CrawlModule implements OnModuleInit {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (this.config.CRAWL_ALLOW_TARGETS.length > 0) {
      new Logger('Crawl').warn(`CRAWL_ALLOW_TARGETS is set: the crawler MAY CONNECT TO ${this.config.CRAWL_ALLOW_TARGETS.join(', ')} despite the private-address protection`);
    }
  }
}

import type { Type } from '@nestjs/common';
import { CrawlModule } from './crawl/crawl.module';
import { FibonacciModule } from './fibonacci/fibonacci.module';

/**
 * The job kinds this service ships, each a Nest module that registers itself (its kind, worker,
 * counters, routes and OpenAPI part). Another kind is one more module here, or passed to
 * createApp({ kinds }) by whoever builds the app: the core, the pool and the document builder
 * list what is registered and name no kind.
 */
export const BUILT_IN_KINDS: Type[] = [FibonacciModule, CrawlModule];

import { Body, Controller, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CallerOf } from '../auth/auth.guard';
import { IdempotencyKey } from '../jobs/idempotency-key.decorator';
import { type JobOptions, JobOptionsOf } from '../jobs/job-options';
import { JobsService, type Caller } from '../jobs/jobs.service';
import { answerSubmission } from '../jobs/submission-response';
import { WaitQueryPipe } from '../jobs/wait-query.pipe';
import { CrawlBodyPipe } from './crawl-body.pipe';
import type { CrawlRequest } from './crawl.schema';
import { CrawlKind } from './crawl.kind';

@Controller('crawl')
export class CrawlController {
  constructor(
    private readonly jobs: JobsService,
    private readonly crawl: CrawlKind,
  ) {}

  /** 202 with the job (Location: /jobs/<id>), or 200 with its results if it finishes within ?wait. */
  @Post()
  async submit(
    @Body(CrawlBodyPipe) request: CrawlRequest,
    @Query(WaitQueryPipe) query: { wait: number; limit: number },
    @CallerOf() caller: Caller,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @JobOptionsOf() jobOptions: JobOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answerSubmission(res, await this.jobs.accept(this.crawl, [], { caller, waitMs: query.wait, limit: query.limit, params: request, idempotencyKey, jobOptions }));
  }
}

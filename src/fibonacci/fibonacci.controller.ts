import { Body, Controller, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CallerOf } from '../auth/auth.guard';
import { IdempotencyKey } from '../jobs/idempotency-key.decorator';
import { type JobOptions, JobOptionsOf } from '../jobs/job-options';
import { JobsService, type Caller } from '../jobs/jobs.service';
import { answerSubmission } from '../jobs/submission-response';
import { WaitQueryPipe } from '../jobs/wait-query.pipe';
import { FibonacciBodyPipe } from './fibonacci-body.pipe';
import { FibonacciKind } from './fibonacci.kind';

@Controller('fibonacci')
export class FibonacciController {
  constructor(
    private readonly jobs: JobsService,
    private readonly fibonacci: FibonacciKind,
  ) {}

  /** 202 with the job (Location: /jobs/<id>), or 200 with its results if it finishes within ?wait. */
  @Post()
  async submit(
    @Body(FibonacciBodyPipe) numbers: number[],
    @Query(WaitQueryPipe) query: { wait: number; limit: number },
    @CallerOf() caller: Caller,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @JobOptionsOf() jobOptions: JobOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answerSubmission(res, await this.jobs.accept(this.fibonacci, numbers, { caller, waitMs: query.wait, limit: query.limit, idempotencyKey, jobOptions }));
  }
}

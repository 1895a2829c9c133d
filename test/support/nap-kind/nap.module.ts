import { Body, Controller, Module, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { CallerOf } from '../../../src/auth/auth.guard';
import { type JobOptions, JobOptionsOf, kindBodyPipe } from '../../../src/jobs/job-options';
import { JobsModule } from '../../../src/jobs/jobs.module';
import { JobsService, type Caller } from '../../../src/jobs/jobs.service';
import { answerSubmission } from '../../../src/jobs/submission-response';
import { WaitQueryPipe } from '../../../src/jobs/wait-query.pipe';
import { OpenApiRegistry } from '../../../src/openapi/openapi-registry';
import { badRequest, finishedWithinWait, job } from '../../../src/openapi/operations';
import { NapKind } from './nap.kind';

export const napRequestSchema = z.strictObject({
  naps: z
    .array(z.int({ error: 'must be an integer' }).min(0, { error: 'must be >= 0' }).max(10_000, { error: 'must be <= 10000' }))
    .min(1, { error: 'needs at least one nap' })
    .max(100, { error: 'at most 100 naps' }),
});
const napResultSchema = z.object({
  index: z.int(),
  state: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']),
  ms: z.int(),
  slept: z.int().optional(),
  thread: z.int().optional(),
  error: z.string().optional(),
});

@Controller('nap')
class NapController {
  constructor(
    private readonly jobs: JobsService,
    private readonly naps: NapKind,
  ) {}

  @Post()
  async submit(
    @Body(kindBodyPipe(napRequestSchema)) body: z.output<typeof napRequestSchema>,
    @Query(WaitQueryPipe) query: { wait: number; limit: number },
    @CallerOf() caller: Caller,
    @JobOptionsOf() jobOptions: JobOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answerSubmission(res, await this.jobs.accept(this.naps, body.naps, { caller, waitMs: query.wait, limit: query.limit, jobOptions }));
  }
}

/** The nap kind as a plug-in module: passed to createApp({ kinds }) or serve({ kinds }) by tests. */
@Module({
  imports: [JobsModule],
  controllers: [NapController],
  providers: [NapKind],
})
export class NapKindModule {
  constructor(openapi: OpenApiRegistry) {
    openapi.add({
      schemas: { NapResult: napResultSchema },
      resultSchema: 'NapResult',
      operations: {
        'POST /nap': {
          tag: 'nap',
          summary: 'Sleep each n ms on a worker, reporting progress (a test-only kind)',
          body: { schema: napRequestSchema, examples: { two: { summary: 'two naps', value: { naps: [50, 100] } } } },
          responses: { 202: { description: 'accepted; follow Location', ref: 'Job', example: { ...job, kind: 'nap' } }, 200: finishedWithinWait, 400: badRequest },
        },
      },
    });
  }
}

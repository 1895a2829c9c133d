import { Controller, Delete, Get, Headers, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Owner } from '../auth/auth.guard';
import { zodPipe } from '../common/zod-validation';
import { JobIdPipe } from './job-id';
import { listQuery, resultsQuery } from './jobs.schemas';
import { JobsService } from './jobs.service';
import { EXPORT_TYPES, ExportWriter, exportFormatOf } from './results-export';
import { writeResultsPage } from './results-stream';
import type { z } from 'zod';

/** Job ids are checked before any store call (JobIdPipe): anything but a job's id is an unknown job. */
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** The caller's jobs, newest first, filtered; paged with an opaque cursor. */
  @Get()
  list(@Query(zodPipe(listQuery, 'query.')) { status, kind, label, q, limit, cursor }: z.output<typeof listQuery>, @Owner() owner?: string) {
    return this.jobs.list({ owner, status, kind, labels: label, q, limit, cursor });
  }

  @Get(':id')
  get(@Param('id', JobIdPipe) id: string, @Owner() owner?: string) {
    return this.jobs.view(id, owner);
  }

  /** Results in input order, as far as they are done; streamed, bounded by RESULTS_MAX_PAGE_BYTES. */
  @Get(':id/results')
  async results(
    @Param('id', JobIdPipe) id: string,
    @Query(zodPipe(resultsQuery, 'query.')) query: z.output<typeof resultsQuery>,
    @Headers('accept') accept: string | undefined,
    @Res() res: Response,
    @Owner() owner?: string,
  ) {
    // `Accept: application/x-ndjson` or `text/csv`: every result from `offset` on, in one stream.
    const as = exportFormatOf(accept);
    if (as) {
      const writer = new ExportWriter(res);
      return this.jobs.exportResults(id, owner, query, as, writer, () => {
        res.status(200).type(EXPORT_TYPES[as]);
        if (as === 'csv') res.setHeader('Content-Disposition', `attachment; filename="${id}.csv"`);
      });
    }
    return writeResultsPage(res, await this.jobs.walkResults(id, owner, query));
  }

  /** Cancels the job; answers once its tasks have stopped. */
  @Delete(':id')
  cancel(@Param('id', JobIdPipe) id: string, @Owner() owner?: string) {
    return this.jobs.cancel(id, owner);
  }
}

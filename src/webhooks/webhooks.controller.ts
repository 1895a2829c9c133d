import { Controller, Get, Param } from '@nestjs/common';
import { Owner } from '../auth/auth.guard';
import { JobIdPipe } from '../jobs/job-id';
import { JobsService } from '../jobs/jobs.service';
import { toDeliveryView } from './delivery.view';
import { WebhookOutbox } from './webhook-outbox';

@Controller('jobs')
export class WebhooksController {
  constructor(
    private readonly jobs: JobsService,
    private readonly outbox: WebhookOutbox,
  ) {}

  /** A job's webhook deliveries, oldest first; the job's owner rules (404 for another key's job). */
  @Get(':id/webhooks')
  async list(@Param('id', JobIdPipe) id: string, @Owner() owner?: string) {
    await this.jobs.get(id, owner);
    return { jobId: id, items: (await this.outbox.list(id)).map(toDeliveryView) };
  }
}

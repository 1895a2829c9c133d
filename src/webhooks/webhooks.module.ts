import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { OpenApiRegistry } from '../openapi/openapi-registry';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookNotifier } from './webhook-notifier';
import { WebhooksController } from './webhooks.controller';
import { webhooksOpenApi } from './webhooks.openapi';

/**
 * Webhooks (Standard Webhooks): a job's events become deliveries in the backend's outbox
 * (WebhookNotifier, through the jobs core's lifecycle hooks), sent by every instance's
 * WebhookDispatcher, listed by GET /jobs/{id}/webhooks.
 */
@Module({
  imports: [JobsModule],
  controllers: [WebhooksController],
  providers: [WebhookDispatcher, WebhookNotifier],
})
export class WebhooksModule {
  constructor(openapi: OpenApiRegistry) {
    openapi.add(webhooksOpenApi);
  }
}

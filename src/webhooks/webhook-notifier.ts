import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FieldIssue } from '../common/error-envelope';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { type Cidr, isAllowedAddress, parseCidrs } from '../crawl/address-policy';
import type { JobHeader } from '../jobs/job-data';
import { JobLifecycle, type LifecycleEvent, type LifecycleListener } from '../jobs/job-lifecycle';
import { DEFAULT_WEBHOOK_EVENTS, JOB_WEBHOOK_EVENTS, type JobOptions } from '../jobs/job-options';
import type { JobView } from '../jobs/job.view';
import { NoticeBatches } from './notice-batches';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookOutbox } from './webhook-outbox';

const subscribed = (job: JobHeader, event: string) => (job.webhook?.events ?? DEFAULT_WEBHOOK_EVENTS).includes(event);

/**
 * Turns a job's events into webhook deliveries: stored in the outbox when they happen (awaited by
 * the runner before the event is announced, so a delivery exists once a client sees the job end),
 * sent by the dispatcher of whichever instance claims them. A kind's own notices (a crawl's pages)
 * are batched first, and a job's last batch is queued before its final event.
 */
@Injectable()
export class WebhookNotifier implements LifecycleListener {
  private readonly logger = new Logger('Webhooks');
  private readonly allow: Cidr[];
  private readonly batches: NoticeBatches;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly outbox: WebhookOutbox,
    private readonly dispatcher: WebhookDispatcher,
    lifecycle: JobLifecycle,
  ) {
    this.allow = parseCidrs(config.WEBHOOK_ALLOW_TARGETS);
    this.batches = new NoticeBatches({ size: config.WEBHOOK_PAGE_BATCH, waitMs: config.WEBHOOK_PAGE_BATCH_MS }, (job, event, items) =>
      this.enqueue(job, event, { jobId: job.id, count: items.length, items }).catch((err: unknown) =>
        this.logger.warn({ jobId: job.id, msg: `queueing a ${event} webhook failed: ${err instanceof Error ? err.message : String(err)}` }),
      ),
    );
    lifecycle.add(this);
  }

  vet(kind: { name: string; notices: readonly string[] }, options: JobOptions): FieldIssue[] {
    const hook = options.webhook;
    if (!hook) return [];
    const issues: FieldIssue[] = [];
    const allowed = new Set<string>([...JOB_WEBHOOK_EVENTS, ...kind.notices]);
    hook.events?.forEach((event, i) => {
      if (!allowed.has(event)) issues.push({ field: `webhook.events.${i}`, rule: 'invalid_value', message: `${kind.name} jobs send ${[...allowed].join(', ')}` });
    });
    // An address written in the URL is refused now; a name is checked on every connection (DNS may change).
    const host = new URL(hook.url).hostname.replace(/^\[|\]$/g, '');
    if ((/^[\d.]+$/.test(host) || host.includes(':')) && !isAllowedAddress(host, this.allow)) {
      issues.push({ field: 'webhook.url', rule: 'blocked_address', message: 'private, loopback or reserved addresses are not allowed (WEBHOOK_ALLOW_TARGETS)' });
    }
    return issues;
  }

  async changed(event: LifecycleEvent, job: JobHeader, view: JobView): Promise<void> {
    if (!job.webhook) return;
    // The pages recorded before the end are sent before it.
    if (event !== 'job.started') await this.batches.flush(job.id);
    if (subscribed(job, event)) await this.enqueue(job, event, view);
  }

  notice(job: JobHeader, event: string, item: unknown): void {
    if (job.webhook && subscribed(job, event)) this.batches.add(job, event, item);
  }

  private async enqueue(job: JobHeader, event: string, data: unknown): Promise<void> {
    const hook = job.webhook!;
    const createdAt = Date.now();
    const payload = JSON.stringify({ type: event, timestamp: new Date(createdAt).toISOString(), data });
    const id = `msg_${randomUUID().replaceAll('-', '')}`;
    await this.outbox.enqueue({ id, jobId: job.id, owner: job.owner, event, url: hook.url, secret: hook.secret, payload, createdAt });
    this.dispatcher.kick();
  }
}

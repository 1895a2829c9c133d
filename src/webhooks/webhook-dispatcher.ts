import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { instanceId } from '../config/instance-id';
import { parseCidrs } from '../crawl/address-policy';
import { createSafeAgent } from '../crawl/safe-agent';
import { type RetrySchedule, retryDelay } from './retry-schedule';
import { type AttemptResult, sendAttempt } from './webhook-sender';
import { type DueDelivery, type WebhookDelivery, WebhookOutbox } from './webhook-outbox';

/** How often the outbox is looked at for due deliveries (another instance's, retries); a local enqueue looks at once. */
const POLL_MS = 250;
/** Due deliveries read per look beyond the free sending slots (those of busy receivers are passed over). */
const SCAN_EXTRA = 64;
/** A busy receiver's deliveries that crowd a full scan wait this long, so others' get read. */
const BUSY_DEFER_MS = 500;
/** A claim outlives the attempt's deadline by this much (the record is written after it). */
const LEASE_MARGIN_MS = 5_000;

/**
 * Sends due webhook deliveries from the outbox, on every instance: claims each under a lease,
 * sends it (never awaited by any job), stores how it went and when to try again. Bounded at once
 * in total (WEBHOOK_CONCURRENCY) and per receiver, a key's URL origin (WEBHOOK_PER_RECEIVER), so a
 * slow or dead receiver holds a few slots for at most WEBHOOK_TIMEOUT_MS each, never another's turn.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly agent;
  private readonly holder: string;
  private readonly schedule: RetrySchedule;
  private readonly perReceiver = new Map<string, number>();
  private readonly sending = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private timer?: NodeJS.Timeout;
  private looking = false;
  private lookAgain = false;
  private stopped = false;
  /** Reading the outbox fails (the backend is out of reach): said once, not on every look. */
  private unreadable = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: WebhookOutbox,
  ) {
    this.agent = createSafeAgent(parseCidrs(config.WEBHOOK_ALLOW_TARGETS), { connections: config.WEBHOOK_PER_RECEIVER });
    // A restarted instance with the same INSTANCE_ID must not pass for the one that claimed before.
    this.holder = `${instanceId(config.INSTANCE_ID)}:${randomUUID().slice(0, 8)}`;
    this.schedule = { maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS, maxDelayMs: config.WEBHOOK_MAX_DELAY_MS };
  }

  onApplicationBootstrap(): void {
    if (this.config.WEBHOOK_ALLOW_TARGETS.length > 0) {
      this.logger.warn(`WEBHOOK_ALLOW_TARGETS is set: webhooks MAY BE SENT TO ${this.config.WEBHOOK_ALLOW_TARGETS.join(', ')} despite the private-address protection`);
    }
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /**
   * Nothing new starts; attempts in flight stop at once and are left due, so another instance (or
   * this one's successor) sends them again with the same id instead of shutdown waiting on a receiver.
   */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.shutdown.abort();
    await Promise.allSettled([...this.sending]);
    await this.agent.close().catch(() => {});
  }

  /** Looks for due deliveries now (a delivery was just queued, or a slot freed). */
  kick(): void {
    if (this.stopped) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    this.looking = true;
    void this.look()
      .then(() => {
        if (this.unreadable) this.logger.log('reading due webhook deliveries works again');
        this.unreadable = false;
      })
      .catch((err: unknown) => {
        if (!this.unreadable && !this.stopped) this.logger.warn(`reading due webhook deliveries failed (said once until it works again): ${err instanceof Error ? err.message : String(err)}`);
        this.unreadable = true;
      })
      .finally(() => {
        this.looking = false;
        if (this.lookAgain) this.kick();
      });
  }

  private async look(): Promise<void> {
    do {
      this.lookAgain = false;
      const free = this.config.WEBHOOK_CONCURRENCY - this.sending.size;
      if (free <= 0) return;
      const now = Date.now();
      const limit = free + SCAN_EXTRA;
      const due = await this.outbox.due(now, limit);
      const crowded = due.length >= limit;
      for (const candidate of due) {
        if (this.stopped || this.sending.size >= this.config.WEBHOOK_CONCURRENCY) return;
        const receiver = receiverOf(candidate);
        if ((this.perReceiver.get(receiver) ?? 0) >= this.config.WEBHOOK_PER_RECEIVER) {
          if (crowded) await this.outbox.defer(candidate.id, now + BUSY_DEFER_MS);
          continue;
        }
        const delivery = await this.outbox.claim(candidate.id, this.holder, now, this.config.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS);
        if (delivery) this.start(delivery, receiver);
      }
    } while (this.lookAgain && !this.stopped);
  }

  private start(delivery: WebhookDelivery, receiver: string): void {
    this.perReceiver.set(receiver, (this.perReceiver.get(receiver) ?? 0) + 1);
    const sent = this.attempt(delivery)
      .catch((err: unknown) => this.logger.warn({ jobId: delivery.jobId, deliveryId: delivery.id, msg: `storing a webhook attempt failed: ${err instanceof Error ? err.message : String(err)}` }))
      .finally(() => {
        const left = (this.perReceiver.get(receiver) ?? 1) - 1;
        if (left > 0) this.perReceiver.set(receiver, left);
        else this.perReceiver.delete(receiver);
        this.sending.delete(sent);
        this.kick();
      });
    this.sending.add(sent);
  }

  private async attempt(delivery: WebhookDelivery): Promise<void> {
    const result = await sendAttempt(delivery, {
      agent: this.agent,
      timeoutMs: this.config.WEBHOOK_TIMEOUT_MS,
      maxDelayMs: this.config.WEBHOOK_MAX_DELAY_MS,
      userAgent: 'parallel-compute-webhooks/0.1',
      stop: this.shutdown.signal,
    });
    const at = Date.now();
    const delay = result.ok ? null : result.interrupted ? 0 : retryDelay(delivery.attempts, this.schedule, result.retryAfterMs);
    const state = result.ok ? 'delivered' : delay === null ? 'failed' : 'pending';
    const stored = await this.outbox.record(delivery.id, this.holder, {
      state,
      lastStatus: result.status,
      ...(result.error ? { lastError: result.error } : {}),
      ...(delay !== null ? { nextAttemptAt: at + delay } : {}),
      at,
    });
    if (!stored) this.logger.warn({ jobId: delivery.jobId, deliveryId: delivery.id, msg: 'a webhook attempt ended after its lease lapsed; another instance may send it again' });
    if (state === 'failed') this.gaveUp(delivery, result);
  }

  private gaveUp(delivery: WebhookDelivery, result: AttemptResult): void {
    // The origin only: a URL's path or query may hold the receiver's own tokens.
    this.logger.warn({
      jobId: delivery.jobId,
      deliveryId: delivery.id,
      msg: `webhook ${delivery.event} to ${new URL(delivery.url).origin} given up after ${delivery.attempts} attempts: ${result.status}`,
    });
  }
}

/** Deliveries to one URL origin for one key share the per-receiver bound. */
function receiverOf(delivery: DueDelivery): string {
  return `${delivery.owner ?? ''} ${new URL(delivery.url).origin}`;
}

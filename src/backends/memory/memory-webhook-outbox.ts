import { type AttemptRecord, type DueDelivery, type NewDelivery, type WebhookDelivery, WebhookOutbox } from '../../webhooks/webhook-outbox';

interface Held {
  delivery: WebhookDelivery;
  /** When it may be claimed: its next attempt, or while claimed the end of the lease. */
  dueAt: number;
  holder?: string;
}

/** Finished deliveries kept at most (the oldest go first past it), whatever their age. */
const MAX_FINISHED = 100_000;

/** The embedded mode's deliveries, in this process. */
export class MemoryWebhookOutbox extends WebhookOutbox {
  private readonly entries = new Map<string, Held>();
  private readonly pending = new Set<string>();
  private readonly byJob = new Map<string, string[]>();
  /** Finished ids in the order they finished (Map order), for retention. */
  private readonly finished = new Map<string, number>();

  /** `retentionMs`: how long a finished delivery stays listed (JOB_RETENTION_MS). */
  constructor(private readonly retentionMs: number) {
    super();
  }

  async enqueue(delivery: NewDelivery): Promise<void> {
    this.forgetOld(Date.now());
    this.entries.set(delivery.id, { delivery: { ...delivery, state: 'pending', attempts: 0, nextAttemptAt: delivery.createdAt }, dueAt: delivery.createdAt });
    this.pending.add(delivery.id);
    const ids = this.byJob.get(delivery.jobId) ?? [];
    ids.push(delivery.id);
    this.byJob.set(delivery.jobId, ids);
  }

  async due(now: number, limit: number): Promise<DueDelivery[]> {
    const due: Held[] = [];
    for (const id of this.pending) {
      const held = this.entries.get(id)!;
      if (held.dueAt <= now) due.push(held);
    }
    due.sort((a, b) => a.dueAt - b.dueAt);
    return due.slice(0, limit).map(({ delivery }) => ({ id: delivery.id, owner: delivery.owner, url: delivery.url }));
  }

  async claim(id: string, holder: string, now: number, leaseMs: number): Promise<WebhookDelivery | null> {
    const held = this.entries.get(id);
    if (!held || !this.pending.has(id) || held.dueAt > now) return null;
    held.holder = holder;
    held.dueAt = now + leaseMs;
    held.delivery.attempts++;
    return { ...held.delivery };
  }

  async record(id: string, holder: string, attempt: AttemptRecord): Promise<boolean> {
    const held = this.entries.get(id);
    if (!held || held.holder !== holder || !this.pending.has(id)) return false;
    const { delivery } = held;
    held.holder = undefined;
    delivery.state = attempt.state;
    delivery.lastStatus = attempt.lastStatus;
    delivery.lastError = attempt.lastError;
    if (attempt.state === 'pending') {
      delivery.nextAttemptAt = attempt.nextAttemptAt ?? attempt.at;
      held.dueAt = delivery.nextAttemptAt;
      return true;
    }
    delivery.nextAttemptAt = undefined;
    delivery.finishedAt = attempt.at;
    this.pending.delete(id);
    this.finished.set(id, attempt.at);
    return true;
  }

  async defer(id: string, until: number): Promise<void> {
    const held = this.entries.get(id);
    // Only later: a claimed delivery's lease (a later time) is never shortened.
    if (!held || !this.pending.has(id) || until <= held.dueAt) return;
    held.dueAt = until;
    held.delivery.nextAttemptAt = until;
  }

  async list(jobId: string): Promise<WebhookDelivery[]> {
    return (this.byJob.get(jobId) ?? []).flatMap((id) => {
      const held = this.entries.get(id);
      return held ? [{ ...held.delivery }] : [];
    });
  }

  private forgetOld(now: number): void {
    for (const [id, at] of this.finished) {
      if (at + this.retentionMs > now && this.finished.size <= MAX_FINISHED) break;
      this.finished.delete(id);
      const held = this.entries.get(id);
      this.entries.delete(id);
      if (!held) continue;
      const ids = this.byJob.get(held.delivery.jobId)?.filter((other) => other !== id);
      if (ids?.length) this.byJob.set(held.delivery.jobId, ids);
      else this.byJob.delete(held.delivery.jobId);
    }
  }
}

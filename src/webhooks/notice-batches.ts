import type { JobHeader } from '../jobs/job-data';

interface Batch {
  job: JobHeader;
  event: string;
  items: unknown[];
  timer: NodeJS.Timeout;
}

/**
 * A job's notice items (a crawl's pages) gathered into batches: one is sent when it holds `size`
 * items or its first item waited `waitMs`, whichever comes first, and on flush (the job ends).
 * Kept by the instance coordinating the job; one that dies loses at most its open batch.
 */
export class NoticeBatches {
  private readonly open = new Map<string, Batch>();
  /** Each job's batches are queued one after another, in order; flush waits for the last. */
  private readonly queued = new Map<string, Promise<void>>();

  constructor(
    private readonly limits: { size: number; waitMs: number },
    private readonly send: (job: JobHeader, event: string, items: unknown[]) => Promise<void>,
  ) {}

  add(job: JobHeader, event: string, item: unknown): void {
    const key = `${job.id} ${event}`;
    let batch = this.open.get(key);
    if (!batch) {
      const timer = setTimeout(() => this.take(key), this.limits.waitMs);
      timer.unref();
      batch = { job, event, items: [], timer };
      this.open.set(key, batch);
    }
    batch.items.push(item);
    if (batch.items.length >= this.limits.size) this.take(key);
  }

  /** Sends the job's open batches now. */
  async flush(jobId: string): Promise<void> {
    for (const key of [...this.open.keys()]) if (key.startsWith(`${jobId} `)) this.take(key);
    await this.queued.get(jobId);
  }

  /** `send` never rejects (its caller logs). */
  private take(key: string): void {
    const batch = this.open.get(key);
    if (!batch) return;
    this.open.delete(key);
    clearTimeout(batch.timer);
    const jobId = batch.job.id;
    const sent = (this.queued.get(jobId) ?? Promise.resolve()).then(() => this.send(batch.job, batch.event, batch.items));
    this.queued.set(jobId, sent);
    void sent.then(() => this.queued.get(jobId) === sent && this.queued.delete(jobId));
  }
}

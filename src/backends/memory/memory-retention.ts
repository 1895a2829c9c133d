import type { RetentionPolicy } from '../../jobs/job-data';

/**
 * Finished jobs in the order they finished, with their result bytes: says which to drop so the
 * retention bounds hold (maxAgeMs, maxCount, maxBytes), oldest first.
 */
export class FinishedJobs {
  private readonly jobs = new Map<string, { finishedAt: number; bytes: number }>();
  private bytes = 0;

  constructor(private readonly policy: RetentionPolicy) {}

  add(id: string, finishedAt: number, bytes: number): void {
    if (this.jobs.has(id)) return;
    this.jobs.set(id, { finishedAt, bytes });
    this.bytes += bytes;
  }

  /** Removes and returns the jobs past a bound, oldest first. */
  evict(now: number): string[] {
    const { maxAgeMs, maxCount, maxBytes } = this.policy;
    const evicted: string[] = [];
    for (const [id, job] of this.jobs) {
      const expired = now - job.finishedAt >= maxAgeMs;
      if (!expired && this.jobs.size <= maxCount && this.bytes <= maxBytes) break;
      this.jobs.delete(id);
      this.bytes -= job.bytes;
      evicted.push(id);
    }
    return evicted;
  }
}

import type { JobKindName, JobRecord, JobStatus } from './job.model';
import { isFinal } from './job.model';

export interface JobQuery {
  status?: JobStatus;
  kind?: JobKindName;
  owner?: string;
  offset: number;
  limit: number;
}

export interface RetentionPolicy {
  /** How long a finished job stays readable. */
  maxAgeMs: number;
  /** How many finished jobs are kept at most. */
  maxCount: number;
  /** How many bytes of results finished jobs may hold together. */
  maxBytes: number;
}

/**
 * Where jobs live. The embedded store keeps them in this process; the multi-node mode keeps
 * them in Redis behind the same interface.
 */
export abstract class JobStore {
  abstract add(job: JobRecord): void;
  abstract get(id: string): JobRecord | undefined;
  /** Newest first. */
  abstract list(query: JobQuery): { items: JobRecord[]; total: number };
  /** Called once when a job reaches a final status; the store may now evict older ones. */
  abstract finished(job: JobRecord): void;
  abstract close(): void;
}

/** In-process store with bounded retention of finished jobs. */
export class MemoryJobStore extends JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  /** Finished jobs, oldest first (Map keeps insertion order). */
  private readonly finishedOrder = new Map<string, JobRecord>();
  private finishedBytes = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly retention: RetentionPolicy) {
    super();
    this.sweeper = setInterval(() => this.evict(), Math.min(retention.maxAgeMs, 60_000));
    this.sweeper.unref();
  }

  add(job: JobRecord): void {
    this.jobs.set(job.id, job);
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  list({ status, kind, owner, offset, limit }: JobQuery): { items: JobRecord[]; total: number } {
    const matches: JobRecord[] = [];
    for (const job of this.jobs.values()) {
      if ((status && job.status !== status) || (kind && job.kind !== kind) || (owner !== undefined && job.owner !== owner)) continue;
      matches.push(job);
    }
    matches.reverse();
    return { items: matches.slice(offset, offset + limit), total: matches.length };
  }

  finished(job: JobRecord): void {
    if (!isFinal(job.status) || this.finishedOrder.has(job.id)) return;
    this.finishedOrder.set(job.id, job);
    this.finishedBytes += job.resultBytes;
    this.evict();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /** Drops the oldest finished jobs until every retention bound holds again. */
  private evict(now = Date.now()): void {
    for (const job of this.finishedOrder.values()) {
      const expired = now - (job.finishedAt ?? now) >= this.retention.maxAgeMs;
      const overCount = this.finishedOrder.size > this.retention.maxCount;
      const overBytes = this.finishedBytes > this.retention.maxBytes;
      if (!expired && !overCount && !overBytes) break;
      this.finishedOrder.delete(job.id);
      this.jobs.delete(job.id);
      this.finishedBytes -= job.resultBytes;
    }
  }
}

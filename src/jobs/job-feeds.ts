import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { BACKEND, type Backend } from '../backends/backend';
import { ALL_JOBS, EventBus, type EventName, type JobEvent } from './event-bus';
import { isFinal } from './job.model';
import { JobStore } from './job.store';
import { toSnapshot, toView } from './job.view';

/**
 * Watching jobs, from any instance: a snapshot read from the store, then the events published
 * after it, through the bus. Subscribing comes first and the snapshot second; events the snapshot
 * already contains (seq not above the snapshot's) are dropped, so every task is counted once.
 */
@Injectable()
export class JobFeeds {
  constructor(
    @Inject(BACKEND) private readonly backend: Backend,
    private readonly store: JobStore,
    private readonly bus: EventBus,
  ) {}

  /**
   * Sends a snapshot, then every later event of the job (or of every job, for `*`) to `send`.
   * `afterSeq` (a single job's feed resumed: SSE Last-Event-ID, WebSocket afterSeq): the snapshot
   * is left out when that is the job's seq now; a finished job still ends with its final event.
   * Throws 404 (before sending anything) for a job the caller may not see. Returns the stop.
   */
  async watch(jobId: string, owner: string | undefined, send: (event: JobEvent) => void, afterSeq?: number): Promise<() => void> {
    let early: JobEvent[] | undefined = [];
    /** Per job: events up to this seq are in the snapshot sent. */
    const seen = new Map<string, number>();
    const visible = (event: JobEvent) => owner === undefined || event.owner === owner;
    const deliver = (event: JobEvent) => {
      const upTo = seen.get(event.jobId);
      if (upTo === undefined || event.seq > upTo) send(event);
    };
    const stop = await this.bus.subscribe(jobId, (event) => {
      if (!visible(event)) return;
      if (early) early.push(event);
      else deliver(event);
    });
    try {
      // The caller's unfinished jobs only (a per-owner index): other tenants' jobs cost a keyed `*` nothing.
      const ids = jobId === ALL_JOBS ? await this.store.unfinished(owner) : [jobId];
      for (const id of ids) {
        const snapshot = await this.store.snapshot(id);
        const header = snapshot?.header;
        if (!snapshot || !header || (owner !== undefined && header.owner !== owner)) {
          if (jobId === ALL_JOBS) continue;
          throw new NotFoundException(`job ${id} not found`);
        }
        seen.set(id, header.seq);
        // A feed resumed at the job's current seq missed nothing: it gets only what comes later.
        // Any other seq is a gap the bus cannot replay (it keeps no history): a snapshot replaces it, and says so.
        const upToDate = jobId !== ALL_JOBS && afterSeq === header.seq;
        if (!upToDate) {
          const data = toSnapshot(snapshot);
          send({
            event: 'job.snapshot',
            jobId: id,
            owner: header.owner,
            seq: header.seq,
            data: afterSeq !== undefined && jobId !== ALL_JOBS ? { ...data, resume: { afterSeq, replayed: false } } : data,
          });
        }
        if (jobId !== ALL_JOBS && isFinal(header.status)) {
          send({ event: `job.${header.status}` as EventName, jobId: id, owner: header.owner, seq: header.seq, data: toView(header) });
          stop();
          return () => {};
        }
      }
    } catch (err) {
      stop();
      throw err;
    }
    const waiting = early;
    early = undefined;
    for (const event of waiting) deliver(event);
    return stop;
  }

  /** Resolves true once the job is final (false if `ms` passes first, or the job is unknown: true). */
  async waitFor(jobId: string, ms: number): Promise<boolean> {
    let finished!: () => void;
    const final = new Promise<true>((resolve) => (finished = () => resolve(true)));
    const stop = await this.bus.subscribeEnd(jobId, () => finished());
    const timers: NodeJS.Timeout[] = [];
    try {
      const check = async () => {
        const job = await this.store.get(jobId).catch(() => undefined);
        if (!job || isFinal(job.status)) finished();
      };
      await check();
      // With shared jobs a final event is lost only if its publisher (another instance) died in between; a slow poll covers that.
      if (this.backend.capabilities.leaseMs !== null) timers.push(setInterval(() => void check(), 1_000));
      const timeout = new Promise<false>((resolve) => timers.push(setTimeout(() => resolve(false), ms)));
      return await Promise.race([final, timeout]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
      stop();
    }
  }
}

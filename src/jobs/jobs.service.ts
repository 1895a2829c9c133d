import { Inject, Injectable, Logger, NotFoundException, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isFinished, type TaskUpdate } from '../pool/task-protocol';
import { TaskScheduler, type WorkerName } from '../pool/task-scheduler';
import { ALL_JOBS, EventBus, type EventName, type JobEvent } from '../progress/event-bus';
import type { JobContext, JobKind, ResultFormat } from './job-kind';
import { isFinal, JobRecord, type JobKindName, type JobStatus } from './job.model';
import { JobStore } from './job.store';
import { toSnapshot, toView, type JobView } from './job.view';

/** Bookkeeping for a job this process is running. */
interface LiveJob {
  kind: JobKind<any, any>;
  controller: AbortController;
  /** Task updates waiting for the next coalesced `task.progress`, by task index. */
  pending: Map<number, Record<string, unknown>>;
  flushTimer?: NodeJS.Timeout;
  done: Promise<void>;
  settle(): void;
}

/** What a submission answers: 202 with the job, or 200 with the finished job and its results. */
export interface Submission {
  finished: boolean;
  location: string;
  body: JobView | (JobView & { results: ResultsPage });
}

export interface ResultsPage {
  jobId: string;
  status: JobStatus;
  total: number;
  offset: number;
  limit: number;
  format: ResultFormat;
  items: Record<string, unknown>[];
}

/** The lifecycle of every job, whatever its kind: submit, run, publish, cancel, read, evict. */
@Injectable()
export class JobsService implements OnApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly live = new Map<string, LiveJob>();
  private readonly kinds = new Map<JobKindName, JobKind<any, any>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly scheduler: TaskScheduler,
  ) {}

  submit<I, R>(kind: JobKind<I, R>, inputs: I[], owner?: string): JobView {
    this.kinds.set(kind.name, kind);
    const job = new JobRecord<I, R>(randomUUID(), kind.name, inputs, owner);
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const live: LiveJob = { kind, controller: new AbortController(), pending: new Map(), done, settle };
    this.store.add(job);
    this.live.set(job.id, live);
    this.emit(job, 'job.created', toView(job));
    setImmediate(() => void this.execute(job, live));
    return toView(job);
  }

  /** Submits a job and, if asked, holds the answer until it finishes or `waitMs` passes. */
  async accept<I, R>(kind: JobKind<I, R>, inputs: I[], options: { owner?: string; waitMs: number; limit: number }): Promise<Submission> {
    const view = this.submit(kind, inputs, options.owner);
    const job = this.get(view.id);
    const finished = options.waitMs > 0 && (await this.waitFor(job, options.waitMs));
    const body = finished ? { ...toView(job), results: this.results(job, 0, options.limit, 'decimal') } : view;
    return { finished, location: view.links.self, body };
  }

  /** The job, if it exists and the caller may see it; otherwise 404. */
  get(id: string, owner?: string): JobRecord {
    const job = this.store.get(id);
    if (!job || (owner !== undefined && job.owner !== owner)) {
      throw new NotFoundException(`job ${id} not found`);
    }
    return job;
  }

  view(id: string, owner?: string): JobView {
    return toView(this.get(id, owner));
  }

  list(query: Parameters<JobStore['list']>[0]): { items: JobView[]; total: number } {
    const { items, total } = this.store.list(query);
    return { items: items.map(toView), total };
  }

  /** Resolves true once the job is final, false if `ms` passes first. */
  async waitFor(job: JobRecord, ms: number): Promise<boolean> {
    const live = this.live.get(job.id);
    if (!live || isFinal(job.status)) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([live.done.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cancels a queued or running job and returns it once its tasks have stopped. */
  async cancel(job: JobRecord, reason = 'cancelled by request'): Promise<JobView> {
    const live = this.live.get(job.id);
    if (live && !isFinal(job.status)) {
      job.reason ??= reason;
      live.controller.abort(new Error(reason));
      await this.waitFor(job, 10_000);
    }
    return toView(job);
  }

  results(job: JobRecord, offset: number, limit: number, format: ResultFormat): ResultsPage {
    const kind = this.kinds.get(job.kind)!;
    const end = Math.min(job.total, offset + limit);
    const items: Record<string, unknown>[] = [];
    for (let index = offset; index < end; index++) {
      const input = job.inputs[index];
      const state = job.states[index];
      const result = job.results[index];
      const error = job.errors[index];
      items.push({
        index,
        ...kind.summarize(input, undefined),
        state,
        ...(result !== undefined ? kind.present(input, result, format) : {}),
        ...(error !== undefined ? { error } : {}),
      });
    }
    return { jobId: job.id, status: job.status, total: job.total, offset, limit, format, items };
  }

  /**
   * Sends a snapshot, then every later event of the job (or of every job, for `*`), to `send`.
   * Pending updates are flushed first so that a task is never both in the snapshot and in a
   * later update as finished. Returns the function that stops the feed.
   */
  watch(jobId: string, owner: string | undefined, send: (event: JobEvent) => void): () => void {
    const visible = (event: JobEvent) => owner === undefined || event.owner === owner;
    if (jobId === ALL_JOBS) {
      for (const [id] of this.live) {
        const job = this.store.get(id);
        if (!job || (owner !== undefined && job.owner !== owner)) continue;
        this.flush(id);
        send({ event: 'job.snapshot', jobId: id, owner: job.owner, data: toSnapshot(job) });
      }
      return this.bus.subscribe(ALL_JOBS, (event) => visible(event) && send(event));
    }
    const job = this.get(jobId, owner);
    this.flush(job.id);
    send({ event: 'job.snapshot', jobId: job.id, owner: job.owner, data: toSnapshot(job) });
    if (isFinal(job.status)) {
      send({ event: `job.${job.status}` as EventName, jobId: job.id, owner: job.owner, data: toView(job) });
      return () => {};
    }
    return this.bus.subscribe(job.id, send);
  }

  /** On shutdown, running jobs are cancelled so no worker is left computing for nobody. */
  async onApplicationShutdown(): Promise<void> {
    const running = [...this.live.keys()].map((id) => this.store.get(id)).filter((job) => job !== undefined);
    await Promise.all(running.map((job) => this.cancel(job, 'shutdown')));
    this.store.close();
  }

  private async execute(job: JobRecord, live: LiveJob): Promise<void> {
    const { signal } = live.controller;
    try {
      if (!signal.aborted) {
        job.status = 'running';
        job.startedAt = Date.now();
        this.emit(job, 'job.started', toView(job));
        const context: JobContext<unknown, unknown> = {
          job,
          signal,
          runTask: (worker, payload, indexes) => this.runTask(job, live, worker, payload, indexes),
        };
        await live.kind.execute(context);
      }
      this.finish(job, live, signal.aborted ? 'cancelled' : undefined);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error(`job ${job.id} failed: ${message}`);
      this.finish(job, live, 'failed', message);
    }
  }

  private async runTask(job: JobRecord, live: LiveJob, worker: WorkerName, payload: object, indexes: readonly number[]): Promise<void> {
    const { signal } = live.controller;
    if (signal.aborted) return; // finish() marks what never ran as cancelled
    try {
      await this.scheduler.run(worker, payload, { signal, onUpdates: (updates) => this.apply(job, live, updates) });
    } catch (err) {
      const cancelled = signal.aborted;
      const error = cancelled ? undefined : `worker failed: ${err instanceof Error ? err.message : String(err)}`;
      if (error) this.logger.warn(`job ${job.id}: ${error}`);
      this.apply(
        job,
        live,
        indexes.filter((index) => !isFinished(job.states[index])).map((index) => ({ index, state: cancelled ? 'cancelled' : 'failed', error })),
      );
    }
  }

  private apply(job: JobRecord, live: LiveJob, updates: readonly TaskUpdate[]): void {
    for (const { index, state, progress, result, error } of updates) {
      if (state === 'running' && job.states[index] === 'running') {
        if (progress === undefined) continue;
        job.progress.set(index, progress);
      } else {
        if (!job.transition(index, state)) continue;
        if (result !== undefined) {
          job.results[index] = result;
          job.resultBytes += live.kind.sizeOf(result);
        }
        if (error !== undefined) job.errors[index] = error;
      }
      live.pending.set(index, {
        index,
        ...live.kind.summarize(job.inputs[index], result),
        state,
        ...(progress !== undefined && state === 'running' ? { progress } : {}),
        ...(error !== undefined ? { error } : {}),
      });
    }
    if (live.pending.size > 0 && !live.flushTimer) {
      live.flushTimer = setTimeout(() => this.flush(job.id), this.config.PROGRESS_FLUSH_MS);
    }
  }

  /** Publishes the job's pending task updates as one `task.progress` event. */
  private flush(jobId: string): void {
    const live = this.live.get(jobId);
    const job = this.store.get(jobId);
    if (!live || !job) return;
    clearTimeout(live.flushTimer);
    live.flushTimer = undefined;
    if (live.pending.size === 0) return;
    const updates = [...live.pending.values()];
    live.pending.clear();
    this.emit(job, 'task.progress', { jobId, updates });
  }

  private finish(job: JobRecord, live: LiveJob, forced?: 'cancelled' | 'failed', reason?: string): void {
    // Whatever never ran (or was still running when the job was cancelled) ends cancelled.
    const leftovers: TaskUpdate[] = [];
    job.states.forEach((state, index) => isFinished(state) || leftovers.push({ index, state: 'cancelled' }));
    this.apply(job, live, leftovers);
    this.flush(job.id);
    job.status = forced ?? (job.failed > 0 && job.completed === 0 ? 'failed' : 'completed');
    if (reason) job.reason = reason;
    if (job.status === 'failed' && !job.reason) job.reason = 'every task failed';
    job.finishedAt = Date.now();
    job.startedAt ??= job.finishedAt;
    this.live.delete(job.id);
    this.emit(job, `job.${job.status}` as EventName, toView(job));
    this.store.finished(job);
    live.settle();
  }

  private emit(job: JobRecord, event: EventName, data: unknown): void {
    job.seq++;
    this.bus.publish({ event, jobId: job.id, owner: job.owner, data });
  }
}

import { Inject, Injectable, Logger, NotFoundException, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isFinished, type TaskUpdate } from '../pool/task-protocol';
import { TaskScheduler, type WorkerName } from '../pool/task-scheduler';
import { ALL_JOBS, EventBus, type EventName, type JobEvent } from '../progress/event-bus';
import { Admission } from './admission';
import type { JobObserver } from './job-observer';
import type { JobContext, JobKind, Reservation, ResultFormat } from './job-kind';
import { isFinal, JobRecord, type JobKindName } from './job.model';
import { JobStore } from './job.store';
import { toSnapshot, toView, type JobView } from './job.view';
import { type PageWalk, pageOfResults, type ResultsPage, startPage } from './results-page';

/** Task updates per `task.progress` message at most. */
const MAX_UPDATES_PER_MESSAGE = 1_000;

/** Bookkeeping for a job this process is running. */
interface LiveJob {
  kind: JobKind<any, any>;
  /** What admission counts for the job until it ends. */
  reservation: Reservation;
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

/** Who submits: the API key's owner id (if keys are on) and the id limits are counted by. */
export interface Caller {
  owner?: string;
  id: string;
}

export type { ResultsPage } from './results-page';

/** The lifecycle of every job, whatever its kind: submit, run, publish, cancel, read, evict. */
@Injectable()
export class JobsService implements OnApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly live = new Map<string, LiveJob>();
  private readonly kinds = new Map<JobKindName, JobKind<any, any>>();
  private readonly admission: Admission;
  private readonly observers: JobObserver[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly scheduler: TaskScheduler,
  ) {
    this.admission = new Admission(
      {
        maxQueuedTasks: config.MAX_QUEUED_TASKS,
        maxJobsPerCaller: config.MAX_JOBS_IN_FLIGHT_PER_KEY,
        maxResultBytesPerCaller: config.MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY,
        maxCrawlPagesPerCaller: config.MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY,
        maxCrawlFetchesPerCaller: config.MAX_CRAWL_CONCURRENCY_PER_KEY,
      },
      () => this.queuedTasks(),
    );
  }

  /** Registers hooks on task and job outcomes (metrics). */
  observe(observer: JobObserver): void {
    this.observers.push(observer);
  }

  /** True once shutdown began: new jobs are refused and readiness is 503. */
  get draining(): boolean {
    return this.admission.draining;
  }

  /** Creates and starts a job; only through accept(), so admission is never skipped. */
  private submit<I, R>(kind: JobKind<I, R>, inputs: I[], reservation: Reservation, owner?: string, params?: unknown): JobRecord<I, R> {
    this.kinds.set(kind.name, kind);
    const job = new JobRecord<I, R>(randomUUID(), kind.name, inputs, owner, params);
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const controller = new AbortController();
    // Every running task of the job listens for its cancel (a crawl runs up to `concurrency` at once).
    setMaxListeners(0, controller.signal);
    const live: LiveJob = { kind, reservation, controller, pending: new Map(), done, settle };
    this.store.add(job);
    this.live.set(job.id, live);
    this.logger.debug({ jobId: job.id, msg: 'job accepted', kind: kind.name, total: job.total });
    this.emit(job, 'job.created', () => toView(job));
    setImmediate(() => void this.execute(job, live));
    return job;
  }

  /**
   * Admits a job (or refuses it with 503/429 and Retry-After, before holding anything) and,
   * if asked, holds the answer until it finishes or `waitMs` passes.
   */
  async accept<I, R>(kind: JobKind<I, R>, inputs: I[], options: { caller: Caller; waitMs: number; limit: number; params?: unknown }): Promise<Submission> {
    const reservation = kind.reserve(options.params, inputs);
    this.admission.check(options.caller.id, reservation);
    const job = this.submit(kind, inputs, reservation, options.caller.owner, options.params);
    const view = toView(job);
    this.admission.track(options.caller.id, reservation, this.live.get(job.id)!.done);
    const finished = options.waitMs > 0 && (await this.waitFor(job, options.waitMs));
    const body = finished ? { ...toView(job), results: this.results(job, 0, options.limit, 'decimal') } : view;
    return { finished, location: view.links.self, body };
  }

  /** Unfinished tasks of every live job, a crawl's yet undiscovered pages included: the depth of the work queue. */
  queuedTasks(): number {
    let queued = 0;
    for (const [id, live] of this.live) {
      const job = this.store.get(id);
      if (job) queued += Math.max(job.total, live.reservation.tasks) - job.finished;
    }
    return queued;
  }

  /**
   * Shutdown: refuse new jobs, give running ones until `graceMs` to finish, then cancel the
   * rest with reason `shutdown` so every subscriber gets a final event.
   */
  async drain(graceMs: number): Promise<void> {
    this.admission.draining = true;
    const jobs = [...this.live.keys()].map((id) => this.store.get(id)).filter((job) => job !== undefined);
    if (jobs.length) this.logger.log(`draining ${jobs.length} running job(s) for up to ${graceMs} ms`);
    const deadline = Date.now() + graceMs;
    await Promise.all(jobs.map((job) => this.waitFor(job, Math.max(0, deadline - Date.now()))));
    // Stopping a task takes milliseconds; the wait is capped so shutdown never outlives its grace.
    await Promise.all(jobs.filter((job) => !isFinal(job.status)).map((job) => this.cancel(job, 'shutdown', 1_000)));
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
  async cancel(job: JobRecord, reason = 'cancelled by request', waitMs = 10_000): Promise<JobView> {
    const live = this.live.get(job.id);
    if (live && !isFinal(job.status)) {
      job.reason ??= reason;
      live.controller.abort(new Error(reason));
      await this.waitFor(job, waitMs);
    }
    return toView(job);
  }

  /** A page of results from `offset`: at most `limit` items and RESULTS_MAX_PAGE_BYTES of JSON (at least one item). */
  results(job: JobRecord, offset: number, limit: number, format: ResultFormat, maxChars?: number): ResultsPage {
    return pageOfResults(job, this.kinds.get(job.kind)!, { offset, limit, format, maxChars, maxBytes: this.config.RESULTS_MAX_PAGE_BYTES });
  }

  /** The same page as a walk over its items, for a caller that writes them out as they come. */
  walkResults(job: JobRecord, page: { offset: number; limit: number; format: ResultFormat; maxChars?: number }): PageWalk {
    return startPage(job, this.kinds.get(job.kind)!, { ...page, maxBytes: this.config.RESULTS_MAX_PAGE_BYTES });
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

  /** Whatever is still running when the app closes is cancelled: no worker computes for nobody. */
  async onApplicationShutdown(): Promise<void> {
    await this.drain(0);
    this.store.close();
  }

  private async execute(job: JobRecord, live: LiveJob): Promise<void> {
    const { signal } = live.controller;
    try {
      if (!signal.aborted) {
        job.status = 'running';
        job.startedAt = Date.now();
        this.emit(job, 'job.started', () => toView(job));
        const context: JobContext<unknown, unknown> = {
          job,
          signal,
          runTask: (worker, payload, indexes, options) => this.runTask(job, live, worker, payload, indexes, options?.stream),
          addTask: (input) => {
            const index = job.addTask(input);
            if (this.bus.hasSubscribers(job.id)) this.queueUpdate(job, live, index, { index, ...live.kind.summarize(input, undefined), state: 'queued' });
            return index;
          },
          report: (updates) => this.apply(job, live, updates),
        };
        await live.kind.execute(context);
      }
      this.finish(job, live, signal.aborted ? 'cancelled' : undefined);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error({ jobId: job.id, msg: `job failed: ${message}` });
      this.finish(job, live, 'failed', message);
    }
  }

  private async runTask(job: JobRecord, live: LiveJob, worker: WorkerName, payload: object, indexes: readonly number[], stream?: boolean): Promise<void> {
    const { signal } = live.controller;
    if (signal.aborted) return; // finish() marks what never ran as cancelled
    try {
      // A one-task pool task (a page, a huge number) shows as running when a worker takes it;
      // multi-number chunks report their own (big) numbers, so small ones cost no extra update.
      const onStart = indexes.length === 1 ? () => this.apply(job, live, [{ index: indexes[0], state: 'running' }]) : undefined;
      await this.scheduler.run(worker, payload, { signal, onStart, stream, onUpdates: (updates) => this.apply(job, live, updates) });
    } catch (err) {
      const cancelled = signal.aborted;
      const error = cancelled ? undefined : `worker failed: ${err instanceof Error ? err.message : String(err)}`;
      if (error) this.logger.warn({ jobId: job.id, msg: error, tasks: indexes.length });
      this.apply(
        job,
        live,
        indexes.filter((index) => !isFinished(job.states[index])).map((index) => ({ index, state: cancelled ? 'cancelled' : 'failed', error })),
      );
    }
  }

  private apply(job: JobRecord, live: LiveJob, updates: readonly TaskUpdate[]): void {
    const watched = this.bus.hasSubscribers(job.id);
    for (const { index, state, progress, result, error } of updates) {
      if (state === 'running' && job.states[index] === 'running') {
        if (progress === undefined) continue;
        job.progress.set(index, progress);
      } else {
        if (!job.transition(index, state)) continue;
        if (progress !== undefined && state === 'running') job.progress.set(index, progress);
        if (result !== undefined) {
          job.results[index] = result;
          job.resultBytes += live.kind.sizeOf(result);
        }
        if (error !== undefined) job.errors[index] = error;
        if (isFinished(state)) this.notifyTask(job.kind, state, result);
      }
      // Nobody watches: a later subscriber starts from a snapshot, so there is nothing to queue.
      if (!watched) continue;
      // Built with plain assignments: this runs once per task update, hundreds of thousands per job.
      const update: Record<string, unknown> = { index, ...live.kind.summarize(job.inputs[index], result) };
      update.state = state;
      if (progress !== undefined && state === 'running') update.progress = progress;
      if (error !== undefined) update.error = error;
      this.queueUpdate(job, live, index, update);
    }
  }

  private notifyTask(kind: string, state: TaskUpdate['state'], result: unknown): void {
    if (this.observers.length === 0) return;
    const ms = (result as { ms?: unknown } | undefined)?.ms;
    for (const observer of this.observers) observer.taskFinished(kind, state as 'completed', typeof ms === 'number' ? ms : undefined);
  }

  /** Holds a task update for the next coalesced `task.progress` (the newest per task wins). */
  private queueUpdate(job: JobRecord, live: LiveJob, index: number, update: Record<string, unknown>): void {
    live.pending.set(index, update);
    if (!live.flushTimer) live.flushTimer = setTimeout(() => this.flush(job.id), this.config.PROGRESS_FLUSH_MS);
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
    // Bounded messages (~50 KB): one giant frame would sit whole in a client's send buffer.
    for (let from = 0; from < updates.length; from += MAX_UPDATES_PER_MESSAGE) {
      const slice = updates.slice(from, from + MAX_UPDATES_PER_MESSAGE);
      this.emit(job, 'task.progress', () => ({ jobId, updates: slice, ...(job.summary ? { summary: { ...job.summary } } : {}) }));
    }
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
    const view = toView(job);
    this.emit(job, `job.${job.status}` as EventName, () => view);
    for (const observer of this.observers) observer.jobFinished(view);
    // Routine endings are debug (a line per job costs measurable time under load); others warn.
    const level = job.status === 'completed' && job.failed === 0 ? 'debug' : 'warn';
    this.logger[level]({
      jobId: job.id,
      msg: `job ${job.status}`,
      kind: job.kind,
      total: job.total,
      completed: job.completed,
      failed: job.failed,
      cancelled: job.cancelled,
      ms: job.finishedAt - job.startedAt,
      ...(job.reason ? { reason: job.reason } : {}),
    });
    this.store.finished(job);
    live.settle();
  }

  /** Publishes an event; its payload is only built when somebody receives it. */
  private emit(job: JobRecord, event: EventName, data: () => unknown): void {
    job.seq++;
    if (this.bus.hasSubscribers(job.id)) this.bus.publish({ event, jobId: job.id, owner: job.owner, data: data() });
  }
}

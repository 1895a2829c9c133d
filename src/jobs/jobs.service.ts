import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotAcceptableException,
  NotFoundException,
  type OnApplicationShutdown,
  UnprocessableEntityException,
} from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { BACKEND, type Backend, type BackendCapabilities } from '../backends/backend';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RetryableException } from '../common/retryable.exception';
import { type AdmissionLimits, checkAdmission } from './admission';
import { EventBus, type JobEvent } from './event-bus';
import type { JobHeader, JobQuery } from './job-data';
import type { JobKind, ResultFormat } from './job-kind';
import { JobFeeds } from './job-feeds';
import { JobKinds } from './job-kinds';
import { JobLifecycle } from './job-lifecycle';
import { type JobObserver, JobObservers } from './job-observers';
import { JobRunner } from './job-runner';
import { isFinal } from './job.model';
import { JobStore } from './job.store';
import { newJobHeader } from './job-store.shared';
import { type JobList, toView, type JobView } from './job.view';
import { decodeCursor, encodeCursor } from './list-cursor';
import { type PageWalk, pageOfResults, type ResultsPage, startPage } from './results-page';
import { TaskScheduler } from '../pool/task-scheduler';
import { MAX_PAGE } from './jobs.schemas';
import { csvRow, EXPORT_TYPES, type ExportFormat, type ExportWriter } from './results-export';
import { TaskQueue } from './task-queue';
import { type IdempotencyRecord, IdempotencyStore } from './idempotency';
import type { JobOptions } from './job-options';

/** Who submits: the API key's owner id (if keys are on) and the id limits are counted by. */
export interface Caller {
  owner?: string;
  id: string;
}

/** A job just accepted, and whether it finished within the submission's wait (then its first results page). */
export interface Accepted {
  job: JobView;
  results?: ResultsPage;
  /** An earlier request with the same Idempotency-Key made the job: this answer repeats that one's. */
  replayed?: boolean;
}

/** Options of a submission. */
export interface SubmitOptions {
  caller: Caller;
  waitMs: number;
  limit: number;
  params?: unknown;
  /** The request's Idempotency-Key: the same key and body again answers with the same job. */
  idempotencyKey?: string;
  /** The fields every kind's body may carry (name, labels, webhook). */
  jobOptions?: JobOptions;
}

/** A followed export looks again at most this often (and at once when the job ends). */
const EXPORT_POLL_MS = 250;

/** How long a key is held for a request still being admitted (a request that dies frees its key then). */
const IDEMPOTENCY_CLAIM_MS = 30_000;

export type { ResultsPage } from './results-page';

/** Admission re-checks when another job came in between reading the figures and creating this one. */
const ADMISSION_ATTEMPTS = 20;

/**
 * The jobs core's front: admit and create jobs, read them and their results, cancel and wait by
 * job id, watch feeds. The work itself is done by JobRunner (coordination), TaskExecutor (pool
 * tasks) and TaskRecorder (storing and publishing updates); all state lives in the JobStore, so
 * any instance answers for every job.
 */
/** GET /jobs as the service takes it: the store's query, with the caller's opaque cursor for `before`. */
export interface JobListRequest extends Omit<JobQuery, 'before'> {
  cursor?: string;
}

@Injectable()
export class JobsService implements OnApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly limits: AdmissionLimits;
  /** Set on shutdown: new jobs are refused and readiness is 503. */
  draining = false;
  private readonly capabilities: BackendCapabilities;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly runner: JobRunner,
    private readonly feeds: JobFeeds,
    private readonly kinds: JobKinds,
    private readonly observers: JobObservers,
    private readonly queue: TaskQueue,
    @Inject(BACKEND) backend: Backend,
    private readonly scheduler: TaskScheduler,
    private readonly idempotency: IdempotencyStore,
    private readonly lifecycle: JobLifecycle,
  ) {
    this.capabilities = backend.capabilities;
    this.limits = {
      maxQueuedTasks: config.MAX_QUEUED_TASKS,
      maxJobsPerCaller: config.MAX_JOBS_IN_FLIGHT_PER_KEY,
      maxResultBytesPerCaller: config.MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY,
      counters: kinds.counters,
    };
  }

  /** Registers hooks on task and job outcomes (metrics). */
  observe(observer: JobObserver): void {
    this.observers.add(observer);
  }

  /**
   * Admits a job (or refuses it with 503/429 and Retry-After, before holding anything), starts
   * it and, if asked, holds the answer until it finishes or `waitMs` passes. With an
   * Idempotency-Key, a key already used by this caller answers with the job it made (see once()).
   */
  async accept<I, R>(kind: JobKind<I, R>, inputs: I[], options: SubmitOptions): Promise<Accepted> {
    if (this.draining) throw new RetryableException(503, 'the service is shutting down; retry on another instance', 5);
    if (options.jobOptions) this.vet(kind, options.jobOptions);
    if (options.idempotencyKey !== undefined) return this.once(kind, inputs, options, options.idempotencyKey);
    return this.answer(await this.create(kind, inputs, options), options);
  }

  /** The shared fields' checks that need the kind or a feature's settings (a webhook's events and address). */
  private vet(kind: JobKind<unknown, unknown>, jobOptions: JobOptions): void {
    const issues = this.lifecycle.vet({ name: kind.name, notices: kind.notices ?? [] }, jobOptions);
    if (issues.length > 0) throw new BadRequestException({ message: issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues });
  }

  /**
   * The Idempotency-Key draft, per caller and across instances: the first request with a key
   * claims it, makes the job and records it under the key (before waiting, so a retry during the
   * wait finds it); the same key and body again answers with that job and the first answer's status,
   * without a second job or reservation; another body is 422; a retry while the first is still
   * being admitted is 409. A request refused before making a job frees its key.
   */
  private async once<I, R>(kind: JobKind<I, R>, inputs: I[], options: SubmitOptions, idempotencyKey: string): Promise<Accepted> {
    const key = `${options.caller.id}\n${idempotencyKey}`;
    const fingerprint = createHash('sha256')
      .update(`${kind.name}\n${JSON.stringify(inputs)}\n${JSON.stringify(options.params ?? null)}\n${JSON.stringify(options.jobOptions ?? {})}`)
      .digest('base64url');
    const held = await this.idempotency.claim(key, fingerprint, IDEMPOTENCY_CLAIM_MS);
    if (held) return this.replay(held, fingerprint, options);
    let created: JobHeader;
    try {
      created = await this.create(kind, inputs, options);
    } catch (err) {
      await this.idempotency.release(key, fingerprint).catch(() => {});
      throw err;
    }
    const ttl = this.config.IDEMPOTENCY_TTL_MS;
    await this.idempotency.complete(key, { fingerprint, jobId: created.id, status: 202 }, ttl);
    const accepted = await this.answer(created, options);
    if (accepted.results) await this.idempotency.complete(key, { fingerprint, jobId: created.id, status: 200 }, ttl);
    return accepted;
  }

  private async replay(held: IdempotencyRecord, fingerprint: string, options: SubmitOptions): Promise<Accepted> {
    const field = 'header.idempotency-key';
    if (held.fingerprint !== fingerprint) {
      const message = 'this Idempotency-Key was used with a different request body';
      throw new UnprocessableEntityException({ message: `${field}: ${message}`, issues: [{ field, rule: 'reused_with_other_body', message }] });
    }
    if (held.state === 'pending' || held.jobId === undefined) {
      const message = 'a request with this Idempotency-Key is still being admitted; retry shortly';
      throw new ConflictException({ message: `${field}: ${message}`, issues: [{ field, rule: 'in_flight', message }] });
    }
    const job = await this.store.get(held.jobId);
    if (!job) throw new NotFoundException(`job ${held.jobId}, made with this Idempotency-Key, is no longer kept`);
    const results = held.status === 200 ? await this.page(job, { offset: 0, limit: options.limit, format: 'decimal' }) : undefined;
    return { job: toView(job), results, replayed: true };
  }

  /** Admits and creates the job, and starts it. */
  private async create<I, R>(kind: JobKind<I, R>, inputs: I[], options: SubmitOptions): Promise<JobHeader> {
    const reservation = kind.reserve(options.params, inputs);
    const id = randomUUID();
    const { name, labels, webhook } = options.jobOptions ?? {};
    const job = { id, kind: kind.name, owner: options.caller.owner, callerId: options.caller.id, params: options.params, reservation, createdAt: Date.now(), name, labels, webhook };
    await this.store.admit(
      job,
      inputs,
      (figures) => checkAdmission(figures, reservation, this.limits),
      () => new RetryableException(503, 'too many jobs arriving at once; retry', 1),
      ADMISSION_ATTEMPTS,
    );
    this.logger.debug({ jobId: id, msg: 'job accepted', kind: kind.name, total: inputs.length });
    // As the store created it (status queued, seq 1), without reading it back.
    const created = newJobHeader(job, inputs.length);
    // Built only for somebody who may receive it (a `*` feed): most small jobs have nobody.
    if (this.bus.mayHaveSubscribers(id)) await this.bus.publish({ event: 'job.created', jobId: id, owner: created.owner, seq: created.seq, data: toView(created) });
    await this.runner.begin(id);
    return created;
  }

  /** Holds the answer until the job finishes (then with its first results page) or `waitMs` passes. */
  private async answer(created: JobHeader, options: SubmitOptions): Promise<Accepted> {
    if (options.waitMs > 0 && (await this.waitFor(created.id, options.waitMs))) {
      const finished = (await this.store.get(created.id)) ?? created;
      return { job: toView(finished), results: await this.page(finished, { offset: 0, limit: options.limit, format: 'decimal' }) };
    }
    return { job: toView(created) };
  }

  /** Unfinished tasks across every unfinished job, a crawl counting its maxPages: the depth of the work queue. */
  async queuedTasks(): Promise<number> {
    return (await this.store.admission('')).queued;
  }

  /** The job, if it exists and the caller may see it; otherwise 404. */
  async get(id: string, owner?: string): Promise<JobHeader> {
    const job = await this.store.get(id);
    if (!job || (owner !== undefined && job.owner !== owner)) throw new NotFoundException(`job ${id} not found`);
    return job;
  }

  async view(id: string, owner?: string): Promise<JobView> {
    return toView(await this.get(id, owner));
  }

  /** A page of the caller's jobs matching every filter, newest first (see JobStore.list). */
  async list(request: JobListRequest): Promise<JobList> {
    const { cursor, limit, ...filters } = request;
    if (filters.kind !== undefined && !this.kinds.has(filters.kind)) {
      const message = `must be one of ${this.kinds.names().join(', ')}`;
      throw new BadRequestException({ message: `query.kind: ${message}`, issues: [{ field: 'query.kind', rule: 'invalid_value', message }] });
    }
    const query: JobQuery = { ...filters, q: filters.q?.toLowerCase(), limit };
    const before = cursor === undefined ? undefined : decodeCursor(cursor, query);
    const { items, next, total } = await this.store.list({ ...query, before });
    return { items: items.map(toView), nextCursor: next === null ? null : encodeCursor(next, query), limit, total };
  }

  /** Resolves true once the job is final, false if `ms` passes first. */
  async waitFor(id: string, ms: number): Promise<boolean> {
    // Alone, a job coordinated here ends with its run (no feed needed): nobody can take it over.
    if (this.capabilities.leaseMs === null && this.runner.coordinates(id)) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
      try {
        return await Promise.race([this.runner.settled(id).then(() => true), timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.feeds.waitFor(id, ms);
  }

  /** Cancels a queued or running job, wherever it runs, and returns it once it has ended. */
  async cancel(id: string, owner?: string, reason = 'cancelled by request', waitMs = 10_000): Promise<JobView> {
    const job = await this.get(id, owner);
    if (!isFinal(job.status)) {
      await this.store.requestCancel(id, reason);
      await this.bus.signal({ type: 'cancel', jobId: id, reason });
      await this.waitFor(id, waitMs);
    }
    return this.view(id);
  }

  /** A walk over a page of results, for a caller that writes the items out as they come. */
  async walkResults(id: string, owner: string | undefined, page: { offset: number; limit: number; format: ResultFormat; maxChars?: number }): Promise<PageWalk> {
    const job = await this.get(id, owner);
    return startPage(this.store, job, this.kinds.get(job.kind), { ...page, maxBytes: this.config.RESULTS_MAX_PAGE_BYTES, pool: this.scheduler });
  }

  /**
   * Streams every result from `offset` to the end, page by page (memory bounded by one page and
   * the writer's chunk), in NDJSON or CSV. With `follow`, a running job's results are written as
   * they finish, in input order, and the stream ends after the last one.
   */
  async exportResults(
    id: string,
    owner: string | undefined,
    query: { offset: number; format: ResultFormat; maxChars?: number; follow: boolean },
    as: ExportFormat,
    writer: ExportWriter,
    setHeaders: (columns?: readonly string[]) => void,
  ): Promise<void> {
    let job = await this.get(id, owner);
    const kind = this.kinds.get(job.kind);
    const columns = as === 'csv' ? kind.exportColumns : undefined;
    if (as === 'csv' && !columns) throw new NotAcceptableException(`${job.kind} jobs have no CSV export; ask for ${EXPORT_TYPES.ndjson}`);
    setHeaders(columns);
    if (columns && !(await writer.line(`${columns.join(',')}\r\n`))) return;
    let offset = query.offset;
    for (;;) {
      const final = isFinal(job.status);
      const { items } = startPage(this.store, job, kind, { ...query, offset, limit: MAX_PAGE, maxBytes: this.config.RESULTS_MAX_PAGE_BYTES, pool: this.scheduler });
      let step = await items.next();
      let waiting = false;
      for (; !step.done; step = await items.next()) {
        const { item, json } = step.value;
        // Following a running job: its results in order, each once it is finished.
        if (query.follow && !final && (item.state === 'queued' || item.state === 'running')) {
          waiting = true;
          break;
        }
        offset++;
        if (!(await writer.line(columns ? csvRow(columns, item) : `${json}\n`))) return;
      }
      // The page ended on its size, not on the last result known: the next one goes on from there.
      if (!waiting && step.done && step.value.nextOffset !== null) continue;
      if (!waiting && (!query.follow || final)) return writer.end();
      // Following: wait for the next result (a crawl may still add pages), then read on.
      if (!(await writer.flush())) return;
      await this.waitFor(id, EXPORT_POLL_MS);
      job = await this.get(id, owner);
    }
  }

  /** Snapshot first, then every later event of the job (or of every job, for `*`). */
  watch(jobId: string, owner: string | undefined, send: (event: JobEvent) => void, afterSeq?: number): Promise<() => void> {
    return this.feeds.watch(jobId, owner, send, afterSeq);
  }

  /**
   * Shutdown, as the backend's `drain` capability says. `cancel`: refuse new jobs, give running
   * ones until `graceMs` to finish, then cancel the rest with reason `shutdown` so every subscriber
   * gets a final event. `hand-back`: refuse new jobs and hand every job and pool task this
   * instance holds to the other instances; nothing is cancelled.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.capabilities.drain === 'hand-back') {
      const held = this.runner.running.length;
      if (held) this.logger.log(`handing ${held} job(s) over to the other instances`);
      await this.runner.handBack();
      await this.queue.close();
      return;
    }
    const ids = this.runner.running;
    if (ids.length) this.logger.log(`draining ${ids.length} running job(s) for up to ${graceMs} ms`);
    const deadline = Date.now() + graceMs;
    await Promise.all(ids.map((id) => this.waitFor(id, Math.max(0, deadline - Date.now()))));
    // Stopping a task takes milliseconds; the wait is capped so shutdown never outlives its grace.
    await Promise.all(this.runner.running.map((id) => this.cancel(id, undefined, 'shutdown', 1_000)));
    await this.queue.close();
  }

  /** Whatever is still running when the app closes is cancelled or handed over (see drain). */
  async onApplicationShutdown(): Promise<void> {
    if (!this.draining) await this.drain(0);
    await this.bus.close();
    await this.store.close();
  }

  private page(job: JobHeader, page: { offset: number; limit: number; format: ResultFormat }): Promise<ResultsPage> {
    return pageOfResults(this.store, job, this.kinds.get(job.kind), { ...page, maxBytes: this.config.RESULTS_MAX_PAGE_BYTES, pool: this.scheduler });
  }
}

import { setMaxListeners } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BACKEND, type Backend, type BackendCapabilities } from '../backends/backend';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { instanceId } from '../config/instance-id';
import { EventBus, type EventName } from './event-bus';
import type { JobHeader } from './job-data';
import type { JobContext } from './job-kind';
import { JobKinds } from './job-kinds';
import { InstanceRegistry } from '../pool/instance-registry';
import { isFinished, type TaskState } from '../pool/task-protocol';
import { WorkerCatalog } from '../pool/worker-catalog';
import { JobLifecycle, type LifecycleEvent } from './job-lifecycle';
import { JobObservers } from './job-observers';
import { OutageGuard } from './outage-guard';
import { isFinal } from './job.model';
import { JobStore } from './job.store';
import { type JobView, toView } from './job.view';
import { HandedBack, TaskQueue } from './task-queue';
import { TaskReads } from './task-reads';
import { TaskRecorder } from './task-recorder';

/** A job this instance coordinates. */
interface Run {
  /** Aborted when the job is cancelled (its tasks stop everywhere). */
  cancel: AbortController;
  /** Aborted when this instance stops coordinating it (shutdown hand-back, lost lease): tasks go on. */
  stop: AbortController;
  /** Aborted with either: the kind stops planning. */
  halt: AbortController;
  done: Promise<void>;
}

/** This runner's lease lapsed and another instance took the job. */
class LeaseLost extends Error {}

/**
 * Coordinates jobs: takes a job's lease, starts it, lets its kind plan and run its pool tasks,
 * and ends it (leftover tasks cancelled, final status, admission released, final event). The
 * lease is renewed while the job runs; in the cluster mode, jobs whose lease lapsed (their
 * runner's instance died) or was given back (it shut down) are taken over by whichever instance
 * claims them first, and their kind carries on from the stored state.
 */
@Injectable()
export class JobRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobRunner.name);
  private readonly runs = new Map<string, Run>();
  readonly instanceId: string;
  private readonly leaseMs: number;
  private sweeper?: NodeJS.Timeout;
  private readonly unlisten: () => void;
  private stopped = false;
  private threadCount?: { at: number; value: number };
  private readonly capabilities: BackendCapabilities;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly queue: TaskQueue,
    private readonly kinds: JobKinds,
    private readonly recorder: TaskRecorder,
    private readonly observers: JobObservers,
    private readonly instances: InstanceRegistry,
    @Inject(BACKEND) backend: Backend,
    private readonly workers: WorkerCatalog,
    private readonly outages: OutageGuard,
    private readonly lifecycle: JobLifecycle,
  ) {
    this.instanceId = instanceId(config.INSTANCE_ID);
    this.capabilities = backend.capabilities;
    // Alone, there is nobody to hand a job to: its lease never needs to lapse.
    this.leaseMs = this.capabilities.leaseMs ?? 24 * 3_600_000;
    this.unlisten = bus.onSignal((message) => {
      if (message.type === 'cancel') this.runs.get(message.jobId)?.cancel.abort(new Error(message.reason));
      else if (message.type === 'released') void this.takeBack(message.jobId);
    });
  }

  /** Shared jobs: look for orphaned ones now and then (and at once: jobs left by a previous instance). */
  onApplicationBootstrap(): void {
    if (this.capabilities.leaseMs === null) return;
    const every = Math.max(250, Math.floor(this.leaseMs / 4));
    this.sweeper = setInterval(() => void this.takeOver(), every);
    this.sweeper.unref();
    void this.takeOver();
  }

  /** Not onModuleDestroy: that comes before the drain (beforeApplicationShutdown), which still cancels through the bus. */
  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.unlisten();
  }

  /** Jobs this instance coordinates right now. */
  get running(): string[] {
    return [...this.runs.keys()];
  }

  /** Whether this instance coordinates the job now. */
  coordinates(id: string): boolean {
    return this.runs.has(id);
  }

  /** Starts coordinating a job just created here (its lease is taken first). */
  async begin(id: string): Promise<void> {
    if (await this.store.claim(id, this.instanceId, this.leaseMs)) this.launch(id);
  }

  /** Resolves once this instance stopped coordinating the job (or at once if it does not). */
  settled(id: string): Promise<void> {
    return this.runs.get(id)?.done ?? Promise.resolve();
  }

  /**
   * Shutdown in the cluster mode: stop coordinating every job and give its lease back, so another
   * instance takes it over at once; nothing is cancelled.
   */
  async handBack(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    const runs = [...this.runs.values()];
    for (const run of runs) run.stop.abort(new HandedBack());
    await Promise.all(runs.map((run) => run.done));
  }

  private async takeOver(): Promise<void> {
    if (this.stopped) return;
    try {
      for (const id of await this.store.unclaimed()) {
        if (this.stopped || this.runs.has(id)) continue;
        if (await this.store.claim(id, this.instanceId, this.leaseMs)) {
          this.logger.log({ jobId: id, msg: 'taking over a job whose runner is gone' });
          this.launch(id);
        }
      }
    } catch (err) {
      this.logger.warn(`looking for orphaned jobs failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** A job another instance handed back on its way out: claimed now if nobody has it yet. */
  private async takeBack(id: string): Promise<void> {
    if (this.stopped || this.capabilities.leaseMs === null || this.runs.has(id)) return;
    try {
      if (await this.store.claim(id, this.instanceId, this.leaseMs)) {
        this.logger.log({ jobId: id, msg: 'taking over a job its runner handed back' });
        this.launch(id);
      }
    } catch (err) {
      // The next look for orphaned jobs finds it.
      this.logger.warn({ jobId: id, msg: `taking back a handed-back job failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  private launch(id: string): void {
    // Already coordinated here: begin() and the orphan sweep can both win the lease for this
    // instance (a claim by the lease's own holder succeeds), and two runs of one job would each
    // plan it (one crawl ended at once, its seed cancelled, by a run that found it already planned).
    if (this.runs.has(id)) return;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const run: Run = { cancel: new AbortController(), stop: new AbortController(), halt: new AbortController(), done };
    // Every task of the job in flight listens for its cancel (a crawl runs up to `concurrency` at
    // once): more than Node's 10 is expected, not a leak, so no MaxListenersExceededWarning.
    setMaxListeners(0, run.cancel.signal);
    const halt = () => run.halt.abort();
    run.cancel.signal.addEventListener('abort', halt, { once: true });
    run.stop.signal.addEventListener('abort', halt, { once: true });
    this.runs.set(id, run);
    setImmediate(
      () =>
        void this.run(id, run)
          // run() ends every path itself (outages are waited out, failures end the job): a rejection here is a bug, logged.
          .catch((err: unknown) => this.logger.error({ jobId: id, msg: `job run ended abnormally: ${err instanceof Error ? err.message : String(err)}` }))
          .finally(() => {
            this.runs.delete(id);
            settle();
          }),
    );
  }

  private async run(id: string, run: Run): Promise<void> {
    // Alone, nobody else could take the job: no lease to keep.
    const renewal = this.capabilities.leaseMs !== null ? setInterval(() => void this.renew(id, run), Math.max(100, Math.floor(this.leaseMs / 3))) : undefined;
    renewal?.unref();
    const handedOver = () => run.stop.signal.aborted && !run.cancel.signal.aborted;
    try {
      // A new job is queued: starting it answers its header (taken over ones are read).
      // Store calls on this path wait out an outage (OutageGuard): the job resumes when the store is back.
      const started = await this.outages.run('starting a job', () => this.store.start(id, Date.now()));
      if (started) await this.changed('job.started', started, toView(started));
      if (started && this.bus.mayHaveSubscribers(id)) await this.bus.publish({ event: 'job.started', jobId: id, owner: started.owner, seq: started.seq, data: toView(started) });
      const job = started ?? (await this.outages.run('reading a job', () => this.store.get(id)));
      if (!job || isFinal(job.status)) return;
      if (job.cancelRequested) run.cancel.abort(new Error(job.cancelRequested));
      const kind = this.kinds.get(job.kind);
      const signal = run.halt.signal;
      if (!signal.aborted) await kind.execute(this.context(job, run, signal, await this.threads()));
      if (handedOver()) return;
      // The cancel's reason came with it (request or shutdown), so the job need not be read again.
      const cancelled = run.cancel.signal.aborted ? ((run.cancel.signal.reason as Error | undefined)?.message ?? 'cancelled') : undefined;
      await this.outages.run('ending a job', () => this.finish(id, cancelled ? 'cancelled' : undefined, cancelled, job));
    } catch (err) {
      if (handedOver()) return;
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error({ jobId: id, msg: `job failed: ${message}` });
      try {
        await this.outages.run('ending a job', () => this.finish(id, 'failed', message));
      } catch (finishErr) {
        // The store is unreachable: the lease lapses and an instance takes the job over later.
        this.logger.warn({ jobId: id, msg: `could not end the job: ${finishErr instanceof Error ? finishErr.message : String(finishErr)}` });
        run.stop.abort(new LeaseLost());
      }
    } finally {
      clearInterval(renewal);
      if (run.stop.signal.reason instanceof HandedBack) {
        await this.store.release(id, this.instanceId).catch(() => {});
        // Told, another instance takes it now; otherwise at its next look for orphans (a quarter lease).
        await this.bus.signal({ type: 'released', jobId: id }).catch(() => {});
      }
    }
  }

  /**
   * Worker threads a job can spread over: this instance's pool, or every live instance's when
   * figures are shared (read from the registry at most once a second: a store read and pool figures).
   */
  private async threads(): Promise<number> {
    if (!this.capabilities.sharedFigures) return this.config.POOL_SIZE;
    const now = Date.now();
    if (!this.threadCount || this.threadCount.at + 1_000 < now) this.threadCount = { at: now, value: await this.instances.threads() };
    return this.threadCount.value;
  }

  private async renew(id: string, run: Run): Promise<void> {
    try {
      if (!(await this.store.renew(id, this.instanceId, this.leaseMs))) {
        this.logger.warn({ jobId: id, msg: 'lease lost: another instance runs the job now' });
        run.stop.abort(new LeaseLost());
      }
    } catch {
      // Unreachable store: keep going; if it stays away the lease lapses and another instance takes over.
    }
  }

  /**
   * The job's tasks recorded finished: here, by the recorder as it stores them; with remote tasks,
   * also on other instances, by the task.progress events their writes publish (atomically with the
   * write, so such a task is in the store when its event arrives). A lost event costs only time:
   * the pool task's end still settles its tasks. A task may be reported twice (here and by its event).
   */
  private watchFinished(id: string, watcher: (indexes: number[]) => void): () => void {
    const unwatchHere = this.recorder.watchFinished(id, watcher);
    if (!this.capabilities.remoteTasks) return unwatchHere;
    let unsubscribe: (() => void) | undefined;
    let stopped = false;
    this.bus
      .subscribe(id, (event) => {
        if (stopped || event.event !== 'task.progress') return;
        const updates = (event.data as { updates?: { index?: unknown; state?: unknown }[] }).updates ?? [];
        const finished = updates.filter((update) => typeof update.index === 'number' && isFinished(update.state as TaskState)).map((update) => update.index as number);
        if (finished.length > 0) watcher(finished);
      })
      .then(
        (stop) => (stopped ? stop() : (unsubscribe = stop)),
        // Not subscribed (the bus is down): the pool tasks' ends still settle every task.
        () => {},
      );
    return () => {
      stopped = true;
      unwatchHere();
      unsubscribe?.();
    };
  }

  private context(job: JobHeader, run: Run, signal: AbortSignal, threads: number): JobContext<any, any> {
    const { id } = job;
    const ref = { id, kind: job.kind, owner: job.owner };
    // Only shared jobs are handed over: there a task's wait ends when this runner stops.
    const stopped = this.capabilities.leaseMs !== null ? new Promise<void>((resolve) => run.stop.signal.addEventListener('abort', () => resolve(), { once: true })) : undefined;
    // Reads and writes wait out a store outage: a kind never sees one, it only waits.
    const held = <T>(what: string, call: () => Promise<T>) => this.outages.run(what, call);
    const reads = new TaskReads((indexes) => held('reading tasks', () => this.store.tasksAt(id, indexes)));
    return {
      job,
      threads,
      signal,
      snapshot: async () => (await held('reading a job', () => this.store.snapshot(id)))!,
      inputs: (offset, limit) => held('reading a job', () => this.store.inputs(id, offset, limit)),
      watchFinished: (watcher) => this.watchFinished(id, watcher),
      // Updates recorded here may still wait for their coalescing window: store them first. What
      // this instance stored finished is not read back; the rest is read from the store.
      task: async (index) => {
        await this.recorder.flush(id);
        return this.recorder.takeStored(id, index) ?? (await reads.get(index))!;
      },
      tasks: async (offset, limit) => {
        await this.recorder.flush(id);
        return held('reading tasks', () => this.store.tasks(id, offset, limit));
      },
      runTask: async (request) => {
        if (signal.aborted) return;
        try {
          const task = { ...request, profile: this.workers.profileOf(request.worker), jobId: id, kind: job.kind, owner: job.owner };
          // A queue that cannot take the task now (its backend is down) is asked again once it can:
          // an outage never fails a task. The same key joins the same task, so this runs it once.
          const ran = this.outages.run('queueing a task', () => this.queue.run(task, run.cancel.signal), signal);
          await (stopped ? Promise.race([ran, stopped]) : ran);
        } catch (err) {
          if (signal.aborted) return;
          // The queue gave up on it (BullMQ failed it after repeated stalls).
          const error = `worker failed: ${err instanceof Error ? err.message : String(err)}`;
          this.recorder.record(
            ref,
            request.indexes.map((index) => ({ index, state: 'failed', error })),
            (index) => request.inputs[request.indexes.indexOf(index)],
          );
          await this.recorder.flush(id);
        }
      },
      addTasks: async (tasks, maxTotal) => {
        const kind = this.kinds.get(job.kind);
        const watched = this.bus.mayHaveSubscribers(id);
        // A store that publishes atomically gets each task's queued update (its index is known only there).
        const announce =
          watched && this.store.announces ? { owner: job.owner, updates: tasks.map((task) => JSON.stringify({ ...kind.summarize(task.input, undefined), state: 'queued' })) } : undefined;
        const added = await held('adding tasks', () => this.store.appendTasks(id, tasks, maxTotal, announce));
        if (added.length > 0 && watched && !announce) {
          const seq = (await held('reading a job', () => this.store.get(id)))?.seq ?? 0;
          const updates = added.map(({ index, input }) => ({ index, ...kind.summarize(input, undefined), state: 'queued' }));
          await this.bus.publish({ event: 'task.progress', jobId: id, owner: job.owner, seq, data: { jobId: id, updates } });
        }
        return added;
      },
      markSeen: (keys) => held('marking keys seen', () => this.store.markSeen(id, keys)),
      report: async (updates, inputs) => {
        this.recorder.record(ref, updates, (index) => inputs[updates.findIndex((update) => update.index === index)]);
        await this.recorder.flush(id);
      },
      setSummary: (summary) => held('writing a summary', () => this.store.setSummary(id, summary)),
      saveNotes: (notes) => held('saving notes', () => this.store.saveNotes(id, notes)),
      readNotes: (prefix) => held('reading notes', () => this.store.readNotes(id, prefix)),
      count: (metric, labels, by = 1) => this.observers.counted(metric, labels, by),
      notify: (event, item) => this.lifecycle.notice(job, event, item),
    };
  }

  /**
   * What the lifecycle listeners store with a change (webhook deliveries), before it is announced;
   * an outage is waited out (the change already happened, so it cannot be tried again later), any
   * other failure is logged and never fails the job.
   */
  private async changed(event: LifecycleEvent, job: JobHeader, view: JobView): Promise<void> {
    try {
      await this.outages.run('storing what a job change sends', () => this.lifecycle.changed(event, job, view));
    } catch (err) {
      this.logger.error({ jobId: job.id, msg: `${event}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** Ends the job: leftovers cancelled, final status, holdings released, the final event. */
  /** `known`: the job as this runner has it (else it is read); settle and finish ignore a job already ended. */
  private async finish(id: string, forced?: 'cancelled' | 'failed', reason?: string, known?: JobHeader): Promise<void> {
    await this.recorder.flush(id);
    const current = known ?? (await this.store.get(id));
    if (!current || isFinal(current.status)) return;
    const ref = { id, kind: current.kind, owner: current.owner };
    const settled = await this.store.settle(id);
    await this.recorder.publish(ref, settled, () => undefined);
    const { completed, failed } = settled.header;
    const status = forced ?? (failed > 0 && completed === 0 ? 'failed' : 'completed');
    const why = reason ?? (status === 'failed' ? 'every task failed' : undefined);
    const final = await this.store.finish(id, status, why, Date.now());
    if (!final) return;
    const view = toView(final);
    await this.changed(`job.${final.status}` as LifecycleEvent, final, view);
    await this.bus.publish({ event: `job.${final.status}` as EventName, jobId: id, owner: final.owner, seq: final.seq, data: view });
    this.observers.jobFinished(view);
    // Routine endings are debug (a line per job costs measurable time under load); others warn.
    const level = final.status === 'completed' && final.failed === 0 ? 'debug' : 'warn';
    this.logger[level]({
      jobId: id,
      msg: `job ${final.status}`,
      kind: final.kind,
      total: final.total,
      completed: final.completed,
      failed: final.failed,
      cancelled: final.cancelled,
      ms: (final.finishedAt ?? 0) - (final.startedAt ?? 0),
      ...(final.reason ? { reason: final.reason } : {}),
    });
  }
}

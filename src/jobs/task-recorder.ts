import { Inject, Injectable } from '@nestjs/common';
import { addToKeyedSet } from '../common/keyed-sets';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isFinished, type TaskUpdate } from '../pool/task-protocol';
import type { Announce, Applied, StoredUpdate, TaskRecord } from './job-data';
import type { JobKind } from './job-kind';
import { JobKinds } from './job-kinds';
import { JobObservers } from './job-observers';
import type { JobKindName } from './job.model';
import { JobStore } from './job.store';
import { EventBus } from './event-bus';
import { OutageGuard } from './outage-guard';

/** Task updates per `task.progress` message at most (~50 KB: one giant frame would sit whole in a client's send buffer). */
const MAX_UPDATES_PER_MESSAGE = 1_000;
/** Buffered updates past which a job's buffer is written at once instead of at the end of the window. */
const MAX_BUFFERED_UPDATES = 5_000;

/** The job a batch of task updates belongs to. */
export interface JobRef {
  id: string;
  kind: JobKindName;
  owner?: string;
}

interface Buffer {
  job: JobRef;
  updates: Map<number, StoredUpdate>;
  inputs: Map<number, unknown>;
  timer?: NodeJS.Timeout;
  /** Writes of one job go to the store one after the other, so their events keep the store's order. */
  writing: Promise<void>;
}

/**
 * Stores task updates and publishes them, wherever the task ran. Updates are coalesced per job
 * for PROGRESS_FLUSH_MS (the newest per task wins; a finished task's update is never replaced),
 * then written to the store in one call and published as `task.progress` events carrying the
 * seq that write made: one store round trip and one message per window, however many updates.
 */
@Injectable()
export class TaskRecorder {
  private readonly buffers = new Map<string, Buffer>();
  /** Per job, who wants to hear of its tasks recorded finished here (see watchFinished). */
  private readonly finishedWatchers = new Map<string, Set<(indexes: number[]) => void>>();
  /**
   * Per watched job, the finished records this process stored (its write took effect, so they are
   * what the store holds: a finished task never changes), until taken (see takeStored).
   */
  private readonly storedFinished = new Map<string, Map<number, TaskRecord>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly kinds: JobKinds,
    private readonly observers: JobObservers,
    private readonly outages: OutageGuard,
  ) {}

  /** Buffers updates of `job`; `inputOf` gives a task's input (for the summary in events). */
  record(job: JobRef, updates: readonly TaskUpdate[], inputOf: (index: number) => unknown): void {
    let buffer = this.buffers.get(job.id);
    if (!buffer) this.buffers.set(job.id, (buffer = { job, updates: new Map(), inputs: new Map(), writing: Promise.resolve() }));
    const kind = this.kinds.get(job.kind);
    const watchers = this.finishedWatchers.get(job.id);
    let finished: number[] | undefined;
    for (const update of updates) {
      const held = buffer.updates.get(update.index);
      if (held && isFinished(held.state)) continue;
      if (watchers && isFinished(update.state)) (finished ??= []).push(update.index);
      // A progress tick without a number adds nothing to a running task's update.
      if (held && update.state === 'running' && held.state === 'running' && update.progress === undefined) continue;
      // The update is ours (a worker's message, or built for this call): its size goes on it as is.
      const stored = update as StoredUpdate;
      if (update.result !== undefined) stored.bytes = kind.sizeOf(update.result);
      buffer.updates.set(update.index, stored);
      if (!buffer.inputs.has(update.index)) buffer.inputs.set(update.index, inputOf(update.index));
    }
    if (buffer.updates.size >= MAX_BUFFERED_UPDATES) void this.flush(job.id).catch(() => {});
    else if (!buffer.timer) buffer.timer = setTimeout(() => void this.flush(job.id).catch(() => {}), this.config.PROGRESS_FLUSH_MS);
    if (finished && watchers) for (const watcher of watchers) watcher(finished);
  }

  /**
   * Calls `watcher` with the indexes of the job's tasks as updates recorded here finish them: the
   * pool tasks this process runs, as their updates arrive, before the pool task ends (a group of a
   * crawl's pages ends page by page). Updates recorded by another instance never reach it. Returns
   * the function that stops it.
   */
  watchFinished(jobId: string, watcher: (indexes: number[]) => void): () => void {
    if (!this.storedFinished.has(jobId)) this.storedFinished.set(jobId, new Map());
    const unwatch = addToKeyedSet(this.finishedWatchers, jobId, watcher);
    return () => {
      unwatch();
      if (!this.finishedWatchers.has(jobId)) this.storedFinished.delete(jobId);
    };
  }

  /**
   * The record of a watched job's finished task as this process stored it, if it did, taken (each
   * is handed out once). Saves the watcher reading back what it just wrote: in the cluster mode a
   * store round trip carrying the result.
   */
  takeStored(jobId: string, index: number): TaskRecord | undefined {
    const stored = this.storedFinished.get(jobId);
    const record = stored?.get(index);
    if (record) stored!.delete(index);
    return record;
  }

  /**
   * Writes the job's buffered updates now and publishes them; resolves once stored and sent.
   * While the store is unreachable the updates stay buffered (later ones merged in) and the write
   * is tried again with back-off until it is stored: an outage delays updates, never loses them.
   */
  flush(jobId: string): Promise<void> {
    const buffer = this.buffers.get(jobId);
    if (!buffer) return Promise.resolve();
    const write = buffer.writing.then(() => this.outages.run('storing task updates', () => this.write(buffer)));
    buffer.writing = write.catch(() => {});
    return write;
  }

  /** Publishes what a store write changed (the runner's own writes: settling leftovers). */
  async publish(job: JobRef, applied: Applied, inputOf: (index: number) => unknown): Promise<void> {
    const kind = this.kinds.get(job.kind);
    if (this.observers.any) {
      for (const change of applied.changed) if (isFinished(change.state)) this.observers.taskFinished(job.kind, change.state as 'completed', change.result);
    }
    if (applied.announced || applied.changed.length === 0 || !this.bus.mayHaveSubscribers(job.id)) return;
    const updates = applied.changed.map((change) => render(kind, change, change.input !== undefined ? change.input : inputOf(change.index)));
    const { summary } = applied.header;
    for (let from = 0; from < updates.length; from += MAX_UPDATES_PER_MESSAGE) {
      const slice = updates.slice(from, from + MAX_UPDATES_PER_MESSAGE);
      await this.bus.publish({ event: 'task.progress', jobId: job.id, owner: job.owner, seq: applied.seq, data: { jobId: job.id, updates: slice, ...(summary ? { summary } : {}) } });
    }
  }

  private async write(buffer: Buffer): Promise<void> {
    clearTimeout(buffer.timer);
    buffer.timer = undefined;
    const { job } = buffer;
    if (buffer.updates.size === 0) return this.forgetIfIdle(buffer);
    const updates = [...buffer.updates.values()];
    const inputs = buffer.inputs;
    buffer.updates = new Map();
    buffer.inputs = new Map();
    let applied: Applied;
    try {
      // A store that publishes atomically with the write gets the event rendered (see Announce).
      const announce = this.store.announces && this.bus.mayHaveSubscribers(job.id) ? this.announce(job, updates, inputs) : undefined;
      applied = await this.store.apply(job.id, updates, announce);
    } catch (err) {
      // Put them back (newer ones recorded meanwhile win) for the next flush.
      for (const update of updates) if (!buffer.updates.has(update.index)) buffer.updates.set(update.index, update);
      for (const [index, input] of inputs) if (!buffer.inputs.has(index)) buffer.inputs.set(index, input);
      throw err;
    }
    this.keepFinished(job.id, applied, inputs);
    await this.publish(job, applied, (index) => inputs.get(index));
    this.forgetIfIdle(buffer);
  }

  private keepFinished(jobId: string, applied: Applied, inputs: Map<number, unknown>): void {
    const stored = this.storedFinished.get(jobId);
    if (!stored) return;
    for (const { index, state, result, error, input } of applied.changed) {
      if (!isFinished(state)) continue;
      const record: TaskRecord = { index, input: input !== undefined ? input : inputs.get(index), state };
      if (result !== undefined) record.result = result;
      if (error !== undefined) record.error = error;
      stored.set(index, record);
    }
  }

  private announce(job: JobRef, updates: StoredUpdate[], inputs: Map<number, unknown>): Announce {
    const kind = this.kinds.get(job.kind);
    return { owner: job.owner, updates: updates.map((update) => JSON.stringify(render(kind, update, inputs.get(update.index)))) };
  }

  /** A buffer is dropped only once idle, so one job's writes and events never run side by side. */
  private forgetIfIdle(buffer: Buffer): void {
    if (buffer.updates.size === 0 && !buffer.timer && this.buffers.get(buffer.job.id) === buffer) this.buffers.delete(buffer.job.id);
  }
}

/** A task update as events show it: the kind's summary of the task, its state, progress and error (never the big value). */
function render(kind: JobKind<any, any>, { index, state, progress, result, error }: StoredUpdate, input: unknown): Record<string, unknown> {
  // Built with plain assignments: this runs once per task update, hundreds of thousands per job.
  const update: Record<string, unknown> = { index, ...kind.summarize(input, result) };
  update.state = state;
  if (progress !== undefined && state === 'running') update.progress = progress;
  if (error !== undefined) update.error = error;
  return update;
}

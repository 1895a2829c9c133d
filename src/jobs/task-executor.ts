import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BACKEND, type Backend } from '../backends/backend';
import { setMaxListeners } from 'node:events';
import type { TaskUpdate } from '../pool/task-protocol';
import { TaskScheduler } from '../pool/task-scheduler';
import { EventBus } from './event-bus';
import { isFinal } from './job.model';
import { JobStore } from './job.store';
import { HandedBack, type PoolTask } from './task-queue';
import { OutageGuard } from './outage-guard';
import { TaskRecorder } from './task-recorder';

/** How long a job seen running is trusted not to have been cancelled without a signal. */
const LIVE_CHECK_MS = 1_000;
/** Jobs remembered (live or cancelled) at most. */
const REMEMBERED_JOBS = 10_000;

/**
 * Runs pool tasks on this instance's worker threads, whichever instance's runner asked for them:
 * the TaskQueue hands each one here. The task's updates are stored (TaskRecorder) before
 * `execute` resolves, so a task counts as done only once its results are safe. A cancel reaches
 * the tasks of a job here from any instance, through the bus.
 */
@Injectable()
export class TaskExecutor implements OnApplicationShutdown {
  private readonly logger = new Logger(TaskExecutor.name);
  /** Jobs seen running, until when that is trusted without a store read. */
  private readonly liveUntil = new Map<string, number>();
  /** Jobs cancelled (a bus signal), most recent last: their queued tasks are skipped here. */
  private readonly cancelled = new Set<string>();
  /** Running tasks by job, to stop them when the job is cancelled anywhere. */
  private readonly running = new Map<string, Set<AbortController>>();
  private readonly unlisten: () => void;
  /**
   * Tasks may run away from their runner (the backend's `remoteTasks`): a task is done only once
   * its updates are stored (another instance's runner reads them), and a task taken from the
   * queue checks that its job still runs. Otherwise updates may wait for the coalescing window
   * (the runner flushes before it reads a result or ends a job), and the runner's signal says it all.
   */
  private readonly clustered: boolean;

  constructor(
    @Inject(BACKEND) backend: Backend,
    private readonly store: JobStore,
    private readonly recorder: TaskRecorder,
    private readonly scheduler: TaskScheduler,
    bus: EventBus,
    private readonly outages: OutageGuard,
  ) {
    this.clustered = backend.capabilities.remoteTasks;
    this.unlisten = bus.onSignal((message) => {
      if (message.type !== 'cancel') return;
      this.liveUntil.delete(message.jobId);
      this.cancelled.add(message.jobId);
      if (this.cancelled.size > REMEMBERED_JOBS) this.cancelled.delete(this.cancelled.values().next().value as string);
      for (const controller of this.running.get(message.jobId) ?? []) controller.abort(new Error(message.reason));
    });
  }

  /** Not onModuleDestroy: that comes before the drain (beforeApplicationShutdown), which still cancels through the bus. */
  onApplicationShutdown(): void {
    this.unlisten();
  }

  /** Stops every task running here (the embedded queue closing: nobody to hand them to). */
  abortAll(reason: HandedBack): void {
    for (const tasks of this.running.values()) for (const controller of tasks) controller.abort(reason);
  }

  /**
   * Whether a job's tasks should still run. A job found running is trusted for LIVE_CHECK_MS (a
   * crawl's pages would otherwise cost a store read each); a cancel within that time reaches this
   * instance as a bus signal first, which is remembered here.
   */
  private async jobVerdict(jobId: string): Promise<'run' | 'cancelled' | 'gone'> {
    if (this.cancelled.has(jobId)) return 'cancelled';
    const now = Date.now();
    if ((this.liveUntil.get(jobId) ?? 0) > now) return 'run';
    const job = await this.outages.run("checking a task's job", () => this.store.get(jobId));
    if (!job) this.logger.warn({ jobId, msg: 'a pool task of a job the store does not have: skipped' });
    if (!job || isFinal(job.status)) return 'gone';
    if (job.cancelRequested) return 'cancelled';
    if (this.liveUntil.size >= REMEMBERED_JOBS) for (const [id, until] of this.liveUntil) if (until <= now) this.liveUntil.delete(id);
    this.liveUntil.set(jobId, now + LIVE_CHECK_MS);
    return 'run';
  }

  /** Throws HandedBack if `signal` says this instance is leaving (the queue gives the task to another). */
  async execute(task: PoolTask, signal: AbortSignal): Promise<void> {
    const inputs = new Map<number, unknown>();
    task.indexes.forEach((index, i) => inputs.set(index, task.inputs[i]));
    const inputOf = (index: number) => inputs.get(index);
    const ref = { id: task.jobId, kind: task.kind, owner: task.owner };
    const record = (updates: readonly TaskUpdate[]) => this.recorder.record(ref, updates, inputOf);
    // A task queued before its job was cancelled (or ended) is not worth a thread. Embedded, the
    // runner's own signal already says so (it is this process's).
    const verdict = this.clustered ? await this.jobVerdict(task.jobId) : 'run';
    if (verdict === 'gone') return;
    if (verdict === 'cancelled') {
      record(task.indexes.map((index) => ({ index, state: 'cancelled' })));
      return this.recorder.flush(task.jobId);
    }
    const controller = new AbortController();
    // Every running task of the job listens for its cancel (a crawl runs up to `concurrency` at once).
    setMaxListeners(0, controller.signal);
    const forward = () => controller.abort(signal.reason);
    if (signal.aborted) forward();
    signal.addEventListener('abort', forward, { once: true });
    let tasks = this.running.get(task.jobId);
    if (!tasks) this.running.set(task.jobId, (tasks = new Set()));
    tasks.add(controller);
    try {
      // A one-task pool task (a page, a huge number) shows as running when a worker takes it;
      // multi-number chunks report their own (big) numbers, so small ones cost no extra update.
      const onStart = task.indexes.length === 1 ? () => record([{ index: task.indexes[0], state: 'running' }]) : undefined;
      await this.scheduler.run(task.worker, task.payload, { signal: controller.signal, onStart, stream: task.stream, onUpdates: record });
    } catch (err) {
      if (controller.signal.reason instanceof HandedBack) {
        await this.recorder.flush(task.jobId); // what finished before is kept
        throw controller.signal.reason;
      }
      const cancelled = controller.signal.aborted;
      if (!cancelled && task.splitOnCrash && task.indexes.length > 1) {
        this.logger.warn({ jobId: task.jobId, msg: `worker failed: ${err instanceof Error ? err.message : String(err)}; its unfinished tasks are sent again one by one`, tasks: task.indexes.length });
        return; // what finished before is flushed below
      }
      const error = cancelled ? undefined : `worker failed: ${err instanceof Error ? err.message : String(err)}`;
      if (error) this.logger.warn({ jobId: task.jobId, msg: error, tasks: task.indexes.length });
      // Tasks that finished before keep their result: the recorder and the store never replace a finished task.
      record(task.indexes.map((index) => ({ index, state: cancelled ? 'cancelled' : 'failed', error })));
    } finally {
      signal.removeEventListener('abort', forward);
      tasks.delete(controller);
      if (tasks.size === 0 && this.running.get(task.jobId) === tasks) this.running.delete(task.jobId);
    }
    if (this.clustered) await this.recorder.flush(task.jobId);
  }
}

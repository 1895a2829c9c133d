import { Logger } from '@nestjs/common';
import { type Job, Queue, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Execute } from '../../jobs/task-queue';
import { HandedBack, type PoolTask, TaskQueue } from '../../jobs/task-queue';
import { WORKER_PROFILES, type WorkerProfile } from '../../pool/task-scheduler';
import { leaseSettings } from './bull-lease';
import { connectRedis, subscribeSafely, untilReady } from './redis-connection';
import { TaskEndReader } from './task-end-reader';
import { TaskWaiters } from './task-waiters';

export interface BullTaskQueueOptions {
  url: string;
  /** Every key starts with it: BullMQ's keys are `{prefix}:tasks-cpu:…` and `{prefix}:tasks-io:…`. */
  prefix: string;
  /** CLUSTER_LEASE_MS: how long a dead instance's task stays locked (see bull-lease.ts). */
  leaseMs: number;
  /** This instance's BullMQ worker concurrency per queue. */
  concurrency: { cpu: number; io: number };
  /** Recorded on the BullMQ jobs this instance runs (which instance ran what). */
  instanceId?: string;
}

/** One BullMQ queue with this instance's worker on it, and the runs waiting for its jobs. */
interface Lane {
  queue: Queue;
  worker: Worker;
  waiters: TaskWaiters;
  /** Where reading its event stream starts: its end before this instance added anything. */
  eventsFrom: string;
}

const QUEUE_NAMES: Record<WorkerProfile, string> = { cpu: 'tasks-cpu', io: 'tasks-io' };

/**
 * The cluster mode's task queue on BullMQ: a pool task is a BullMQ job that any instance's
 * worker takes and runs through `execute` on its own pool. CPU and I/O tasks have a queue each
 * so that a crawl's many waiting fetches never sit in front of Fibonacci chunks, or the reverse.
 *
 * The job id is the task's key, so a task that is queued again (a takeover re-planning the same
 * chunk) is the same BullMQ job and runs once; finished jobs are removed at once (the store
 * keeps the results), which also lets a later `run` of the key run it again.
 *
 * A run learns that its job ended from this instance's worker when the job ran here, from the
 * instance that ran it otherwise (one PUBLISH per job, to all), and, should that word be lost or
 * never said (a job failed by the stall check), from the queues' event streams (TaskEndReader,
 * which reads them only while runs wait).
 *
 * Connections: the producer (Queue) uses a fail-fast connection, so `run` rejects at once while
 * Redis is down; the workers and the event reader use blocking ones, which wait for Redis and
 * carry on when it is back. All are opened here and closed by close().
 */
export class BullTaskQueue extends TaskQueue {
  private readonly logger = new Logger(BullTaskQueue.name);
  private readonly producer: Redis;
  private readonly consumer: Redis;
  /** The event reader's connection (its reads wait for Redis, like the workers'). */
  private readonly eventsConnection: Redis;
  /** Subscribed to the ends other instances announce. */
  private readonly announcements: Redis;
  private readonly endedChannel: string;
  private ends?: TaskEndReader;
  private lanes = {} as Record<WorkerProfile, Lane>;
  /** This instance's running tasks, so close() can hand them back. */
  private readonly running = new Set<AbortController>();
  /** Tasks this instance gave up while leaving, to put back to waiting once its workers stopped. */
  private readonly handedBack: { job: Job<PoolTask>; token: string | undefined }[] = [];
  private readonly started: Promise<void>;
  private readonly sweeper: NodeJS.Timeout;
  private leaving = false;
  private isStarted = false;
  private closing?: Promise<void>;

  constructor(
    private readonly options: BullTaskQueueOptions,
    private readonly execute: Execute,
  ) {
    super();
    this.producer = connectRedis(options.url, { name: 'tasks-producer' });
    this.consumer = connectRedis(options.url, { blocking: true, name: 'tasks-consumer' });
    this.eventsConnection = connectRedis(options.url, { blocking: true, name: 'tasks-events' });
    this.announcements = connectRedis(options.url, { blocking: true, name: 'tasks-ended' });
    this.endedChannel = `${options.prefix}:tasks-ended`;
    this.announcements.on('message', (_channel: string, message: string) => this.heard(message));
    this.started = this.start();
    this.started.catch(() => {});
    // Completion events can be missed (a stream trimmed while a reader lagged far behind): every
    // lease, runs waiting longer than that check that their job still exists.
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), options.leaseMs);
    this.sweeper.unref();
  }

  /** Resolves once the workers and event readers are connected (call at start-up). */
  async ready(ms = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`BullTaskQueue: Redis not ready after ${ms} ms`)), ms)));
    try {
      await Promise.race([this.started, timeout]);
    } finally {
      clearTimeout(timer);
    }
    await Promise.all(Object.values(this.lanes).map((lane) => lane.worker.waitUntilReady()));
  }

  async run(task: PoolTask, signal: AbortSignal): Promise<void> {
    if (this.leaving) throw new HandedBack();
    if (signal.aborted) return;
    if (!this.isStarted) {
      // Not made yet because Redis has not been reachable since start-up: fail fast like the producer does.
      if (this.producer.status !== 'ready') throw new Error(`Redis is unreachable (${this.producer.status})`);
      await this.started;
      if (signal.aborted) return;
    }
    const lane = this.lanes[task.profile] ?? this.lanes.cpu;
    const id = bullJobId(task.key);
    // Waiting before adding: the job may end before add() returns.
    const waiter = lane.waiters.wait(id);
    this.ends?.wake();
    const onAbort = () => {
      waiter.cancel();
      // Removes it if no worker holds it yet; a running task is stopped by the job's cancel signal.
      lane.queue.remove(id).catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await lane.queue.add(task.worker, task, { jobId: id });
    } catch (error) {
      signal.removeEventListener('abort', onAbort);
      waiter.cancel();
      throw error;
    }
    try {
      await waiter.done;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Tasks waiting for a worker and running, over the cluster. */
  async counts(): Promise<{ waiting: number; active: number }> {
    const all = await Promise.all(Object.values(this.lanes).map((lane) => lane.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active')));
    return all.reduce<{ waiting: number; active: number }>(
      (sum, counts) => ({
        waiting: sum.waiting + (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        active: sum.active + (counts.active ?? 0),
      }),
      { waiting: 0, active: 0 },
    );
  }

  /** Hands this instance's tasks back: they wait again at once for another instance's workers. */
  close(): Promise<void> {
    this.closing ??= this.handBack();
    return this.closing;
  }

  private async handBack(): Promise<void> {
    this.leaving = true;
    clearInterval(this.sweeper);
    // Made half-way (both connections up): let it finish so that everything made gets closed.
    if (this.producer.status === 'ready' && this.consumer.status === 'ready') await this.started.catch(() => {});
    const lanes = Object.values(this.lanes);
    // Stop fetching first, so nothing new starts while the running tasks are handed back.
    const workersClosed = Promise.allSettled(lanes.map((lane) => lane.worker.close()));
    for (const controller of this.running) controller.abort(new HandedBack());
    // Bounded: with Redis down BullMQ's close waits for Redis (the stall check frees the tasks then).
    // Half a lease, so that the locks of the tasks handed back are still ours to release.
    const reachable = () => this.consumer.status === 'ready' && this.producer.status === 'ready';
    await within(workersClosed, reachable() ? this.options.leaseMs / 2 : 0);
    // At the head of the queue, not counted as an attempt or a stall.
    await within(Promise.allSettled(this.handedBack.splice(0).map(({ job, token }) => job.moveToWait(token))), reachable() ? 2_000 : 0);
    // Runs started here wait for tasks that now belong to others: this instance's runner is leaving too.
    for (const lane of lanes) lane.waiters.rejectAll(() => new HandedBack());
    this.ends?.close();
    const rest = Promise.allSettled(lanes.map((lane) => lane.queue.close()));
    await within(rest, reachable() ? 2_000 : 0);
    this.producer.disconnect();
    this.consumer.disconnect();
    this.eventsConnection.disconnect();
    this.announcements.disconnect();
    await within(Promise.all([workersClosed, rest]), 2_000);
  }

  private async lane(profile: WorkerProfile): Promise<Lane> {
    const name = QUEUE_NAMES[profile];
    const { prefix, instanceId } = this.options;
    const waiters = new TaskWaiters();
    // Reading from the stream's current end, fixed before this instance adds any job: nothing is missed.
    const last = await this.consumer.xrevrange(eventsKey(prefix, name), '+', '-', 'COUNT', 1);
    const queue = new Queue(name, {
      connection: this.producer,
      prefix,
      skipWaitingForReady: true,
      // Room for a few seconds of events at thousands of tasks per second, so that a reader that
      // lags behind still finds them (the sweep covers what it misses anyway).
      streams: { events: { maxLen: 50_000 } },
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 3, backoff: { type: 'exponential', delay: 500 } },
    });
    queue.on('error', () => {});
    const worker = new Worker(name, (job: Job<PoolTask>, token?: string) => this.process(job, token), {
      connection: this.consumer,
      prefix,
      name: instanceId,
      concurrency: this.options.concurrency[profile],
      ...leaseSettings(this.options.leaseMs),
    });
    worker.on('error', () => {});
    // A job this worker ended settles the runs waiting here at once; runs waiting elsewhere hear
    // of it by an announcement (the event stream says the same thing later: see TaskEndReader).
    worker.on('completed', (job) => {
      if (job.id && !waiters.completed(job.id)) this.announce(name, job.id);
    });
    worker.on('failed', (job, error) => {
      if (!job || error instanceof WaitingError) return;
      this.logger.warn(`task ${job.id} failed (attempt ${job.attemptsMade}): ${error.message}`);
      // Only the last attempt ends the job (an earlier one is tried again).
      const reason = job.failedReason ?? error.message;
      if (job.id && job.finishedOn && !waiters.failed(job.id, reason)) this.announce(name, job.id, reason);
    });
    return { queue, worker, waiters, eventsFrom: last[0]?.[0] ?? '0-0' };
  }

  /**
   * Tells every instance that a job ended here: one PUBLISH by the instance that ran it, instead of
   * every waiting instance reading the queue's events as they come. Skipped when a run here waited
   * for it (the usual case for the job's coordinator); another instance waiting on the same job
   * then learns it from the event stream. A lost announcement is found there too.
   */
  private announce(queueName: string, jobId: string, failedReason?: string): void {
    const message = JSON.stringify(failedReason === undefined ? [queueName, jobId] : [queueName, jobId, failedReason]);
    this.producer.publish(this.endedChannel, message).catch(() => {});
  }

  private heard(message: string): void {
    let ended: unknown;
    try {
      ended = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(ended) || typeof ended[0] !== 'string' || typeof ended[1] !== 'string') return;
    const lane = Object.values(this.lanes).find((candidate) => candidate.queue.name === ended[0]);
    if (!lane) return;
    if (typeof ended[2] === 'string') lane.waiters.failed(ended[1], ended[2]);
    else lane.waiters.completed(ended[1]);
  }

  private async process(job: Job<PoolTask>, token: string | undefined): Promise<void> {
    const controller = new AbortController();
    if (this.leaving) controller.abort(new HandedBack());
    this.running.add(controller);
    try {
      // A task that ended despite the hand-back is done: only one that gave up goes back.
      if (!controller.signal.aborted) return await this.execute(job.data, controller.signal);
    } catch (error) {
      if (!(error instanceof HandedBack || controller.signal.reason instanceof HandedBack)) throw error;
    } finally {
      this.running.delete(controller);
    }
    // Handed back. Moved to waiting by close() once this worker has stopped fetching: moved now,
    // this worker's last fetch (still blocked on the queue) could take it straight back. Until
    // then its lock keeps it from the stall check.
    this.handedBack.push({ job, token });
    throw new WaitingError();
  }

  /**
   * BullMQ's Queue asks Redis for its version when it is made, which fails on a fail-fast
   * connection that is not connected yet: everything is made once both connections are ready.
   */
  private async start(): Promise<void> {
    await Promise.all([untilReady(this.producer), untilReady(this.consumer)]);
    if (this.leaving) return;
    // Before any job is added here: no announcement of its end can come before the subscription.
    await subscribeSafely(this.announcements, () => this.announcements.subscribe(this.endedChannel));
    if (this.leaving) return;
    const lanes = {} as Record<WorkerProfile, Lane>;
    for (const profile of WORKER_PROFILES) lanes[profile] = await this.lane(profile);
    this.lanes = lanes;
    const all = Object.values(lanes);
    this.ends = new TaskEndReader(
      this.eventsConnection,
      all.map((lane) => ({ key: eventsKey(this.options.prefix, lane.queue.name), waiters: lane.waiters })),
      all.map((lane) => lane.eventsFrom),
    );
    this.isStarted = true;
  }

  private async sweep(): Promise<void> {
    for (const lane of Object.values(this.lanes)) {
      const ids = lane.waiters.waitingLongerThan(this.options.leaseMs);
      if (ids.length === 0) continue;
      const pipeline = this.producer.pipeline();
      for (const id of ids) pipeline.exists(`${this.options.prefix}:${lane.queue.name}:${id}`);
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([error, exists], i) => {
        // Gone: it ended (finished jobs are removed) and its event was missed.
        if (!error && exists === 0) lane.waiters.completed(ids[i]);
      });
    }
  }
}

/** The event stream BullMQ writes for a queue. */
function eventsKey(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:events`;
}

/** BullMQ job ids may not contain ':' nor be integers; this keeps keys readable and distinct. */
export function bullJobId(key: string): string {
  return `t.${key.replace(/%/g, '%25').replace(/:/g, '%3A')}`;
}

/** Waits for `promise`, but no longer than `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((wake) => (timer = setTimeout(wake, ms)))]);
  clearTimeout(timer);
}

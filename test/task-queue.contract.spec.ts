import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullTaskQueue, bullJobId } from '../src/backends/redis/bull-task-queue';
import { memoryBackend } from '../src/backends/memory/memory-backend';
import type { Execute } from '../src/jobs/task-queue';
import { HandedBack, type PoolTask, type TaskQueue } from '../src/jobs/task-queue';
import { until } from './contracts/event-bus.contract';
import { task, taskQueueContract, untilAborted } from './contracts/task-queue.contract';
import { freePort } from './support/service-process';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';

const LEASE_MS = 5_000;

/** Every queue a case made, closed after it. */
function opened() {
  const open: TaskQueue[] = [];
  return {
    add<Q extends TaskQueue>(queue: Q): Q {
      open.push(queue);
      return queue;
    },
    async cleanup() {
      await Promise.all(open.splice(0).map((queue) => queue.close()));
    },
  };
}

describe('LocalTaskQueue', () => {
  // As the embedded mode builds it: the memory backend's taskQueue(execute, abortAll).
  const backend = memoryBackend({ retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 20 }, authFailures: { max: 5, windowMs: 60_000 } });
  afterAll(async () => {
    backend.authFailures.close();
    await backend.store.close();
  });
  const queues = opened();
  taskQueueContract({
    name: 'LocalTaskQueue',
    // One process, nothing shared: two queues are two services that know nothing of each other.
    capabilities: { abortsRunningTask: true, boundsConcurrency: false, multiInstance: false },
    queue: async (execute, abortAll) => queues.add(backend.taskQueue(execute, abortAll)),
    cleanup: () => queues.cleanup(),
  });
});

describe.skipIf(!haveRedis('BullTaskQueue'))('BullTaskQueue', () => {
  let redis: RedisServer;
  let round = 0;
  let prefix = '';

  beforeAll(async () => {
    redis = await startRedisServer();
    prefix = `t${++round}`;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function bull(execute: Execute, concurrency: number, instanceId?: string): Promise<BullTaskQueue> {
    const queue = new BullTaskQueue({ url: redis.url, prefix, leaseMs: LEASE_MS, concurrency: { cpu: concurrency, io: concurrency }, instanceId }, execute);
    await queue.ready();
    return queue;
  }

  /** An instance in another process takes `t`, runs it forever, and is killed while it does. */
  async function killWhileRunning(t: PoolTask): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'support/bull-task-child.ts'), redis.url, prefix, String(LEASE_MS), JSON.stringify(t)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise((done) => child.once('exit', done));
    try {
      await until(() => out.includes(`running ${t.key}`), 30_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }

  const queues = opened();
  taskQueueContract({
    name: 'BullTaskQueue',
    // A running task stops on its job's cancel (the bus), not on run's signal.
    capabilities: { abortsRunningTask: false, boundsConcurrency: true, multiInstance: true },
    leaseMs: LEASE_MS,
    killWhileRunning,
    // As the cluster mode builds it: abortAll is not used, close() hands running tasks back.
    queue: async (execute, _abortAll, { concurrency }) => queues.add(await bull(execute, concurrency)),
    async cleanup() {
      await queues.cleanup();
      // A fresh prefix for the next test: no task of this one is left in its queues.
      prefix = `t${++round}`;
    },
  });

  it('counts waiting and active tasks over the cluster', async () => {
    prefix = `counts${++round}`;
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    let started = 0;
    const queue = await bull(async () => {
      started++;
      await held;
    }, 1);
    const runs = [task(), task(), task()].map((t) => queue.run(t, new AbortController().signal));
    await until(() => started === 1);
    expect(await queue.counts()).toEqual({ waiting: 2, active: 1 });
    release();
    await Promise.all(runs);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0 });
    await queue.close();
  });

  it('is subscribed to the announcements of ends once ready, on every instance', async () => {
    prefix = `subscribed${++round}`;
    // Several at once, as instances of a cluster start: each one's subscription must be in place.
    const queues = await Promise.all(Array.from({ length: 4 }, () => bull(async () => {}, 1)));
    try {
      expect(await redis.client().call('pubsub', 'numsub', `${prefix}:tasks-ended`)).toEqual([`${prefix}:tasks-ended`, 4]);
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
    }
  });

  it("reads the queues' event streams only while a run on this instance waits", async () => {
    prefix = `reads${++round}`;
    const admin = redis.client();
    const xreads = async () => Number(/cmdstat_xread:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    let executed = 0;
    const worker = await bull(async (t) => {
      executed++;
      if (t.key.includes('slow')) await new Promise((wake) => setTimeout(wake, 800));
    }, 2);
    // Tasks queued by someone else: this instance runs them and waits for none, so it reads no event.
    const producer = new Queue('tasks-cpu', { connection: admin, prefix });
    try {
      const before = await xreads();
      const queued = Array.from({ length: 20 }, () => task());
      await producer.addBulk(queued.map((t) => ({ name: t.worker, data: t, opts: { jobId: bullJobId(t.key), removeOnComplete: true } })));
      await until(() => executed === 20, 10_000);
      expect(await xreads(), 'reads by an instance that waited for nothing').toBe(before);
      // A run of its own that waits (here 800 ms): it reads the streams meanwhile (every 250 ms).
      await worker.run(task('slow'), new AbortController().signal);
      expect(await xreads()).toBeGreaterThan(before);
    } finally {
      await producer.close();
      await worker.close();
    }
  });

  it('settles a run whose job another worker ended without announcing it, from the event stream', async () => {
    prefix = `unannounced${++round}`;
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    let holding = false;
    const queue = await bull(async () => {
      holding = true;
      await held;
    }, 1);
    // A bare BullMQ worker (no BullTaskQueue: it announces nothing) takes what the busy instance cannot.
    const { hostname, port } = new URL(redis.url);
    const bare = new Worker('tasks-cpu', async () => {}, { connection: { host: hostname, port: Number(port), maxRetriesPerRequest: null }, prefix });
    try {
      const hold = queue.run(task('hold'), new AbortController().signal);
      await until(() => holding, 10_000);
      const since = Date.now();
      await queue.run(task('bare'), new AbortController().signal);
      // From the stream (read every 250 ms), not from the sweep for vanished jobs (a lease, 5 s, at least).
      expect(Date.now() - since).toBeLessThan(LEASE_MS / 2);
      release();
      await hold;
    } finally {
      release();
      await bare.close();
      await queue.close();
    }
  });

  it('rejects run at once while Redis is down, and runs tasks again once it is back', async () => {
    prefix = `outage${++round}`;
    let runs = 0;
    const queue = await bull(async () => void runs++, 2);
    await redis.kill();
    const startedAt = Date.now();
    await expect(queue.run(task(), new AbortController().signal)).rejects.toThrow();
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    await redis.restart();
    // The producer reconnects in the background: a run succeeds again within a bounded time.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await queue.run(task(), new AbortController().signal);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((wake) => setTimeout(wake, 100));
      }
    }
    expect(runs).toBe(1);
    await queue.close();
  });

  it('resolves a run whose task ended unreported (no completion event) within two leases', async () => {
    prefix = `lost${++round}`;
    const lease = 1_000;
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    let started = 0;
    const queue = new BullTaskQueue({ url: redis.url, prefix, leaseMs: lease, concurrency: { cpu: 1, io: 1 } }, async () => {
      started++;
      await held;
    });
    await queue.ready();
    try {
      const t = task();
      const run = queue.run(t, new AbortController().signal);
      await until(() => started === 1);
      // The job disappears without an event, as if its end was trimmed from the stream before it was read.
      await redis.client().del(`${prefix}:tasks-cpu:${bullJobId(t.key)}`);
      release();
      const waitingSince = Date.now();
      await run;
      expect(Date.now() - waitingSince).toBeLessThan(2 * lease + 1_000);
    } finally {
      release();
      await queue.close();
    }
  });

  it('rejects run at once and closes at once when Redis was never reachable', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const queue = new BullTaskQueue({ url: nowhere, prefix: 'nowhere', leaseMs: LEASE_MS, concurrency: { cpu: 1, io: 1 } }, async () => {});
    const startedAt = Date.now();
    await expect(queue.run(task(), new AbortController().signal)).rejects.toThrow(/unreachable/);
    await queue.close();
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('closes within a bound while Redis is down (its tasks are freed by the stall check)', async () => {
    prefix = `down${++round}`;
    const started: string[] = [];
    const queue = await bull(async (t, signal) => {
      started.push(t.key);
      await untilAborted(signal);
    }, 1);
    const run = queue.run(task(), new AbortController().signal);
    run.catch(() => {});
    await until(() => started.length === 1);
    await redis.kill();
    try {
      const closing = Date.now();
      await queue.close();
      expect(Date.now() - closing).toBeLessThan(LEASE_MS + 5_000);
      await expect(run).rejects.toBeInstanceOf(HandedBack);
    } finally {
      await redis.restart();
    }
  });
});

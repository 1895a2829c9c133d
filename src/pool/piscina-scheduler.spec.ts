import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../fibonacci/fib-bigint';
import type { FibValue } from '../fibonacci/fib-chunk';
import { PiscinaScheduler, type PiscinaSchedulerOptions } from './piscina-scheduler';
import type { TaskUpdate } from './task-protocol';

const workerDir = join(__dirname, '..', '..', 'test', 'fixtures', 'workers');
const base: PiscinaSchedulerOptions = { threads: 2, maxOldGenerationMb: 64, taskTimeoutMs: 5_000, workerDir };

/** Every run gets an AbortController, so cleanup can stop a spinning worker a failed test left. */
const live = new Set<AbortController>();

function run(scheduler: PiscinaScheduler, worker: string, payload: object = {}, updates: TaskUpdate[] = []) {
  const controller = new AbortController();
  live.add(controller);
  const done = scheduler.run(worker as never, payload, { signal: controller.signal, onUpdates: (batch) => updates.push(...batch) }).finally(() => live.delete(controller));
  done.catch(() => {}); // tests await it; this only keeps an abandoned one from being "unhandled"
  return { done, updates, abort: () => controller.abort() };
}

/** Close waits for running tasks, so anything still running is aborted first. */
async function shutdown(scheduler: PiscinaScheduler): Promise<void> {
  for (const controller of live) controller.abort();
  await scheduler.close();
}

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A healthy task end to end: the pool still serves work after whatever came before. */
async function expectHealthy(scheduler: PiscinaScheduler): Promise<void> {
  const tasks = [run(scheduler, 'echo', { count: 2, burst: 10 }), run(scheduler, 'echo', { count: 2, burst: 10 })];
  for (const task of tasks) {
    await task.done;
    expect(task.updates).toHaveLength(12);
  }
}

describe('PiscinaScheduler before start()', () => {
  it('reports the threads it is configured for, none running yet (what the instance registry announces at bootstrap)', async () => {
    const scheduler = new PiscinaScheduler({ ...base, threads: 3 });
    try {
      expect(scheduler.stats()).toMatchObject({ threads: 0, maxThreads: 6 });
      scheduler.start();
      expect(scheduler.stats().maxThreads).toBe(6);
    } finally {
      await scheduler.close();
    }
  });
});

describe('PiscinaScheduler with fixture workers', () => {
  let scheduler: PiscinaScheduler;
  beforeAll(() => {
    scheduler = new PiscinaScheduler(base);
  });
  afterEach(() => {
    for (const controller of live) controller.abort();
  });
  afterAll(() => shutdown(scheduler));

  it('delivers every update, in order, before run() resolves, a final burst included', async () => {
    const task = run(scheduler, 'echo', { count: 30, burst: 5_000 });
    await task.done;
    // Counted right at resolution: nothing may trickle in afterwards.
    expect(task.updates.map((u) => u.index)).toEqual(Array.from({ length: 5_030 }, (_, i) => i));
    expect(task.updates.at(-1)!.state).toBe('completed');
  });

  it('never resolves ahead of a burst sent just before returning', async () => {
    // Losing the tail is a race, not a certainty, so one run would catch a missing end marker
    // only sometimes; a dozen catch it almost always.
    const tasks = Array.from({ length: 12 }, () => run(scheduler, 'echo', { count: 0, burst: 3_000 }));
    const lengths = await Promise.all(
      tasks.map(async (task) => {
        await task.done;
        return task.updates.length;
      }),
    );
    expect(lengths).toEqual(new Array(12).fill(3_000));
  });

  it('applies the updates a task ends with (TaskEnd) after every port message before them, its start first', async () => {
    // 12 at once, each with batches on the port (1,000 an update message) and the rest on its result:
    // the two travel apart, so a result applied too early would put its updates before a batch.
    const runs = Array.from({ length: 12 }, async () => {
      const seen: (number | 'start')[] = [];
      await scheduler.run('echo' as never, { count: 3, burst: 2_500, finish: true }, { onStart: () => seen.push('start'), onUpdates: (batch) => seen.push(...batch.map((u) => u.index)) });
      return seen;
    });
    for (const seen of await Promise.all(runs)) expect(seen).toEqual(['start', ...Array.from({ length: 2_503 }, (_, i) => i)]);
  });

  it('rejects with the error a worker throws, and the pool runs the next task', async () => {
    await expect(run(scheduler, 'throw').done).rejects.toThrow('fixture worker threw on purpose');
    await expectHealthy(scheduler);
  });

  it('rejects when a worker exits mid-task, and the pool recovers', async () => {
    await expect(run(scheduler, 'exit').done).rejects.toThrow(/exited with code:? 1/);
    await expectHealthy(scheduler);
  });

  it('rejects when a worker runs out of heap, without taking the process down', async () => {
    await expect(run(scheduler, 'oom').done).rejects.toThrow(/memory/i);
    // Reaching this line is the proof the process survived; the pool also refills to full size.
    await expectHealthy(scheduler);
    await until(() => scheduler.stats().threads === scheduler.stats().maxThreads);
  });

  it('aborts a running task promptly and drops a queued one before it starts', async () => {
    const counters = [0, 1, 2].map(() => new Int32Array(new SharedArrayBuffer(4)));
    const [a, b] = [0, 1].map((i) => run(scheduler, 'spin', { started: counters[i] }));
    // Their "running" updates have arrived (not just started): aborting closes the port after.
    await until(() => a.updates.length === 1 && b.updates.length === 1);
    // Both threads are stuck, so this one has to wait in the queue.
    const queued = run(scheduler, 'spin', { started: counters[2] });
    expect(scheduler.stats().queued).toBe(1);
    queued.abort();
    await expect(queued.done).rejects.toMatchObject({ name: 'AbortError' });

    for (const task of [a, b]) {
      const started = performance.now();
      task.abort();
      await expect(task.done).rejects.toMatchObject({ name: 'AbortError' });
      expect(performance.now() - started).toBeLessThan(2_000);
    }
    // Once threads free up a resurrected queued task would run now; give it that chance.
    await expectHealthy(scheduler);
    expect(Atomics.load(counters[2], 0)).toBe(0);
    expect(queued.updates).toEqual([]);
    expect(a.updates).toEqual([{ index: 0, state: 'running' }]);
  });
});

describe('PiscinaScheduler: an I/O thread dies under tasks it shares', () => {
  let scheduler: PiscinaScheduler;
  // One thread, so every task below shares it.
  beforeAll(() => {
    scheduler = new PiscinaScheduler({ ...base, threads: 1, ioTasksPerWorker: 4, profiles: { shared: 'io' } });
  });
  afterAll(() => shutdown(scheduler));
  /** [runs, threadId of the first run, the first run's thread warms up (1) or not (2), the latest run's] */
  const counter = () => new Int32Array(new SharedArrayBuffer(16));
  const runs = (counters: Int32Array[]) => counters.map((c) => Atomics.load(c, 0));

  it('runs the other tasks again, alone on a fresh thread; the culprit then fails by itself', async () => {
    const counters = [counter(), counter(), counter()];
    const siblings = [0, 1].map((i) => run(scheduler, 'shared', { mode: 'hold', attempts: counters[i] }));
    await until(() => runs(counters).join() === '1,1,0');
    const culprit = run(scheduler, 'shared', { mode: 'oom', attempts: counters[2] });
    await expect(culprit.done).rejects.toThrow(/memory/i);
    const threads = await Promise.all(
      siblings.map(async (sibling) => {
        await sibling.done;
        expect(sibling.updates).toEqual([{ index: 0, state: 'completed', result: expect.any(Number) }]);
        return sibling.updates[0].result;
      }),
    );
    // Each ran twice (the second time completed), the culprit twice (dying both times).
    expect(runs(counters)).toEqual([2, 2, 2]);
    expect(scheduler.stats().retried).toBe(3);
    // The second runs were on a fresh thread, not the one that died under the first.
    const firstThreads = counters.map((c) => Atomics.load(c, 1));
    expect(new Set(firstThreads).size).toBe(1);
    for (const thread of threads) expect(thread).not.toBe(firstThreads[0]);
    // Pool threads warm up; the rescue threads that ran the second runs (one task each) do not.
    expect(counters.map((c) => [Atomics.load(c, 2), Atomics.load(c, 3)])).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    await until(() => scheduler.stats().threads === scheduler.stats().maxThreads);
    await expectHealthy(scheduler);
  });

  it("runs a dead thread's tasks again all at once, each on its own thread, while new I/O tasks run meanwhile", async () => {
    const counters = [counter(), counter(), counter(), counter()];
    // [re-runs running now, most running at once, released]
    const gather = new Int32Array(new SharedArrayBuffer(12));
    const siblings = [0, 1, 2].map((i) => run(scheduler, 'shared', { mode: 'hold', attempts: counters[i], gather }));
    await until(() => runs(counters).join() === '1,1,1,0');
    const culprit = run(scheduler, 'shared', { mode: 'oom', attempts: counters[3] });
    await expect(culprit.done).rejects.toThrow(/memory/i);
    // The three bystanders' second runs are held together: all of them at once, not one by one.
    await until(() => Atomics.load(gather, 1) === 3);
    expect(Atomics.load(gather, 0)).toBe(3);
    // A new I/O task (a later run, so it completes at once) does not wait for them.
    const fresh = counter();
    Atomics.store(fresh, 0, 1);
    await run(scheduler, 'shared', { mode: 'hold', attempts: fresh }).done;
    expect(Atomics.load(gather, 0)).toBe(3);
    Atomics.store(gather, 2, 1);
    const threads = await Promise.all(
      siblings.map(async (sibling) => {
        await sibling.done;
        return sibling.updates[0].result;
      }),
    );
    expect(new Set(threads).size).toBe(3);
    expect(runs(counters)).toEqual([2, 2, 2, 2]);
  });

  it('does not run again a task that failed by itself', async () => {
    const before = scheduler.stats().retried;
    const attempts = counter();
    await expect(run(scheduler, 'shared', { mode: 'throw', attempts }).done).rejects.toThrow('fixture task failed by itself');
    expect([Atomics.load(attempts, 0), scheduler.stats().retried]).toEqual([1, before]);
  });
});

describe('PiscinaScheduler: presentation work takes turns', () => {
  let scheduler: PiscinaScheduler;
  beforeAll(() => {
    scheduler = new PiscinaScheduler({ ...base, threads: 1 });
  });
  afterAll(() => shutdown(scheduler));

  it("never queues more than one presentation task ahead of a job's task, and serves the owners in turn", async () => {
    // log[0]: tasks started; log[1..]: their ids, in start order. Every task holds until released.
    const log = new Int32Array(new SharedArrayBuffer(4 * 8));
    const release = new Int32Array(new SharedArrayBuffer(4));
    const task = (id: number, presentFor?: string) => scheduler.run('latch', { id, log, release }, { stream: false, presentFor, onUpdates: () => {} });
    const first = task(1, 'a');
    await until(() => Atomics.load(log, 0) === 1);
    // While key a's first conversion holds the only thread: two more of a's, one of c's, then a job task.
    const rest = [task(2, 'a'), task(3, 'a'), task(4, 'c'), task(5)];
    expect(scheduler.stats().queued).toBe(4);
    Atomics.store(release, 0, 1);
    await Promise.all([first, ...rest]);
    const order = Array.from(log.subarray(1, 1 + Atomics.load(log, 0)));
    // The job task goes next, then a, c and a again.
    expect(order).toEqual([1, 5, 2, 4, 3]);
  });
});

describe('PiscinaScheduler task timeout', () => {
  let scheduler: PiscinaScheduler;
  beforeAll(async () => {
    scheduler = new PiscinaScheduler({ ...base, threads: 1, taskTimeoutMs: 1_000 });
    // The clock runs from run(), queue and thread start-up included: warm the thread first so
    // the timeout surely hits a running task.
    await run(scheduler, 'echo', { count: 0, burst: 1 }).done;
  });
  afterAll(() => shutdown(scheduler));

  it('fails a task that never returns with the TASK_TIMEOUT_MS message', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const task = run(scheduler, 'spin', { started: counter });
    await expect(task.done).rejects.toThrow('task exceeded TASK_TIMEOUT_MS (1000 ms)');
    // It did start: the timeout stopped a running task, not one stuck in the queue.
    expect(Atomics.load(counter, 0)).toBe(1);
  });
});

describe('PiscinaScheduler with the real fibonacci worker', () => {
  let scheduler: PiscinaScheduler;
  beforeAll(() => {
    scheduler = new PiscinaScheduler({ threads: 1, maxOldGenerationMb: 64, taskTimeoutMs: 30_000 });
  });
  afterAll(() => shutdown(scheduler));

  it('computes a chunk and streams progress for F(100000)', async () => {
    const items = [
      { index: 0, n: 10 },
      { index: 1, n: 100_000 },
      { index: 2, n: 7 },
    ];
    const task = run(scheduler, 'fibonacci', { items });
    await task.done;
    const { updates } = task;
    const completed = new Map(updates.filter((u) => u.state === 'completed').map((u) => [u.index, u.result as FibValue]));
    expect([...completed.keys()].sort()).toEqual([0, 1, 2]);
    expect(completed.get(0)!.value).toBe('55');
    expect(completed.get(2)!.value).toBe('13');
    expect(completed.get(1)!.value).toBe(fib(100_000).toString());
    const progress = updates.filter((u) => u.index === 1 && u.progress !== undefined).map((u) => u.progress!);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
    // Progress for F(100000) precedes its completion.
    expect(updates.findIndex((u) => u.index === 1 && u.progress === 1)).toBeLessThan(updates.findIndex((u) => u.index === 1 && u.state === 'completed'));
    expect(updates.filter((u) => u.state === 'failed')).toEqual([]);
  });

  it('converts decimal values to hexadecimal on a worker (a format=hex page)', async () => {
    const values = [fib(100_000).toString(), '55', '0'];
    const task = run(scheduler, 'fibonacci', { hexOf: values });
    await task.done;
    expect(task.updates).toEqual(values.map((value, index) => ({ index, state: 'completed', result: BigInt(value).toString(16) })));
  });
});

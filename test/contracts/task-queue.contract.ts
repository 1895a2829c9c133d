import { afterEach, describe, expect, it } from 'vitest';
import type { Execute } from '../../src/jobs/task-queue';
import { HandedBack, type PoolTask, type TaskQueue } from '../../src/jobs/task-queue';
import { describeCapability, needs } from './capabilities';
import { until } from './event-bus.contract';

/** What a queue can do beyond the port's promises; the cases that need more skip, saying which. */
export interface TaskQueueCapabilities {
  /**
   * Aborting `run`'s signal aborts a running task's execute, and `run` resolves once it has
   * ended (the embedded queue passes the signal through; BullMQ's running tasks stop on their
   * job's cancel, which comes through the bus, not through `run`).
   */
  abortsRunningTask: boolean;
  /** The queue itself runs at most `concurrency` tasks at once per instance and holds the rest (the embedded queue leaves that to the pool behind `execute`). */
  boundsConcurrency: boolean;
  /** Instances on one backend share their tasks: each `queue()` is another instance (then the harness gives `leaseMs` and `killWhileRunning`). */
  multiInstance: boolean;
}

export interface TaskQueueHarness {
  /** The implementation, as the skip reasons name it. */
  name: string;
  capabilities: TaskQueueCapabilities;
  queue(execute: Execute, abortAll: (reason: HandedBack) => void, options: { concurrency: number }): Promise<TaskQueue>;
  /** With multiInstance: how long the task of an instance that died stays locked. */
  leaseMs?: number;
  /** With multiInstance: queues `task` from an instance in another process, waits until that instance runs it, and kills it (SIGKILL). */
  killWhileRunning?(task: PoolTask): Promise<void>;
  /** Closes every queue made since the last cleanup. */
  cleanup(): Promise<void>;
}

let counter = 0;
export function task(label = 'task'): PoolTask {
  const n = ++counter;
  return { key: `job-${n}:${label}:0`, jobId: `job-${n}`, kind: 'fibonacci', worker: 'fibonacci', profile: 'cpu', payload: { n }, indexes: [0], inputs: [n] };
}

/** A promise with its resolve outside, to hold an execute until the test lets it go. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** What an executor does when told to leave: stop, and say so by throwing the abort's reason. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

const sleep = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));

/** Whether `promise` settles within `ms` (a guard, so that a broken queue fails a case instead of hanging it). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((wake) => (timer = setTimeout(() => wake(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The executor side of the port as TaskExecutor has it: each running task gets its own
 * controller that follows the caller's signal, and `abortAll` (what the embedded queue calls on
 * close) aborts every running one. `body` is the test's pool.
 */
export function executor(body: Execute): { execute: Execute; abortAll: (reason: HandedBack) => void } {
  const running = new Set<AbortController>();
  return {
    async execute(t, signal) {
      const controller = new AbortController();
      const forward = () => controller.abort(signal.reason);
      if (signal.aborted) forward();
      signal.addEventListener('abort', forward, { once: true });
      running.add(controller);
      try {
        await body(t, controller.signal);
      } finally {
        signal.removeEventListener('abort', forward);
        running.delete(controller);
      }
    },
    abortAll(reason) {
      for (const controller of running) controller.abort(reason);
    },
  };
}

export function taskQueueContract(harness: TaskQueueHarness): void {
  const { name, capabilities } = harness;
  /** A queue (with multiInstance: another instance) over `body`, through an executor as production's. */
  const instance = (body: Execute, options: { concurrency?: number } = {}) => {
    const { execute, abortAll } = executor(body);
    return harness.queue(execute, abortAll, { concurrency: options.concurrency ?? 2 });
  };

  describe(`TaskQueue contract: ${name}`, () => {
    afterEach(() => harness.cleanup());

    it('resolves run only after execute has resolved, with the task as given', async () => {
      const seen: PoolTask[] = [];
      let finished = false;
      const queue = await instance(async (t) => {
        seen.push(t);
        await new Promise((wake) => setImmediate(wake));
        finished = true;
      });
      const t = task();
      await queue.run(t, new AbortController().signal);
      expect(finished).toBe(true);
      expect(seen).toEqual([t]);
    });

    it('runs many CPU and I/O tasks at once', async () => {
      const runs: Record<string, number> = { fibonacci: 0, crawl: 0 };
      const queue = await instance(async (t) => void runs[t.worker]++, { concurrency: 8 });
      const tasks = Array.from({ length: 200 }, (_, i): PoolTask => (i % 2 ? { ...task(), worker: 'crawl', profile: 'io' } : task()));
      await Promise.all(tasks.map((t) => queue.run(t, new AbortController().signal)));
      expect(runs).toEqual({ fibonacci: 100, crawl: 100 });
    });

    it('rejects run when execute keeps failing', async () => {
      const queue = await instance(async () => {
        throw new Error('the pool is broken');
      });
      await expect(queue.run(task(), new AbortController().signal)).rejects.toThrow(/the pool is broken/);
    });

    it('never executes a task whose signal was aborted before run', async () => {
      let runs = 0;
      const queue = await instance(async () => void runs++);
      const controller = new AbortController();
      controller.abort(new Error('cancelled'));
      await queue.run(task(), controller.signal);
      await queue.run(task('witness'), new AbortController().signal);
      expect(runs).toBe(1);
    });

    it('resolves run once its signal is aborted while the task runs, before the task ends by itself', async () => {
      const held = gate();
      const started = gate();
      let released = false;
      const release = () => {
        released = true;
        held.open();
      };
      const queue = await instance(async (_t, signal) => {
        started.open();
        await Promise.race([held.opened, untilAborted(signal).catch(() => {})]);
      });
      const controller = new AbortController();
      const run = queue.run(task(), controller.signal);
      let releasedFirst: boolean | undefined;
      const resolved = run.then(() => (releasedFirst = released));
      await started.opened;
      controller.abort(new Error('cancelled'));
      // The task ends by itself only when released: after run resolved, or after this guard (then the case fails).
      const guard = setTimeout(release, 5_000);
      try {
        await resolved;
      } finally {
        clearTimeout(guard);
        release();
      }
      expect(releasedFirst).toBe(false);
    });

    it('close aborts running tasks with a HandedBack reason, waits for them, and refuses new runs', async () => {
      const started = gate();
      const giveUp = gate();
      let reason: unknown;
      let settled = false;
      const queue = await instance(async (_t, signal) => {
        started.open();
        try {
          // Given up after the case, so that a queue that never aborts it fails the case instead of hanging the cleanup.
          await Promise.race([untilAborted(signal), giveUp.opened.then(() => Promise.reject(new Error('never aborted')))]);
        } finally {
          reason = signal.reason;
          await new Promise((wake) => setImmediate(wake));
          settled = true;
        }
      });
      const run = queue.run(task(), new AbortController().signal);
      run.catch(() => {});
      await started.opened;
      try {
        expect(await settlesWithin(queue.close(), 10_000)).toBe(true);
        expect(reason).toBeInstanceOf(HandedBack);
        expect(settled).toBe(true);
        await expect(run).rejects.toBeInstanceOf(HandedBack);
        await expect(queue.run(task(), new AbortController().signal)).rejects.toBeInstanceOf(HandedBack);
      } finally {
        giveUp.open();
      }
    });

    describeCapability(name, 'abortsRunningTask', capabilities.abortsRunningTask, () => {
      it("passes the abort of run's signal to the running task, and resolves run once the task has ended", async () => {
        const started = gate();
        const stop = new Error('cancelled');
        let seen: unknown;
        let ended = false;
        const queue = await instance(async (_t, signal) => {
          started.open();
          await untilAborted(signal).catch((reason: unknown) => (seen = reason));
          await new Promise((wake) => setImmediate(wake));
          ended = true;
        });
        const controller = new AbortController();
        const run = queue.run(task(), controller.signal);
        let endedFirst: boolean | undefined;
        const resolved = run.then(() => (endedFirst = ended));
        await started.opened;
        controller.abort(stop);
        expect(await settlesWithin(resolved, 10_000)).toBe(true);
        expect(seen).toBe(stop);
        expect(endedFirst).toBe(true);
      });
    });

    describeCapability(name, 'boundsConcurrency', capabilities.boundsConcurrency, () => {
      /** Counts the tasks running at once; `hold` decides how long each one runs. */
      function concurrencyProbe(hold: (active: number) => Promise<void>) {
        const figures = { active: 0, max: 0 };
        const body: Execute = async () => {
          figures.max = Math.max(figures.max, ++figures.active);
          try {
            await hold(figures.active);
          } finally {
            figures.active--;
          }
        };
        return { figures, body };
      }

      it('runs no more than `concurrency` tasks at once on an instance, holding the rest', async () => {
        const second = gate();
        let first = true;
        // The first task runs until a second one starts beside it, or for 300 ms: a queue that took
        // more than one would start the next well within that (a slow machine can miss such a
        // fault, never make one up).
        const { figures, body } = concurrencyProbe(async (active) => {
          if (active > 1) second.open();
          if (!first) return;
          first = false;
          await Promise.race([second.opened, sleep(300)]);
        });
        const queue = await instance(body, { concurrency: 1 });
        await Promise.all([task(), task(), task()].map((t) => queue.run(t, new AbortController().signal)));
        expect(figures.max).toBe(1);
      });

      it('runs `concurrency` tasks at once when that many are queued', async () => {
        const reached = gate();
        let isReached = false;
        // Each task runs until two run at once: reachable only if the queue starts two together.
        const { figures, body } = concurrencyProbe(async (active) => {
          if (active >= 2) {
            isReached = true;
            reached.open();
          }
          await reached.opened;
        });
        const queue = await instance(body, { concurrency: 2 });
        const runs = [task(), task(), task(), task()].map((t) => queue.run(t, new AbortController().signal));
        try {
          await until(() => isReached, 10_000);
        } finally {
          reached.open();
        }
        await Promise.all(runs);
        expect(figures.max).toBe(2);
      });

      it('never executes a queued task that was aborted before a worker took it', async () => {
        const held = gate();
        const executed: string[] = [];
        const queue = await instance(
          async (t) => {
            executed.push(t.key);
            if (executed.length === 1) await held.opened;
          },
          { concurrency: 1 },
        );
        const first = queue.run(task('first'), new AbortController().signal);
        await until(() => executed.length === 1);
        const controller = new AbortController();
        const queued = task('queued');
        const aborted = queue.run(queued, controller.signal);
        const witness = task('witness');
        const after = queue.run(witness, new AbortController().signal);
        controller.abort(new Error('cancelled'));
        await aborted;
        held.open();
        // One worker slot in FIFO order: the witness ran after the place the aborted task had.
        await Promise.all([first, after]);
        expect(executed).not.toContain(queued.key);
        expect(executed).toContain(witness.key);
      });
    });

    describeCapability(name, 'multiInstance', capabilities.multiInstance, () => {
      it('runs tasks on another instance when this one is busy, each task once', async () => {
        const held = gate();
        const ranBy: { who: string; key: string }[] = [];
        const busy = await instance(
          async (t) => {
            ranBy.push({ who: 'busy', key: t.key });
            await held.opened;
          },
          { concurrency: 1 },
        );
        await instance(async (t) => void ranBy.push({ who: 'other', key: t.key }), { concurrency: 4 });
        const tasks = Array.from({ length: 6 }, () => task());
        const runs = tasks.map((t) => busy.run(t, new AbortController().signal));
        // The busy instance holds what it took: the other instance runs the rest to their end.
        await until(() => ranBy.filter(({ who }) => who === 'other').length >= 5, 10_000);
        held.open();
        await Promise.all(runs);
        expect(ranBy.map(({ key }) => key).sort()).toEqual(tasks.map((t) => t.key).sort());
      });

      it('rejects run on this instance when execute keeps failing on the other one', async () => {
        const held = gate();
        let holding = false;
        const busy = await instance(
          async () => {
            holding = true;
            await held.opened;
          },
          { concurrency: 1 },
        );
        // The busy instance's one slot is taken before the other exists: the failing task can only run there.
        const hold = busy.run(task('hold'), new AbortController().signal);
        await until(() => holding, 10_000);
        let attempts = 0;
        await instance(
          async () => {
            attempts++;
            throw new Error('the other pool is broken');
          },
          { concurrency: 1 },
        );
        try {
          await expect(busy.run(task('fail'), new AbortController().signal)).rejects.toThrow(/the other pool is broken/);
          expect(attempts).toBeGreaterThan(0);
        } finally {
          held.open();
          await hold;
        }
      });

      it('attaches a second run of the same key, from any instance, to the task already queued', async () => {
        const held = gate();
        const t = task();
        let runs = 0;
        const execute = async (running: PoolTask) => {
          if (running.key !== t.key) return;
          runs++;
          await held.opened;
        };
        const first = await instance(execute);
        const second = await instance(execute);
        const runs1 = first.run(t, new AbortController().signal);
        await until(() => runs === 1);
        const runs2 = first.run({ ...t }, new AbortController().signal);
        const runs3 = second.run({ ...t }, new AbortController().signal);
        // A run queued after them through the same instances: once they end, both were added while the task held.
        await Promise.all([first.run(task('witness'), new AbortController().signal), second.run(task('witness'), new AbortController().signal)]);
        held.open();
        await Promise.all([runs1, runs2, runs3]);
        expect(runs).toBe(1);
      });

      it('hands a running task back on close, and another instance runs it without waiting for a stall', async () => {
        const leaseMs = needs(harness.leaseMs, 'leaseMs');
        const started = gate();
        const leaving = await instance(async (_t, signal) => {
          started.open();
          await untilAborted(signal);
        });
        const t = task();
        const run = leaving.run(t, new AbortController().signal);
        run.catch(() => {});
        await started.opened;
        const ranByOther: PoolTask[] = [];
        await instance(async (handed) => void ranByOther.push(handed));
        const closedAt = Date.now();
        await leaving.close();
        await until(() => ranByOther.length === 1, 10_000);
        expect(ranByOther[0]).toEqual(t);
        // Well inside one lease (the stall path takes more than a lease).
        expect(Date.now() - closedAt).toBeLessThan(leaseMs * 0.6);
      });

      it('runs the task of an instance that died (SIGKILL) on another within two leases', async () => {
        const leaseMs = needs(harness.leaseMs, 'leaseMs');
        const t = task('crash');
        await needs(harness.killWhileRunning, 'killWhileRunning').call(harness, t);
        const killedAt = Date.now();
        const ranHere: PoolTask[] = [];
        let ranAt = 0;
        await instance(
          async (running) => {
            ranHere.push(running);
            ranAt = Date.now();
          },
          { concurrency: 1 },
        );
        await until(() => ranHere.length === 1, 4 * leaseMs);
        console.info(`recovery after kill -9: ${ranAt - killedAt} ms (lease ${leaseMs} ms)`);
        expect(ranHere[0]).toEqual(t);
        expect(ranAt - killedAt).toBeLessThan(2 * leaseMs);
      });
    });
  });
}

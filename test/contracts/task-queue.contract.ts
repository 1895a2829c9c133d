import { afterEach, describe, expect, it } from 'vitest';
import type { Execute } from '../../src/jobs/task-queue';
import { HandedBack, type PoolTask, type TaskQueue } from '../../src/jobs/task-queue';
import { until } from './event-bus.contract';

/**
 * What every TaskQueue implementation promises. `instance()` makes another instance of the
 * service's queue on the same backend; `cluster` says whether instances share their tasks
 * (then the tests that need two instances run too).
 */
export interface TaskQueueHarness {
  cluster: boolean;
  instance(execute: Execute, options?: { concurrency?: number }): Promise<TaskQueue>;
  /** Closes every instance made since the last cleanup. */
  cleanup(): Promise<void>;
}

let counter = 0;
export function task(label = 'task'): PoolTask {
  const n = ++counter;
  return { key: `job-${n}:${label}:0`, jobId: `job-${n}`, worker: 'fibonacci', payload: { n }, indexes: [0], inputs: [n] };
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

export function taskQueueContract(name: string, harness: TaskQueueHarness): void {
  describe(`TaskQueue contract: ${name}`, () => {
    afterEach(() => harness.cleanup());

    it('resolves run only after execute has resolved, with the task as given', async () => {
      const seen: PoolTask[] = [];
      let finished = false;
      const queue = await harness.instance(async (t) => {
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
      const runs = { fibonacci: 0, crawl: 0 };
      const queue = await harness.instance(async (t) => void runs[t.worker]++, { concurrency: 8 });
      const tasks = Array.from({ length: 200 }, (_, i): PoolTask => ({ ...task(), worker: i % 2 ? 'crawl' : 'fibonacci' }));
      await Promise.all(tasks.map((t) => queue.run(t, new AbortController().signal)));
      expect(runs).toEqual({ fibonacci: 100, crawl: 100 });
    });

    it('rejects run when execute keeps failing', async () => {
      const queue = await harness.instance(async () => {
        throw new Error('the pool is broken');
      });
      await expect(queue.run(task(), new AbortController().signal)).rejects.toThrow(/the pool is broken/);
    });

    it('never executes a task whose signal was aborted before it started', async () => {
      let runs = 0;
      const queue = await harness.instance(async () => void runs++);
      const controller = new AbortController();
      controller.abort(new Error('cancelled'));
      await queue.run(task(), controller.signal);
      await queue.run(task('witness'), new AbortController().signal);
      expect(runs).toBe(1);
    });

    it('resolves run promptly when a running task is aborted', async () => {
      const held = gate();
      const started = gate();
      const queue = await harness.instance(async (_t, signal) => {
        started.open();
        await Promise.race([held.opened, untilAborted(signal).catch(() => {})]);
      });
      const controller = new AbortController();
      const run = queue.run(task(), controller.signal);
      await started.opened;
      controller.abort(new Error('cancelled'));
      await run;
      held.open();
    });

    it('close aborts running tasks with a HandedBack reason and waits for them', async () => {
      const started = gate();
      let reason: unknown;
      let settled = false;
      const queue = await harness.instance(async (_t, signal) => {
        started.open();
        try {
          await untilAborted(signal);
        } finally {
          reason = signal.reason;
          await new Promise((wake) => setImmediate(wake));
          settled = true;
        }
      });
      const run = queue.run(task(), new AbortController().signal);
      run.catch(() => {});
      await started.opened;
      await queue.close();
      expect(reason).toBeInstanceOf(HandedBack);
      expect(settled).toBe(true);
      await expect(run).rejects.toBeInstanceOf(HandedBack);
      await expect(queue.run(task(), new AbortController().signal)).rejects.toBeInstanceOf(HandedBack);
    });

    if (!harness.cluster) return;

    it('runs tasks on another instance when this one is busy', async () => {
      const held = gate();
      const ranBy: string[] = [];
      const busy = await harness.instance(
        async () => {
          ranBy.push('busy');
          await held.opened;
        },
        { concurrency: 1 },
      );
      await harness.instance(async () => void ranBy.push('other'), { concurrency: 4 });
      const runs = Array.from({ length: 6 }, () => busy.run(task(), new AbortController().signal));
      // At most one can be held by the busy instance: the other instance runs the rest to their end.
      await until(() => ranBy.filter((who) => who === 'other').length >= 5, 10_000);
      held.open();
      await Promise.all(runs);
      expect(ranBy.filter((who) => who === 'busy').length).toBeLessThanOrEqual(1);
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
      const first = await harness.instance(execute);
      const second = await harness.instance(execute);
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

    it('never executes a queued task that was aborted before a worker took it', async () => {
      const held = gate();
      const executed: string[] = [];
      const queue = await harness.instance(
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

    it('hands a running task back on close, and another instance runs it without waiting for a stall', async () => {
      const started = gate();
      const leaving = await harness.instance(async (_t, signal) => {
        started.open();
        await untilAborted(signal);
      });
      const t = task();
      const run = leaving.run(t, new AbortController().signal);
      run.catch(() => {});
      await started.opened;
      const ranByOther: PoolTask[] = [];
      await harness.instance(async (handed) => void ranByOther.push(handed));
      const closedAt = Date.now();
      await leaving.close();
      await until(() => ranByOther.length === 1, 10_000);
      expect(ranByOther[0]).toEqual(t);
      // Well inside one lease (the stall path takes more than a lease).
      expect(Date.now() - closedAt).toBeLessThan(3_000);
    });
  });
}

import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import type { JobContext, JobKind, Reservation } from '../../../src/jobs/job-kind';
import { JobKinds } from '../../../src/jobs/job-kinds';
import { STATE_CODES } from '../../../src/jobs/job.model';
import type { Nap } from './nap.worker';

/** What one caller's unfinished nap jobs may sleep together (ms): the kind's own admission bound. */
export const NAP_MS_PER_CALLER = 20_000;
export const NAP_COUNTER = 'nap.ms';

/**
 * A third job kind that lives only in the tests: "sleep n ms, reporting progress". It proves a
 * kind plugs in without any file under src/ naming it: its worker, its admission counter, its
 * metric, its route and its OpenAPI part are all registered from here.
 */
@Injectable()
export class NapKind implements JobKind<number, Nap> {
  readonly name = 'nap';
  readonly workers = [{ name: 'nap', file: join(__dirname, 'nap.worker.ts'), profile: 'cpu' as const }];
  readonly counters = [
    {
      name: NAP_COUNTER,
      perCaller: NAP_MS_PER_CALLER,
      refusal: (held: number, wants: number, bound: number) => `your unfinished naps sleep ${held} ms and this one ${wants} ms, over ${bound} ms; retry when one ends`,
    },
  ];
  readonly metrics = [{ name: 'naps_total', help: 'Naps taken, by outcome.', labelNames: ['outcome'] }];

  constructor(kinds: JobKinds) {
    kinds.register(this);
  }

  /** One pool task per nap (stable keys, so a takeover joins the same ones), as many at once as there are threads. */
  async execute({ job, threads, signal, runTask, snapshot, inputs, task, count }: JobContext<number, Nap>): Promise<void> {
    const [naps, states] = await Promise.all([inputs(0, job.total), snapshot().then((data) => data.tasks)]);
    const todo = naps.map((ms, index) => ({ ms, index })).filter(({ index }) => states[index] === STATE_CODES.queued || states[index] === STATE_CODES.running);
    let next = 0;
    const lane = async () => {
      while (next < todo.length && !signal.aborted) {
        const { ms, index } = todo[next++];
        await runTask({ key: `${job.id}:n${index}`, worker: 'nap', payload: { items: [{ index, ms }] }, indexes: [index], inputs: [ms] });
        if (!signal.aborted) count('naps_total', { outcome: (await task(index)).state });
      }
    };
    await Promise.all(Array.from({ length: Math.min(threads, todo.length) }, lane));
  }

  summarize(ms: number, result: Nap | undefined): Record<string, unknown> {
    return result ? { ms, slept: result.slept, thread: result.thread } : { ms };
  }

  present(ms: number, result: Nap): Record<string, unknown> {
    return { ms, slept: result.slept, thread: result.thread };
  }

  presentError(ms: number, message: string): Record<string, unknown> {
    return { ms, error: message };
  }

  sizeOf(): number {
    return 64;
  }

  reserve(_params: unknown, naps: readonly number[]): Reservation {
    return { tasks: naps.length, resultBytes: naps.length * 64, counters: { [NAP_COUNTER]: naps.reduce((sum, ms) => sum + ms, 0) } };
  }
}

/**
 * The nap kind's worker: sleeps each item's `ms` in 10 ms steps, reporting progress, on a real
 * worker thread. Thread glue over the pure pool protocol (no Nest), like src/workers/.
 */
import { type MessagePort, threadId } from 'node:worker_threads';
import type { TaskUpdate } from '../../../src/pool/task-protocol';
import { UpdateReporter } from '../../../src/pool/update-reporter';

export interface NapItem {
  index: number;
  ms: number;
}

export interface Nap {
  ms: number;
  /** Milliseconds actually slept. */
  slept: number;
  /** The thread that slept (0 is a process's main thread): proof the nap ran on a pool worker. */
  thread: number;
}

const STEP_MS = 10;

export default async function napWorker({ items, port }: { items: NapItem[]; port?: MessagePort }): Promise<TaskUpdate[] | undefined> {
  const reporter = new UpdateReporter(port, 0);
  for (const { index, ms } of items) {
    if (ms < 0) {
      reporter.push({ index, state: 'failed', error: 'a nap cannot be negative' });
      continue;
    }
    const started = performance.now();
    for (let done = 0; done < ms; done += STEP_MS) {
      await new Promise((wake) => setTimeout(wake, Math.min(STEP_MS, ms - done)));
      reporter.push({ index, state: 'running', progress: Math.min(1, (done + STEP_MS) / ms) });
    }
    const result: Nap = { ms, slept: Math.round(performance.now() - started), thread: threadId };
    reporter.push({ index, state: 'completed', result });
  }
  return reporter.end();
}

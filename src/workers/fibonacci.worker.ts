/**
 * Pool entry point for Fibonacci chunks. Thread glue only: the maths is in src/fibonacci.
 */
import type { MessagePort } from 'node:worker_threads';
import { computeChunk, GMP_MIN_N, type FibItem, type FibValue } from '../fibonacci/fib-chunk';
import { decimalToHex, loadGmp } from '../fibonacci/fib-gmp';
import type { TaskUpdate } from '../pool/task-protocol';
import { UpdateReporter } from '../pool/update-reporter';

export interface FibonacciTask {
  items: FibItem[];
  /** Absent for short chunks: their updates are returned instead of streamed. */
  port?: MessagePort;
}

/** Decimal values to convert to hexadecimal (a `format=hex` results page); the i-th update holds the i-th. */
export interface HexTask {
  hexOf: string[];
  port?: MessagePort;
}

async function hexOf({ hexOf: values, port }: HexTask): Promise<TaskUpdate[] | undefined> {
  const gmp = await loadGmp();
  const reporter = new UpdateReporter(port);
  values.forEach((decimal, index) => reporter.push({ index, state: 'completed', result: decimalToHex(gmp, decimal) }));
  return reporter.end();
}

export default async function fibonacciWorker(task: FibonacciTask | HexTask): Promise<TaskUpdate[] | undefined> {
  if ('hexOf' in task) return hexOf(task);
  const { items, port } = task;
  const gmp = items.some((item) => item.n >= GMP_MIN_N) ? await loadGmp() : undefined;
  const reporter = new UpdateReporter(port);
  try {
    // No "running" update per number: big numbers become running with their first progress
    // report, a one-number task when a worker takes it (the main thread marks it), and small
    // numbers finish within microseconds; an update each would double the per-number traffic
    // the main thread handles (measured as its main cost in bench:fib a).
    computeChunk(items, gmp, {
      onProgress: (index, progress) => reporter.push({ index, state: 'running', progress }),
      onDone: (index, result: FibValue) => reporter.push({ index, state: 'completed', result }),
      onFail: (index, error) => reporter.push({ index, state: 'failed', error }),
    });
  } catch (err) {
    reporter.end(); // what finished before the failure still reaches the main thread
    throw err;
  }
  return reporter.end();
}

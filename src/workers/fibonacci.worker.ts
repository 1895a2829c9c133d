/**
 * Pool entry point for Fibonacci chunks. Thread glue only: the maths is in src/fibonacci.
 */
import type { MessagePort } from 'node:worker_threads';
import { computeChunk, GMP_MIN_N, PROGRESS_MIN_N, type FibItem, type FibValue } from '../fibonacci/fib-chunk';
import { loadGmp } from '../fibonacci/fib-gmp';
import { UpdateReporter } from '../pool/update-reporter';

export interface FibonacciTask {
  items: FibItem[];
  port: MessagePort;
}

export default async function fibonacciWorker({ items, port }: FibonacciTask): Promise<number> {
  const gmp = items.some((item) => item.n >= GMP_MIN_N) ? await loadGmp() : undefined;
  const reporter = new UpdateReporter(port);
  try {
    // Big numbers say when they start (they take a while and report progress); a chunk of small
    // ones finishes within milliseconds, and a "running" update per number would double the
    // per-number traffic the main thread handles (measured as its main cost in bench:fib a).
    for (const { index, n } of items) if (items.length === 1 || n >= PROGRESS_MIN_N) reporter.push({ index, state: 'running' });
    reporter.flush();
    computeChunk(items, gmp, {
      onProgress: (index, progress) => reporter.push({ index, state: 'running', progress }),
      onDone: (index, result: FibValue) => reporter.push({ index, state: 'completed', result }),
      onFail: (index, error) => reporter.push({ index, state: 'failed', error }),
    });
  } finally {
    reporter.end();
  }
  return items.length;
}

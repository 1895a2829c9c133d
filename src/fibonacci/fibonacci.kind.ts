import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { JobContext, JobKind, Reservation, ResultFormat } from '../jobs/job-kind';
import { PROGRESS_MIN_N, type FibValue } from './fib-chunk';
import { estimateResultBytes, planChunks } from './fibonacci.planner';

/** How Fibonacci jobs run: a batch of n, chunked onto the pool, one task per number. */
@Injectable()
export class FibonacciKind implements JobKind<number, FibValue> {
  readonly name = 'fibonacci' as const;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async execute({ job, signal, runTask }: JobContext<number, FibValue>): Promise<void> {
    const chunks = planChunks(job.inputs, this.config.POOL_SIZE);
    // A bounded window of chunks in flight per job keeps the pool's queue short, so that
    // several jobs share the workers and a cancel has little queued work to discard.
    const window = this.config.POOL_SIZE * 2;
    let next = 0;
    const lane = async () => {
      while (next < chunks.length && !signal.aborted) {
        const chunk = chunks[next++];
        // Chunks without a big number take milliseconds: no streaming, no progress to report.
        const stream = chunk.some((item) => item.n >= PROGRESS_MIN_N);
        await runTask(
          'fibonacci',
          { items: chunk },
          chunk.map((item) => item.index),
          { stream },
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, chunks.length) }, lane));
  }

  summarize(n: number, result: FibValue | undefined): Record<string, unknown> {
    return result ? { n, digits: result.digits, ms: result.ms } : { n };
  }

  present(n: number, result: FibValue, format: ResultFormat): Record<string, unknown> {
    // Workers store hex from HEX_MIN_N on; below it (at most ~2,000 digits) converting here
    // takes microseconds, and presentCost counts it against the page's byte budget.
    const value = format === 'hex' ? (result.hex ?? BigInt(result.value).toString(16)) : result.value;
    return { n, value, digits: result.digits, ms: result.ms };
  }

  presentCost(result: FibValue, format: ResultFormat): number {
    return format === 'hex' && result.hex === undefined ? result.value.length : 0;
  }

  presentError(_n: number, message: string): Record<string, unknown> {
    return { error: message };
  }

  sizeOf(result: FibValue): number {
    return result.value.length + (result.hex?.length ?? 0) + 64;
  }

  /** The batch's estimated result bytes (as FIB_MAX_RESULT_BYTES checks them), one task per number. */
  reserve(_params: unknown, numbers: readonly number[]): Reservation {
    return { tasks: numbers.length, resultBytes: estimateResultBytes(numbers), crawlPages: 0, crawlFetches: 0 };
  }
}

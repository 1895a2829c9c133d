import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { TaskRecord } from '../jobs/job-data';
import type { JobContext, JobKind, PoolRunner, Reservation, ResultFormat } from '../jobs/job-kind';
import type { TaskUpdate } from '../pool/task-protocol';
import { workerFile } from '../pool/worker-files';
import { JobKinds } from '../jobs/job-kinds';
import { STATE_CODES } from '../jobs/job.model';
import { computeChunk, HEX_MIN_N, PROGRESS_MIN_N, type FibValue } from './fib-chunk';
import { estimateResultBytes, planChunks } from './fibonacci.planner';

const FINISHED_CODES = new Set([STATE_CODES.completed, STATE_CODES.failed, STATE_CODES.cancelled]);

/**
 * Batches computed on the main thread instead of the pool: at most this many numbers, none above
 * TINY_MAX_N. F(2,000) by BigInt is a few microseconds, so such a job holds the event loop for well
 * under a tenth of a millisecond, less than handing it to a worker costs.
 */
const TINY_MAX_NUMBERS = 16;
const TINY_MAX_N = 2_000;

/**
 * Decimal digits converted to hexadecimal per pool task of a results page (F(2,000,000), 418,000
 * digits, took about 48 ms): presentation work takes turns one task at a time, so this is about
 * the longest another key's job waits for it. A single bigger value is one task by itself.
 */
const HEX_TASK_DIGITS = 500_000;
/** A page item's fields besides its value (`{"index","state","n","value","digits","ms"}`): under 110 bytes. */
const ITEM_FIELDS_BYTES = 128;
/** Hexadecimal digits per decimal digit: log(10) / log(16). */
const HEX_PER_DECIMAL = Math.log(10) / Math.log(16);

function isTiny(numbers: readonly number[]): boolean {
  return numbers.length <= TINY_MAX_NUMBERS && numbers.every((n) => n <= TINY_MAX_N);
}

/** How Fibonacci jobs run: a batch of n, chunked onto the pool, one task per number. */
@Injectable()
export class FibonacciKind implements JobKind<number, FibValue> {
  readonly name = 'fibonacci' as const;
  readonly workers = [{ name: 'fibonacci', file: workerFile('fibonacci'), profile: 'cpu' as const }];
  readonly exportColumns = ['index', 'n', 'state', 'value', 'digits', 'ms', 'error'];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    kinds: JobKinds,
  ) {
    kinds.register(this);
  }

  /**
   * Plans the batch into chunks and runs those with an unfinished number. The plan depends only
   * on the numbers and POOL_SIZE, so a runner that takes the job over after a crash gives the
   * same chunk the same key: one still queued or running is joined, not run twice.
   */
  async execute({ job, threads, signal, runTask, snapshot, inputs, report }: JobContext<number, FibValue>): Promise<void> {
    // A job taken over has finished tasks to skip; a new one (nothing finished) needs no snapshot.
    const fresh = job.completed + job.failed + job.cancelled === 0;
    const [numbers, tasks] = await Promise.all([inputs(0, job.total), fresh ? '' : snapshot().then((data) => data.tasks)]);
    if (fresh && isTiny(numbers)) return this.computeHere(numbers, report);
    const chunks = planChunks(numbers, this.config.POOL_SIZE)
      .map((chunk, k) => ({ chunk, key: `${job.id}:c${k}` }))
      .filter(({ chunk }) => chunk.some((item) => !FINISHED_CODES.has(tasks[item.index])));
    // A bounded window of chunks in flight per job keeps the queue short, so that several jobs
    // share the workers and a cancel has little queued work to discard; four per thread of the
    // whole cluster, so that no thread anywhere waits for its next chunk while a result comes back
    // (through the queue and the store in the cluster mode: bench:cluster's heavy batch took 1.40x
    // the embedded time with two per thread, 1.33x with four; the embedded time did not change).
    const window = threads * 4;
    let next = 0;
    const lane = async () => {
      while (next < chunks.length && !signal.aborted) {
        const { chunk, key } = chunks[next++];
        // Chunks without a big number take milliseconds: no streaming, no progress to report.
        const stream = chunk.some((item) => item.n >= PROGRESS_MIN_N);
        await runTask({
          key,
          worker: 'fibonacci',
          payload: { items: chunk },
          indexes: chunk.map((item) => item.index),
          inputs: chunk.map((item) => item.n),
          stream,
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, chunks.length) }, lane));
  }

  /**
   * A tiny batch (see isTiny) costs the main thread a few microseconds of BigInt here, against a
   * message to a worker thread and back (plus its bookkeeping) if it went to the pool.
   */
  private async computeHere(numbers: number[], report: JobContext<number, FibValue>['report']): Promise<void> {
    const updates: TaskUpdate<FibValue>[] = [];
    computeChunk(
      numbers.map((n, index) => ({ index, n })),
      undefined,
      {
        onDone: (index, result) => updates.push({ index, state: 'completed', result }),
        onFail: (index, error) => updates.push({ index, state: 'failed', error }),
      },
    );
    await report(
      updates,
      updates.map((update) => numbers[update.index]),
    );
  }

  summarize(n: number, result: FibValue | undefined): Record<string, unknown> {
    return result ? { n, digits: result.digits, ms: result.ms } : { n };
  }

  present(n: number, result: FibValue, format: ResultFormat): Record<string, unknown> {
    // From HEX_MIN_N on, prepare() made the hexadecimal on a worker; below it (at most ~2,000
    // digits) converting here takes microseconds (presentCost counts it like any conversion).
    const value = format === 'hex' ? (result.hex ?? BigInt(result.value).toString(16)) : result.value;
    return { n, value, digits: result.digits, ms: result.ms };
  }

  /**
   * A `format=hex` page: big values are converted on a worker thread (GMP: subquadratic, where
   * BigInt's parse and print are quadratic and would hold the main thread), in pool tasks of about
   * HEX_TASK_DIGITS digits, one after the other (the page's pool runs them as presentation work).
   */
  async prepare(records: TaskRecord<number, FibValue>[], format: ResultFormat, pool: PoolRunner): Promise<void> {
    if (format !== 'hex') return;
    const big = records.filter((record) => record.result !== undefined && record.result.hex === undefined && record.input >= HEX_MIN_N);
    for (let start = 0; start < big.length; ) {
      let end = start + 1;
      for (let digits = big[start].result!.value.length; end < big.length && digits + big[end].result!.value.length <= HEX_TASK_DIGITS; end++) digits += big[end].result!.value.length;
      const batch = big.slice(start, end);
      await pool.run(
        'fibonacci',
        { hexOf: batch.map((record) => record.result!.value) },
        {
          stream: false,
          onUpdates: (updates: TaskUpdate[]) => {
            for (const { index, result } of updates) {
              const record = batch[index];
              // A new object: the store's own result is never changed (the memory store shares it).
              if (record && typeof result === 'string') record.result = { ...record.result!, hex: result };
            }
          },
        },
      );
      start = end;
    }
  }

  /**
   * The item in full (the value's bytes, and its fields), plus, for hexadecimal, the decimal
   * bytes converted: known before anything is converted, whatever `maxChars` will cut.
   */
  presentCost(result: FibValue, format: ResultFormat): number {
    const decimal = result.value.length;
    if (format !== 'hex') return decimal + ITEM_FIELDS_BYTES;
    const hex = result.hex?.length ?? Math.ceil(decimal * HEX_PER_DECIMAL) + 1;
    return decimal + hex + ITEM_FIELDS_BYTES;
  }

  presentError(_n: number, message: string): Record<string, unknown> {
    return { error: message };
  }

  sizeOf(result: FibValue): number {
    return result.value.length + 64;
  }

  /** The batch's estimated result bytes (as FIB_MAX_RESULT_BYTES checks them), one task per number. */
  reserve(_params: unknown, numbers: readonly number[]): Reservation {
    return { tasks: numbers.length, resultBytes: estimateResultBytes(numbers) };
  }
}

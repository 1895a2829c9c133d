import { Piscina } from 'piscina';
import { MessageChannel } from 'node:worker_threads';
import type { PortMessage } from './task-protocol';
import { TaskScheduler, type PoolStats, type RunOptions, type WorkerName } from './task-scheduler';
import { workerExecArgv, workerFile } from './worker-files';

export interface PiscinaSchedulerOptions {
  threads: number;
  /** Old-generation heap cap per worker; a worker past it dies alone, failing only its task. */
  maxOldGenerationMb: number;
  /** Upper bound on one task, so a stuck worker fails its task instead of hanging the job. */
  taskTimeoutMs: number;
  /** Where `<name>.worker.{js,ts}` files live; tests point it at fixture workers. */
  workerDir?: string;
}

/** After a task returns, its last port messages are normally already queued; this is a backstop. */
const END_MARKER_GRACE_MS = 5_000;

/** The embedded scheduler: a Piscina pool of worker threads in this process. */
export class PiscinaScheduler extends TaskScheduler {
  private readonly pool: Piscina;
  private readonly files = new Map<WorkerName, string>();

  constructor(private readonly options: PiscinaSchedulerOptions) {
    super();
    const probe = workerFile('fibonacci', options.workerDir);
    this.pool = new Piscina({
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      execArgv: workerExecArgv(probe),
      resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationMb },
    });
  }

  async run(worker: WorkerName, payload: object, { signal, onUpdates }: RunOptions): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    let endSeen!: () => void;
    const ended = new Promise<void>((resolve) => (endSeen = resolve));
    // The timeout counts from the moment a worker starts the task, not from time in the queue.
    const timeout = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    port1.on('message', (message: PortMessage) => {
      if ('started' in message) timer = setTimeout(() => timeout.abort(), this.options.taskTimeoutMs);
      else if ('end' in message) endSeen();
      else onUpdates(message.updates);
    });
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    try {
      await this.pool.run({ ...payload, port: port2 }, { filename: this.fileOf(worker), transferList: [port2], signal: combined });
      await Promise.race([ended, delay(END_MARKER_GRACE_MS)]);
    } catch (err) {
      if (timeout.signal.aborted && !signal?.aborted) {
        throw new Error(`task exceeded TASK_TIMEOUT_MS (${this.options.taskTimeoutMs} ms)`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      port1.close();
    }
  }

  stats(): PoolStats {
    return {
      threads: this.pool.threads.length,
      maxThreads: this.pool.maxThreads,
      queued: this.pool.queueSize,
      utilization: this.pool.utilization,
      completed: this.pool.completed,
    };
  }

  /** Lets running tasks finish (unlike destroy(), which kills them). */
  async close(): Promise<void> {
    await this.pool.close();
  }

  private fileOf(worker: WorkerName): string {
    let file = this.files.get(worker);
    if (!file) {
      file = workerFile(worker, this.options.workerDir);
      this.files.set(worker, file);
    }
    return file;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

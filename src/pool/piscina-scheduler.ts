import { Piscina } from 'piscina';
import { MessageChannel } from 'node:worker_threads';
import type { PortMessage } from './task-protocol';
import { TaskScheduler, WORKER_PROFILES, type PoolStats, type RunOptions, type WorkerName, type WorkerProfile } from './task-scheduler';
import { workerExecArgv, workerFile } from './worker-files';

export interface PiscinaSchedulerOptions {
  threads: number;
  /** Old-generation heap cap per worker; a worker past it dies alone, failing only its task. */
  maxOldGenerationMb: number;
  /** Upper bound on one task, so a stuck worker fails its task instead of hanging the job. */
  taskTimeoutMs: number;
  /** Tasks one I/O worker runs at once (page fetches wait on the network, not the CPU). */
  ioTasksPerWorker?: number;
  /** Where `<name>.worker.{js,ts}` files live; tests point it at fixture workers. */
  workerDir?: string;
}

/** After a task returns, its last port messages are normally already queued; this is a backstop. */
const END_MARKER_GRACE_MS = 5_000;

/**
 * The embedded scheduler: Piscina pools of worker threads in this process. CPU-bound work
 * (Fibonacci) runs one task per thread; I/O-bound work (crawling) shares threads between many
 * tasks, so a running I/O task is never cancelled by killing its thread (that would take its
 * neighbours with it): it is told to stop over its port instead.
 */
export class PiscinaScheduler extends TaskScheduler {
  private readonly pools: Record<WorkerProfile, Piscina>;
  private readonly files = new Map<WorkerName, string>();
  private running = 0;

  constructor(private readonly options: PiscinaSchedulerOptions) {
    super();
    const common = {
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      execArgv: workerExecArgv(workerFile('fibonacci', options.workerDir)),
      resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationMb },
    };
    // Threads start with their main worker module loaded, so the first job does not pay for
    // loading undici and cheerio (about half a second). Fixture pools (workerDir) load per task.
    const preload = (name: WorkerName) => (options.workerDir ? undefined : workerFile(name));
    this.pools = {
      cpu: new Piscina({ ...common, filename: preload('fibonacci') }),
      io: new Piscina({
        ...common,
        filename: preload('crawl'),
        concurrentTasksPerWorker: options.ioTasksPerWorker ?? 16,
        // Parsing pages allocates fast and briefly: a larger young generation means fewer scavenges.
        resourceLimits: { ...common.resourceLimits, maxYoungGenerationSizeMb: 32 },
      }),
    };
  }

  async run(worker: WorkerName, payload: object, { signal, onUpdates, onStart, stream = true }: RunOptions): Promise<void> {
    const profile = WORKER_PROFILES[worker] ?? 'cpu';
    if (!stream && profile === 'cpu') return this.runShort(worker, payload, onUpdates, signal);
    const { port1, port2 } = new MessageChannel();
    let endSeen!: () => void;
    const ended = new Promise<void>((resolve) => (endSeen = resolve));
    // CPU tasks stop through Piscina's abort: a queued task is dropped, a running one's thread is
    // terminated. I/O tasks get no Piscina signal at all: Piscina runs a task that has one alone
    // on its thread, which would cap a crawl at one fetch per thread. They are told to stop over
    // their port instead (a message sent before they start waits there for them).
    const kill = profile === 'cpu' ? new AbortController() : undefined;
    let started = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const stop = () => (kill ? kill.abort() : port1.postMessage({ abort: true }));
    const onAbort = () => stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    port1.on('message', (message: PortMessage) => {
      if ('started' in message) {
        started = true;
        this.running++;
        onStart?.();
        // The timeout counts from the moment a worker starts the task, not from time queued.
        timer = setTimeout(() => {
          timedOut = true;
          stop();
        }, this.options.taskTimeoutMs);
      } else if ('end' in message) endSeen();
      else onUpdates(message.updates);
    });
    try {
      if (signal?.aborted) throw signal.reason;
      await this.pools[profile].run({ ...payload, port: port2 }, { filename: this.fileOf(worker), transferList: [port2], signal: kill?.signal });
      await Promise.race([ended, delay(END_MARKER_GRACE_MS)]);
    } catch (err) {
      if (timedOut && !signal?.aborted) throw new Error(`task exceeded TASK_TIMEOUT_MS (${this.options.taskTimeoutMs} ms)`);
      throw err;
    } finally {
      if (started) this.running--;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  /** A short CPU task: updates come back as its result; Piscina's abort drops or stops it. */
  private async runShort(worker: WorkerName, payload: object, onUpdates: RunOptions['onUpdates'], signal?: AbortSignal): Promise<void> {
    this.running++;
    try {
      const updates = await this.pools.cpu.run(payload, { filename: this.fileOf(worker), signal });
      if (Array.isArray(updates)) onUpdates(updates);
    } finally {
      this.running--;
    }
  }

  stats(): PoolStats {
    const pools = Object.values(this.pools);
    const threads = pools.reduce((n, pool) => n + pool.threads.length, 0);
    return {
      threads,
      maxThreads: pools.reduce((n, pool) => n + pool.maxThreads, 0),
      running: this.running,
      queued: pools.reduce((n, pool) => n + pool.queueSize, 0),
      // Weighted by threads, so idle empty pools do not dilute the figure.
      utilization: threads ? pools.reduce((n, pool) => n + pool.utilization * pool.threads.length, 0) / threads : 0,
      completed: pools.reduce((n, pool) => n + pool.completed, 0),
    };
  }

  /** Lets running tasks finish (unlike destroy(), which kills them). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.pools).map((pool) => pool.close()));
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

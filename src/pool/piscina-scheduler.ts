import { Piscina } from 'piscina';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { TakingTurns } from './taking-turns';
import { isTaskEnd, type PortMessage } from './task-protocol';
import { TaskScheduler, type PoolStats, type RunOptions, WORKER_PROFILES, type WorkerName, type WorkerProfile } from './task-scheduler';
import type { WorkerCatalog } from './worker-catalog';
import { workerExecArgv, workerFile } from './worker-files';
import type { PoolWorkerData } from './worker-settings';

export interface PiscinaSchedulerOptions {
  threads: number;
  /** Old-generation heap cap per worker; a worker past it dies alone, failing only its task. */
  maxOldGenerationMb: number;
  /** Upper bound on one task, so a stuck worker fails its task instead of hanging the job. */
  taskTimeoutMs: number;
  /** Tasks one I/O worker runs at once (page fetches wait on the network, not the CPU). */
  ioTasksPerWorker?: number;
  /** The workers job kinds registered (file and profile by name). */
  catalog?: WorkerCatalog;
  /** Where `<name>.worker.{js,ts}` files of workers not in the catalog live; tests point it at fixture workers. */
  workerDir?: string;
  /** Profiles of workers not in the catalog (tests run fixture workers as I/O; others are cpu). */
  profiles?: Partial<Record<string, WorkerProfile>>;
}

/** After a task returns, its last port messages are normally already queued; this is a backstop. */
const END_MARKER_GRACE_MS = 5_000;
/**
 * What a Piscina thread posts once its worker module is loaded (piscina/dist/common.js READY,
 * not exported). Piscina itself counts the threads it starts with as ready at once.
 */
const PISCINA_READY = '_WORKER_READY';
/** Threads that re-ran a dead thread's tasks leave once idle this long: such deaths are rare. */
const RESCUE_IDLE_MS = 5_000;

/** An I/O task failed only because the thread it shared died (another task's crash or heap). */
class SharedThreadDied extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/**
 * Did the task fail because its thread died? A task that started names its thread: it died if
 * the pool no longer has it (Piscina drops a dead thread before failing its tasks). One that never
 * started can only have failed with its thread, as the errors Piscina gives then say.
 */
function threadDied(pool: Piscina, thread: number | undefined, err: unknown): boolean {
  if (thread !== undefined) return !pool.threads.some((worker) => worker.threadId === thread);
  return (err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY' || /^worker exited with code/.test((err as Error)?.message ?? '');
}

/**
 * The embedded scheduler: Piscina pools of worker threads in this process. CPU-bound work
 * (Fibonacci) runs one task per thread; I/O-bound work (crawling) shares threads between many
 * tasks, so a running I/O task is never cancelled by killing its thread (that would take its
 * neighbours with it): it is told to stop over its port instead. When a shared I/O thread dies
 * anyway (a crash, its heap limit), its tasks run again once, each alone on a fresh thread of a
 * pool of their own (`rescue`), all at once: nobody can tell the culprit from the bystanders, and
 * neither they nor the I/O tasks queued meanwhile wait for one another.
 */
export class PiscinaScheduler extends TaskScheduler {
  private pools?: Record<WorkerProfile, Piscina>;
  /**
   * Threads started on demand, one per task run again after its shared thread died: as many as one
   * I/O thread holds tasks, so a dead thread's tasks all run again at once, each bounded by its own
   * timeout. Not counted in `threads`/`maxThreads`: it takes no new work.
   */
  private rescue?: Piscina;
  private readonly files = new Map<WorkerName, string>();
  private running = 0;
  /** Threads started with the pools that have not yet loaded their worker module. */
  private threadsLoading = 0;
  private retried = 0;
  /**
   * Presentation work (RunOptions.presentFor) goes through here: one piece in the pool at a time,
   * owners in turn. Job tasks bypass it, so another key's job waits for at most one conversion
   * (the one in the pool) however many pages are being read; a lower Piscina priority alone would
   * let readers starve while jobs keep the queue full, a pool of its own would add a thread.
   */
  private readonly presenting = new TakingTurns();

  constructor(private readonly options: PiscinaSchedulerOptions) {
    super();
  }

  /**
   * Starts the threads, each with the first registered worker of its profile loaded, so the
   * first job does not pay for loading undici and cheerio (about half a second). Called once
   * every kind has registered its workers (at bootstrap); a run before that starts them too.
   */
  override start(): void {
    if (this.pools) return;
    const { catalog, workerDir } = this.options;
    const specs = catalog?.all() ?? [];
    // Worker threads cannot load TypeScript by themselves: when this service runs from its sources
    // (tests, tsx), or a kind brings a .ts worker (a test's own kind), they get tsx's loader.
    const sources = __filename.endsWith('.ts') || specs.some((spec) => spec.file.endsWith('.ts')) || (workerDir !== undefined && workerFile('any', workerDir).endsWith('.ts'));
    const workerData: PoolWorkerData = { settings: Object.fromEntries(specs.flatMap((spec) => (spec.settings ? [[spec.name, spec.settings]] : []))) };
    const common = {
      workerData,
      minThreads: this.options.threads,
      maxThreads: this.options.threads,
      idleTimeout: 60_000,
      execArgv: sources ? workerExecArgv('.ts') : [],
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxOldGenerationMb },
    };
    const preload = (profile: WorkerProfile) => specs.find((spec) => spec.profile === profile)?.file;
    this.pools = {
      cpu: new Piscina({ ...common, filename: preload('cpu') }),
      io: new Piscina({
        ...common,
        filename: preload('io'),
        concurrentTasksPerWorker: this.options.ioTasksPerWorker ?? 16,
        // Parsing pages allocates fast and briefly: a larger young generation means fewer scavenges.
        resourceLimits: { ...common.resourceLimits, maxYoungGenerationSizeMb: 32 },
      }),
    };
    for (const thread of [...this.pools.cpu.threads, ...this.pools.io.threads]) this.watchLoading(thread);
    this.rescue = new Piscina({
      ...common,
      workerData: { ...workerData, warmUp: false } satisfies PoolWorkerData,
      filename: preload('io'),
      minThreads: 0,
      maxThreads: this.options.ioTasksPerWorker ?? 16,
      concurrentTasksPerWorker: 1,
      idleTimeout: RESCUE_IDLE_MS,
      resourceLimits: { ...common.resourceLimits, maxYoungGenerationSizeMb: 32 },
    });
  }

  override ready(): boolean {
    return this.pools !== undefined && this.threadsLoading === 0;
  }

  /** Counts a starting thread until it says its module is loaded (or dies: Piscina replaces it, and readiness does not wait for that). */
  private watchLoading(thread: Worker): void {
    this.threadsLoading++;
    const done = () => {
      thread.off('message', onMessage);
      thread.off('exit', done);
      this.threadsLoading--;
    };
    const onMessage = (message: unknown) => {
      if (typeof message === 'object' && message !== null && PISCINA_READY in message) done();
    };
    thread.on('message', onMessage);
    thread.once('exit', done);
  }

  private pool(profile: WorkerProfile): Piscina {
    this.start();
    return this.pools![profile];
  }

  private rescuePool(): Piscina {
    this.start();
    return this.rescue!;
  }

  run(worker: WorkerName, payload: object, options: RunOptions): Promise<void> {
    if (options.presentFor === undefined) return this.runNow(worker, payload, options);
    const { presentFor, ...task } = options;
    return this.presenting.run(presentFor, () => this.runNow(worker, payload, task), options.signal);
  }

  private async runNow(worker: WorkerName, payload: object, options: RunOptions): Promise<void> {
    const profile = this.options.catalog?.get(worker)?.profile ?? this.options.profiles?.[worker] ?? 'cpu';
    if (options.stream === false && profile === 'cpu') return this.runShort(worker, payload, options.onUpdates, options.signal);
    let started = false;
    const onStart = () => {
      if (!started) options.onStart?.();
      started = true;
    };
    try {
      await this.attempt(worker, profile, payload, { ...options, onStart }, false);
    } catch (err) {
      if (!(err instanceof SharedThreadDied)) throw err;
      // Whichever task on the thread killed it, every one of them runs once more, alone on a fresh
      // thread, at the same time as the others: the bystanders then succeed and the culprit fails
      // by itself, within one task timeout.
      this.retried++;
      await this.attempt(worker, profile, payload, { ...options, onStart }, true);
    }
  }

  /**
   * One run of a task on some thread. `alone`: the task gets a thread of the rescue pool to itself,
   * and stopping it ends that thread. Throws SharedThreadDied when an I/O task shared a thread that
   * died under it.
   */
  private async attempt(worker: WorkerName, profile: WorkerProfile, payload: object, { signal, onUpdates, onStart }: RunOptions, alone: boolean): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    let endSeen!: () => void;
    let endWasSeen = false;
    const ended = new Promise<void>((resolve) => {
      endSeen = () => {
        endWasSeen = true;
        resolve();
      };
    });
    // Port messages received, and how many a TaskEnd result says were sent before it.
    let received = 0;
    let expected = Number.POSITIVE_INFINITY;
    // CPU tasks stop through Piscina's abort: a queued task is dropped, a running one's thread is
    // terminated. Shared I/O tasks get no Piscina signal at all: Piscina runs a task that has one
    // alone on its thread, which would cap a crawl at one fetch per thread. They are told to stop
    // over their port instead (a message sent before they start waits there for them).
    const kill = profile === 'cpu' || alone ? new AbortController() : undefined;
    let thread: number | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const stop = () => (kill ? kill.abort() : port1.postMessage({ abort: true }));
    const onAbort = () => stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    port1.on('message', (message: PortMessage) => {
      received++;
      if ('started' in message) {
        thread = message.thread;
        this.running++;
        onStart?.();
        // The timeout counts from the moment a worker starts the task, not from time queued.
        timer = setTimeout(() => {
          timedOut = true;
          stop();
        }, this.options.taskTimeoutMs);
        if (message.updates) onUpdates(message.updates);
      } else {
        if (message.updates) onUpdates(message.updates);
        if (message.end) endSeen();
      }
      if (received >= expected) endSeen();
    });
    const pool = alone ? this.rescuePool() : this.pool(profile);
    try {
      if (signal?.aborted) throw signal.reason;
      const result: unknown = await pool.run({ ...payload, port: port2 }, { filename: this.fileOf(worker), transferList: [port2], signal: kill?.signal });
      // The last updates ride on the result (TaskEnd) once the port's messages are all in, or on
      // the port's last message (end marker), usually here already. The grace timer is cleared so
      // that pages ending by the thousand leave no thousands of pending timers behind.
      if (isTaskEnd(result)) {
        expected = result.posted;
        if (received >= expected) endSeen();
      }
      // Most tasks have it all in by now: no grace timer to arm and clear for them.
      if (!endWasSeen) {
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([ended, new Promise<void>((resolve) => (grace = setTimeout(resolve, END_MARKER_GRACE_MS)))]);
        clearTimeout(grace);
      }
      if (isTaskEnd(result) && result.updates.length > 0) onUpdates(result.updates);
    } catch (err) {
      if (timedOut && !signal?.aborted) throw new Error(`task exceeded TASK_TIMEOUT_MS (${this.options.taskTimeoutMs} ms)`);
      if (!kill && !signal?.aborted && threadDied(pool, thread, err)) throw new SharedThreadDied(err);
      throw err;
    } finally {
      if (thread !== undefined) this.running--;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  /** A short CPU task: updates come back as its result; Piscina's abort drops or stops it. */
  private async runShort(worker: WorkerName, payload: object, onUpdates: RunOptions['onUpdates'], signal?: AbortSignal): Promise<void> {
    this.running++;
    try {
      const updates = await this.pool('cpu').run(payload, { filename: this.fileOf(worker), signal });
      if (Array.isArray(updates)) onUpdates(updates);
    } finally {
      this.running--;
    }
  }

  stats(): PoolStats {
    const pools = this.pools ? Object.values(this.pools) : [];
    const all = this.rescue ? [...pools, this.rescue] : pools;
    const threads = pools.reduce((n, pool) => n + pool.threads.length, 0);
    return {
      threads,
      // What the pools are configured for, also before they start: the instance registry's first
      // heartbeat (written at bootstrap, maybe before start()) tells other instances' jobs how far
      // their tasks can spread, and 0 there made them size groups for fewer threads for a second.
      maxThreads: this.pools ? pools.reduce((n, pool) => n + pool.maxThreads, 0) : this.options.threads * WORKER_PROFILES.length,
      running: this.running,
      queued: all.reduce((n, pool) => n + pool.queueSize, this.presenting.queued),
      // Weighted by threads, so idle empty pools do not dilute the figure.
      utilization: threads ? pools.reduce((n, pool) => n + pool.utilization * pool.threads.length, 0) / threads : 0,
      completed: all.reduce((n, pool) => n + pool.completed, 0),
      retried: this.retried,
    };
  }

  /** Lets running tasks finish (unlike destroy(), which kills them). */
  async close(): Promise<void> {
    await Promise.all([...Object.values(this.pools ?? {}), ...(this.rescue ? [this.rescue] : [])].map((pool) => pool.close()));
  }

  private fileOf(worker: WorkerName): string {
    let file = this.files.get(worker);
    if (!file) {
      file = this.options.catalog?.get(worker)?.file ?? workerFile(worker, this.options.workerDir);
      this.files.set(worker, file);
    }
    return file;
  }
}

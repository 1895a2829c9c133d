import { workerData } from 'node:worker_threads';

/** What every pool thread gets at start (Piscina's workerData): each registered worker's settings by name. */
export interface PoolWorkerData {
  settings: Record<string, Record<string, unknown>>;
  /**
   * False on rescue threads (PiscinaScheduler: started to run again, alone, one task of a thread
   * that died): such a thread lives for one task, and a JIT warm-up would only delay it.
   */
  warmUp?: boolean;
}

/**
 * Inside a worker thread: the settings this instance registered for worker `name`
 * (WorkerSpec.settings), or an empty object when it registered none (a fixture pool, a run
 * before the kinds registered), so a worker falls back to its strictest defaults.
 */
export function workerSettings<T extends object>(name: string): Partial<T> {
  return ((workerData as Partial<PoolWorkerData> | undefined)?.settings?.[name] ?? {}) as Partial<T>;
}

/** Inside a worker thread: whether this thread should warm up before it takes tasks (not on a rescue thread). */
export function threadWarmsUp(): boolean {
  return (workerData as Partial<PoolWorkerData> | undefined)?.warmUp !== false;
}

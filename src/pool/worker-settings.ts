import { workerData } from 'node:worker_threads';

/** What every pool thread gets at start (Piscina's workerData): each registered worker's settings by name. */
export interface PoolWorkerData {
  settings: Record<string, Record<string, unknown>>;
}

/**
 * Inside a worker thread: the settings this instance registered for worker `name`
 * (WorkerSpec.settings), or an empty object when it registered none (a fixture pool, a run
 * before the kinds registered), so a worker falls back to its strictest defaults.
 */
export function workerSettings<T extends object>(name: string): Partial<T> {
  return ((workerData as Partial<PoolWorkerData> | undefined)?.settings?.[name] ?? {}) as Partial<T>;
}

import { hostname } from 'node:os';
import { type PoolStats, WORKER_PROFILES } from './task-scheduler';

/** One instance as the pool panel shows it: plain data, the same in memory and in Redis. */
export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  /** ISO 8601. */
  startedAt: string;
  stats: PoolStats;
}

/** An entry of GET /pool's `instances`: `self` marks the instance that answered. */
export type InstanceView = InstanceInfo & { self: boolean };

export { instanceId } from '../config/instance-id';

/** This instance: who it is, fixed at start-up, and its pool figures read when asked. */
export class LocalInstance {
  readonly host = hostname();
  readonly pid = process.pid;
  readonly startedAt = new Date().toISOString();

  constructor(
    readonly id: string,
    private readonly stats: () => PoolStats,
  ) {}

  snapshot(): InstanceInfo {
    return { id: this.id, host: this.host, pid: this.pid, startedAt: this.startedAt, stats: this.stats() };
  }
}

/**
 * The instances serving this deployment, for the pool panel. The memory implementation knows
 * only this one; RedisInstanceRegistry (src/cluster) lists every live instance of the cluster.
 */
export abstract class InstanceRegistry {
  constructor(readonly local: LocalInstance) {}

  /** Every live instance, this one first (with its figures of now), then the others by id. */
  abstract list(): Promise<InstanceView[]>;

  /**
   * Threads of one pool (CPU or I/O, both POOL_SIZE) over every live instance (at least this one's):
   * how far a job's tasks can spread. maxThreads counts both pools of an instance.
   */
  async threads(): Promise<number> {
    const perPool = (stats: PoolStats) => Math.ceil(stats.maxThreads / WORKER_PROFILES.length);
    const own = Math.max(1, perPool(this.local.snapshot().stats));
    try {
      const all = (await this.list()).reduce((sum, instance) => sum + perPool(instance.stats), 0);
      return Math.max(own, all);
    } catch {
      return own;
    }
  }
}

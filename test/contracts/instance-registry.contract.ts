import { describe, expect, it } from 'vitest';
import { type InstanceRegistry, LocalInstance } from '../../src/pool/instance-registry';
import type { PoolStats } from '../../src/pool/task-scheduler';

export const idleStats = (over: Partial<PoolStats> = {}): PoolStats => ({ threads: 2, maxThreads: 4, running: 0, queued: 0, utilization: 0, completed: 0, retried: 0, ...over });

/**
 * What GET /pool relies on, in memory or in Redis: this instance is listed first, marked as the
 * one answering, with its figures of now. `registry(local)` is called once per test and started.
 */
export function instanceRegistryContract(name: string, registry: (local: LocalInstance) => Promise<InstanceRegistry>): void {
  let n = 0;
  describe(`InstanceRegistry contract: ${name}`, () => {
    it('lists this instance first, marked self, with who it is', async () => {
      const local = new LocalInstance(`contract-${n++}`, () => idleStats());
      const [first] = await (await registry(local)).list();
      expect(first).toEqual({ id: local.id, host: local.host, pid: process.pid, startedAt: local.startedAt, stats: idleStats(), self: true });
      expect(Date.parse(first.startedAt)).not.toBeNaN();
    });

    it('shows its own figures as they are when asked, not as of the last heartbeat', async () => {
      let running = 0;
      const local = new LocalInstance(`contract-${n++}`, () => idleStats({ running }));
      const instances = await registry(local);
      running = 3;
      const [first] = await instances.list();
      expect(first.stats.running).toBe(3);
    });
  });
}

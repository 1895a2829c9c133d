import { describe, expect, it } from 'vitest';
import { type InstanceRegistry, type InstanceView, LocalInstance } from '../../src/pool/instance-registry';
import type { PoolStats } from '../../src/pool/task-scheduler';
import { describeCapability } from './capabilities';

export const idleStats = (over: Partial<PoolStats> = {}): PoolStats => ({ threads: 2, maxThreads: 4, running: 0, queued: 0, utilization: 0, completed: 0, retried: 0, ...over });

/** Polls `list()` until `done` holds (bounded), returning the last list. */
export async function listUntil(registry: InstanceRegistry, done: (list: InstanceView[]) => boolean, ms = 10_000): Promise<InstanceView[]> {
  const deadline = Date.now() + ms;
  let list = await registry.list();
  while (!done(list) && Date.now() < deadline) {
    await new Promise((wake) => setTimeout(wake, 50));
    list = await registry.list();
  }
  return list;
}

export const ids = (list: InstanceView[]) => list.map((i) => i.id);

/**
 * What GET /pool relies on, in memory or in Redis: this instance is listed first, marked as the
 * one answering, with its figures of now. `registry(local)` makes a started registry for the
 * instance `local`; the runner stops them after each test.
 */
export interface InstanceRegistryHarness {
  /** The implementation, as the skip reasons name it. */
  name: string;
  capabilities: {
    /** Registries of several instances on one backend list each other: each `registry()` within a test is another instance. */
    sharedAcrossInstances: boolean;
  };
  registry(local: LocalInstance): Promise<InstanceRegistry>;
}

export function instanceRegistryContract(harness: InstanceRegistryHarness): void {
  const { name, capabilities } = harness;
  let n = 0;
  describe(`InstanceRegistry contract: ${name}`, () => {
    it('lists this instance first, marked self, with who it is', async () => {
      const local = new LocalInstance(`contract-${n++}`, () => idleStats());
      const [first] = await (await harness.registry(local)).list();
      expect(first).toEqual({ id: local.id, host: local.host, pid: process.pid, startedAt: local.startedAt, stats: idleStats(), self: true });
      expect(Date.parse(first.startedAt)).not.toBeNaN();
    });

    it('shows its own figures as they are when asked, not as of the last heartbeat', async () => {
      let running = 0;
      const local = new LocalInstance(`contract-${n++}`, () => idleStats({ running }));
      const instances = await harness.registry(local);
      running = 3;
      const [first] = await instances.list();
      expect(first.stats.running).toBe(3);
    });

    describeCapability(name, 'sharedAcrossInstances', capabilities.sharedAcrossInstances, () => {
      it('lists every live instance of the backend, this one first, the others by id with their figures', async () => {
        const round = n++;
        const instance = (id: string, stats: PoolStats) => harness.registry(new LocalInstance(`contract-${round}-${id}`, () => stats));
        const b = await instance('b', idleStats({ running: 2 }));
        const a = await instance('a', idleStats({ running: 1 }));
        const c = await instance('c', idleStats());
        const list = await listUntil(b, (l) => l.length === 3);
        expect(ids(list)).toEqual(['b', 'a', 'c'].map((id) => `contract-${round}-${id}`));
        expect(list.map((i) => i.self)).toEqual([true, false, false]);
        expect(list[1]).toMatchObject({ pid: process.pid, stats: { running: 1 } });
        expect(ids(await a.list())).toEqual(['a', 'b', 'c'].map((id) => `contract-${round}-${id}`));
        expect(ids(await c.list())).toEqual(['c', 'a', 'b'].map((id) => `contract-${round}-${id}`));
      });

      it("counts the threads of one pool over every live instance: how far a job's tasks spread", async () => {
        const round = n++;
        // maxThreads counts an instance's two pools (CPU and I/O), each of POOL_SIZE threads.
        const a = await harness.registry(new LocalInstance(`contract-${round}-a`, () => idleStats({ maxThreads: 4 })));
        await harness.registry(new LocalInstance(`contract-${round}-b`, () => idleStats({ maxThreads: 2 })));
        await listUntil(a, (l) => l.length === 2);
        expect(await a.threads()).toBe(2 + 1);
      });
    });

    it('counts its own pool threads alone, POOL_SIZE (maxThreads covers both pools)', async () => {
      const instances = await harness.registry(new LocalInstance(`contract-${n++}`, () => idleStats({ maxThreads: 6 })));
      expect(await instances.threads()).toBe(3);
    });
  });
}

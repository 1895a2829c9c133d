import { afterAll, describe } from 'vitest';
import { MemoryHostBudget } from '../../src/backends/memory/memory-host-budget';
import { RedisHostBudget } from '../../src/backends/redis/redis-host-budget';
import type { HostBudget } from '../../src/crawl/host-budget';
import { useRedisServer } from '../support/redis-fixture';
import { haveRedis } from '../support/redis-server';
import { hostBudgetContract } from './host-budget.contract';

const opened: HostBudget[] = [];
const track = <T extends HostBudget>(budget: T): T => {
  opened.push(budget);
  return budget;
};
afterAll(() => {
  for (const budget of opened.splice(0)) budget.close();
});

hostBudgetContract({
  name: 'MemoryHostBudget',
  // One process's hosts: another instance keeps its own.
  capabilities: { sharedAcrossInstances: false },
  budget: () => track(new MemoryHostBudget(60_000)),
  leasing: async (leaseMs) => track(new MemoryHostBudget(leaseMs)),
});

describe.skipIf(!haveRedis('RedisHostBudget'))('RedisHostBudget', () => {
  const fixture = useRedisServer('host-budget-test');
  hostBudgetContract({
    name: 'RedisHostBudget',
    capabilities: { sharedAcrossInstances: true },
    budget: () => new RedisHostBudget(fixture.first(), 'pcs', 60_000),
    peer: async () => new RedisHostBudget(await fixture.connect(), 'pcs', 60_000),
    leasing: async (leaseMs) => new RedisHostBudget(await fixture.connect(), 'pcs', leaseMs),
  });
});

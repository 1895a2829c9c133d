import { describe } from 'vitest';
import { MemoryIdempotencyStore } from '../../src/backends/memory/memory-idempotency.store';
import { RedisIdempotencyStore } from '../../src/backends/redis/redis-idempotency.store';
import { useRedisServer } from '../support/redis-fixture';
import { haveRedis } from '../support/redis-server';
import { idempotencyContract } from './idempotency.contract';

idempotencyContract({
  name: 'MemoryIdempotencyStore',
  // This process's keys only: another instance keeps its own.
  capabilities: { sharedAcrossInstances: false },
  store: () => new MemoryIdempotencyStore(),
});

describe.skipIf(!haveRedis('RedisIdempotencyStore'))('RedisIdempotencyStore', () => {
  const fixture = useRedisServer('idempotency-test');
  idempotencyContract({
    name: 'RedisIdempotencyStore',
    capabilities: { sharedAcrossInstances: true },
    store: () => new RedisIdempotencyStore(fixture.first(), 'pcs'),
    peer: async () => new RedisIdempotencyStore(await fixture.connect(), 'pcs'),
  });
});

import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisInstanceRegistry } from '../../src/backends/redis/redis-instance-registry';
import { connectRedis, whenReady } from '../../src/backends/redis/redis-connection';
import { MemoryInstanceRegistry } from '../../src/backends/memory/memory-instance-registry';
import { LocalInstance, instanceId } from '../../src/pool/instance-registry';
import { haveRedis, type RedisServer, startRedisServer } from '../support/redis-server';
import { idleStats, ids, instanceRegistryContract, listUntil } from './instance-registry.contract';

instanceRegistryContract({
  name: 'MemoryInstanceRegistry',
  // This process only: another instance's MemoryInstanceRegistry lists itself alone.
  capabilities: { sharedAcrossInstances: false },
  registry: async (local) => new MemoryInstanceRegistry(local),
});

describe('instanceId', () => {
  it('is INSTANCE_ID when set, else host name and process id', () => {
    expect(instanceId('api-1')).toBe('api-1');
    expect(instanceId(undefined)).toMatch(new RegExp(`^.+-${process.pid}$`));
  });
});

describe.skipIf(!haveRedis('RedisInstanceRegistry'))('RedisInstanceRegistry', () => {
  let server: RedisServer;
  const connections: Redis[] = [];
  const started: RedisInstanceRegistry[] = [];
  const connect = async () => {
    const redis = connectRedis(server.url, { name: 'registry-test' });
    connections.push(redis);
    await whenReady(redis);
    return redis;
  };
  /** A started registry on its own connection, as a separate instance would have. */
  const instance = async (id: string, stats = idleStats(), prefix = 'pcs') => {
    const redis = await connect();
    const registry = new RedisInstanceRegistry(redis, prefix, new LocalInstance(id, () => stats), { everyMs: 100, ttlMs: 300 });
    registry.start();
    started.push(registry);
    return { registry, redis };
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    for (const registry of started.splice(0)) await registry.stop();
  });
  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    await server?.stop();
  });

  instanceRegistryContract({
    name: 'RedisInstanceRegistry',
    capabilities: { sharedAcrossInstances: true },
    // Each one as a separate instance has it: its own connection, started, stopped after the test.
    async registry(local) {
      const registry = new RedisInstanceRegistry(await connect(), 'contract', local);
      registry.start();
      started.push(registry);
      return registry;
    },
  });

  it('drops a stopped instance at once, and a dead one (no more heartbeats) once its entry expires', async () => {
    const { registry: survivor } = await instance('survivor');
    const { registry: leaving } = await instance('leaving');
    const { redis: crashing } = await instance('crashing');
    expect(ids(await listUntil(survivor, (l) => l.length === 3))).toEqual(['survivor', 'crashing', 'leaving']);
    await leaving.stop();
    expect(ids(await survivor.list())).toEqual(['survivor', 'crashing']);
    // A crash: the connection goes, so no more beats and no goodbye.
    crashing.disconnect();
    expect(ids(await listUntil(survivor, (l) => l.length === 1))).toEqual(['survivor']);
    // The index forgets dead ids too: it does not grow with every instance ever started.
    expect(await connections[0].smembers('pcs:instances')).toEqual(['survivor']);
  });

  it('keeps its keys under the prefix, the entries expiring, and prefixes apart', async () => {
    const { registry, redis } = await instance('tenant-node', idleStats(), 'tenant-q');
    await listUntil(registry, () => true);
    await instance('other-tenant-node', idleStats(), 'tenant-r');
    const deadline = Date.now() + 10_000;
    while ((await redis.exists('tenant-q:instance:tenant-node')) === 0 && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 50));
    expect((await redis.keys('tenant-q:*')).sort()).toEqual(['tenant-q:instance:tenant-node', 'tenant-q:instances']);
    expect(await redis.pttl('tenant-q:instance:tenant-node')).toBeGreaterThan(0);
    expect(ids(await registry.list())).toEqual(['tenant-node']);
  });

  it('shows this instance alone when Redis is unreachable, instead of failing GET /pool', async () => {
    const dead = connectRedis('redis://127.0.0.1:1', { name: 'dead' });
    connections.push(dead);
    const registry = new RedisInstanceRegistry(dead, 'pcs', new LocalInstance('alone', () => idleStats()));
    registry.start();
    started.push(registry);
    expect(await registry.list()).toEqual([expect.objectContaining({ id: 'alone', self: true })]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, whenReady } from '../src/cluster/redis-connection';
import { RedisJobStore } from '../src/cluster/redis-job.store';
import { StoreUnavailableError } from '../src/jobs/job.store';
import { MemoryJobStore } from '../src/jobs/memory-job.store';
import { jobStoreContract } from './contracts/job-store.contract';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';
import { freePort } from './support/service-process';

jobStoreContract('MemoryJobStore', async (retention) => {
  const store = new MemoryJobStore(retention);
  // One process holds one memory store: a second handle on the same backend is the same store.
  return { store, peer: async () => store, cleanup: () => store.close() };
});

describe.skipIf(!haveRedis('RedisJobStore contract'))('RedisJobStore', () => {
  let server: RedisServer;
  let stores = 0;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // Each test gets its own prefix on the one server, so tests never see each other's keys.
  jobStoreContract('RedisJobStore', async (retention) => {
    const prefix = `test${++stores}`;
    const clients = [connectRedis(server.url, { name: 'store-test' })];
    await whenReady(clients[0]);
    return {
      store: new RedisJobStore(clients[0], { prefix, retention }),
      async peer() {
        const client = connectRedis(server.url, { name: 'store-test-peer' });
        clients.push(client);
        await whenReady(client);
        return new RedisJobStore(client, { prefix, retention });
      },
      async cleanup() {
        for (const client of clients) client.disconnect();
      },
    };
  });

  it('rejects with StoreUnavailableError at once when Redis does not answer', async () => {
    // A port nobody listens on: the fail-fast connection has no offline queue.
    const redis = connectRedis(`redis://127.0.0.1:${await freePort()}`);
    const store = new RedisJobStore(redis, { prefix: 'down', retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1_000 } });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.get('j')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.admission('alice')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.apply('j', [{ index: 0, state: 'completed' }])).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});

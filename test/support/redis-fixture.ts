import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect } from 'vitest';
import { connectRedis, whenReady } from '../../src/cluster/redis-connection';
import { type RedisServer, type RedisServerOptions, startRedisServer } from './redis-server';

/**
 * For a describe block that needs Redis: starts a redis-server before its tests and stops it
 * after, with every connection `connect()` opened (fail-fast ones, as the service uses).
 */
export function useRedisServer(name: string, options: RedisServerOptions = {}): { server(): RedisServer; connect(): Promise<Redis> } {
  let server: RedisServer | undefined;
  const connections: Redis[] = [];
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    for (const redis of connections.splice(0)) redis.disconnect();
    await server?.stop();
  });
  return {
    server: () => server ?? expect.fail('redis-server not started yet'),
    async connect() {
      const redis = connectRedis(this.server().url, { name });
      connections.push(redis);
      await whenReady(redis);
      return redis;
    },
  };
}

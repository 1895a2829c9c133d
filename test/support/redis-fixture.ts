import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect } from 'vitest';
import { connectRedis, whenReady } from '../../src/backends/redis/redis-connection';
import { type RedisServer, type RedisServerOptions, startRedisServer } from './redis-server';

/**
 * For a describe block that needs Redis: starts a redis-server (and one connection) before its
 * tests and stops it after, with every connection `connect()` opened (fail-fast ones, as the
 * service uses).
 */
export function useRedisServer(name: string, options: RedisServerOptions = {}): { server(): RedisServer; connect(): Promise<Redis>; first(): Redis; track(redis: Redis): void } {
  let server: RedisServer | undefined;
  let first: Redis | undefined;
  const connections: Redis[] = [];
  const connect = async () => {
    const redis = connectRedis((server ?? expect.fail('redis-server not started yet')).url, { name });
    connections.push(redis);
    await whenReady(redis);
    return redis;
  };
  beforeAll(async () => {
    server = await startRedisServer(options);
    first = await connect();
  });
  afterAll(async () => {
    for (const redis of connections.splice(0)) redis.disconnect();
    await server?.stop();
  });
  return {
    server: () => server ?? expect.fail('redis-server not started yet'),
    connect,
    /** The connection opened with the server. */
    first: () => first ?? expect.fail('redis-server not started yet'),
    /** Closes `redis` with the rest after the block. */
    track: (redis) => void connections.push(redis),
  };
}

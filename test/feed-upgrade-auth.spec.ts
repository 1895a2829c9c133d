import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiKeys } from '../src/auth/api-keys';
import type { AuthFailures } from '../src/auth/auth-failures';
import { MemoryAuthFailures } from '../src/backends/memory/memory-auth-failures';
import { MemoryFeedQuota } from '../src/backends/memory/memory-feed-quota';
import { RedisAuthFailures } from '../src/backends/redis/redis-auth-failures';
import { connectRedis, whenReady } from '../src/backends/redis/redis-connection';
import { FeedConnections } from '../src/progress/feed-connections';
import { FeedWsAdapter } from '../src/progress/feed-ws.adapter';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';

/**
 * The WebSocket upgrade's admission with an async failed-auth count: the real FeedWsAdapter on a
 * plain HTTP server (no app needed), refusals answered before any socket exists.
 */
const KEY = 'feed-upgrade-key-0123456789';
const servers: Server[] = [];
const caps = (n: number) => new FeedConnections(new MemoryFeedQuota(), { WS_MAX_CONNECTIONS_PER_KEY: n, WS_MAX_CONNECTIONS_PER_ADDRESS: n });

async function feedServer(failures: AuthFailures, connections = caps(10)): Promise<{ url: string; connections: FeedConnections }> {
  const http = createServer((_, res) => res.writeHead(404).end());
  servers.push(http);
  const adapter = new FeedWsAdapter(http as never, { keys: new ApiKeys([KEY]), failures, connections, allowedOrigins: [], trust: () => false, maxPayload: 1024 });
  adapter.create(0, { path: '/ws' });
  await new Promise<void>((listening) => http.listen(0, '127.0.0.1', listening));
  return { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`, connections };
}

/** Opens a socket: 'open' or the refusal's status and Retry-After. */
function upgrade(url: string, key?: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101 });
    });
    socket.once('unexpected-response', (_, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
      res.resume();
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

afterAll(async () => {
  for (const http of servers) {
    http.closeAllConnections();
    await new Promise((closed) => http.close(closed));
  }
});

describe('feed upgrade with the in-process failed-auth count', () => {
  it('refuses bad keys with 401, then the address with 429 + Retry-After, a good key included', async () => {
    const failures = new MemoryAuthFailures(2, 60_000);
    const { url } = await feedServer(failures);
    expect(await upgrade(url, KEY)).toEqual({ status: 101 });
    expect((await upgrade(url, 'wrong-key-0123456789')).status).toBe(401);
    expect((await upgrade(url)).status).toBe(401);
    const limited = await upgrade(url, KEY);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    failures.close();
  });
});

describe.skipIf(!haveRedis('feed upgrade with the Redis failed-auth count'))('feed upgrade with the Redis failed-auth count', () => {
  let redisServer: RedisServer;
  const connections: Redis[] = [];
  const connect = async (url = redisServer.url) => {
    const redis = connectRedis(url, { name: 'feed-upgrade-test' });
    connections.push(redis);
    if (url === redisServer.url) await whenReady(redis);
    return redis;
  };

  beforeAll(async () => {
    redisServer = await startRedisServer();
  });
  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    await redisServer?.stop();
  });

  it('counts failures across instances: guesses at one instance block the address at the other', async () => {
    const a = await feedServer(new RedisAuthFailures(await connect(), 'pcs', 2, 60_000));
    const b = await feedServer(new RedisAuthFailures(await connect(), 'pcs', 2, 60_000));
    expect((await upgrade(a.url, 'wrong-key-0123456789')).status).toBe(401);
    expect((await upgrade(b.url, 'wrong-key-0123456789')).status).toBe(401);
    const limited = await upgrade(a.url, KEY);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await upgrade(b.url, KEY)).status).toBe(429);
  });

  it('refuses the upgrade with 503 + Retry-After while Redis is unreachable, and takes no connection slot', async () => {
    const feed = await feedServer(new RedisAuthFailures(await connect('redis://127.0.0.1:1'), 'pcs', 2, 60_000), caps(1));
    expect(await upgrade(feed.url, KEY)).toEqual({ status: 503, retryAfter: '1' });
    // The only slot is still free: were it taken by the refused upgrade, this would be 429.
    expect(await feed.connections.take(undefined, '127.0.0.1')).toHaveProperty('release');
  });
});

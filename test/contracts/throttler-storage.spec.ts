import { BackendUnavailableError } from '../../src/backends/backend-unavailable';
import { describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/backends/redis/redis-connection';
import { RedisThrottlerStorage } from '../../src/backends/redis/redis-throttler.storage';
import { FixedWindowStorage } from '../../src/backends/memory/fixed-window.storage';
import { useRedisServer } from '../support/redis-fixture';
import { haveRedis } from '../support/redis-server';
import { throttlerStorageContract } from './throttler-storage.contract';

throttlerStorageContract({
  name: 'FixedWindowStorage',
  // This process's counters: another instance's FixedWindowStorage counts its own callers apart.
  capabilities: { sharedAcrossInstances: false },
  storage: () => new FixedWindowStorage(),
});

describe.skipIf(!haveRedis('RedisThrottlerStorage'))('RedisThrottlerStorage', () => {
  const fixture = useRedisServer('throttler-test');
  const connect = () => fixture.connect();

  throttlerStorageContract({
    name: 'RedisThrottlerStorage',
    capabilities: { sharedAcrossInstances: true },
    storage: () => new RedisThrottlerStorage(fixture.first(), 'pcs'),
    // Another instance: its own connection, the same prefix.
    peer: async () => new RedisThrottlerStorage(await connect(), 'pcs'),
  });

  it('keeps its counters under the prefix, each with an expiry, and separates prefixes', async () => {
    const redis = fixture.first();
    await new RedisThrottlerStorage(redis, 'tenant-a').increment('k', 60_000, 5, 0, 'default');
    expect((await new RedisThrottlerStorage(redis, 'tenant-b').increment('k', 60_000, 5, 0, 'default')).totalHits).toBe(1);
    const keys = await redis.keys('tenant-a:*');
    expect(keys).toEqual(['tenant-a:throttle:default:k']);
    const ttl = await redis.pttl(keys[0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('fails at once with the port-level outage error (answered 503) when Redis is unreachable, instead of letting the request through', async () => {
    const dead = connectRedis('redis://127.0.0.1:1', { name: 'dead' });
    fixture.track(dead);
    const failure = await new RedisThrottlerStorage(dead, 'pcs').increment('k', 60_000, 5, 0, 'default').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
  });
});

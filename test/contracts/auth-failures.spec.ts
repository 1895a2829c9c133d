import { BackendUnavailableError } from '../../src/backends/backend-unavailable';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthFailures } from '../../src/auth/auth-failures';
import { MemoryAuthFailures } from '../../src/backends/memory/memory-auth-failures';
import { RedisAuthFailures } from '../../src/backends/redis/redis-auth-failures';
import { connectRedis } from '../../src/backends/redis/redis-connection';
import { useRedisServer } from '../support/redis-fixture';
import { haveRedis } from '../support/redis-server';
import { authFailuresContract } from './auth-failures.contract';

const opened: AuthFailures[] = [];
afterAll(() => {
  for (const counter of opened.splice(0)) counter.close();
});

authFailuresContract({
  name: 'MemoryAuthFailures',
  // This process's counts: another instance's MemoryAuthFailures counts its own failures apart.
  capabilities: { sharedAcrossInstances: false },
  failures(max, windowMs) {
    const counter = new MemoryAuthFailures(max, windowMs);
    opened.push(counter);
    return counter;
  },
});

describe.skipIf(!haveRedis('RedisAuthFailures'))('RedisAuthFailures', () => {
  const fixture = useRedisServer('auth-failures-test');
  const connect = () => fixture.connect();

  authFailuresContract({
    name: 'RedisAuthFailures',
    capabilities: { sharedAcrossInstances: true },
    failures: (max, windowMs) => new RedisAuthFailures(fixture.first(), 'pcs', max, windowMs),
    // Another instance: its own connection, the same prefix.
    peer: async (max, windowMs) => new RedisAuthFailures(await connect(), 'pcs', max, windowMs),
  });

  it('keeps one expiring counter per address under the prefix', async () => {
    const redis = fixture.first();
    await new RedisAuthFailures(redis, 'tenant-x', 5, 60_000).fail('2001:db8::1');
    expect(await redis.keys('tenant-x:*')).toEqual(['tenant-x:auth-failures:2001:db8::1']);
    expect(await redis.pttl('tenant-x:auth-failures:2001:db8::1')).toBeGreaterThan(0);
  });

  it('refuses at once with the port-level outage error (answered 503) when Redis is unreachable: a guesser gains nothing from an outage', async () => {
    const dead = connectRedis('redis://127.0.0.1:1', { name: 'dead' });
    fixture.track(dead);
    const counter = new RedisAuthFailures(dead, 'pcs', 5, 60_000);
    const outcomes = await Promise.all([counter.retryAfter('192.0.2.9'), counter.fail('192.0.2.9')].map((call) => call.catch((error: unknown) => error)));
    for (const outcome of outcomes) expect(outcome).toBeInstanceOf(BackendUnavailableError);
  });
});

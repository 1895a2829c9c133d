import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/backends/backend-unavailable';
import { MemoryFeedQuota } from '../../src/backends/memory/memory-feed-quota';
import { connectRedis } from '../../src/backends/redis/redis-connection';
import { RedisFeedQuota } from '../../src/backends/redis/redis-feed-quota';
import type { FeedQuota } from '../../src/progress/feed-quota';
import { useRedisServer } from '../support/redis-fixture';
import { haveRedis } from '../support/redis-server';
import { feedQuotaContract } from './feed-quota.contract';

const opened: FeedQuota[] = [];
const track = <T extends FeedQuota>(quota: T): T => {
  opened.push(quota);
  return quota;
};
afterAll(() => {
  for (const quota of opened.splice(0)) quota.close();
});

feedQuotaContract({
  name: 'MemoryFeedQuota',
  // This process's counts, which live and die with it: another instance's counts apart, nothing to lapse.
  capabilities: { sharedAcrossInstances: false, expiringLeases: false },
  quota: () => track(new MemoryFeedQuota()),
});

describe.skipIf(!haveRedis('RedisFeedQuota'))('RedisFeedQuota', () => {
  const fixture = useRedisServer('feed-quota-test');

  feedQuotaContract({
    name: 'RedisFeedQuota',
    capabilities: { sharedAcrossInstances: true, expiringLeases: true },
    quota: () => track(new RedisFeedQuota(fixture.first(), 'pcs', 60_000)),
    // Another instance: its own connection, the same prefix.
    peer: async () => track(new RedisFeedQuota(await fixture.connect(), 'pcs', 60_000)),
    leasing: async (leaseMs) => track(new RedisFeedQuota(await fixture.connect(), 'pcs', leaseMs)),
  });

  it('keeps one expiring set of leases per address and per key, and one expiring window per caller, under the prefix; a release leaves nothing', async () => {
    const redis = fixture.first();
    const quota = track(new RedisFeedQuota(redis, 'tenant-f', 5_000));
    const admission = await quota.open({ owner: 'owner1', address: '2001:db8::7' }, { perKey: 5, perAddress: 5 });
    await quota.spend('owner1', 60_000);
    expect((await redis.keys('tenant-f:*')).sort()).toEqual(['tenant-f:feed:address:2001:db8::7', 'tenant-f:feed:key:owner1', 'tenant-f:feed:messages:owner1']);
    for (const key of await redis.keys('tenant-f:*')) {
      expect(await redis.pttl(key)).toBeGreaterThan(0);
      expect(await redis.pttl(key)).toBeLessThanOrEqual(60_000);
    }
    await quota.release((admission as { lease: string }).lease);
    expect(await redis.keys('tenant-f:feed:address:*')).toEqual([]);
    expect(await redis.keys('tenant-f:feed:key:*')).toEqual([]);
  });

  it('fails at once with the port-level outage error (answered 503) when Redis is unreachable, instead of admitting unlimited', async () => {
    const dead = connectRedis('redis://127.0.0.1:1', { name: 'dead' });
    fixture.track(dead);
    const quota = track(new RedisFeedQuota(dead, 'pcs', 5_000));
    const outcomes = await Promise.all([quota.open({ address: '192.0.2.9' }, { perKey: 1, perAddress: 1 }), quota.spend('192.0.2.9', 60_000)].map((call) => call.catch((error: unknown) => error)));
    for (const outcome of outcomes) expect(outcome).toBeInstanceOf(BackendUnavailableError);
  });
});

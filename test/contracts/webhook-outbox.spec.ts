import { describe } from 'vitest';
import { MemoryWebhookOutbox } from '../../src/backends/memory/memory-webhook-outbox';
import { RedisWebhookOutbox } from '../../src/backends/redis/redis-webhook-outbox';
import { useRedisServer } from '../support/redis-fixture';
import { haveRedis } from '../support/redis-server';
import { webhookOutboxContract } from './webhook-outbox.contract';

webhookOutboxContract({
  name: 'MemoryWebhookOutbox',
  // This process's deliveries only.
  capabilities: { sharedAcrossInstances: false },
  outbox: (retentionMs = 60_000) => new MemoryWebhookOutbox(retentionMs),
});

describe.skipIf(!haveRedis('RedisWebhookOutbox'))('RedisWebhookOutbox', () => {
  const fixture = useRedisServer('webhook-outbox-test');
  webhookOutboxContract({
    name: 'RedisWebhookOutbox',
    capabilities: { sharedAcrossInstances: true },
    outbox: (retentionMs = 60_000) => new RedisWebhookOutbox(fixture.first(), 'pcs', retentionMs),
    peer: async () => new RedisWebhookOutbox(await fixture.connect(), 'pcs', 60_000),
  });
});

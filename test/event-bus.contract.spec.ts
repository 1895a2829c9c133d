import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from '../src/backends/redis/redis-event-bus';
import { MemoryEventBus } from '../src/backends/memory/memory-event-bus';
import { event, eventBusContract, recorder, until } from './contracts/event-bus.contract';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';

const memoryBuses: MemoryEventBus[] = [];
eventBusContract({
  name: 'MemoryEventBus',
  // Every subscriber is in this process: two MemoryEventBus objects are two services that hear nothing of each other.
  capabilities: { sharedAcrossInstances: false },
  async bus() {
    const bus = new MemoryEventBus();
    memoryBuses.push(bus);
    return bus;
  },
  async cleanup() {
    await Promise.all(memoryBuses.splice(0).map((bus) => bus.close()));
  },
});

describe.skipIf(!haveRedis('RedisEventBus'))('RedisEventBus', () => {
  let redis: RedisServer;
  const open: RedisEventBus[] = [];
  let round = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function connect(prefix: string): Promise<RedisEventBus> {
    const bus = await RedisEventBus.connect(redis.url, prefix);
    open.push(bus);
    return bus;
  }

  // A fresh prefix per test: nothing left over from the previous one can arrive.
  let prefix = `t${++round}`;
  eventBusContract({
    name: 'RedisEventBus',
    capabilities: { sharedAcrossInstances: true },
    bus: () => connect(prefix),
    async cleanup() {
      await Promise.all(open.splice(0).map((bus) => bus.close()));
      prefix = `t${++round}`;
    },
  });

  it('keeps the prefix literal: another prefix that the first would match as a glob hears nothing', async () => {
    const watcher = await connect('a?');
    const other = await connect('ab');
    const seen = recorder();
    await watcher.subscribe('*', seen.listener);
    other.publish(event('job-1', 1));
    watcher.publish(event('job-2', 1));
    await until(() => seen.events.length === 1);
    expect(seen.events[0].jobId).toBe('job-2');
    await Promise.all(open.splice(0).map((bus) => bus.close()));
  });

  it('publishes without throwing while Redis is down, and delivers again once it is back', async () => {
    const prefix = 'outage';
    const publisher = await connect(prefix);
    const subscriber = await connect(prefix);
    const forJob = recorder();
    const forAll = recorder();
    const controls: string[] = [];
    await subscriber.subscribe('job-1', forJob.listener);
    await subscriber.subscribe('*', forAll.listener);
    subscriber.onSignal((m) => controls.push(m.jobId));

    await redis.kill();
    expect(() => publisher.publish(event('job-1', 1))).not.toThrow();
    await expect(publisher.signal({ type: 'cancel', jobId: 'lost', reason: 'down' })).rejects.toThrow();
    await redis.restart();
    await publisher.ready(15_000);
    await subscriber.ready(15_000);

    // ioredis re-subscribes once reconnected: publish until the restored subscriptions hear it.
    let seq = 1;
    await until(() => {
      publisher.publish(event('job-1', ++seq));
      return forJob.events.length > 0 && forAll.events.length > 0;
    }, 15_000);
    await publisher.signal({ type: 'cancel', jobId: 'job-1', reason: 'after the outage' });
    await until(() => controls.includes('job-1'));
    expect(forJob.events.every((e) => e.seq > 1)).toBe(true);
    await Promise.all(open.splice(0).map((bus) => bus.close()));
  });
});

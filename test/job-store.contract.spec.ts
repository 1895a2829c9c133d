import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, whenReady } from '../src/backends/redis/redis-connection';
import { RedisEventBus } from '../src/backends/redis/redis-event-bus';
import type { Redis } from 'ioredis';
import { RedisJobStore } from '../src/backends/redis/redis-job.store';
import type { JobEvent } from '../src/jobs/event-bus';
import { StoreUnavailableError } from '../src/jobs/job.store';
import { MemoryJobStore } from '../src/backends/memory/memory-job.store';
import { jobStoreContract } from './contracts/job-store.contract';
import type { JobQuery } from '../src/jobs/job-data';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';
import { freePort } from './support/service-process';

/** Waits for a condition with a bounded poll. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

/**
 * The memory store's work: its job map, wrapped so that every lookup and every entry walked
 * counts one. Reaches into the store's private map on purpose: it is what a walk of every
 * tenant's jobs would go through.
 */
function countMapReads(store: MemoryJobStore): () => Promise<number> {
  const holder = store as unknown as { jobs: Map<string, unknown> };
  if (!(holder.jobs instanceof Map)) throw new Error('MemoryJobStore keeps its jobs elsewhere now: update countMapReads');
  let reads = 0;
  function* counted<T>(entries: Iterable<T>): Generator<T> {
    for (const entry of entries) {
      reads++;
      yield entry;
    }
  }
  holder.jobs = new Proxy(holder.jobs, {
    get(map, property) {
      const value = Reflect.get(map, property, map);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'get' || property === 'has') reads++;
        const result = value.apply(map, args);
        const walks = property === Symbol.iterator || property === 'values' || property === 'entries' || property === 'keys';
        return walks ? counted(result) : result;
      };
    },
  });
  return async () => reads;
}

/** Commands the server ran so far, those run by scripts included (INFO itself left out). */
async function commandsRun(server: RedisServer): Promise<number> {
  const stats = await server.client().info('commandstats');
  let calls = 0;
  for (const [, command, n] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (command !== 'info') calls += Number(n);
  return calls;
}

jobStoreContract(
  'MemoryJobStore',
  async (retention) => {
    const store = new MemoryJobStore(retention);
    return { store, work: countMapReads(store), cleanup: () => store.close() };
  },
  // One process holds its own jobs: another MemoryJobStore is another service's, and shares nothing.
  { sharedAcrossInstances: false, countsWork: true },
);

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
  jobStoreContract(
    'RedisJobStore',
    async (retention) => {
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
        // The tests of this file run one at a time, so the server's commands are this store's.
        work: () => commandsRun(server),
        async cleanup() {
          for (const client of clients) client.disconnect();
        },
      };
    },
    { sharedAcrossInstances: true, countsWork: true },
  );

  it('builds the per-owner indexes of a store upgraded in place, and again after an older instance wrote without them', async () => {
    const client = connectRedis(server.url, { name: 'upgrade' });
    await whenReady(client);
    const admin = server.client();
    const store = new RedisJobStore(client, { prefix: 'upgrade', retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 30 } });
    const create = async (id: string, owner: string) => {
      const { version } = await store.admission(owner);
      expect(await store.create({ id, kind: 'fibonacci', owner, callerId: owner, reservation: { tasks: 1, resultBytes: 1 }, createdAt: Date.now() }, [1], version)).toBe(true);
    };
    const listed = async (owner: string) => {
      const { items, total } = await store.list({ owner, limit: 10 });
      return [items.map((job) => job.id), total];
    };
    try {
      await create('a1', 'alice');
      await create('b1', 'bob');
      await create('a2', 'alice');
      await store.finish('a1', 'completed', undefined, Date.now());
      // What a store written by the version before the indexes holds: none of their keys.
      const added = ['upgrade:jobs:owner:alice', 'upgrade:jobs:owner:bob', 'upgrade:unfinished:owner:alice', 'upgrade:unfinished:owner:bob', 'upgrade:fowner', 'upgrade:jobs:indexed'];
      expect([...(await admin.keys('upgrade:*:owner:*')), 'upgrade:fowner', 'upgrade:jobs:indexed'].sort()).toEqual(added.sort());
      expect(await admin.del(...added)).toBe(added.length);
      expect(await store.unfinished('alice')).toEqual(['a2']);
      expect(await listed('alice')).toEqual([['a2', 'a1'], 2]);
      expect(await listed('bob')).toEqual([['b1'], 1]);
      // Rebuilt whole: eviction will find a1's owner, and later creates keep the indexes current.
      expect(await admin.hget('upgrade:fowner', 'a1')).toBe('alice');
      expect(await admin.get('upgrade:jobs:indexed')).toBe(await admin.get('upgrade:jobs:order'));

      // An older instance creates a job (the creation number moves, the indexes stay as they were)...
      await create('a3', 'alice');
      await admin.zrem('upgrade:jobs:owner:alice', 'a3');
      await admin.srem('upgrade:unfinished:owner:alice', 'a3');
      await admin.decr('upgrade:jobs:indexed');
      expect((await store.unfinished('alice')).sort()).toEqual(['a2', 'a3']);
      expect(await listed('alice')).toEqual([['a3', 'a2', 'a1'], 3]);
      // ...ends one without leaving its owner's unfinished set, and evicts one without leaving its listing.
      await store.finish('a2', 'completed', undefined, Date.now());
      await admin.sadd('upgrade:unfinished:owner:alice', 'a2');
      await admin.zadd('upgrade:jobs:owner:alice', 0, 'gone');
      expect(await store.unfinished('alice')).toEqual(['a3']);
      expect(await listed('alice')).toEqual([['a3', 'a2', 'a1'], 3]);
      expect([await admin.sismember('upgrade:unfinished:owner:alice', 'a2'), await admin.zscore('upgrade:jobs:owner:alice', 'gone')]).toEqual([0, null]);
    } finally {
      client.disconnect();
    }
  });

  it('builds the listing indexes (status, kind, label) of a store written before they existed, and evicts through them after', async () => {
    const client = connectRedis(server.url, { name: 'upgrade-listing' });
    await whenReady(client);
    const admin = server.client();
    const store = new RedisJobStore(client, { prefix: 'relist', retention: { maxAgeMs: 60_000, maxCount: 2, maxBytes: 1 << 30 } });
    const create = async (id: string, owner: string, labels: Record<string, string>) => {
      const { version } = await store.admission(owner);
      expect(await store.create({ id, kind: 'fibonacci', owner, callerId: owner, labels, reservation: { tasks: 1, resultBytes: 1 }, createdAt: Date.now() }, [1], version)).toBe(true);
    };
    const listed = async (query: Partial<JobQuery>) => (await store.list({ owner: 'alice', limit: 10, ...query })).items.map((job) => job.id);
    try {
      await create('a1', 'alice', { env: 'prod' });
      await create('a2', 'alice', { env: 'dev' });
      await create('a3', 'alice', { env: 'prod' });
      await store.finish('a1', 'failed', 'boom', Date.now());
      // What the version before the listing indexes left: none of their keys.
      const added = [...(await admin.keys('relist:ix:*')), 'relist:fidx', 'relist:jobs:listed'];
      expect(added.length).toBeGreaterThan(10);
      expect(await admin.del(...added)).toBe(added.length);
      expect(await listed({ labels: [['env', 'prod']] })).toEqual(['a3', 'a1']);
      expect(await listed({ status: 'failed' })).toEqual(['a1']);
      expect(await listed({ status: 'queued', kind: 'fibonacci' })).toEqual(['a3', 'a2']);
      expect(await admin.get('relist:jobs:listed')).toBe(await admin.get('relist:jobs:order'));
      // Rebuilt whole: evicting a1 (maxCount 2) takes it out of every index it is in.
      await store.finish('a2', 'completed', undefined, Date.now());
      await store.finish('a3', 'completed', undefined, Date.now());
      expect(await store.get('a1')).toBeUndefined();
      for (const k of await admin.keys('relist:ix:*')) expect(await admin.zscore(k, 'a1'), k).toBeNull();
      expect(await admin.hexists('relist:fidx', 'a1')).toBe(0);
      expect(await listed({ labels: [['env', 'prod']] })).toEqual(['a3']);
    } finally {
      client.disconnect();
    }
  });

  it('publishes the task.progress event of what an apply changed atomically with it, as the bus delivers events', async () => {
    const client = connectRedis(server.url, { name: 'announce' });
    await whenReady(client);
    const bus = await RedisEventBus.connect(server.url, 'announce');
    const store = new RedisJobStore(client, { prefix: 'announce', retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 30 } });
    try {
      const { version } = await store.admission('alice');
      await store.create({ id: 'j', kind: 'fibonacci', owner: 'alice', callerId: 'alice', reservation: { tasks: 3, resultBytes: 1 }, createdAt: 1 }, [1, 2, 3], version);
      await store.setSummary('j', { pages: 2 });
      const events: JobEvent[] = [];
      const stop = await bus.subscribe('j', (event) => events.push(event));
      const update = (index: number) => JSON.stringify({ index, n: index + 1, state: 'completed' });
      await store.apply('j', [{ index: 0, state: 'completed', result: { value: '1' } }]);
      const applied = await store.apply(
        'j',
        [
          { index: 0, state: 'completed', result: { value: 'again' } },
          { index: 2, state: 'completed', result: { value: '2' } },
        ],
        { owner: 'alice', updates: [update(0), update(2)] },
      );
      expect(applied).toMatchObject({ announced: true, seq: 3 });
      for (const until = Date.now() + 5_000; events.length === 0 && Date.now() < until; ) await new Promise((wake) => setTimeout(wake, 10));
      expect(events).toHaveLength(1);
      // Task 0 had finished already: only task 2 took effect, and only it is announced.
      expect(events[0]).toEqual({ event: 'task.progress', jobId: 'j', owner: 'alice', seq: 3, data: { jobId: 'j', updates: [{ index: 2, n: 3, state: 'completed' }], summary: { pages: 2 } } });
      // Nothing took effect: nothing is published.
      expect(await store.apply('j', [{ index: 2, state: 'failed' }], { owner: 'alice', updates: [update(2)] })).toMatchObject({ seq: 3, changed: [] });
      stop();
    } finally {
      await bus.close();
      client.disconnect();
    }
  });

  it('publishes the queued updates of the tasks appendTasks added, with their indexes, atomically with the append', async () => {
    const client = connectRedis(server.url, { name: 'announce-append' });
    await whenReady(client);
    const bus = await RedisEventBus.connect(server.url, 'append');
    const store = new RedisJobStore(client, { prefix: 'append', retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 30 } });
    try {
      const { version } = await store.admission('alice');
      await store.create({ id: 'c', kind: 'crawl', callerId: 'alice', reservation: { tasks: 3, resultBytes: 1, counters: { 'crawl.pages': 3, 'crawl.fetches': 1 } }, createdAt: 1 }, [], version);
      const events: JobEvent[] = [];
      const stop = await bus.subscribe('c', (event) => events.push(event));
      const page = (url: string) => ({ key: url, input: { url, depth: 1 } });
      const queued = (url: string) => JSON.stringify({ url, depth: 1, state: 'queued' });
      await store.appendTasks('c', [page('http://x/a')], 3);
      // b is new, a was seen, c and d compete for the last of maxTotal 3: c gets it.
      const added = await store.appendTasks('c', [page('http://x/b'), page('http://x/a'), page('http://x/c'), page('http://x/d')], 3, {
        updates: ['b', 'a', 'c', 'd'].map((name) => queued(`http://x/${name}`)),
      });
      expect(added.map((task) => task.index)).toEqual([1, 2]);
      for (const until = Date.now() + 5_000; events.length === 0 && Date.now() < until; ) await new Promise((wake) => setTimeout(wake, 10));
      expect(events).toEqual([
        {
          event: 'task.progress',
          jobId: 'c',
          seq: 3,
          data: {
            jobId: 'c',
            updates: [
              { index: 1, url: 'http://x/b', depth: 1, state: 'queued' },
              { index: 2, url: 'http://x/c', depth: 1, state: 'queued' },
            ],
          },
        },
      ]);
      stop();
    } finally {
      await bus.close();
      client.disconnect();
    }
  });

  it('answers an apply of 5,000 updates and a page of 1,000 tasks in one round trip each (the page: one MULTI, its results read outside Lua)', async () => {
    const client = connectRedis(server.url, { name: 'round-trips' });
    await whenReady(client);
    const store = new RedisJobStore(client, { prefix: 'trips', retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 30 } });
    let monitor: Redis | undefined;
    try {
      const inputs = Array.from({ length: 10_010 }, (_, i) => i);
      const { version } = await store.admission('alice');
      const reservation = { tasks: inputs.length, resultBytes: 0 };
      await store.create({ id: 'j', kind: 'fibonacci', callerId: 'alice', reservation, createdAt: Date.now() }, inputs, version);
      // Load the scripts first: a script's very first call may be EVALSHA, then EVAL.
      await store.apply('j', [{ index: 0, state: 'running' }]);
      await store.tasks('j', 0, 1);

      const sent: string[] = [];
      // The admin connection's ready check (INFO) must be over before MONITOR starts: ioredis fails
      // with "Command queue state error" if a monitored line arrives with MONITOR's own reply.
      const admin = server.client();
      await whenReady(admin);
      monitor = await admin.monitor();
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua') sent.push(args[0].toLowerCase() === 'echo' ? `echo ${args[1]}` : args[0].toLowerCase());
      });
      const mark = async (name: string) => {
        await client.echo(name);
        await until(() => sent.includes(`echo ${name}`));
      };
      const between = (from: string, to: string) => sent.slice(sent.indexOf(`echo ${from}`) + 1, sent.indexOf(`echo ${to}`));

      await mark('start');
      const updates = Array.from({ length: 5_000 }, (_, i) => ({ index: i, state: 'completed' as const, result: `r${i}`, bytes: 3 }));
      expect((await store.apply('j', updates)).changed).toHaveLength(5_000);
      await mark('applied');
      expect(await store.tasks('j', 4_500, 1_000)).toHaveLength(1_000);
      await mark('read');
      expect(between('start', 'applied')).toEqual(['evalsha']);
      expect(between('applied', 'read')).toEqual(['multi', 'evalsha', 'hmget', 'hmget', 'exec']);
      // More than one MULTI reads (10,000 tasks each): every task once, in order, with its result.
      const all = await store.tasks('j', 0, 20_000);
      expect(all.map((record) => record.index)).toEqual(inputs);
      expect(all[4_999]).toMatchObject({ state: 'completed', result: 'r4999' });
      expect(all[10_009]).toMatchObject({ input: 10_009, state: 'queued' });
    } finally {
      monitor?.disconnect();
      client.disconnect();
    }
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
      await expect(store.tasks('j', 0, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.tasksAt('j', [0])).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
  // Last in the file: it restarts the shared server (without AOF, so its data is gone).
  it('fails fast while Redis is down and works again by itself when it is back', async () => {
    const client = connectRedis(server.url, { name: 'outage' });
    await whenReady(client);
    const store = new RedisJobStore(client, { prefix: 'outage', retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1_000 } });
    try {
      await store.ping();
      await server.kill('SIGKILL');
      await expect(store.get('j')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.finish('j', 'completed', undefined, Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);
      await server.restart();
      await until(() => client.status === 'ready');
      const { version } = await store.admission('alice');
      const reservation = { tasks: 1, resultBytes: 0 };
      expect(await store.create({ id: 'j', kind: 'fibonacci', callerId: 'alice', reservation, createdAt: Date.now() }, [1], version)).toBe(true);
      expect((await store.get('j'))?.status).toBe('queued');
    } finally {
      client.disconnect();
    }
  });
});

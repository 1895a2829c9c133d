/**
 * The topologies bench:cluster compares, alive side by side for the whole run so that every
 * round measures them under the same conditions:
 * - embedded: one instance, no REDIS_URL, POOL_SIZE=2;
 * - cluster: instances A and B sharing one redis-server (AOF on, fsync every second, by default: the
 *   durability the cluster mode promises), POOL_SIZE=1 each: the same total worker threads;
 * - alone (`withAlone`): one instance sized as a cluster member (POOL_SIZE=1) with no Redis: what
 *   one member does by itself, the figure the second member has to beat to be worth its cost.
 * Work always goes to A; B gets its share only by taking tasks from the BullMQ queue.
 */
import { type RedisServer, startRedisServer } from '../../test/support/redis-server';
import { Service } from './service';

/** Settings that would turn the embedded instance into a cluster member if the caller's environment had them. */
const CLUSTER_SETTINGS = ['REDIS_URL', 'REDIS_PREFIX', 'CLUSTER_LEASE_MS', 'INSTANCE_ID'];

export interface Topologies {
  embedded: Service;
  /** An embedded instance with POOL_SIZE=1 (`withAlone`): one cluster member's threads, alone. */
  alone?: Service;
  redis: RedisServer;
  /** The instance every request goes to. */
  a: Service;
  /** The other one: it only works through the queue. */
  b: Service;
  leaseMs: number;
  /** Starts a fresh second instance in place of a killed B. */
  replaceB(): Promise<void>;
  stop(): Promise<void>;
  killNow(): void;
}

export async function startTopologies(env: Record<string, string>, leaseMs: number, appendonly = true, withAlone = false): Promise<Topologies> {
  for (const name of CLUSTER_SETTINGS) delete process.env[name];
  const redis = await startRedisServer({ appendonly });
  const member = (id: string) => Service.start({ ...env, POOL_SIZE: '1', REDIS_URL: redis.url, REDIS_PREFIX: 'bench', CLUSTER_LEASE_MS: String(leaseMs), INSTANCE_ID: id });
  let generation = 1;
  const started = await Promise.allSettled([Service.start({ ...env, POOL_SIZE: '2' }), member('a'), member('b'), ...(withAlone ? [Service.start({ ...env, POOL_SIZE: '1' })] : [])]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    for (const s of started) if (s.status === 'fulfilled') await s.value.stop();
    await redis.stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [embedded, a, b, alone] = started.map((s) => (s as PromiseFulfilledResult<Service>).value);
  const topologies: Topologies = {
    embedded,
    alone,
    redis,
    a,
    b,
    leaseMs,
    async replaceB() {
      await topologies.b.stop();
      topologies.b = await member(`b${++generation}`);
    },
    async stop() {
      await Promise.all([topologies.embedded.stop(), topologies.alone?.stop(), topologies.a.stop(), topologies.b.stop()]);
      await redis.stop();
    },
    killNow() {
      for (const service of [topologies.embedded, topologies.alone, topologies.a, topologies.b]) service?.killNow();
      redis.process.kill('SIGKILL');
    },
  };
  return topologies;
}

import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for the cluster mode. Commands fail fast while Redis is down (no offline
 * queue, one retry), so a request gets 503 at once instead of hanging; the connection keeps
 * reconnecting in the background and the service recovers by itself when Redis is back.
 * `blocking` is for BullMQ workers and subscribers, which wait on Redis by design.
 */
export function connectRedis(url: string, options: { blocking?: boolean; name?: string } = {}): Redis {
  const common: RedisOptions = {
    connectionName: options.name,
    connectTimeout: 2_000,
    // Reconnect forever, at most every 1 s, so recovery after an outage is quick.
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: false,
  };
  const redis = options.blocking
    ? new Redis(url, { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true })
    : new Redis(url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5_000 });
  // Without a listener an unreachable Redis would be an unhandled 'error' event; readiness reports it instead.
  redis.on('error', () => {});
  return redis;
}

/** Resolves once the connection is ready (or rejects after `ms`). */
export async function whenReady(redis: Redis, ms = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${ms} ms (status ${redis.status})`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Waits for as long as it takes: the connection reconnects by itself. */
export function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

/**
 * Runs a SUBSCRIBE or PSUBSCRIBE on `redis` so that it takes effect. ioredis loses one issued while
 * the connection is between its TCP connect and ready (the handshake): the promise resolves and
 * nothing is subscribed (test/redis-subscribe.spec.ts shows it). Issued then, it waits for ready;
 * at any other moment it goes at once (before connect, or while reconnecting, ioredis queues it
 * and sends it once ready, which works).
 */
export async function subscribeSafely<T>(redis: Redis, subscribe: () => Promise<T>): Promise<T> {
  if (redis.status === 'connect') await untilReady(redis);
  return subscribe();
}

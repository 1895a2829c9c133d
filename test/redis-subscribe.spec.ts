import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, subscribeSafely } from '../src/backends/redis/redis-connection';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';

/**
 * ioredis loses a SUBSCRIBE issued while a connection is between its TCP connect and ready: the
 * call resolves and nothing is subscribed. BullTaskQueue's subscription to announced task ends
 * fell in that window now and then (its instance then learnt every end late, from the stream);
 * subscribeSafely holds such a call until ready.
 */
describe.skipIf(!haveRedis('subscriptions'))('SUBSCRIBE on a connection still handshaking', () => {
  let redis: RedisServer;
  const open: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const connection of open) connection.disconnect();
    await redis?.stop();
  });

  /** A subscriber connection, as the service opens one, caught right after its TCP connect. */
  async function connecting(): Promise<Redis> {
    const connection = connectRedis(redis.url, { blocking: true, name: 'subscriber' });
    open.push(connection);
    await new Promise((connected) => connection.once('connect', connected));
    expect(connection.status).toBe('connect');
    return connection;
  }

  const subscribers = async (channel: string) => ((await redis.client().call('pubsub', 'numsub', channel)) as [string, number])[1];

  it('is lost when sent as is (the ioredis behaviour this guards against)', async () => {
    const connection = await connecting();
    await connection.subscribe('plain');
    expect(await subscribers('plain')).toBe(0);
  });

  it('takes effect through subscribeSafely, and the subscriber hears what is published', async () => {
    const connection = await connecting();
    const heard = new Promise<string>((resolve) => connection.on('message', (_channel: string, message: string) => resolve(message)));
    await subscribeSafely(connection, () => connection.subscribe('safe'));
    expect(await subscribers('safe')).toBe(1);
    await redis.client().publish('safe', 'hello');
    expect(await heard).toBe('hello');
  });
});

import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cluster, type Instance, waitUntil } from './support/cluster';
import { haveRedis } from './support/redis-server';
import { newSecret, type Receiver, startReceiver } from './support/webhook-receiver';

/**
 * Issue 15, item 1 in the cluster mode: a delivery queued on instance A, whose attempt A was
 * still waiting on when it was killed -9, is sent by instance B once A's lease on it lapses, with
 * the same webhook-id, and listed alike by every instance.
 */
/**
 * Long enough for B to start and A to be killed while its first attempt still waits (B's start
 * takes a few seconds on a busy machine); every second of it is waited out again in A's lease.
 */
const TIMEOUT_MS = 10_000;
/** The dispatcher's lease: the attempt's deadline plus its margin (src/webhooks/webhook-dispatcher.ts). */
const LEASE_MS = TIMEOUT_MS + 5_000;

describe.skipIf(!haveRedis('webhooks across instances'))('webhooks on two instances of one Redis', () => {
  const secret = newSecret();
  let cluster: Cluster;
  let receiver: Receiver;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    // The first attempt is never answered (its sender is killed meanwhile); later ones are.
    receiver = await startReceiver(secret, (n, _req, res) => (n === 1 ? held.push(res) : res.writeHead(200).end('ok')));
    cluster = await Cluster.start({ env: { WEBHOOK_ALLOW_TARGETS: '127.0.0.0/8', WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), WEBHOOK_BACKOFF_MS: '100', LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await receiver?.close();
    await cluster?.close();
  });

  it('a delivery queued on A, which A was sending when it was killed -9, is sent by B with the same webhook-id', async () => {
    const a: Instance = await cluster.startInstance('a');
    const made = await call(a, 'POST', '/fibonacci?wait=10000', { numbers: [10, 11], webhook: { url: receiver.url, secret } });
    expect(made.status).toBe(200);
    const [first] = await receiver.waitFor(1);
    // A holds the attempt (the receiver does not answer): B joins, then A dies.
    const b: Instance = await cluster.startInstance('b');
    const pending = await call(b, 'GET', `/jobs/${made.body.id}/webhooks`);
    expect(pending.body.items).toEqual([expect.objectContaining({ event: 'job.completed', state: 'pending', attempts: 1, lastStatus: null })]);
    const killedAt = await cluster.kill('a');
    expect(killedAt - first.at, 'A was killed while its first attempt was still waiting').toBeLessThan(TIMEOUT_MS);
    const [, second] = await receiver.waitFor(2, LEASE_MS + 20_000);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    expect([first.verified.ok, second.verified.ok]).toEqual([true, true]);
    expect(second.verified.ok && (second.verified.payload as any)).toMatchObject({ type: 'job.completed', data: { id: made.body.id, status: 'completed' } });
    // Not before A's lease lapsed: B took it over, it did not race A.
    expect(second.at).toBeGreaterThan(first.at + LEASE_MS - 1_000);
    expect(second.at).toBeGreaterThan(killedAt);
    const done = await waitUntil(
      async () => {
        const listed = await call(b, 'GET', `/jobs/${made.body.id}/webhooks`);
        return listed.body.items?.[0]?.state === 'delivered' ? listed.body.items[0] : undefined;
      },
      10_000,
      'the delivery recorded as delivered',
    );
    expect(done).toMatchObject({ id: first.headers['webhook-id'], attempts: 2, lastStatus: 200 });
    expect(`${b.stdout()}${b.stderr()}${JSON.stringify(done)}`).not.toContain(secret.slice(6));
  });
});

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startApp, type RunningApp } from './support/app';
import { startFixtureSite, type FixtureSite } from './support/fixture-site';
import { watchLoopDelay } from './support/loop-delay';

/**
 * Crawl threads crawl CRAWL_WARM_UP_PASSES pages of a sample site on 127.0.0.1 when they start (JIT warm-up), and
 * the instance is not ready until every pool thread has loaded its worker: readiness says why,
 * liveness and the main thread are unaffected, and the warmed threads crawl as any others (and
 * still may not reach loopback).
 */
describe('crawl threads warm up before the instance reports ready', () => {
  let svc: RunningApp | undefined;
  let site: FixtureSite | undefined;
  afterAll(async () => {
    await Promise.all([svc?.close(), site?.close()]);
  });

  it('answers 503 "worker threads starting" meanwhile, then 200, and the warmed threads crawl', async () => {
    site = await startFixtureSite();
    // Enough passes to take seconds, so the first answers come while the threads are at it.
    svc = await startApp({ CRAWL_WARM_UP_PASSES: '1500', CRAWL_ALLOW_TARGETS: '127.0.0.2/32', CRAWL_ALLOW_IGNORE_ROBOTS: 'true' });
    const loop = watchLoopDelay();
    const early = await request(svc.url).get('/health/ready');
    expect(early.status).toBe(503);
    expect(early.body.details.pool).toEqual({ status: 'down', reason: 'worker threads starting' });
    await request(svc.url).get('/health/live').expect(200);
    const ready = await eventually(
      async () => {
        const res = await request(svc!.url).get('/health/ready');
        return res.status === 200 ? res.body : undefined;
      },
      60_000,
      'readiness after the warm-up',
    );
    expect(ready.details.pool).toEqual({ status: 'up' });
    // The warm-up ran on the pool's threads: the main thread kept answering.
    expect(loop.stop()).toBeLessThan(500);
    const res = await request(svc.url)
      .post('/crawl?wait=30000')
      .send({ urls: [`${site.url}/`], maxDepth: 3 });
    expect(res.body).toMatchObject({ status: 'completed', total: 8, completed: 8, failed: 0 });
    // The threads' warm-up crawled 127.0.0.1 through an agent of its own: their task agent still may not.
    const canary = createServer((_req, reply) => reply.end('<a href="/x">x</a>'));
    let connections = 0;
    canary.on('connection', () => connections++);
    canary.listen(0, '127.0.0.1');
    await once(canary, 'listening');
    try {
      const blocked = await request(svc.url)
        .post('/crawl?wait=30000')
        .send({ urls: [`http://127.0.0.1:${(canary.address() as AddressInfo).port}/`], maxDepth: 0, retries: 0 });
      expect(blocked.body.results.items[0]).toMatchObject({ state: 'failed', error: { code: 'blocked_address' } });
      expect(connections).toBe(0);
    } finally {
      canary.close();
    }
  });
});

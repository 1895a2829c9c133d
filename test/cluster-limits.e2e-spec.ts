import { Controller, type DynamicModule, Get, type INestApplication, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthGuard } from '../src/auth/auth.guard';
import { AuthModule } from '../src/auth/auth.module';
import { BACKEND } from '../src/backends/backend';
import { BackendModule } from '../src/backends/backend.module';
import { AllExceptionsFilter } from '../src/common/all-exceptions.filter';
import { rateLimitOptions } from '../src/common/rate-limit';
import { APP_CONFIG } from '../src/config/app-config';
import { ConfigModule, type Env } from '../src/config/config.module';
import { haveRedis, type RedisServer, startRedisServer } from './support/redis-server';

/**
 * The shared limits wired as AppModule wires them (config, the backend, auth, the rate limit, the two
 * guards in the same order), on real HTTP servers: two instances on one Redis behave as one.
 * The job routes are not needed for this; any keyed route is rate limited the same way.
 */
@Controller('probe')
class ProbeController {
  @Get()
  probe() {
    return { ok: true };
  }
}

@Module({})
class LimitsApp {
  static forRoot(env: Env): DynamicModule {
    return {
      module: LimitsApp,
      imports: [ConfigModule.forRoot(env), BackendModule, AuthModule, ThrottlerModule.forRootAsync({ inject: [APP_CONFIG, BACKEND], useFactory: rateLimitOptions })],
      controllers: [ProbeController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
      ],
    };
  }
}

const KEYS = ['cluster-limits-key-a-0123', 'cluster-limits-key-b-0123'];
const apps: INestApplication[] = [];

async function instance(env: Env): Promise<string> {
  const app = await NestFactory.create(LimitsApp.forRoot({ NODE_ENV: 'test', API_KEYS: KEYS.join(','), ...env }), { logger: false });
  app.useGlobalFilters(new AllExceptionsFilter());
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

const probe = async (url: string, key: string) => {
  const res = await fetch(`${url}/probe`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { message?: string } };
};

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('limits in the embedded mode (no REDIS_URL)', () => {
  it('counts per instance, as before: each instance has its own window', async () => {
    const [a, b] = [await instance({ RATE_LIMIT_MAX: '2' }), await instance({ RATE_LIMIT_MAX: '2' })];
    for (const url of [a, a, b, b]) expect((await probe(url, KEYS[0])).status).toBe(200);
    expect((await probe(a, KEYS[0])).status).toBe(429);
  });
});

describe.skipIf(!haveRedis('shared limits across instances'))('limits in cluster mode: two instances on one Redis', () => {
  let redis: RedisServer;
  let n = 0;
  /** Two instances of one deployment (their own prefix, so tests do not share counters). */
  const pair = async (env: Env) => {
    const shared = { REDIS_URL: redis.url, REDIS_PREFIX: `limits${n++}`, ...env };
    return [await instance(shared), await instance(shared)];
  };

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares the rate limit: requests spread over both instances count in one window per key', async () => {
    const [a, b] = await pair({ RATE_LIMIT_MAX: '4' });
    for (const url of [a, b, a, b]) expect((await probe(url, KEYS[0])).status).toBe(200);
    const limited = await probe(a, KEYS[0]);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await probe(b, KEYS[0])).status).toBe(429);
    // Another key has its own window.
    expect((await probe(b, KEYS[1])).status).toBe(200);
  });

  it('shares the failed-authentication limit: guesses at one instance block the address at the other, a good key included', async () => {
    const [a, b] = await pair({ AUTH_FAILURES_MAX: '3' });
    for (const url of [a, b, a]) expect((await probe(url, 'a-wrong-key-0123456789')).status).toBe(401);
    const blocked = await probe(b, KEYS[0]);
    expect(blocked.status).toBe(429);
    expect(blocked.body.message).toMatch(/AUTH_FAILURES_MAX 3/);
    expect(Number(blocked.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 + Retry-After while Redis is down instead of skipping the limits, and recovers by itself when it is back', async () => {
    const [a] = await pair({});
    expect((await probe(a, KEYS[0])).status).toBe(200);
    await redis.kill();
    const down = await probe(a, KEYS[0]);
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBe('1');
    // Generic words: the connection's own error (address, port, errno) stays in the log.
    expect(down.body.message).toBe("the service's shared state is unavailable, retry shortly");
    await redis.restart();
    const deadline = Date.now() + 15_000;
    let status = down.status;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((wake) => setTimeout(wake, 100));
      status = (await probe(a, KEYS[0])).status;
    }
    expect(status).toBe(200);
  });
});

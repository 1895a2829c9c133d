import type { Redis } from 'ioredis';
import { type HostCaps, HostBudget, type HostGrant, type HostRequest, PACING } from '../../crawl/host-budget';
import { SETTLE_HOSTS } from './redis-host-budget.lua';
import { orUnavailable } from './redis-unavailable';

type HostBudgetRedis = Redis & { hostSettle(keys: number, ...keysThenArgs: (string | number)[]): Promise<number[][]> };

const BACKOFFS = [undefined, 'throttled', 'slow'] as const;

/**
 * The per-host budget of every instance together: one JSON state per host under
 * `<prefix>:host:<origin>`, settled atomically by one Lua script for all the hosts of a call
 * (one round trip). Holders' slots are leases of `leaseMs` that each settle renews: a killed
 * instance's crawls stop counting once theirs lapse. A host nobody settles on is forgotten after
 * PACING.memoryMs (its back-off with it). Redis down: settle fails with the port-level outage error.
 */
export class RedisHostBudget extends HostBudget {
  private readonly redis: HostBudgetRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs: number,
  ) {
    super();
    if (!('hostSettle' in redis)) redis.defineCommand('hostSettle', { lua: SETTLE_HOSTS });
    this.redis = redis as HostBudgetRedis;
  }

  async settle(holder: string, requests: readonly HostRequest[], caps: HostCaps): Promise<HostGrant[]> {
    if (requests.length === 0) return [];
    const keys = requests.map((request) => `${this.prefix}:host:${request.host}`);
    const tuning = [PACING.backoffStepMs, PACING.recoverAfter, PACING.slowMarginMs, PACING.baseDrift, PACING.memoryMs, PACING.burstMs];
    const perHost = requests.flatMap(({ busy, want, start, feedback: f }) => [busy, want, start ? 1 : 0, f?.ok ?? 0, f?.latencyMs ?? 0, f?.throttled ?? 0, f?.retryAfterMs ?? 0]);
    const answers = await orUnavailable(this.redis.hostSettle(keys.length, ...keys, holder, this.leaseMs, caps.maxConcurrency, caps.minDelayMs, caps.maxBackoffMs, ...tuning, ...perHost));
    return answers.map(([held, paced, startInMs, contended, backoff, limit, delayMs]) => {
      const named = BACKOFFS[backoff];
      return { held, paced: paced === 1, startInMs, contended: contended === 1, ...(named ? { backoff: named } : {}), limit, delayMs };
    });
  }
}

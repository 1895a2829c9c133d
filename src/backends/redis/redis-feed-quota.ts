import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type FeedAdmission, type FeedCaps, type FeedHolder, FeedQuota, type FeedSpend } from '../../progress/feed-quota';
import { withFixedWindowHit } from './redis-throttler.storage';
import { orUnavailable } from './redis-unavailable';

/**
 * Drops the lapsed leases of every holder set (KEYS: the address's, then the key's), refuses with
 * the 1-based index of the first set at its cap (ARGV[3..]), or adds the lease (ARGV[1]) to every
 * set, lapsing ARGV[2] ms from now. Redis's clock, so instances with skewed clocks agree. Each set
 * expires with its last lease, so a holder that left leaves nothing behind.
 */
const OPEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[i + 2]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIREAT', key, redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
end
return 0
`;

/**
 * Pushes back the lapse of the leases this instance still holds: KEYS[i] holds lease ARGV[i + 1].
 * A lease that lapsed meanwhile (Redis out of reach longer than a lease) is added back: its
 * connection is still open, so it counts again.
 */
const RENEW = `
local t = redis.call('TIME')
local lapse = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, lapse, ARGV[i + 1])
  redis.call('PEXPIREAT', key, redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
end
return 0
`;

/** Sets per renewal call, so that one call never holds Redis long. */
const RENEW_BATCH = 500;

type FeedQuotaRedis = Redis & {
  feedOpen(keys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  feedRenew(keys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  fixedWindowHit(key: string, windowMs: number): Promise<[number, number]>;
};

/**
 * Feed connections and message windows counted by every instance together, under
 * `<prefix>:feed:`: one sorted set of leases per address and per key (score: when the lease
 * lapses), and one expiring counter per caller's message window. This instance renews its leases
 * every third of `leaseMs`; a killed instance's connections stop counting once theirs lapse.
 * Redis down: `open` and `spend` fail with the port-level outage error (answered 503).
 */
export class RedisFeedQuota extends FeedQuota {
  private readonly logger = new Logger(RedisFeedQuota.name);
  private readonly redis: FeedQuotaRedis;
  /** Leases held by this instance, with the sets each one is in. */
  private readonly held = new Map<string, string[]>();
  private readonly timer: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private failing = false;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs: number,
  ) {
    super();
    if (!('feedOpen' in redis)) {
      redis.defineCommand('feedOpen', { lua: OPEN });
      redis.defineCommand('feedRenew', { lua: RENEW });
    }
    this.redis = withFixedWindowHit(redis) as FeedQuotaRedis;
    this.timer = setInterval(() => void this.renew(), Math.max(1, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  async open({ owner, address }: FeedHolder, caps: FeedCaps): Promise<FeedAdmission> {
    const sets = [this.key('address', address)];
    const limits = [caps.perAddress];
    if (owner !== undefined) {
      sets.push(this.key('key', owner));
      limits.push(caps.perKey);
    }
    const lease = randomUUID();
    // Held only once admitted: a renewal must never add a lease the cap has not judged. An answer
    // lost on the way leaves a lease nobody renews, which lapses.
    const refused = await orUnavailable(this.redis.feedOpen(sets.length, ...sets, lease, this.leaseMs, ...limits));
    if (refused !== 0) return { refused: refused === 1 ? 'address' : 'key' };
    this.held.set(lease, sets);
    return { lease };
  }

  async release(lease: string): Promise<void> {
    const sets = this.held.get(lease);
    if (!sets) return;
    // Forgotten first: a renewal sent after this never names it again. Commands on one
    // connection run in the order sent, so a renewal sent before the ZREM cannot undo it.
    this.held.delete(lease);
    const pipeline = this.redis.multi();
    for (const set of sets) pipeline.zrem(set, lease);
    await orUnavailable(pipeline.exec());
  }

  async spend(caller: string, windowMs: number): Promise<FeedSpend> {
    const [count, resetInMs] = await orUnavailable(this.redis.fixedWindowHit(this.key('messages', caller), windowMs));
    return { count, resetInMs };
  }

  /** Pushes back the lapse of every lease this instance holds (its timer calls it; tests may too). */
  renew(): Promise<void> {
    this.renewing ??= this.renewHeld().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  override close(): void {
    clearInterval(this.timer);
  }

  private async renewHeld(): Promise<void> {
    const pairs = [...this.held].flatMap(([lease, sets]) => sets.map((set) => [set, lease] as const));
    try {
      for (let at = 0; at < pairs.length; at += RENEW_BATCH) {
        // A lease released while an earlier batch was out is not named again: its ZREM went first.
        const batch = pairs.slice(at, at + RENEW_BATCH).filter(([, lease]) => this.held.has(lease));
        if (batch.length === 0) continue;
        await orUnavailable(this.redis.feedRenew(batch.length, ...batch.map(([set]) => set), this.leaseMs, ...batch.map(([, lease]) => lease)));
      }
      if (this.failing) this.logger.log('feed connection leases renewed again');
      this.failing = false;
    } catch (error) {
      // Next tick tries again; leases that lapse meanwhile are added back then.
      if (!this.failing) this.logger.warn(`cannot renew feed connection leases: ${error instanceof Error ? error.message : String(error)}`);
      this.failing = true;
    }
  }

  private key(kind: 'address' | 'key' | 'messages', id: string): string {
    return `${this.prefix}:feed:${kind}:${id}`;
  }
}

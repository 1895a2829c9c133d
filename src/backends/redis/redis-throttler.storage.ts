import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { orUnavailable } from './redis-unavailable';

/**
 * One fixed window per caller: the first hit creates the counter with the window's lifetime,
 * later hits only count. Both steps in one script, so two instances hitting the same key at once
 * can never leave a counter without an expiry (a caller blocked forever).
 */
const FIXED_WINDOW_HIT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if hits == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
`;

type FixedWindowRedis = Redis & { fixedWindowHit(key: string, windowMs: number): Promise<[number, number]> };

/** Registers the script once per connection (ioredis sends EVALSHA, EVAL on a cache miss). */
export function withFixedWindowHit(redis: Redis): FixedWindowRedis {
  if (!('fixedWindowHit' in redis)) redis.defineCommand('fixedWindowHit', { numberOfKeys: 1, lua: FIXED_WINDOW_HIT });
  return redis as FixedWindowRedis;
}

/**
 * The rate limit shared by every instance: the semantics of FixedWindowStorage (fixed windows,
 * blocked until the window ends), with the counters in Redis under `<prefix>:throttle:`.
 * Redis down: the request gets 503 + Retry-After at once, rather than passing unlimited.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: FixedWindowRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis = withFixedWindowHit(redis);
  }

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string) {
    const [totalHits, remainingMs] = await orUnavailable(this.redis.fixedWindowHit(`${this.prefix}:throttle:${throttlerName}:${key}`, ttl));
    const timeToExpire = Math.max(1, Math.ceil(remainingMs / 1000));
    const isBlocked = totalHits > limit;
    return { totalHits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }
}

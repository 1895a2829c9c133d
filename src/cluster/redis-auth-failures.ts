import type { Redis } from 'ioredis';
import { AuthFailures, secondsLeft } from '../auth/auth-failures';
import { withFixedWindowHit } from './redis-throttler.storage';
import { orUnavailable } from './redis-unavailable';

/** Milliseconds left in the address's window when it has reached the limit, else 0. */
const BLOCKED_FOR_MS = `
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures < tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
return ttl
`;

type AuthFailuresRedis = Redis & {
  authBlockedForMs(key: string, max: number): Promise<number>;
  fixedWindowHit(key: string, windowMs: number): Promise<[number, number]>;
};

/**
 * Failed authentications counted by every instance together, under `<prefix>:auth-failures:`
 * (one counter per address, expiring with its window: nothing to sweep). Redis down: 503, so a
 * guesser gains nothing from an outage.
 */
export class RedisAuthFailures extends AuthFailures {
  private readonly redis: AuthFailuresRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    max: number,
    windowMs: number,
  ) {
    super(max, windowMs);
    if (!('authBlockedForMs' in redis)) redis.defineCommand('authBlockedForMs', { numberOfKeys: 1, lua: BLOCKED_FOR_MS });
    this.redis = withFixedWindowHit(redis) as AuthFailuresRedis;
  }

  async retryAfter(address: string): Promise<number> {
    const ms = await orUnavailable(this.redis.authBlockedForMs(this.key(address), this.max));
    return ms > 0 ? secondsLeft(ms) : 0;
  }

  async record(address: string): Promise<void> {
    await orUnavailable(this.redis.fixedWindowHit(this.key(address), this.windowMs));
  }

  private key(address: string): string {
    return `${this.prefix}:auth-failures:${address}`;
  }
}

import type { Redis } from 'ioredis';
import { AuthFailures, secondsLeft } from '../../auth/auth-failures';
import { orUnavailable } from './redis-unavailable';

/** Milliseconds left in the address's window when it has reached the limit, else 0. */
const BLOCKED_FOR_MS = `
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures < tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
return ttl
`;

/**
 * Blocked: the milliseconds left, nothing counted. Else one more failure (a new window starts
 * with its expiry, in the same step, so no counter can be left without one) and 0.
 */
const FAIL = `
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then return ttl end
end
if redis.call('INCR', KEYS[1]) == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

type AuthFailuresRedis = Redis & {
  authBlockedForMs(key: string, max: number): Promise<number>;
  authFail(key: string, max: number, windowMs: number): Promise<number>;
};

/**
 * Failed authentications counted by every instance together, under `<prefix>:auth-failures:`
 * (one counter per address, expiring with its window: nothing to sweep). One round trip per
 * request. Redis down: 503, so a guesser gains nothing from an outage.
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
    if (!('authFail' in redis)) {
      redis.defineCommand('authBlockedForMs', { numberOfKeys: 1, lua: BLOCKED_FOR_MS });
      redis.defineCommand('authFail', { numberOfKeys: 1, lua: FAIL });
    }
    this.redis = redis as AuthFailuresRedis;
  }

  async retryAfter(address: string): Promise<number> {
    const ms = await orUnavailable(this.redis.authBlockedForMs(this.key(address), this.max));
    return ms > 0 ? secondsLeft(ms) : 0;
  }

  async fail(address: string): Promise<number> {
    const ms = await orUnavailable(this.redis.authFail(this.key(address), this.max, this.windowMs));
    return ms > 0 ? secondsLeft(ms) : 0;
  }

  private key(address: string): string {
    return `${this.prefix}:auth-failures:${address}`;
  }
}

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type IdempotencyRecord, IdempotencyStore } from '../../jobs/idempotency';
import { orUnavailable } from './redis-unavailable';

/** Frees a pending claim only if it is still the one this request made. */
const RELEASE = `
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local record = cjson.decode(held)
if record.state == 'pending' and record.fingerprint == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type IdempotencyRedis = Redis & { idempotencyRelease(key: string, fingerprint: string): Promise<number> };

/**
 * Idempotency keys of every instance, one Redis string each (`<prefix>:idem:<hash>`, JSON), with
 * its TTL: a claim is SET NX, so of two instances racing with one key exactly one wins.
 */
export class RedisIdempotencyStore extends IdempotencyStore {
  private readonly redis: IdempotencyRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    super();
    if (!('idempotencyRelease' in redis)) redis.defineCommand('idempotencyRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as IdempotencyRedis;
  }

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<IdempotencyRecord | null> {
    const id = this.key(key);
    const claimed = await orUnavailable(this.redis.set(id, JSON.stringify({ fingerprint, state: 'pending' }), 'PX', ttlMs, 'NX'));
    if (claimed === 'OK') return null;
    const held = await orUnavailable(this.redis.get(id));
    // Gone between the two calls (it lapsed): claim again.
    return held ? (JSON.parse(held) as IdempotencyRecord) : this.claim(key, fingerprint, ttlMs);
  }

  async complete(key: string, done: { fingerprint: string; jobId: string; status: number }, ttlMs: number): Promise<void> {
    await orUnavailable(this.redis.set(this.key(key), JSON.stringify({ ...done, state: 'done' }), 'PX', ttlMs));
  }

  async release(key: string, fingerprint: string): Promise<void> {
    await orUnavailable(this.redis.idempotencyRelease(this.key(key), fingerprint));
  }

  /** Callers' keys are any text: hashed, so key names stay short and safe. */
  private key(key: string): string {
    return `${this.prefix}:idem:${createHash('sha256').update(key).digest('base64url')}`;
  }
}

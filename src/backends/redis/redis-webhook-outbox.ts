import type { Redis } from 'ioredis';
import { type AttemptRecord, type DueDelivery, type NewDelivery, type WebhookDelivery, WebhookOutbox } from '../../webhooks/webhook-outbox';
import { orUnavailable } from './redis-unavailable';

/**
 * Takes a due delivery (KEYS: the due set, its hash; ARGV: id, now, leaseMs, holder): its score
 * becomes the end of the lease, so a holder that dies leaves it due again when the lease lapses.
 */
const CLAIM = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'holder', ARGV[4])
return redis.call('HGETALL', KEYS[2])
`;

/**
 * Stores an attempt's end if ARGV[2] still holds it (KEYS: due set, hash; ARGV: id, holder, state,
 * lastStatus, lastError, nextAttemptAt, at, retentionMs): due again at nextAttemptAt, or finished
 * (out of the due set, kept retentionMs to be listed).
 */
const RECORD = `
if redis.call('HGET', KEYS[2], 'holder') ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[3], 'lastStatus', ARGV[4], 'lastError', ARGV[5], 'holder', '')
if ARGV[3] == 'pending' then
  redis.call('HSET', KEYS[2], 'nextAttemptAt', ARGV[6])
  redis.call('ZADD', KEYS[1], ARGV[6], ARGV[1])
else
  redis.call('HDEL', KEYS[2], 'nextAttemptAt')
  redis.call('HSET', KEYS[2], 'finishedAt', ARGV[7])
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
return 1
`;

/** A job's list of deliveries outlives its last pending one by far (ids of expired deliveries are skipped). */
const JOB_LIST_EXTRA_MS = 7 * 24 * 3_600_000;

type OutboxRedis = Redis & {
  webhookClaim(due: string, hash: string, id: string, now: number, leaseMs: number, holder: string): Promise<string[] | null>;
  webhookRecord(due: string, hash: string, ...args: (string | number)[]): Promise<number>;
};

/**
 * Every instance's deliveries on one Redis: a hash per delivery (`<prefix>:wh:d:<id>`), a sorted
 * set of the unfinished ones by when each may be claimed (`<prefix>:wh:due`: the next attempt, or
 * while claimed the end of the lease), and each job's ids in order (`<prefix>:wh:job:<jobId>`).
 */
export class RedisWebhookOutbox extends WebhookOutbox {
  private readonly redis: OutboxRedis;
  private readonly dueKey: string;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly retentionMs: number,
  ) {
    super();
    if (!('webhookClaim' in redis)) {
      redis.defineCommand('webhookClaim', { numberOfKeys: 2, lua: CLAIM });
      redis.defineCommand('webhookRecord', { numberOfKeys: 2, lua: RECORD });
    }
    this.redis = redis as OutboxRedis;
    this.dueKey = `${prefix}:wh:due`;
  }

  async enqueue(delivery: NewDelivery): Promise<void> {
    const fields: Record<string, string | number> = { ...delivery, state: 'pending', attempts: 0, nextAttemptAt: delivery.createdAt };
    if (delivery.owner === undefined) delete fields.owner;
    const list = this.jobKey(delivery.jobId);
    await orUnavailable(
      this.redis
        .multi()
        .hset(this.key(delivery.id), fields)
        .rpush(list, delivery.id)
        .pexpire(list, this.retentionMs + JOB_LIST_EXTRA_MS)
        .zadd(this.dueKey, delivery.createdAt, delivery.id)
        .exec(),
    );
  }

  async due(now: number, limit: number): Promise<DueDelivery[]> {
    const ids = await orUnavailable(this.redis.zrangebyscore(this.dueKey, '-inf', now, 'LIMIT', 0, limit));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.key(id), 'owner', 'url');
    const rows = (await orUnavailable(pipeline.exec())) ?? [];
    return ids.flatMap((id, i) => {
      const [owner, url] = (rows[i]?.[1] as (string | null)[] | undefined) ?? [];
      return url ? [{ id, url, ...(owner ? { owner } : {}) }] : [];
    });
  }

  async claim(id: string, holder: string, now: number, leaseMs: number): Promise<WebhookDelivery | null> {
    const pairs = await orUnavailable(this.redis.webhookClaim(this.dueKey, this.key(id), id, now, leaseMs, holder));
    return pairs ? fromHash(pairs) : null;
  }

  async record(id: string, holder: string, attempt: AttemptRecord): Promise<boolean> {
    const args = [id, holder, attempt.state, String(attempt.lastStatus), attempt.lastError ?? '', attempt.nextAttemptAt ?? attempt.at, attempt.at, this.retentionMs];
    return (await orUnavailable(this.redis.webhookRecord(this.dueKey, this.key(id), ...args))) === 1;
  }

  async defer(id: string, until: number): Promise<void> {
    // GT: only later, so a claimed delivery's lease (a later score) is never shortened; XX: never re-adds a finished one.
    const moved = await orUnavailable(this.redis.zadd(this.dueKey, 'XX', 'GT', 'CH', until, id));
    if (Number(moved) === 1) await orUnavailable(this.redis.hset(this.key(id), 'nextAttemptAt', until));
  }

  async list(jobId: string): Promise<WebhookDelivery[]> {
    const ids = await orUnavailable(this.redis.lrange(this.jobKey(jobId), 0, -1));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key(id));
    const rows = (await orUnavailable(pipeline.exec())) ?? [];
    return rows.flatMap(([, hash]) => {
      const fields = hash as Record<string, string> | null;
      return fields?.id ? [fromFields(fields)] : [];
    });
  }

  private key(id: string): string {
    return `${this.prefix}:wh:d:${id}`;
  }

  private jobKey(jobId: string): string {
    return `${this.prefix}:wh:job:${jobId}`;
  }
}

function fromHash(pairs: string[]): WebhookDelivery {
  const fields: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) fields[pairs[i]] = pairs[i + 1];
  return fromFields(fields);
}

function fromFields(f: Record<string, string>): WebhookDelivery {
  const delivery: WebhookDelivery = {
    id: f.id,
    jobId: f.jobId,
    event: f.event,
    url: f.url,
    secret: f.secret,
    payload: f.payload,
    createdAt: Number(f.createdAt),
    state: f.state as WebhookDelivery['state'],
    attempts: Number(f.attempts),
  };
  if (f.owner) delivery.owner = f.owner;
  if (f.lastStatus) delivery.lastStatus = /^\d+$/.test(f.lastStatus) ? Number(f.lastStatus) : f.lastStatus;
  if (f.lastError) delivery.lastError = f.lastError;
  if (f.nextAttemptAt) delivery.nextAttemptAt = Number(f.nextAttemptAt);
  if (f.finishedAt) delivery.finishedAt = Number(f.finishedAt);
  return delivery;
}

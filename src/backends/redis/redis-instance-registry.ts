import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { type InstanceInfo, InstanceRegistry, type InstanceView, type LocalInstance } from '../../pool/instance-registry';

/** Writes this instance's entry (expiring) and adds it to the index, in one step. */
const BEAT = `
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
`;

/**
 * Every live entry (entry keys are built from the index's ids, as BullMQ's scripts do: fine on a
 * single Redis, which is what the cluster mode runs on). Ids whose entry has expired (a dead instance) leave the index here, so the
 * index stays as small as the cluster without anyone sweeping it.
 */
const LIVE = `
local ids = redis.call('SMEMBERS', KEYS[1])
local live = {}
for _, id in ipairs(ids) do
  local entry = redis.call('GET', ARGV[1] .. id)
  if entry then table.insert(live, entry) else redis.call('SREM', KEYS[1], id) end
end
return live
`;

const LEAVE = `
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
`;

type RegistryRedis = Redis & {
  instanceBeat(index: string, key: string, id: string, entry: string, ttlMs: number): Promise<unknown>;
  instancesLive(index: string, keyPrefix: string): Promise<string[]>;
  instanceLeave(index: string, key: string, id: string): Promise<unknown>;
};

export interface HeartbeatTiming {
  /** How often this instance rewrites its entry. */
  everyMs: number;
  /** How long an entry outlives its last write: an instance killed disappears after this. */
  ttlMs: number;
}

/**
 * The pool panel of a cluster: each instance writes `{id, host, pid, startedAt, stats}` to
 * `<prefix>:instance:<id>` every second with a 3 s expiry and lists itself in `<prefix>:instances`;
 * `list()` reads every entry still alive. A Redis outage leaves the panel with this instance
 * only, rather than failing GET /pool (readiness reports the outage).
 */
export class RedisInstanceRegistry extends InstanceRegistry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly redis: RegistryRedis;
  private timer?: NodeJS.Timeout;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    redis: Redis,
    private readonly prefix: string,
    local: LocalInstance,
    private readonly timing: HeartbeatTiming = { everyMs: 1_000, ttlMs: 3_000 },
  ) {
    super(local);
    if (!('instanceBeat' in redis)) {
      redis.defineCommand('instanceBeat', { numberOfKeys: 2, lua: BEAT });
      redis.defineCommand('instancesLive', { numberOfKeys: 1, lua: LIVE });
      redis.defineCommand('instanceLeave', { numberOfKeys: 2, lua: LEAVE });
    }
    this.redis = redis as RegistryRedis;
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  /** Before the shutdown hooks, so the shared connection is still open for the goodbye. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts the heartbeat (the first write at once). */
  start(): void {
    if (this.timer) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), this.timing.everyMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and removes the entry, so the panel drops this instance at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A beat still in flight would otherwise write the entry back after it is removed.
    await this.beating;
    await this.redis.instanceLeave(this.index, this.key(this.local.id), this.local.id).catch(() => {});
  }

  async list(): Promise<InstanceView[]> {
    const self: InstanceView = { ...this.local.snapshot(), self: true };
    let entries: string[];
    try {
      entries = await this.redis.instancesLive(this.index, `${this.prefix}:instance:`);
    } catch {
      return [self];
    }
    const others = entries
      .map((entry) => JSON.parse(entry) as InstanceInfo)
      .filter((info) => info.id !== self.id)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((info) => ({ ...info, self: false }));
    return [self, ...others];
  }

  /** A missed beat (Redis down) is only a gap: the next one rewrites the entry. */
  private beat(): void {
    const entry = this.local.snapshot();
    this.beating = this.redis
      .instanceBeat(this.index, this.key(entry.id), entry.id, JSON.stringify(entry), this.timing.ttlMs)
      .then(() => {})
      .catch(() => {});
  }

  private get index(): string {
    return `${this.prefix}:instances`;
  }

  private key(id: string): string {
    return `${this.prefix}:instance:${id}`;
  }
}

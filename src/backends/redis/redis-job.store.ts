import { type ChainableCommander, type Redis, ReplyError } from 'ioredis';
import {
  type AdmissionFigures,
  type Announce,
  type Applied,
  type JobHeader,
  type JobPage,
  type JobQuery,
  LIST_SCAN_BUDGET,
  type JobSnapshotData,
  type NewJob,
  type NewTask,
  type RetentionPolicy,
  type StoredUpdate,
  type TaskRecord,
} from '../../jobs/job-data';
import { JobStore, StoreUnavailableError } from '../../jobs/job.store';
import { NOTHING_APPLIED, STATE_OF_CODE } from '../../jobs/job-store.shared';
import { appendArgs, applyArgs, headerFields, parseApplied, parseHeader } from './redis-job.codec';
import { JOB_STORE_SCRIPTS, type JobStoreScript } from './redis-job.scripts';

export interface RedisJobStoreOptions {
  /** Every key starts with it (REDIS_PREFIX), so instances of one service share and others don't. */
  prefix: string;
  retention: RetentionPolicy;
}

/**
 * The cluster mode's store: every job in Redis, shared by all instances. Each write is one Lua
 * script (atomic, one round trip); see redis-job.scripts.ts for the key layout. The connection
 * should fail fast (connectRedis without `blocking`): a command Redis cannot take rejects with
 * StoreUnavailableError, which the service turns into 503. The connection belongs to the caller
 * (the backend's): close() does not quit it.
 */
export class RedisJobStore extends JobStore {
  override readonly announces = true;
  private readonly prefix: string;
  private readonly retention: RetentionPolicy;

  constructor(
    private readonly redis: Redis,
    options: RedisJobStoreOptions,
  ) {
    super();
    this.prefix = options.prefix;
    this.retention = options.retention;
    for (const [name, lua] of Object.entries(JOB_STORE_SCRIPTS)) {
      redis.defineCommand(commandName(name as JobStoreScript), { lua, numberOfKeys: 0 });
    }
  }

  async admission(callerId: string): Promise<AdmissionFigures> {
    const [held, queued, version] = (await this.run('admission', callerId)) as [string[], string, string];
    const fields = pairs(held);
    const count = (name: string) => Number(fields.get(name) ?? 0);
    return {
      held: {
        jobs: count('jobs'),
        resultBytes: count('resultBytes'),
        counters: Object.fromEntries([...fields].filter(([name, value]) => name.startsWith('c:') && Number(value) !== 0).map(([name, value]) => [name.slice(2), Number(value)])),
      },
      queued: Number(queued),
      version,
    };
  }

  async create(job: NewJob, inputs: unknown[], version: string): Promise<boolean> {
    const { reservation } = job;
    const fields = headerFields(job);
    // One argument for all inputs (JSON never holds a raw newline): 100k arguments would cost far more.
    const encoded = inputs.map((input) => JSON.stringify(input) ?? 'null').join('\n');
    const created = await this.run('create', job.id, [
      version,
      job.callerId,
      reservation.tasks,
      reservation.resultBytes,
      JSON.stringify(reservation.counters ?? {}),
      fields.length / 2,
      ...fields,
      encoded,
    ]);
    return created === 1;
  }

  async get(id: string): Promise<JobHeader | undefined> {
    const hash = await this.guard(this.redis.hgetall(this.key(id)));
    return Object.keys(hash).length > 0 ? parseHeader(new Map(Object.entries(hash))) : undefined;
  }

  async list({ owner, status, kind, labels = [], q, before, limit }: JobQuery): Promise<JobPage> {
    const [hashes, next, total] = (await this.run('list', '', [
      owner === undefined ? '0' : '1',
      owner ?? '',
      status ?? '',
      kind ?? '',
      q ?? '',
      before ?? '',
      Math.max(0, limit),
      LIST_SCAN_BUDGET,
      Date.now(),
      Math.max(1, Math.round(this.retention.maxAgeMs)),
      labels.length,
      ...labels.flat(),
    ])) as [string[][], string, number];
    return { items: hashes.map((hash) => parseHeader(pairs(hash))), next: next === '' ? null : Number(next), total: total < 0 ? null : total };
  }

  async snapshot(id: string): Promise<JobSnapshotData | undefined> {
    const reply = (await this.run('snapshot', id)) as [string[], string, string[]] | [];
    if (reply.length === 0) return undefined;
    const [header, tasks, progress] = reply;
    return { header: parseHeader(pairs(header)), tasks, progress: Object.fromEntries([...pairs(progress)].map(([index, value]) => [Number(index), Number(value)])) };
  }

  async tasks(id: string, offset: number, limit: number): Promise<TaskRecord[]> {
    // In slices, each one atomic read: the HMGETs name every index asked for.
    const records: TaskRecord[] = [];
    for (let first = Math.max(0, offset), left = limit; left > 0; ) {
      const count = Math.min(left, TASKS_PER_READ);
      const fields = Array.from({ length: count }, (_, i) => first + i);
      const [reply, results, errors] = await this.withValues('tasks', id, [first, count], fields);
      const [start, inputs, states] = (reply.length > 0 ? reply : [first, [], '']) as [number, string[], string];
      for (const [i, input] of inputs.entries()) records.push(parseRecord(start + i, input, states[i], results[i], errors[i]));
      if (inputs.length < count) break;
      first += count;
      left -= count;
    }
    return records;
  }

  async tasksAt(id: string, indexes: readonly number[]): Promise<TaskRecord[]> {
    const wanted = indexes.filter((index) => Number.isInteger(index) && index >= 0);
    if (wanted.length === 0) return [];
    const [reply, results, errors] = await this.withValues('tasksAt', id, wanted, wanted);
    if (reply.length === 0) return [];
    const [found, inputs, states] = reply as [number[], string[], string[]];
    // The script drops the indexes past the total, keeping the order: `found` is a subsequence of `wanted`.
    const records: TaskRecord[] = [];
    for (let i = 0, w = 0; i < found.length; i++, w++) {
      while (w < wanted.length && wanted[w] !== found[i]) w++;
      records.push(parseRecord(found[i], inputs[i], states[i], results[w], errors[w]));
    }
    return records;
  }

  /**
   * Runs a task-reading script and HMGETs of the tasks' results and errors in one MULTI (one
   * atomic step, so they agree with the states read): values this big are read in plain
   * commands, not copied through Lua.
   */
  private async withValues(name: 'tasks' | 'tasksAt', id: string, args: number[], fields: number[]): Promise<[unknown[], (string | null)[], (string | null)[]]> {
    const multi = this.redis.multi();
    this.script(multi, name, id, args);
    // One array argument each (ioredis flattens it), as in script().
    const names = fields.map(String) as unknown as string;
    multi.hmget(this.key(id, 'res'), names);
    multi.hmget(this.key(id, 'err'), names);
    const values = multi.exec().then((replies) => {
      if (!replies) throw new Error(`RedisJobStore.${name}: the transaction was aborted`);
      for (const [error] of replies) if (error) throw error;
      return replies.map(([, value]) => value);
    });
    return (await this.guard(values)) as [unknown[], (string | null)[], (string | null)[]];
  }

  async inputs(id: string, offset: number, limit: number): Promise<unknown[]> {
    if (limit <= 0) return [];
    const start = Math.max(0, offset);
    // The input list holds exactly `total` entries, so LRANGE clips to the total by itself.
    const inputs = await this.guard(this.redis.lrange(this.key(id, 'in'), start, offset + limit - 1));
    return inputs.map((input) => JSON.parse(input));
  }

  async appendTasks(id: string, tasks: NewTask[], maxTotal: number, announce?: Announce): Promise<{ index: number; input: unknown }[]> {
    if (tasks.length === 0) return [];
    const reply = (await this.run('appendTasks', id, appendArgs(id, tasks, maxTotal, announce))) as number[];
    const appended: { index: number; input: unknown }[] = [];
    for (let i = 0; i < reply.length; i += 2) appended.push({ index: reply[i + 1], input: tasks[reply[i]].input });
    return appended;
  }

  async markSeen(id: string, keys: string[]): Promise<number> {
    return (await this.run('markSeen', id, keys)) as number;
  }

  async start(id: string, now: number): Promise<JobHeader | undefined> {
    const hash = (await this.run('start', id, [now])) as string[] | null;
    return hash ? parseHeader(pairs(hash)) : undefined;
  }

  async apply(id: string, updates: StoredUpdate[], announce?: Announce): Promise<Applied> {
    const reply = (await this.run('apply', id, applyArgs(id, updates, announce))) as unknown[];
    if (reply.length === 0) return NOTHING_APPLIED();
    const applied = parseApplied(reply);
    if (reply[9] === 1) applied.announced = true;
    applied.changed = (reply[1] as number[]).map((position) => ({ ...updates[position] }));
    return applied;
  }

  async settle(id: string): Promise<Applied> {
    const reply = (await this.run('settle', id)) as unknown[];
    if (reply.length === 0) return NOTHING_APPLIED();
    const applied = parseApplied(reply);
    const inputs = reply[9] as string[];
    applied.changed = (reply[1] as number[]).map((index, i) => ({ index, state: 'cancelled', input: JSON.parse(inputs[i]) }));
    return applied;
  }

  async setSummary(id: string, summary: Record<string, number>): Promise<void> {
    await this.run('setSummary', id, [JSON.stringify(summary)]);
  }

  async saveNotes(id: string, notes: Record<string, string>): Promise<void> {
    const fields = Object.entries(notes).flat();
    if (fields.length > 0) await this.run('saveNotes', id, fields);
  }

  async readNotes(id: string, prefix: string): Promise<Record<string, string>> {
    return Object.fromEntries(pairs((await this.run('readNotes', id, [prefix])) as string[]));
  }

  async requestCancel(id: string, reason: string): Promise<JobHeader | undefined> {
    const hash = (await this.run('requestCancel', id, [reason])) as string[] | null;
    return hash ? parseHeader(pairs(hash)) : undefined;
  }

  async finish(id: string, status: 'completed' | 'failed' | 'cancelled', reason: string | undefined, now: number): Promise<JobHeader | undefined> {
    const { maxAgeMs, maxCount, maxBytes } = this.retention;
    const hash = (await this.run('finish', id, [status, reason ?? '', now, Math.max(1, Math.round(maxAgeMs)), maxCount, maxBytes])) as string[] | null;
    return hash ? parseHeader(pairs(hash)) : undefined;
  }

  async unfinished(owner?: string): Promise<string[]> {
    if (owner !== undefined) return (await this.run('unfinishedOf', owner)) as string[];
    return this.guard(this.redis.smembers(`${this.prefix}:unfinished`));
  }

  async claim(id: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.run('claim', id, [holder, Math.max(1, Math.round(ttlMs))])) === 1;
  }

  async renew(id: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.run('renew', id, [holder, Math.max(1, Math.round(ttlMs))])) === 1;
  }

  async release(id: string, holder: string): Promise<void> {
    await this.run('release', id, [holder]);
  }

  async unclaimed(): Promise<string[]> {
    return (await this.run('unclaimed', '')) as string[];
  }

  async ping(): Promise<void> {
    await this.guard(this.redis.ping());
  }

  async close(): Promise<void> {}

  private key(id: string, part?: string): string {
    return part ? `${this.prefix}:job:${id}:${part}` : `${this.prefix}:job:${id}`;
  }

  /** Runs one of the store's scripts with the prefix and the id (or caller) as its first arguments. */
  private run(name: JobStoreScript, id: string, args: (string | number)[] = []): Promise<unknown> {
    return this.guard(this.script(this.redis, name, id, args) as Promise<unknown>);
  }

  /** Calls one of the store's scripts on the connection or on a MULTI being built. */
  private script(on: Redis | ChainableCommander, name: JobStoreScript, id: string, args: (string | number)[]): unknown {
    const command = (on as unknown as Record<string, (args: (string | number)[]) => unknown>)[commandName(name)];
    // One array argument (ioredis flattens it): a 100k-input create would overflow a spread call.
    return command.call(on, [this.prefix, id, ...args]);
  }

  /** Connection trouble becomes StoreUnavailableError (503, retry later); a script bug stays what it is. */
  private async guard<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      throw isUnavailable(error) ? new StoreUnavailableError(error) : error;
    }
  }
}

/** Tasks read in one MULTI at most (a results page reads far fewer). */
const TASKS_PER_READ = 10_000;

function commandName(name: JobStoreScript): string {
  return `jobStore_${name}`;
}

/** Redis answers these while it cannot serve (starting, out of memory, a script stuck, a replica). */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|OOM|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)/;

function isUnavailable(error: unknown): boolean {
  if (error instanceof ReplyError) return UNAVAILABLE_REPLIES.test((error as Error).message);
  return true;
}

function pairs(flat: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

/** A task as the scripts return it: its input, state code, result and error as stored. */
function parseRecord(index: number, input: string, state: string, result: string | null, error: string | null): TaskRecord {
  const record: TaskRecord = { index, input: JSON.parse(input), state: STATE_OF_CODE[state] };
  if (result !== null) record.result = JSON.parse(result);
  if (error !== null) record.error = JSON.parse(error);
  return record;
}

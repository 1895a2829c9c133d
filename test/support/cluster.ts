import { type RedisServer, startRedisServer } from './redis-server';
import { ROOT, type ServiceProcess, startService } from './service-process';

/**
 * A cluster for the e2e proofs: one real redis-server (AOF on, as the cluster mode's durability
 * needs) and service instances as child processes (node dist/main.js) sharing it. Instances are
 * named (INSTANCE_ID), can be killed -9, stopped with SIGTERM and started fresh; every wait is a
 * bounded poll, never a fixed sleep.
 */
/** REDIS_PREFIX of the instances (letters, digits, _ and - only). */
export const PREFIX = 'e2e';
export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'];

export interface ClusterOptions {
  /** Settings for every instance (overridable per instance). */
  env?: Record<string, string>;
  /** CLUSTER_LEASE_MS: how long a dead instance's work stays with it. */
  leaseMs?: number;
  poolSize?: number;
  /** Folder holding dist/main.js; the repository root by default. */
  cwd?: string;
  /** Node arguments that start an instance instead of dist/main.js (see StartOptions.entry). */
  entry?: string[];
}

export interface Instance extends ServiceProcess {
  id: string;
}

export interface JobView {
  id: string;
  kind: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  reason?: string;
  summary?: Record<string, number>;
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
  /** How long the exchange took, ms. */
  ms: number;
}

export class Cluster {
  readonly instances = new Map<string, Instance>();
  private started = 0;

  private constructor(
    readonly redis: RedisServer,
    private readonly options: ClusterOptions,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    return new Cluster(await startRedisServer({ appendonly: true }), options);
  }

  /** The environment an instance gets: Redis, lease, pool size, its name, then the overrides. */
  env(id: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: PREFIX,
      CLUSTER_LEASE_MS: String(this.options.leaseMs ?? 3_000),
      POOL_SIZE: String(this.options.poolSize ?? 1),
      INSTANCE_ID: id,
      ...this.options.env,
      ...extra,
    };
  }

  /** Starts an instance (a fresh name unless given) and resolves once it is ready. */
  async startInstance(id = `node-${++this.started}`, extra: Record<string, string> = {}): Promise<Instance> {
    if (this.instances.has(id)) throw new Error(`instance ${id} is already running`);
    const svc = await startService({ env: this.env(id, extra), cwd: this.options.cwd ?? ROOT, readyTimeoutMs: 30_000, entry: this.options.entry });
    const instance: Instance = Object.assign(svc, { id });
    this.instances.set(id, instance);
    void svc.exited.then(() => this.instances.get(id) === instance && this.instances.delete(id));
    return instance;
  }

  get(id: string): Instance {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`no running instance ${id} (running: ${[...this.instances.keys()].join(', ') || 'none'})`);
    return instance;
  }

  /** kill -9 (a crash); resolves once it is gone, with the moment the signal went (Date.now()). */
  async kill(id: string): Promise<number> {
    const instance = this.get(id);
    const at = Date.now();
    instance.child.kill('SIGKILL');
    await instance.exited;
    this.instances.delete(id);
    return at;
  }

  /** Graceful stop (SIGTERM by default): resolves with how it exited. */
  async stop(id: string, signal: NodeJS.Signals = 'SIGTERM', ms = 20_000) {
    const exit = await this.get(id).stop(signal, ms);
    this.instances.delete(id);
    return exit;
  }

  /** Kills every instance -9 (total loss), in parallel. */
  async killAll(): Promise<number> {
    const at = Date.now();
    await Promise.all([...this.instances.keys()].map((id) => this.kill(id)));
    return at;
  }

  /** Kills this cluster's instances (not other clusters' of the same file: they may run side by side) and its Redis. */
  async close(): Promise<void> {
    await Promise.all([...this.instances.values()].map((instance) => instance.stop('SIGKILL')));
    this.instances.clear();
    await this.redis.stop();
  }

  /** Polls GET /jobs/:id through `via` until `done` holds (a final status by default); fails after `ms`. */
  async waitForJob(via: Instance, jobId: string, done: (job: JobView) => boolean = isFinal, ms = 30_000): Promise<JobView> {
    let last: Answer<JobView> | undefined;
    return waitUntil(
      async () => {
        last = await call<JobView>(via, 'GET', `/jobs/${jobId}`).catch(() => undefined);
        return last?.status === 200 && done(last.body) ? last.body : undefined;
      },
      ms,
      () => `job ${jobId} via ${via.id}: last answer ${last ? `${last.status} ${JSON.stringify(last.body).slice(0, 300)}` : 'none'}`,
    );
  }
}

export const isFinal = (job: JobView) => FINAL_STATUSES.includes(job.status);

/** One HTTP exchange with an instance, JSON in and out; `key` adds a bearer token. */
export async function call<T = any>(instance: { url: string }, method: string, path: string, body?: unknown, key?: string): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers.authorization = `Bearer ${key}`;
  const started = Date.now();
  const res = await fetch(`${instance.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as T, headers: res.headers, ms: Date.now() - started };
}

/** Every result item of a job, page by page, through `via` (following nextOffset). */
export async function allResults(via: { url: string }, jobId: string, limit = 1_000): Promise<any[]> {
  const items: any[] = [];
  let offset = 0;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await call(via, 'GET', `/jobs/${jobId}/results?offset=${offset}&limit=${limit}`);
    if (page.status !== 200) throw new Error(`results of ${jobId} at ${offset}: ${page.status} ${JSON.stringify(page.body).slice(0, 300)}`);
    items.push(...page.body.items);
    const next = page.body.nextOffset;
    if (typeof next !== 'number' || next <= offset) return items;
    offset = next;
  }
  throw new Error(`results of ${jobId}: too many pages`);
}

/** Polls `check` (every 50 ms) until it returns something other than undefined; fails after `ms`. */
export async function waitUntil<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string | (() => string)): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

/**
 * One instance's pool figures as GET /pool on `via` reports them: its own figures at the top level
 * (live), every live instance of the cluster in `instances: [{id, host, pid, startedAt, stats, self}]`
 * (another instance's figures are those of its last heartbeat).
 */
export async function poolOf(via: Instance, id = via.id): Promise<Record<string, any> | undefined> {
  const { status, body } = await call(via, 'GET', '/pool');
  if (status !== 200) throw new Error(`GET /pool on ${via.id}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
  if (id === via.id) return body;
  const listed = Array.isArray(body.instances) ? body.instances.find((i: { id?: string }) => i.id === id) : undefined;
  return listed ? { id, ...listed.stats } : undefined;
}

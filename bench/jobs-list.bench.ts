/**
 * GET /jobs with filters at 100,000 retained jobs: per query, the latency of one request at a time
 * (p50, p99, max over many), in both modes, against the built service (dist/).
 *
 * - embedded: the built app runs in this process, and its 100,000 jobs are written straight into
 *   its MemoryJobStore (created and finished as the service does). Submitting them over HTTP took
 *   over 20 minutes on the shared 2-core host, and measures nothing more about listing.
 * - cluster: the jobs are written straight into Redis by the store the service uses (RedisJobStore,
 *   same prefix: created and finished exactly as an instance would, pipelined), then one instance
 *   starts on that Redis and is asked. Going through the cluster's queue instead would take
 *   minutes and measure nothing more about listing.
 *
 * Every job belongs to one API key (the worst case: the caller's own scope holds all 100,000).
 * Labels: team t0..t9 (10,000 each), env prod/dev; one job in 7 failed, one in 11 cancelled, the
 * rest completed; one in 1,000 is named "needle …". Run with `npm run bench:jobs`
 * (`-- --quick`: 5,000 jobs, few requests; checks the script, not a figure). Needs redis-server
 * for the cluster half. Writes its section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { ApiKeys } from '../src/auth/api-keys';
import { RedisJobStore } from '../src/backends/redis/redis-job.store';
import type { Backend } from '../src/backends/backend';
import type { JobQuery, NewJob } from '../src/jobs/job-data';
import type { JobStore } from '../src/jobs/job.store';
import { encodeCursor } from '../src/jobs/list-cursor';
import { type RedisServer, redisServerAvailable, startRedisServer } from '../test/support/redis-server';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { buildIfStale, ROOT, Service } from './lib/service';
import { plainTable } from './lib/table';

const OPTIONS = ['--quick'];
for (const arg of process.argv.slice(2)) if (!OPTIONS.includes(arg)) throw new Error(`unknown option ${arg} (known: ${OPTIONS.join(' ')})`);
const quick = process.argv.includes('--quick');

const JOBS = quick ? 5_000 : 100_000;
const REQUESTS = quick ? 20 : 300;
const WARMUP = quick ? 3 : 20;
const KEY = 'bench-jobs-list-key-0123456789';
const OWNER = new ApiKeys([KEY]).verify(KEY) as string;
const RETENTION = { maxAgeMs: 24 * 3_600_000, maxCount: 1_000_000, maxBytes: 64 * 1024 ** 3 };
const SERVICE_ENV = {
  API_KEYS: KEY,
  RATE_LIMIT_MAX: '10000000',
  MAX_JOBS_IN_FLIGHT_PER_KEY: '100',
  JOB_RETENTION_MS: String(RETENTION.maxAgeMs),
  JOB_RETENTION_COUNT: String(RETENTION.maxCount),
  LOG_LEVEL: 'warn',
};

/** Job i's name, labels and final status: the same in both modes. */
function shapeOf(i: number) {
  const status = i % 7 === 3 ? 'failed' : i % 11 === 5 ? 'cancelled' : 'completed';
  return { name: i % 1_000 === 500 ? `needle ${i}` : `nightly report ${i}`, labels: { team: `t${i % 10}`, env: i % 2 ? 'prod' : 'dev' }, status } as const;
}

interface Query {
  what: string;
  path: string;
}

/** The queries measured; `deep` continues from the middle of the owner's jobs. */
function queries(idPrefix: string): Query[] {
  const t3: Omit<JobQuery, 'limit'> = { owner: OWNER, labels: [['team', 't3']] };
  const deep = encodeCursor(Math.round(JOBS / 2), t3);
  return [
    { what: 'no filter', path: '/jobs?limit=50' },
    { what: 'status', path: '/jobs?status=completed&limit=50' },
    { what: 'one label (1 in 10)', path: '/jobs?label=team:t3&limit=50' },
    { what: 'one label, from the middle (cursor)', path: `/jobs?label=team:t3&limit=50&cursor=${deep}` },
    { what: 'label + status', path: '/jobs?label=team:t3&status=completed&limit=50' },
    { what: 'two labels + kind + status', path: '/jobs?label=team:t3&label=env:prod&kind=fibonacci&status=completed&limit=50' },
    { what: 'q, name part (1 in 1,000)', path: '/jobs?q=needle&limit=50' },
    { what: 'q, no match (budget: 2,000 examined)', path: '/jobs?q=no-such-name&limit=50' },
    { what: 'q, id prefix (the newest job)', path: `/jobs?q=${idPrefix}&limit=50` },
  ];
}

/** A new job shaped as job i: finished jobs are all a listing reads. */
function jobOf(i: number): NewJob {
  const { name, labels } = shapeOf(i);
  return { id: randomUUID(), kind: 'fibonacci', owner: OWNER, callerId: OWNER, name, labels, reservation: { tasks: 1, resultBytes: 64 }, createdAt: Date.now() };
}

/** The embedded store is synchronous inside: create (admit) and finish one job after another. */
async function fillStore(store: JobStore): Promise<void> {
  for (let i = 0; i < JOBS; i++) {
    const job = jobOf(i);
    const { status } = shapeOf(i);
    await store.admit(
      job,
      [1],
      () => {},
      () => new Error('admission kept changing'),
    );
    await store.finish(job.id, status, status === 'completed' ? undefined : 'bench', Date.now());
  }
}

async function fillRedis(redis: RedisServer): Promise<void> {
  const client = new Redis(redis.url, { lazyConnect: false });
  const store = new RedisJobStore(client, { prefix: 'bench', retention: RETENTION });
  // Each create bumps the admission version by one and nothing else writes meanwhile, so the
  // version is known without reading it back: creates and finishes go out pipelined, in order.
  let version = Number((await store.admission(OWNER)).version);
  const batch = 1_000;
  for (let from = 0; from < JOBS; from += batch) {
    const pending: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(JOBS, from + batch); i++) {
      const { status } = shapeOf(i);
      const job = jobOf(i);
      pending.push(store.create(job, [1], String(version++)).then((made) => made || Promise.reject(new Error(`job ${i} not created`))));
      pending.push(store.finish(job.id, status, status === 'completed' ? undefined : 'bench', Date.now()));
    }
    await Promise.all(pending);
    if ((from + batch) % 20_000 === 0) console.log(`  ${from + batch} jobs`);
  }
  client.disconnect();
}

interface Measured {
  what: string;
  /** Cluster: Redis's own time per listing script (INFO commandstats), free of the client's and the service's. */
  redisUs?: number;
  p50: number;
  p99: number;
  max: number;
  items: number;
  total: string;
  more: boolean;
}

/** EVALSHA calls and their total µs so far (the listing script is the only one a GET /jobs runs). */
async function evalStats(redis: RedisServer | undefined): Promise<{ calls: number; usec: number } | undefined> {
  if (!redis) return undefined;
  const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.client().info('commandstats'));
  return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
}

async function measure(url: string, redis?: RedisServer): Promise<Measured[]> {
  const results: Measured[] = [];
  const newest = await fetch(`${url}/jobs?limit=1`, { headers: { authorization: `Bearer ${KEY}` } });
  const idPrefix = ((await newest.json()) as { items: { id: string }[] }).items[0].id.slice(0, 13);
  for (const { what, path } of queries(idPrefix)) {
    const times: number[] = [];
    let before: Awaited<ReturnType<typeof evalStats>>;
    let last: { items: unknown[]; total: number | null; nextCursor: string | null } | undefined;
    for (let n = 0; n < WARMUP + REQUESTS; n++) {
      if (n === WARMUP) before = await evalStats(redis);
      const start = performance.now();
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
      const body = (await res.json()) as typeof last;
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
      if (n >= WARMUP) times.push(performance.now() - start);
      last = body;
    }
    const after = await evalStats(redis);
    // Other scripts (lease renewals, the registry) run meanwhile too: their calls are few and short.
    const redisUs = before && after ? (after.usec - before.usec) / Math.max(1, after.calls - before.calls) : undefined;
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
    const page = last as NonNullable<typeof last>;
    results.push({
      what,
      redisUs,
      p50: at(0.5),
      p99: at(0.99),
      max: times[times.length - 1],
      items: page.items.length,
      total: page.total === null ? 'null' : String(page.total),
      more: page.nextCursor !== null,
    });
    console.log(`  ${what}: p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms (${page.items.length} items)${redisUs === undefined ? '' : `, Redis ${redisUs.toFixed(0)} µs per script`}`);
  }
  return results;
}

/**
 * The embedded service: the built app (dist/, as dist/main.js builds it) in this process, so its
 * memory store can be filled directly; requests still go over loopback HTTP through the whole app.
 */
async function embedded(): Promise<{ rows: Measured[]; fillS: number; rssMb: number }> {
  const { createApp } = require(join(ROOT, 'dist', 'app.factory.js')) as typeof import('../src/app.factory');
  const { BACKEND } = require(join(ROOT, 'dist', 'backends', 'backend.js')) as typeof import('../src/backends/backend');
  const app = await createApp({ env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', ...SERVICE_ENV } as Record<string, string>, logger: false });
  try {
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    console.log(`embedded: writing ${JOBS} jobs through its MemoryJobStore ...`);
    const start = performance.now();
    await fillStore(app.get<Backend>(BACKEND).store);
    const fillS = (performance.now() - start) / 1_000;
    const rows = await measure(url);
    return { rows, fillS, rssMb: process.memoryUsage().rss / 1024 ** 2 };
  } finally {
    await app.close();
  }
}

async function cluster(): Promise<{ rows: Measured[]; fillS: number; redisMb: number }> {
  const redis = await startRedisServer();
  try {
    console.log(`cluster: writing ${JOBS} jobs into Redis through RedisJobStore ...`);
    const start = performance.now();
    await fillRedis(redis);
    const fillS = (performance.now() - start) / 1_000;
    const service = await Service.start({ ...SERVICE_ENV, REDIS_URL: redis.url, REDIS_PREFIX: 'bench', INSTANCE_ID: 'bench-a', POOL_SIZE: '1' });
    try {
      const rows = await measure(service.baseUrl, redis);
      const used = /used_memory:(\d+)/.exec(await redis.client().info('memory'))?.[1];
      return { rows, fillS, redisMb: Number(used) / 1024 ** 2 };
    } finally {
      await service.stop();
    }
  } finally {
    await redis.stop();
  }
}

async function main(): Promise<void> {
  buildIfStale();
  const when = stamp(1);
  const loadBefore = loadavg()[0];
  const mem = await embedded();
  const red = redisServerAvailable() ? await cluster() : undefined;
  const header = [
    'GET /jobs query (one key owns all jobs)',
    'embedded p50',
    'embedded p99',
    'embedded max',
    'cluster p50',
    'cluster p99',
    'cluster max',
    'cluster: Redis time per call',
    'page (items · total · more)',
  ];
  const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);
  const rows = mem.rows.map((row, i) => {
    const other = red?.rows[i];
    return [
      `\`${queries('<id prefix>')[i].path.replace(/&cursor=[^&]+/, '&cursor=…')}\` (${row.what})`,
      ms(row.p50),
      ms(row.p99),
      ms(row.max),
      ms(other?.p50),
      ms(other?.p99),
      ms(other?.max),
      other?.redisUs === undefined ? 'n/a' : `${(other.redisUs / 1_000).toFixed(2)} ms`,
      `${row.items} · ${row.total} · ${row.more ? 'yes' : 'no'}`,
    ];
  });
  console.log(`\n${plainTable(header, rows)}`);
  writeBenchSection(
    {
      name: 'jobs',
      title: 'GET /jobs at 100,000 retained jobs',
      command: 'npm run bench:jobs',
      about: [
        `${JOBS.toLocaleString('en')} finished jobs, all of one API key, then each query ${REQUESTS} times one request at a time (after ${WARMUP} warm-up requests), against the built service (dist/, \`NODE_ENV=production\`, retention raised to keep them all; where it runs: below). Latency is the client's: request sent to body parsed, over loopback.`,
        "- embedded: the built app (dist/) in the bench process, its jobs written straight into its MemoryJobStore (created and finished as the service does), then asked over loopback HTTP: the client shares the service's event loop, one request at a time. cluster: jobs written straight into Redis by RedisJobStore (what an instance writes), then one instance (dist/main.js, its own process) on that Redis answers.",
        `- Labels team t0..t9 (1 job in 10 each) and env prod/dev; 1 in 7 failed, 1 in 11 cancelled, the rest completed; 1 in 1,000 named "needle …". The id-prefix query is the first 13 characters of the newest job's id (one match, then the budget is spent on the rest).`,
        '- One filter reads the page from its index; several filters or `q` check candidates, at most 2,000 per request (docs/api.md): "more" = the page ended at that budget or at `limit` with older candidates left.',
      ],
      tables: [{ header, rows }],
      notes: [
        `- fill: embedded ${mem.fillS.toFixed(0)} s through the store (process RSS after the queries: ${mem.rssMb.toFixed(0)} MB); cluster ${red ? `${red.fillS.toFixed(0)} s through the store (Redis used_memory after: ${red.redisMb.toFixed(0)} MB)` : 'not run (no redis-server)'}`,
        `- one host, ${availableParallelism()} cores shared by the service, Redis and this client; 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end: other work on the machine shows in every latency, most in p99 and max. "Redis time per call" (INFO commandstats, EVALSHA µs per call while the query ran) is the listing script's own cost, the figure least shaped by that load.`,
        '- The "page" column is the embedded run\'s last answer; the cluster\'s hold the same jobs shaped the same way.',
      ],
      stamp: when,
    },
    { quick },
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

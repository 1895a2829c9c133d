/**
 * Cluster benchmark: two instances sharing one Redis (POOL_SIZE=1 each) against one embedded
 * instance (POOL_SIZE=2): the same total worker threads, on the same machine, in the same run. A
 * third reference, one instance sized as a member (POOL_SIZE=1) and alone, says what the second
 * member adds: the cluster is worth its cost only where it beats one of its members by itself.
 * Run with `npm run bench:cluster` (`-- --quick` for a cheap check of the script).
 *
 * Workloads, as bench:fib and bench:crawl define them: the heavy Fibonacci batch (200 n in
 * 100,000..1,000,000), the 100k small-number batch (n in 1..1,000) and the 3,000-page crawl of the
 * generated site. Every request goes to one instance (A): the other (B) takes its share of the tasks
 * from the BullMQ queue, which is what the cluster mode must make cheap. Runs alternate between the
 * topologies (rounds), so a busy neighbour slows them alike. Then the recovery: kill -9 of B in the
 * middle of the heavy batch, timed from the kill to the job's end.
 *
 * Options (after `--`): --runs N (3), --quick (300 pages, 1 run), --pages N (3000),
 * --concurrency N (32), --lease-ms N (CLUSTER_LEASE_MS, 5000: the default), --aof yes|no (Redis
 * appendonly with fsync every second, yes by default, as the compose profile runs it). Writes its
 * section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { availableParallelism } from 'node:os';
import { computeViaApi, assertSameResults, type ResultItem, WAIT_MS } from './lib/api';
import { killMidBatch, type Recovery } from './lib/cluster-recovery';
import { startTopologies, type Topologies } from './lib/cluster-services';
import { allResults, crawlAndWait } from './lib/crawl-api';
import { type CrawlSettings, pageKey } from './lib/crawl-runs';
import { generateSite, type Site, serveSite } from './lib/crawl-site';
import { fibTable } from './lib/in-process';
import { type Stamp, stamp, writeBenchSection } from './lib/bench-doc';
import { buildIfStale } from './lib/service';
import { fmtMs, fmtRatio, fmtSpread, measureRounds, randomInts, type Sample, since, type Timed } from './lib/stats';
import { markdownTable, plainTable, type Row } from './lib/table';

/** bench/fib.bench.ts's case b (the heavy batch) and case a (the small numbers). */
const HEAVY = { count: 200, from: 100_000, to: 1_000_000, seed: 2, maxRatio: 1.3 };
const SMALL = { count: 100_000, from: 1, to: 1_000, seed: 1 };
const CRAWL_MAX_RATIO = 1.3;
const CRAWL_HOST = process.env.CRAWL_BENCH_HOST || '127.0.0.3';
const MAX_DEPTH = 50;

interface Args {
  runs: number;
  quick: boolean;
  pages: number;
  concurrency: number;
  leaseMs: number;
  /** Redis appendonly (fsync every second, as the compose profile runs it); `--aof no` shows what it costs. */
  aof: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 3, quick: false, pages: 3000, concurrency: 32, leaseMs: 5_000, aof: true };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const value = () => Number(inline ?? argv[++i]);
    given.add(flag);
    if (flag === '--runs') args.runs = value();
    else if (flag === '--quick') args.quick = true;
    else if (flag === '--pages') args.pages = value();
    else if (flag === '--concurrency') args.concurrency = value();
    else if (flag === '--lease-ms') args.leaseMs = value();
    else if (flag === '--aof') {
      const answer = inline ?? argv[++i];
      if (answer !== 'yes' && answer !== 'no') throw new Error('--aof takes yes or no');
      args.aof = answer === 'yes';
    } else throw new Error(`unknown option ${argv[i]} (known: --runs N --quick --pages N --concurrency N --lease-ms N --aof yes|no)`);
  }
  if (args.quick) {
    if (!given.has('--pages')) args.pages = 300;
    if (!given.has('--runs')) args.runs = 1;
  }
  if (!Number.isInteger(args.runs) || args.runs < 1 || args.runs > 20) throw new Error('--runs must be 1..20');
  if (!Number.isInteger(args.pages) || args.pages < 100 || args.pages > 100_000) throw new Error('--pages must be 100..100000');
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1 || args.concurrency > 256) throw new Error('--concurrency must be 1..256');
  if (!Number.isInteger(args.leaseMs) || args.leaseMs < 1_000 || args.leaseMs > 600_000) throw new Error('--lease-ms must be 1000..600000');
  return args;
}

/** Settings both topologies share; the crawl options used must be within their bounds. */
function serviceEnv(args: Args): Record<string, string> {
  return {
    MAX_WAIT_MS: String(Math.max(WAIT_MS, 240_000)),
    // One anonymous client: keys and the rate limit would only turn requests into 401/429.
    API_KEYS: '',
    RATE_LIMIT_MAX: '1000000',
    // Results of finished runs are not read again: keep Redis (and the embedded heap) small.
    JOB_RETENTION_COUNT: '3',
    CRAWL_ALLOW_TARGETS: `${CRAWL_HOST}/32`,
    CRAWL_ALLOW_IGNORE_ROBOTS: 'true',
    CRAWL_MAX_DEPTH: String(MAX_DEPTH),
    CRAWL_MAX_PAGES: String(Math.max(10_000, args.pages * 2)),
    CRAWL_MAX_CONCURRENCY: String(Math.max(64, args.concurrency)),
    CRAWL_MAX_PER_HOST: String(Math.max(16, args.concurrency)),
    // The one site is one host: its shared budget must not cap the crawl below the concurrency compared.
    CRAWL_HOST_MAX_CONCURRENCY: String(Math.max(16, args.concurrency)),
  };
}

interface Line {
  workload: string;
  embedded: Sample<unknown>;
  cluster: Sample<unknown>;
  alone: Sample<unknown>;
  maxRatio?: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  const args = parseArgs(process.argv.slice(2));
  buildIfStale();
  const t = await startTopologies(serviceEnv(args), args.leaseMs, args.aof, true);
  const alone = t.alone!;
  process.once('SIGINT', () => {
    t.killNow();
    process.exit(130);
  });
  process.once('exit', () => t.killNow());
  try {
    console.log(
      `embedded: ${t.embedded.baseUrl}, POOL_SIZE=2; cluster: A ${t.a.baseUrl} and B ${t.b.baseUrl}, POOL_SIZE=1 each, redis-server at ${t.redis.url} (${redisMode(args)}); one member alone: ${alone.baseUrl}, POOL_SIZE=1, no Redis`,
    );
    console.log('every request goes to A: B takes its tasks from the BullMQ queue only\n');
    await warmUp(t);
    const measured = stamp(args.runs);

    const lines: Line[] = [];
    const shareBefore = await tasksByInstance(t);
    const heavy = randomInts(HEAVY.count, HEAVY.from, HEAVY.to, HEAVY.seed);
    let heavyReference: string[] | undefined;
    const heavyRun = (baseUrl: string, what: string) => async (): Promise<Timed<number>> => {
      const run = await computeViaApi(baseUrl, heavy);
      // The first (embedded) run is the reference; every later run, of either topology, must match it.
      heavyReference ??= values(run.items);
      assertSameResults(`heavy batch, ${what}`, heavy, run.items, heavyReference);
      return { ms: run.ms, value: run.jobMs };
    };
    const h = await measureRounds({ embedded: heavyRun(t.embedded.baseUrl, 'embedded'), cluster: heavyRun(t.a.baseUrl, 'cluster'), alone: heavyRun(alone.baseUrl, 'one member alone') }, args.runs);
    lines.push({ workload: `heavy batch: ${HEAVY.count} n in ${HEAVY.from.toLocaleString('en-US')}..${HEAVY.to.toLocaleString('en-US')}`, ...h, maxRatio: HEAVY.maxRatio });
    report(lines.at(-1)!);

    const small = randomInts(SMALL.count, SMALL.from, SMALL.to, SMALL.seed);
    const table = fibTable(SMALL.to);
    const smallExpected = small.map((n) => table[n]);
    const smallRun = (baseUrl: string, what: string) => async (): Promise<Timed<number>> => {
      const run = await computeViaApi(baseUrl, small);
      assertSameResults(`small numbers, ${what}`, small, run.items, smallExpected);
      return { ms: run.ms, value: run.jobMs };
    };
    const s = await measureRounds({ embedded: smallRun(t.embedded.baseUrl, 'embedded'), cluster: smallRun(t.a.baseUrl, 'cluster'), alone: smallRun(alone.baseUrl, 'one member alone') }, args.runs);
    lines.push({ workload: `small numbers: ${SMALL.count.toLocaleString('en-US')} n in ${SMALL.from}..${SMALL.to}`, ...s });
    report(lines.at(-1)!);

    const site = generateSite({ pages: args.pages, seed: 1 });
    const settings: CrawlSettings = { concurrency: args.concurrency, retries: 2, timeoutMs: 10_000, maxDepth: MAX_DEPTH, maxPages: Math.max(10_000, args.pages * 2), deadlineMs: 240_000 };
    const c = await measureRounds(
      { embedded: () => crawlOnce(t.embedded.baseUrl, site, settings), cluster: () => crawlOnce(t.a.baseUrl, site, settings), alone: () => crawlOnce(alone.baseUrl, site, settings) },
      args.runs,
    );
    lines.push({ workload: `crawl: ${site.paths.length} pages, concurrency ${args.concurrency}`, ...c, maxRatio: CRAWL_MAX_RATIO });
    report(lines.at(-1)!);

    const share = difference(await tasksByInstance(t), shareBefore);
    console.log(`pool tasks run by each cluster instance during the measurements (GET /pool on A): ${share}\n`);

    const recoveries: Recovery[] = [];
    for (let run = 1; run <= args.runs; run++) {
      const recovery = await killMidBatch(t.a, t.b, heavy, heavyReference!);
      recoveries.push(recovery);
      console.log(
        `recovery run ${run}/${args.runs}: B killed with ${recovery.doneAtKill}/${recovery.total} tasks done; job done ${fmtMs(recovery.killToDoneMs)} after the kill (job ${fmtMs(recovery.jobMs)})`,
      );
      await t.replaceB();
    }
    print(lines, recoveries, h.cluster, args, t, measured);
  } finally {
    await t.stop();
  }
  console.log(`\nbench took ${(since(started) / 1000).toFixed(1)} s`);
}

/**
 * JIT, worker start-up and gmp-wasm instantiation in every worker of every instance: small jobs of
 * both shapes, enough tasks that B takes some of A's too.
 */
async function warmUp(t: Topologies): Promise<void> {
  const small = randomInts(5_000, 1, 1_000, 99);
  const big = randomInts(32, 20_000, 40_000, 98);
  for (let i = 0; i < 2; i++) {
    for (const baseUrl of [t.embedded.baseUrl, t.a.baseUrl, ...(t.alone ? [t.alone.baseUrl] : [])]) {
      await computeViaApi(baseUrl, small);
      await computeViaApi(baseUrl, big);
    }
  }
}

/** One crawl of a fresh copy of the site: POST /crawl?wait= on `baseUrl`, then every results page. */
async function crawlOnce(baseUrl: string, site: Site, settings: CrawlSettings): Promise<Timed<{ jobMs: number | null; repeats: number }>> {
  const running = await serveSite(site, { host: CRAWL_HOST, latencyMs: 0 });
  try {
    const start = performance.now();
    const job = await crawlAndWait(baseUrl, `${running.origin}/`, settings, settings.deadlineMs);
    const items = await allResults(baseUrl, job.id, job.total, job.results);
    const ms = since(start);
    const ok = new Set(items.filter((item) => item.state === 'completed' && item.status === 200).map((item) => pageKey(item.finalUrl ?? item.url, running.origin)));
    const missed = site.paths.filter((path) => !ok.has(path));
    if (missed.length) throw new Error(`crawl via ${baseUrl}: ${missed.length} page(s) not crawled, e.g. ${missed.slice(0, 5).join(', ')}`);
    return { ms, value: { jobMs: job.durationMs, repeats: running.stats().repeats } };
  } finally {
    await running.close();
  }
}

/** Pool tasks each cluster instance has completed, by instance id, as A's GET /pool lists them. */
async function tasksByInstance(t: Topologies): Promise<Map<string, number>> {
  const res = await fetch(`${t.a.baseUrl}/pool`);
  const body = (await res.json()) as { instances?: { id: string; stats?: { completed?: number } }[] };
  return new Map((body.instances ?? []).map((i) => [i.id, i.stats?.completed ?? 0]));
}

function difference(after: Map<string, number>, before: Map<string, number>): string {
  const parts = [...after].map(([id, n]) => `${id} ${(n - (before.get(id) ?? 0)).toLocaleString('en-US')}`);
  return parts.length ? parts.join(', ') : 'n/a (GET /pool lists no instances)';
}

const redisMode = (args: Args) => (args.aof ? 'appendonly yes, appendfsync everysec' : 'appendonly no (--aof no: not the durable setting)');

const fmtSignedMs = (ms: number) => (ms < 0 ? `-${fmtMs(-ms)}` : `+${fmtMs(ms)}`);

const values = (items: readonly ResultItem[]) => items.map((item) => item.value ?? '');

function report(line: Line): void {
  console.log(
    `${line.workload}: embedded ${fmtSpread(line.embedded.runs, fmtMs)}, cluster ${fmtSpread(line.cluster.runs, fmtMs)}, one member alone ${fmtSpread(line.alone.runs, fmtMs)}; cluster/embedded ${fmtRatio(line.cluster.ms / line.embedded.ms)}, alone/embedded ${fmtRatio(line.alone.ms / line.embedded.ms)}`,
  );
}

function print(lines: Line[], recoveries: Recovery[], heavyCluster: Sample<number>, args: Args, t: Topologies, measured: Stamp): void {
  const header: Row = ['Workload', 'Embedded, 1 x POOL_SIZE=2', 'Cluster, 2 x POOL_SIZE=1', 'Cluster / embedded', 'Target', 'Met', 'One member alone, 1 x POOL_SIZE=1', 'Alone / embedded'];
  const rows: Row[] = lines.map((line) => {
    const ratio = line.cluster.ms / line.embedded.ms;
    return [
      line.workload,
      fmtSpread(line.embedded.runs, fmtMs),
      fmtSpread(line.cluster.runs, fmtMs),
      fmtRatio(ratio),
      line.maxRatio ? `<= ${line.maxRatio}x` : '-',
      line.maxRatio ? (ratio <= line.maxRatio ? 'yes' : 'NO') : '-',
      fmtSpread(line.alone.runs, fmtMs),
      fmtRatio(line.alone.ms / line.embedded.ms),
    ];
  });
  // The cluster heavy runs' median job duration: the same job, undisturbed.
  const undisturbed = heavyCluster.value;
  const recoveryRows: Row[] = [
    [
      'kill -9 of B mid heavy batch: kill to job done',
      '-',
      fmtSpread(
        recoveries.map((r) => r.killToDoneMs),
        fmtMs,
      ),
      '-',
      '<= 15,000 ms',
      recoveries.every((r) => r.killToDoneMs <= 15_000) ? 'yes' : 'NO',
      '-',
      '-',
    ],
    [
      `  job time added by the kill: its durationMs minus the undisturbed median (${fmtMs(undisturbed)}); lease ${fmtMs(t.leaseMs)}`,
      '-',
      fmtSpread(
        recoveries.map((r) => r.jobMs - undisturbed),
        fmtSignedMs,
      ),
      '-',
      '-',
      '-',
      '-',
      '-',
    ],
  ];
  const note = [
    `min / median / max of ${args.runs} run(s) per figure after a warm-up, the three alternating (embedded, cluster, one member alone); ratios are of the medians.`,
    'Time: from the POST (?wait=, held until the job ends) to the last results page parsed, as in bench:fib and bench:crawl.',
    'Every request goes to instance A; B gets its share of the tasks only through the BullMQ queue (all four processes stay up throughout; the idle ones wait on Redis or for requests).',
    "One member alone: an instance with one member's threads (POOL_SIZE=1) and no Redis, measured in the same rounds. Where the cluster is slower than it, the second member cost more than it added on this machine.",
    `Redis: one local redis-server, ${redisMode(args)}; CLUSTER_LEASE_MS=${t.leaseMs}. Node ${process.version}, ${availableParallelism()} cores, NODE_ENV=production.`,
    "Recovery: the heavy batch submitted to A, B killed -9 once 40% of its tasks were done. \"Kill to job done\" runs to the job's finishedAt and includes waiting out the lease of the task B was running; the added time is the disturbed job's durationMs minus the undisturbed median (the cluster heavy runs' durationMs): A runs the rest on one thread, so about half the remaining work plus the lease is expected.",
  ].join('\n');
  console.log(`\n${plainTable(header, [...rows, ...recoveryRows])}\n\n${note}\n`);
  console.log(`Markdown:\n\n${markdownTable(header, [...rows, ...recoveryRows])}\n\n${note}`);
  writeBenchSection(
    {
      name: 'cluster',
      title: 'Cluster',
      command: 'npm run bench:cluster',
      about: [
        `One embedded instance (\`POOL_SIZE=2\`) against two instances sharing one local \`redis-server\` (\`POOL_SIZE=1\` each: the same total worker threads), on one machine, all three alive for the whole run. ` +
          'Every request goes to instance A: B gets its share only by taking pool tasks from the BullMQ queue. Workloads as in bench:fib and bench:crawl; then the recovery: `kill -9` of B in the middle of the heavy batch. ' +
          'For reference, one instance sized as a cluster member (`POOL_SIZE=1`), alone and without Redis: the figure the second member has to beat.',
        "On one small machine the cluster pays for Redis (storing and serving every result), a second main thread and BullMQ's scripts per task out of the same cores the workers use; on separate machines only the Redis round trips and Redis's own CPU remain.",
      ],
      tables: [{ header, rows: [...rows, ...recoveryRows] }],
      notes: note.split('\n'),
      stamp: measured,
    },
    { quick: args.quick },
  );
}

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

/**
 * Export benchmark (issue 15, item 3's figure): a 500,000-value Fibonacci job (n in 0..99, so the
 * job itself is quick) exported whole through `GET /jobs/{id}/results` as NDJSON and as CSV, in the
 * embedded mode and with Redis (one instance on a redis-server the bench starts). Measures values/s
 * and MB/s as the client receives them, and how much the service process's RSS grows during the
 * export (VmRSS sampled every 20 ms from /proc, against its value just before): the issue's target
 * is under ~64 MB whatever the job's size. A third case stalls the client for 3 s after its first
 * megabyte, to show that a reader who stops reading costs the service nothing (backpressure).
 *
 * Run with `npm run bench:export`. Options (after `--`): --runs N (3), --values N (500000),
 * --quick (50,000 values, 1 run). Writes its section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { parseArgs as parseCli } from 'node:util';
import { startRedisServer } from '../test/support/redis-server';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { RssSampler, statusKb } from './lib/proc-stats';
import { buildIfStale, Service } from './lib/service';
import { fmtMs, fmtSpread, since } from './lib/stats';
import { plainTable, type Row } from './lib/table';

const TARGET_MB = 64;
const STALL_MS = 3_000;
const MB = 1024 * 1024;

interface Args {
  runs: number;
  values: number;
  quick: boolean;
}

function parseArgs(argv: string[]): Args {
  const { values: given } = parseCli({ args: argv, options: { runs: { type: 'string' }, values: { type: 'string' }, quick: { type: 'boolean' } }, strict: true });
  const quick = given.quick ?? false;
  const args: Args = { runs: Number(given.runs ?? (quick ? 1 : 3)), values: Number(given.values ?? (quick ? 50_000 : 500_000)), quick };
  if (!Number.isInteger(args.runs) || args.runs < 1 || args.runs > 20) throw new Error('--runs must be 1..20');
  if (!Number.isInteger(args.values) || args.values < 1_000 || args.values > 5_000_000) throw new Error('--values must be 1000..5000000');
  return args;
}

/** One export as the client saw it, and the service's RSS meanwhile. */
interface Export {
  ms: number;
  bytes: number;
  lines: number;
  growthMb: number;
}

type Case = { name: string; accept: string; stall: boolean };
const CASES: Case[] = [
  { name: 'NDJSON', accept: 'application/x-ndjson', stall: false },
  { name: 'CSV', accept: 'text/csv', stall: false },
  { name: `NDJSON, client stalls ${STALL_MS / 1000} s after 1 MB`, accept: 'application/x-ndjson', stall: true },
];

/** Streams the whole export, counting bytes and lines, while sampling the service's RSS. */
async function exportOnce(service: Service, jobId: string, c: Case): Promise<Export> {
  const pid = service.pid!;
  const before = statusKb(pid, 'VmRSS');
  const sampler = new RssSampler(pid, 20);
  const start = performance.now();
  const res = await fetch(`${service.baseUrl}/jobs/${jobId}/results`, { headers: { accept: c.accept } });
  if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const reader = res.body.getReader();
  let bytes = 0;
  let lines = 0;
  let stalled = !c.stall;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (let i = value.indexOf(10); i >= 0; i = value.indexOf(10, i + 1)) lines++;
    if (!stalled && bytes >= MB) {
      stalled = true;
      await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    }
  }
  const ms = since(start);
  const { peakKb } = sampler.stop();
  return { ms, bytes, lines, growthMb: (peakKb - before) / 1024 };
}

async function submitJob(service: Service, values: number): Promise<string> {
  const numbers = Array.from({ length: values }, (_, i) => i % 100);
  const res = await fetch(`${service.baseUrl}/fibonacci?wait=600000&limit=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ numbers }) });
  const body = (await res.json()) as { id: string; status: string; durationMs: number };
  if (res.status !== 200 || body.status !== 'completed') throw new Error(`POST /fibonacci answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  console.log(`  job of ${values.toLocaleString('en-US')} values done in ${fmtMs(body.durationMs)}`);
  return body.id;
}

/**
 * Every case `runs` times (in rounds) on one service. The first export of each case is a warm-up
 * kept apart: its RSS growth is the cold figure (the heap grows to what an export needs once).
 */
async function measureMode(service: Service, args: Args): Promise<Map<Case, { cold: Export; runs: Export[] }>> {
  const jobId = await submitJob(service, args.values);
  const results = new Map<Case, { cold: Export; runs: Export[] }>();
  for (const c of CASES) {
    const cold = await checked(await exportOnce(service, jobId, c), c, args, 'first');
    results.set(c, { cold, runs: [] });
  }
  for (let round = 0; round < args.runs; round++) {
    for (const c of CASES) results.get(c)!.runs.push(checked(await exportOnce(service, jobId, c), c, args, `run ${round + 1}`));
  }
  return results;
}

/** The run, once it holds every value (and logged). */
function checked(run: Export, c: Case, args: Args, which: string): Export {
  const expected = args.values + (c.accept === 'text/csv' ? 1 : 0);
  if (run.lines !== expected) throw new Error(`${c.name}: ${run.lines} lines, expected ${expected}`);
  console.log(`  ${c.name} (${which}): ${fmtMs(run.ms)}, ${(run.bytes / MB).toFixed(1)} MB, RSS +${run.growthMb.toFixed(1)} MB`);
  return run;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  buildIfStale();
  const env = { POOL_SIZE: '2', FIB_MAX_NUMBERS: String(args.values), BODY_LIMIT_BYTES: String(64 * MB), MAX_WAIT_MS: '600000', RATE_LIMIT_MAX: '1000000' };
  for (const name of ['REDIS_URL', 'REDIS_PREFIX', 'INSTANCE_ID']) delete process.env[name];
  const redis = await startRedisServer({ appendonly: true });
  const modes: [string, Record<string, string>][] = [
    ['embedded', env],
    ['Redis', { ...env, REDIS_URL: redis.url, REDIS_PREFIX: 'bench-export', INSTANCE_ID: 'export' }],
  ];
  const rows: Row[] = [];
  try {
    for (const [mode, modeEnv] of modes) {
      console.log(`\n${mode}:`);
      // One service at a time: nothing else in the machine's memory or CPU while it exports.
      const service = await Service.start(modeEnv);
      try {
        for (const [c, { cold, runs }] of await measureMode(service, args)) {
          const growth = runs.map((r) => r.growthMb);
          rows.push([
            mode,
            c.name,
            `${(runs[0].bytes / MB).toFixed(1)} MB`,
            c.stall
              ? '-'
              : fmtSpread(
                  runs.map((r) => args.values / (r.ms / 1000)),
                  (x) => Math.round(x).toLocaleString('en-US'),
                ),
            c.stall
              ? '-'
              : fmtSpread(
                  runs.map((r) => r.bytes / MB / (r.ms / 1000)),
                  (x) => x.toFixed(1),
                ),
            `${cold.growthMb.toFixed(1)} MB`,
            fmtSpread(growth, (x) => `${x.toFixed(1)} MB`),
            Math.max(cold.growthMb, ...growth) < TARGET_MB ? 'yes' : 'NO',
          ]);
        }
      } finally {
        await service.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  const header: Row = ['mode', 'export', 'size', 'values/s', 'MB/s', 'RSS growth: first export', 'RSS growth: later exports', `< ${TARGET_MB} MB`];
  const notes = [
    `min / median / max of ${args.runs} run(s) per figure, after a first export of each kind (its RSS growth shown apart: the cold figure); the cases alternate in rounds.`,
    'values/s and MB/s: from the request to the last byte received by a client reading as fast as it can on the same machine. RSS growth: the peak of VmRSS of the service process (sampled every 20 ms) minus its value just before the request.',
    "What an export grows is V8's young generation filling up under the export's allocation rate (reply strings, parsed results, lines): a fixed cap, not a share of the job. Checked apart with a forced GC (inspector) before and after: three exports of a 100,000-value job in the Redis mode left the heap in use at 42 MB each time, while RSS peaked 38 to 50 MB above that during each; later exports reuse the space the first one grew.",
    `The stalled client reads 1 MB, reads nothing for ${STALL_MS / 1000} s, then the rest: the service waits for the socket to drain instead of building the export in memory.`,
    `Redis: one local redis-server (AOF on), one service instance (POOL_SIZE=2). Node ${process.version}, NODE_ENV=production.`,
  ];
  console.log(`\n${plainTable(header, rows)}\n\n${notes.join('\n')}\n`);
  writeBenchSection(
    {
      name: 'export',
      title: 'Export',
      command: 'npm run bench:export',
      about: [
        `A ${args.values.toLocaleString('en-US')}-value Fibonacci job (n in 0..99: the job is quick, the export is what is measured) exported whole with \`GET /jobs/{id}/results\` and \`Accept: application/x-ndjson\` or \`text/csv\`, in the embedded mode and with Redis. Target (issue 15): the service's RSS grows by less than ~${TARGET_MB} MB during the export, whatever the job's size.`,
      ],
      tables: [{ header, rows }],
      notes,
      stamp: stamp(args.runs),
    },
    { quick: args.quick },
  );
}

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

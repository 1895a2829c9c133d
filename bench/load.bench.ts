/**
 * Load benchmark: how many small Fibonacci jobs per second the built service completes under
 * 100 concurrent connections, against GET /health/live on the same service as the floor of what
 * the HTTP stack (Express, helmet, guards, logging) can do here. Run with `npm run bench:load`.
 *
 * It builds dist/ if needed, starts the service (NODE_ENV=production, loopback, a free port,
 * RATE_LIMIT_MAX raised so the limiter does not shape the figures), warms up, runs
 * (a) GET /health/live and (b) POST /fibonacci?wait=5000 with autocannon, and reads the
 * service's memory before, right after and 5 s after the load. Target: (b) >= 50% of (a).
 *
 * `npm run bench:load -- --cpu-prof` also runs the V8 sampling profiler on the service's main
 * thread during exactly (a) and during exactly (b) (lib/cpu-prof-preload.cjs) and prints where
 * the self time went in each. Its figures then carry the profiler's overhead. `-- --quick` loads for
 * 2 s instead of 10 (checks the script; not a figure). Each load runs once. Writes its section of
 * docs/benchmarks.md (lib/bench-doc.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuNeighbours, processCpuMs } from './lib/contention';
import { summariseProfiles } from './lib/cpu-profile';
import { buildIfStale, ROOT, Service } from './lib/service';
import { markdownTable, plainTable } from './lib/table';
import { type Stamp, stamp, writeBenchSection } from './lib/bench-doc';

const OPTIONS = ['--cpu-prof', '--quick'];
for (const arg of process.argv.slice(2)) if (!OPTIONS.includes(arg)) throw new Error(`unknown option ${arg} (known: ${OPTIONS.join(' ')})`);
const quick = process.argv.includes('--quick');

const CONNECTIONS = 100;
const DURATION_S = quick ? 2 : 10;
const WARMUP_S = quick ? 1 : 2;
const SETTLE_MS = quick ? 1_000 : 5_000;
const TARGET = 0.5;
/** Small jobs, a few shapes; every connection cycles through them. */
const VARIANTS = [[10, 20, 30, 90], [1, 2, 3, 5, 8, 13], [42], [70, 80, 90, 93, 100]];
// API_KEYS empty: keys off whatever the shell has (the config reads empty as unset).
const SERVICE_ENV = { RATE_LIMIT_MAX: '10000000', MAX_JOBS_IN_FLIGHT_PER_KEY: '100', API_KEYS: '' };

// autocannon ships no types; the part of its API used here.
interface AcRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AcResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  statusCodeStats: Record<string, { count: number }>;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AcResult>;

interface Phase {
  name: string;
  result: AcResult;
  wallS: number;
  mainCpu: number;
  otherCpu: number;
  neighbours?: number;
  clientCpu: number;
}
interface Memory {
  when: string;
  rssMb: number;
  heapMb?: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  const profDir = process.argv.includes('--cpu-prof') ? mkdtempSync(join(tmpdir(), 'load-prof-')) : undefined;
  buildIfStale();
  const preload = join(__dirname, 'lib', 'cpu-prof-preload.cjs');
  const profEnv: Record<string, string> = profDir ? { NODE_OPTIONS: `--require ${preload}`, LOAD_BENCH_CPU_PROF_DIR: profDir } : {};
  const service = await Service.start({ ...SERVICE_ENV, ...profEnv });
  process.once('SIGINT', () => {
    service.killNow();
    process.exit(130);
  });
  process.once('exit', () => service.killNow());
  const pid = service.pid!;
  let exit = 'not stopped';
  // Service exposes no exit code; listen on its child process to check the SIGTERM exit is 0.
  (service as unknown as { child: import('node:child_process').ChildProcess }).child.once('exit', (code, signal) => (exit = signal ?? `code ${code}`));
  const phases: Phase[] = [];
  const memory: Memory[] = [];
  const measured = stamp(1);
  try {
    // Pool figures live at GET /pool (readiness shows only a verdict).
    const pool = (await (await fetch(`${service.baseUrl}/pool`)).json()) as { threads: number };
    console.log(`service pid ${pid} at ${service.baseUrl}, ${pool.threads} worker threads, env ${JSON.stringify(SERVICE_ENV)}`);
    await checkVariants(service.baseUrl);
    memory.push(await readMemory('idle, after start', service.baseUrl, pid));

    process.stdout.write(`warm-up: ${WARMUP_S} s of each ... `);
    await load(service.baseUrl, 'live', WARMUP_S, pid);
    await load(service.baseUrl, 'fib', WARMUP_S, pid);
    console.log('done');
    memory.push(await readMemory('before load (after warm-up)', service.baseUrl, pid));
    for (const what of ['live', 'fib'] as const) {
      if (profDir) process.kill(pid, 'SIGUSR2'); // profiler on
      phases.push(await load(service.baseUrl, what, DURATION_S, pid));
      if (profDir) await toggleProfiler(pid, profDir, phases.length);
    }
    memory.push(await readMemory('right after load', service.baseUrl, pid));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    memory.push(await readMemory(`${SETTLE_MS / 1000} s after load`, service.baseUrl, pid));
  } finally {
    await service.stop();
  }
  print(phases, memory, profDir !== undefined, measured);
  console.log(`\nservice stopped with SIGTERM: exit ${exit}${exit === 'code 0' ? ' (ok)' : ' (EXPECTED code 0)'}`);
  if (profDir) {
    console.log(`\nCPU profiles of the service's main thread (${profDir}):\n`);
    console.log(
      summariseProfiles(
        profDir,
        phases.map((p) => p.name),
        15,
      ),
    );
  }
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (exit !== 'code 0') process.exitCode = 1;
}

/** SIGUSR2 again: the service stops its profiler and writes window-<n>.cpuprofile; wait for it. */
async function toggleProfiler(pid: number, dir: string, n: number): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(dir, `window-${n}.cpuprofile`)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One correct answer per variant before loading, so the load measures real work. */
async function checkVariants(baseUrl: string): Promise<void> {
  for (const numbers of VARIANTS) {
    const res = await fetch(`${baseUrl}/fibonacci?wait=5000`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ numbers }) });
    const body = (await res.json()) as { status: string; results?: { items: { state: string }[] } };
    const done = body.results?.items.filter((item) => item.state === 'completed').length;
    if (res.status !== 200 || body.status !== 'completed' || done !== numbers.length) {
      throw new Error(`POST /fibonacci ${JSON.stringify(numbers)}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
  }
}

async function load(baseUrl: string, what: 'live' | 'fib', seconds: number, pid: number): Promise<Phase> {
  const requests: AcRequest[] =
    what === 'live'
      ? [{ method: 'GET', path: '/health/live' }]
      : VARIANTS.map((numbers) => ({ method: 'POST', path: '/fibonacci?wait=5000', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ numbers }) }));
  const neighbours = CpuNeighbours.start([pid]);
  const before = { main: mainThreadMs(pid), all: processCpuMs(pid) ?? 0, client: process.cpuUsage(), at: performance.now() };
  const result = await autocannon({ url: baseUrl, connections: CONNECTIONS, duration: seconds, requests });
  const wallS = (performance.now() - before.at) / 1000;
  const main = (mainThreadMs(pid) - before.main) / 1000 / wallS;
  const all = ((processCpuMs(pid) ?? 0) - before.all) / 1000 / wallS;
  const client = process.cpuUsage(before.client);
  const name = what === 'live' ? '(a) GET /health/live' : `(b) POST /fibonacci?wait=5000, ${VARIANTS.length} small variants`;
  return { name, result, wallS, mainCpu: main, otherCpu: all - main, neighbours: neighbours?.otherCores(), clientCpu: (client.user + client.system) / 1e6 / wallS };
}

/** CPU ms of the service's main thread (its task id is the pid; the other threads are pool workers, GC, libuv). */
function mainThreadMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const rest = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return (rest[11] + rest[12]) * 10; // utime + stime, in USER_HZ (100/s) ticks
}

async function readMemory(when: string, baseUrl: string, pid: number): Promise<Memory> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  let heapMb: number | undefined;
  try {
    const res = await fetch(`${baseUrl}/metrics`);
    const text = await res.text();
    const match = res.ok ? /^nodejs_heap_size_used_bytes(?:\{[^}]*\})?\s+([\d.e+]+)/m.exec(text) : null;
    if (match) heapMb = Number(match[1]) / 1024 ** 2;
  } catch {
    // No metrics endpoint: RSS only.
  }
  return { when, rssMb: rssKb / 1024, heapMb };
}

function statusBreakdown(r: AcResult): { ok: string; deliberate: string; other: string } {
  const codes = Object.entries(r.statusCodeStats).sort(([a], [b]) => Number(a) - Number(b));
  const list = (pick: (code: number) => boolean) => {
    const hits = codes.filter(([code]) => pick(Number(code))).map(([code, { count }]) => `${count} x ${code}`);
    return hits.length ? hits.join(', ') : '0';
  };
  return {
    ok: list((c) => c >= 200 && c < 300),
    deliberate: list((c) => c === 429 || c === 503),
    other: list((c) => (c < 200 || c >= 300) && c !== 429 && c !== 503),
  };
}

function print(phases: Phase[], memory: Memory[], profiled: boolean, measured: Stamp): void {
  const header = [
    `Load (${CONNECTIONS} connections, ${DURATION_S} s)`,
    'req/s (avg)',
    'p50',
    'p99',
    '2xx',
    'non-2xx 429/503',
    'non-2xx other',
    'errors (timeouts)',
    'service CPU main + other threads (100% = 1 core)',
    'main-thread CPU per request',
  ];
  const rows = phases.map((p) => {
    const r = p.result;
    const s = statusBreakdown(r);
    return [
      p.name,
      Math.round(r.requests.average).toLocaleString('en-US'),
      `${r.latency.p50} ms`,
      `${r.latency.p99} ms`,
      s.ok,
      s.deliberate,
      s.other,
      `${r.errors} (${r.timeouts})`,
      `${pct(p.mainCpu)} + ${pct(p.otherCpu)}`,
      `${((p.mainCpu * p.wallS * 1000) / r.requests.total).toFixed(2)} ms`,
    ];
  });
  const memHeader = ['Service memory', 'RSS (VmRSS)', 'heap used (/metrics)'];
  const memRows = memory.map((m) => [m.when, `${m.rssMb.toFixed(1)} MB`, m.heapMb === undefined ? 'n/a' : `${m.heapMb.toFixed(1)} MB`]);
  const notes: string[] = [];
  const live = phases.find((p) => p.name.startsWith('(a)'));
  const fib = phases.find((p) => p.name.startsWith('(b)'));
  if (live && fib) {
    const ratio = fib.result.requests.average / live.result.requests.average;
    const okRate = (r: AcResult) => (r.statusCodeStats['200']?.count ?? 0) / r.duration;
    notes.push(
      `(b)/(a) requests/s: ${(ratio * 100).toFixed(1)}% (target >= ${TARGET * 100}%): ${ratio >= TARGET ? 'MET' : 'MISSED'}; ` +
        `counting only 200 answers: ${((okRate(fib.result) / okRate(live.result)) * 100).toFixed(1)}%`,
    );
  }
  for (const p of phases) {
    notes.push(`${p.name.slice(0, 3)} client (autocannon, this process): ${pct(p.clientCpu)} CPU; other processes: ${p.neighbours === undefined ? 'n/a' : `${p.neighbours.toFixed(2)} cores`}`);
  }
  if (phases.some((p) => (p.neighbours ?? 0) > 0.2))
    notes.push('WARNING: other processes took CPU during the loads: req/s and latencies are low and the ratio unreliable; CPU per request holds up better. Rerun on an idle machine.');
  const base = memory.find((m) => m.when.startsWith('before'));
  const last = memory[memory.length - 1];
  const delta = (a: number, b: number) => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)} MB`;
  if (base) {
    const heap = base.heapMb !== undefined && last.heapMb !== undefined ? `, heap used ${delta(last.heapMb, base.heapMb)}` : '';
    notes.push(`${SETTLE_MS / 1000} s after load vs before it: RSS ${delta(last.rssMb, base.rssMb)}${heap}`);
  }
  if (memory.every((m) => m.heapMb === undefined)) notes.push('heap used: n/a, the service answers no nodejs_heap_size_used_bytes on GET /metrics');
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
  notes.push(`built from commit ${git('rev-parse', '--short', 'HEAD') || '?'}${dirty ? ` plus ${dirty} uncommitted change(s) under src/` : ''}`);
  notes.push(`one host, ${availableParallelism()} cores shared by the service (main thread + pool workers) and autocannon; Node ${process.version}`);
  if (profiled) notes.push('CPU profiler ON during both loads: these figures carry its overhead');
  notes.push(
    `service env: NODE_ENV=production, RATE_LIMIT_MAX=${SERVICE_ENV.RATE_LIMIT_MAX} (default 600/min would refuse nearly all), MAX_JOBS_IN_FLIGHT_PER_KEY=${SERVICE_ENV.MAX_JOBS_IN_FLIGHT_PER_KEY}`,
  );

  console.log(`\n${plainTable(header, rows)}\n\n${plainTable(memHeader, memRows)}\n\n${notes.join('\n')}`);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${markdownTable(memHeader, memRows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}`);
  writeBenchSection(
    {
      name: 'load',
      title: 'Load',
      command: 'npm run bench:load',
      about: [
        `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s each, against the built service in its own process (\`NODE_ENV=production\`, rate limit raised for the run), after a warm-up: ` +
          '(a) `GET /health/live`, the floor of what the HTTP stack does here, then (b) `POST /fibonacci?wait=5000` with small batches (every answer checked once before the load). ' +
          `The target is (b) >= ${TARGET * 100}% of (a) in requests per second. The service's memory is read before, right after and ${SETTLE_MS / 1000} s after the load. ` +
          'Each load runs once: the spread between runs shows only across several invocations, and is wide on a small machine.',
      ],
      tables: [
        { caption: 'Requests', header, rows },
        { caption: 'Memory', header: memHeader, rows: memRows },
      ],
      notes: notes.map((n) => `- ${n}`),
      stamp: measured,
    },
    { quick },
  );
}

const pct = (cores: number) => `${Math.round(cores * 100)}%`;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

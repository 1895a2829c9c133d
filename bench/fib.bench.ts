/**
 * Fibonacci benchmark: the service end to end over HTTP against the same work done in one
 * process, and against native GMP. Run with `npm run bench:fib`.
 *
 * It builds dist/ if needed, starts the service (NODE_ENV=production, loopback, a free port),
 * runs the three cases, checks every API result against an in-process one, stops the service
 * and prints one table (plain text and markdown). Each figure is min / median / max of --runs runs
 * (default 5); the targets are judged on the medians. Writes its section of docs/benchmarks.md
 * (lib/bench-doc.ts).
 *
 * Options (after `--`): --runs N (5), --quick (1 run, smaller cases a and b, c only for F(1e6):
 * checks the script, not a figure).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadGmp, type Gmp } from '../src/fibonacci/fib-gmp';
import { assertSameResults, computeViaApi, WAIT_MS, type ApiRun } from './lib/api';
import { bigintDecimal, computeAndSerialise, computeOnly, expectedDigits, fibTable, gmpDecimal, sumMs } from './lib/in-process';
import { CpuNeighbours, processCpuMs } from './lib/contention';
import { NativeGmp, type NativeRun } from './lib/native-gmp';
import { buildIfStale, ROOT, Service } from './lib/service';
import { fmtMs, fmtRatio, fmtRuns, fmtSpread, measureRounds, randomInts, RUNS, type Timed } from './lib/stats';
import { markdownTable, plainTable, type Row } from './lib/table';
import { type Stamp, stamp, writeBenchSection } from './lib/bench-doc';

/** Timed runs per figure, and whether this is a quick check: `--runs N`, `--quick` (after `--`). */
const { runs, quick } = parseArgs(process.argv.slice(2));

const CASE_A = { count: quick ? 10_000 : 100_000, from: 1, to: 1_000, seed: 1, maxRatio: 3 };
const CASE_B = { count: quick ? 20 : 200, from: 100_000, to: 1_000_000, seed: 2, minSpeedup: 1.8 };
const CASE_C = [
  { n: 1_000_000, maxRatio: 3 },
  { n: 10_000_000, maxRatio: 2 },
].filter((c) => !quick || c.n <= 1_000_000);

interface Finding {
  row: Row;
  details: string[];
}

function parseArgs(argv: string[]): { runs: number; quick: boolean } {
  let runs: number | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    if (flag === '--runs') runs = Number(inline ?? argv[++i]);
    else if (flag === '--quick') quick = true;
    else throw new Error(`unknown option ${argv[i]} (known: --runs N --quick)`);
  }
  runs ??= quick ? 1 : RUNS;
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs must be 1..50');
  return { runs, quick };
}

async function main(): Promise<void> {
  const started = performance.now();
  buildIfStale();
  const native = NativeGmp.compile(join(ROOT, 'bench', 'gmp-fib.c'));
  if ('unavailable' in native) console.log(`native GMP column: n/a (${native.unavailable})`);
  const gmp = await loadGmp();

  // The pool size is set rather than read back, so the table can name it; POOL_SIZE from the
  // caller's environment wins, as it would for the service itself.
  const threads = Number(process.env.POOL_SIZE) || availableParallelism();
  const service = await Service.start({
    POOL_SIZE: String(threads),
    MAX_WAIT_MS: String(WAIT_MS),
    // A bench run is one anonymous client sending a few dozen requests: keys and the rate
    // limit would only turn some of them into 401/429.
    API_KEYS: '',
    RATE_LIMIT_MAX: '1000000',
  });
  // Ctrl-C or a crash must not leave the service running.
  process.once('SIGINT', () => {
    service.killNow();
    process.exit(130);
  });
  process.once('exit', () => service.killNow());
  try {
    console.log(`service pid ${service.pid} at ${service.baseUrl}, ${threads} worker threads; ${runs} runs per figure\n`);
    const neighbours = CpuNeighbours.start(service.pid ? [service.pid] : []);
    const measured = stamp(runs);
    await warmUp(service.baseUrl, gmp);

    const findings = [await caseA(service, gmp), await caseB(service, gmp, threads), ...(await caseC(service, gmp, 'unavailable' in native ? undefined : native))];
    print(findings, threads, neighbours?.otherCores(), measured);
  } finally {
    await service.stop();
    if (!('unavailable' in native)) native.dispose();
  }
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The first job on a fresh service pays for JIT, worker start-up and gmp-wasm instantiation in
 * each worker; a steady-state service has paid all that already. Small jobs of both shapes
 * (several chunks of n >= GMP_MIN_N, so that every worker loads GMP) take it out of the figures.
 */
async function warmUp(baseUrl: string, gmp: Gmp): Promise<void> {
  const small = randomInts(5_000, 1, 1_000, 99);
  const big = randomInts(16, 20_000, 40_000, 98);
  for (let i = 0; i < 2; i++) {
    await computeViaApi(baseUrl, small);
    await computeViaApi(baseUrl, big);
    computeAndSerialise(small, gmp);
    computeOnly(big, gmp);
    bigintDecimal(100_000);
  }
}

async function caseA(service: Service, gmp: Gmp): Promise<Finding> {
  const { count, from, to, seed, maxRatio } = CASE_A;
  const numbers = randomInts(count, from, to, seed);
  // The in-process values are checked against plain addition, the API's against those.
  const table = fibTable(to);
  const expected = numbers.map((n) => table[n]);
  const { local, api } = await measureRounds(
    {
      local: () => {
        const run = computeAndSerialise(numbers, gmp);
        run.value.decimals.forEach((value, i) => {
          if (value !== expected[i]) throw new Error(`a) in-process F(${numbers[i]}) = ${value}, addition gives ${expected[i]}`);
        });
        return run;
      },
      api: () => apiRun('a)', service, numbers, expected),
    },
    runs,
  );

  const ratio = api.ms / local.ms;
  const l = local.value;
  return {
    row: [
      `a) ${count.toLocaleString('en-US')} n in ${from}..${to}`,
      fmtSpread(api.runs, fmtMs),
      `${fmtSpread(local.runs, fmtMs)} (compute + JSON)`,
      '-',
      `API/in-process ${fmtRatio(ratio)}`,
      `<= ${maxRatio}x`,
      verdict(ratio <= maxRatio),
    ],
    details: [
      `a) API runs ${fmtRuns(api.runs)} ms; median run: ${apiBreakdown(api.value)}`,
      `   in-process runs ${fmtRuns(local.runs)} ms; median run: computeChunk ${fmtMs(l.computeMs)} (per-number ms sum ${fmtMs(l.itemMs)}) + JSON.stringify ${fmtMs(l.serialiseMs)} (${mb(l.jsonBytes)}); CPU ${fmtMs(l.cpuMs)}`,
      ...cpuView(
        api.value.serviceCpuMs,
        l.cpuMs,
        (service, local) => `   CPU time (little affected by busy neighbours): service ${fmtMs(service)} vs in-process ${fmtMs(local)} (${fmtRatio(service / local)})`,
      ),
    ],
  };
}

async function caseB(service: Service, gmp: Gmp, threads: number): Promise<Finding> {
  const { count, from, to, seed, minSpeedup } = CASE_B;
  const numbers = randomInts(count, from, to, seed);
  // Each round's API results are checked against that round's in-process ones (computing a
  // separate reference would add seconds); those are checked against BigInt, an independent
  // engine, on a sample: the extremes and a few more.
  let reference: string[] = [];
  const sample = [...new Set([Math.min(...numbers), Math.max(...numbers), ...numbers.slice(0, 4)])];
  const { local, api } = await measureRounds(
    {
      local: () => {
        const run = computeOnly(numbers, gmp);
        reference = run.value.decimals;
        return run;
      },
      api: () => apiRun('b)', service, numbers, reference),
    },
    runs,
  );
  for (const n of sample) {
    if (bigintDecimal(n).value !== reference[numbers.indexOf(n)]) throw new Error(`b) in-process gmp and BigInt differ for F(${n})`);
  }

  const speedup = local.ms / api.ms;
  return {
    row: [
      `b) ${count} n in ${from.toLocaleString('en-US')}..${to.toLocaleString('en-US')}`,
      fmtSpread(api.runs, fmtMs),
      fmtSpread(local.runs, fmtMs),
      '-',
      `speedup ${fmtRatio(speedup)} on ${threads} workers`,
      `>= ${minSpeedup}x`,
      verdict(speedup >= minSpeedup),
    ],
    details: [
      `b) API runs ${fmtRuns(api.runs)} ms; median run: ${apiBreakdown(api.value)}`,
      `   in-process runs ${fmtRuns(local.runs)} ms (computeChunk: gmp-wasm, decimal, as the worker makes them); median run: per-number ms sum ${fmtMs(local.value.itemMs)}; CPU ${fmtMs(local.value.cpuMs)}`,
      // With idle cores the API can at best spread the service's CPU time evenly over its workers.
      ...cpuView(
        api.value.serviceCpuMs,
        local.value.cpuMs,
        (service, local) =>
          `   CPU time: service ${fmtMs(service)} vs in-process ${fmtMs(local)}, so on ${threads} idle cores the speedup could reach at most ${fmtRatio((threads * local) / service)}`,
      ),
    ],
  };
}

async function caseC(service: Service, gmp: Gmp, native: NativeGmp | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const { n, maxRatio } of CASE_C) {
    // Checked once, up front: gmp-wasm against Binet's digit count and against BigInt; then
    // every timed run of every engine against it.
    const value = gmpDecimal(gmp, n).value;
    if (value.length !== expectedDigits(n)) throw new Error(`c) F(${n}) has ${value.length} digits, Binet says ${expectedDigits(n)}`);
    const same = (engine: string, run: { ms: number; value: string }) => {
      if (run.value !== value) throw new Error(`c) F(${n}): ${engine} differs from gmp-wasm`);
      return { ms: run.ms, value: undefined };
    };
    const { wasm, bigint, api, c } = await measureRounds(
      {
        wasm: () => same('gmp-wasm', gmpDecimal(gmp, n)),
        bigint: () => same('BigInt', bigintDecimal(n)),
        api: () => apiRun(`c) F(${n})`, service, [n], [value]),
        c: () => {
          if (!native) return { ms: NaN, value: undefined };
          const run = native.run(n);
          assertNativeMatches(n, run, value);
          return { ms: run.ms, value: run };
        },
      },
      runs,
    );

    const ratio = native ? api.ms / c.ms : undefined;
    const label = `c) F(${n.toExponential().replace('e+', 'e')}), decimal`;
    findings.push({
      row: [
        label,
        fmtSpread(api.runs, fmtMs),
        `gmp-wasm ${fmtSpread(wasm.runs, fmtMs)}, BigInt ${fmtSpread(bigint.runs, fmtMs)}`,
        native ? fmtSpread(c.runs, fmtMs) : 'n/a',
        ratio !== undefined ? `API/GMP ${fmtRatio(ratio)}` : 'n/a',
        `<= ${maxRatio}x`,
        ratio !== undefined ? verdict(ratio <= maxRatio) : 'n/a',
      ],
      details: [
        `${label}: API runs ${fmtRuns(api.runs)} ms; median run: ${apiBreakdown(api.value)}`,
        `   gmp-wasm runs ${fmtRuns(wasm.runs)} ms; BigInt runs ${fmtRuns(bigint.runs)} ms`,
        c.value
          ? `   native GMP (fib + get_str inside the process) runs ${c.runs.map((ms) => ms.toFixed(1)).join('/')} ms; whole process ${fmtMs(c.value.processMs)}`
          : '   native GMP: n/a (see above)',
      ],
    });
  }
  return findings;
}

/**
 * One API run. Its results are checked after its clock stops: a fast wrong answer is no result.
 * The service's CPU time is kept too: unlike wall time it does not grow when other processes
 * share the cores, so it shows the service's own overhead.
 */
async function apiRun(what: string, service: Service, numbers: readonly number[], expected: readonly string[]): Promise<Timed<ApiRun & { serviceCpuMs?: number }>> {
  const cpuBefore = service.pid ? processCpuMs(service.pid) : undefined;
  const run = await computeViaApi(service.baseUrl, numbers);
  const cpuAfter = service.pid ? processCpuMs(service.pid) : undefined;
  assertSameResults(`${what} API vs in-process`, numbers, run.items, expected);
  const serviceCpuMs = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return { ms: run.ms, value: { ...run, serviceCpuMs } };
}

function assertNativeMatches(n: number, run: NativeRun, value: string): void {
  if (run.digits !== value.length || run.head !== value.slice(0, run.head.length) || run.tail !== value.slice(-run.tail.length)) {
    throw new Error(`c) F(${n}): native GMP gives ${run.digits} digits ${run.head}...${run.tail}, in-process ${value.length} digits ${value.slice(0, 20)}...${value.slice(-20)}`);
  }
}

function apiBreakdown(run: ApiRun & { serviceCpuMs?: number }): string {
  const pages = run.pages > 1 ? ` + ${run.pages - 1} more page(s) ${fmtMs(run.pagesMs)}` : '';
  // Per-number ms are measured inside the workers: their sum against the job's duration and the
  // service's CPU time shows whether time went to computing or to moving numbers around.
  const cpu = run.serviceCpuMs !== undefined ? `; service CPU ${fmtMs(run.serviceCpuMs)}` : '';
  return `POST ?wait ${fmtMs(run.postMs)} (job durationMs ${run.jobMs}; workers' per-number ms sum ${fmtMs(sumMs(run.items))})${pages}${cpu}`;
}

/** A details line from CPU times, where both were measured (Linux). */
function cpuView(serviceMs: number | undefined, localMs: number, line: (service: number, local: number) => string): string[] {
  return serviceMs !== undefined && serviceMs > 0 && localMs > 0 ? [line(serviceMs, localMs)] : [];
}

function verdict(met: boolean): string {
  return met ? 'yes' : 'NO';
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function print(findings: Finding[], threads: number, otherCores: number | undefined, measured: Stamp): void {
  const header: Row = ['Case', 'API end to end', 'In-process, 1 thread', 'Native GMP (C)', 'Figure', 'Target', 'Met'];
  const rows = findings.map((f) => f.row);
  const cores = availableParallelism();
  const busy = otherCores === undefined ? '' : ` Other processes used ${otherCores.toFixed(2)} of the ${cores} cores meanwhile.`;
  const spreadOf = runs > 1 ? `min / median / max of ${runs} runs (the figure and its target: of the medians)` : '1 run';
  const note = `${spreadOf} after a warm-up; Node ${process.version}, ${cores} cores, service with ${threads} worker threads, NODE_ENV=production.${busy}`;
  console.log(plainTable(header, rows));
  console.log(`\n${COLUMNS}\n\n${note}\n`);
  if (otherCores !== undefined && otherCores > 0.1) {
    console.log(`WARNING: other processes took ${otherCores.toFixed(2)} cores on average during the measurements; the figures are low. Rerun on an idle machine.\n`);
  }
  for (const f of findings) for (const line of f.details) console.log(line);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${COLUMNS}\n\n${note}`);
  writeBenchSection(
    {
      name: 'fib',
      title: 'Fibonacci',
      command: 'npm run bench:fib',
      about: [
        'The service end to end over HTTP (its own process, `NODE_ENV=production`, a worker per core) against the same work in one process, and against native GMP; every API result is checked against the in-process one. ' +
          'The runs alternate between the things compared, after a warm-up.',
      ],
      tables: [{ header, rows }],
      notes: [...COLUMNS.split('\n'), note, 'Per-run figures and what limits each case (service CPU time, per-number time in the workers) are printed by the script under its table.'],
      stamp: measured,
    },
    { quick },
  );
}

/** What each column measures; printed under the table so a figure is never read without it. */
const COLUMNS = [
  'Columns (wall times, ms, min / median / max over the runs):',
  "- API end to end: the client's view, from sending POST /fibonacci?wait= (the service holds it until the job is done) to the last results page parsed, every page included (lib/api.ts); the service runs in its own process with its worker pool.",
  "- In-process, 1 thread: the same work on the bench's own thread with the service's pure modules, no HTTP, no pool: a) computeChunk over the numbers plus JSON.stringify of result items shaped like the API's; b) computeChunk alone (gmp-wasm from GMP_MIN_N, decimal, as the worker makes them); c) each engine alone, F(n) and its decimal string (gmp-wasm, V8 BigInt).",
  '- Native GMP (C): bench/gmp-fib.c, mpz_fib_ui plus mpz_get_str to decimal, timed inside that process (process start excluded); c) only.',
  '- Figure: the ratio the target is about: a) API ÷ in-process; b) in-process ÷ API (the speedup the pool gives); c) API ÷ native GMP.',
  '- Target / Met: the goal for that figure and whether the medians meet it.',
].join('\n');

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

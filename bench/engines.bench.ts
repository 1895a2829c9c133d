/**
 * Fibonacci engines per size: V8 BigInt (src/fibonacci/fib-bigint.ts) against gmp-wasm
 * (src/fibonacci/fib-gmp.ts), one thread, no service. Run with `npm run bench:engines`.
 *
 * Each figure is the time of one F(n) with its decimal string (what a result carries), in ms:
 * a timed sample calls the engine as many times as fill at least SAMPLE_MS (once for large n) and
 * divides. --runs samples per engine and n (default 5), taken in rounds that alternate the two
 * engines, after a warm-up; min / median / max are printed. Both engines' decimals are compared
 * once per n before anything is timed. This is the table behind GMP_MIN_N (src/fibonacci/fib-chunk.ts).
 *
 * Options (after `--`): --runs N (5), --quick (1 run, up to F(1e6): checks the script).
 * Writes its section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { availableParallelism } from 'node:os';
import { fib } from '../src/fibonacci/fib-bigint';
import { GMP_MIN_N } from '../src/fibonacci/fib-chunk';
import { fibGmp, loadGmp } from '../src/fibonacci/fib-gmp';
import { batchToFill, fmtSpread, median } from './lib/stats';
import { busyNote, CpuNeighbours } from './lib/contention';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { markdownTable, plainTable, type Row } from './lib/table';

const SIZES = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
/** How long one timed sample should last: long enough that the timer's resolution does not matter. */
const SAMPLE_MS = 50;

function parseArgs(argv: string[]): { runs: number; quick: boolean } {
  const args = { runs: 5, quick: false };
  let runsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    if (flag === '--runs') {
      args.runs = Number(inline ?? argv[++i]);
      runsGiven = true;
    } else if (flag === '--quick') args.quick = true;
    else throw new Error(`unknown option ${argv[i]} (known: --runs N --quick)`);
  }
  if (args.quick && !runsGiven) args.runs = 1;
  if (!Number.isInteger(args.runs) || args.runs < 1 || args.runs > 100) throw new Error('--runs must be 1..100');
  return args;
}

/** ms per call of `fn`, over a batch of `calls` calls. */
function timeBatch(fn: () => string, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return (performance.now() - start) / calls;
}

async function main(): Promise<void> {
  const { runs, quick } = parseArgs(process.argv.slice(2));
  const gmp = await loadGmp();
  const measured = stamp(runs);
  const neighbours = CpuNeighbours.start([]);
  const engines = {
    'V8 BigInt': (n: number) => fib(n).toString(),
    'gmp-wasm': (n: number) => fibGmp(gmp, n).decimal,
  };
  const sizes = quick ? SIZES.filter((n) => n <= 1_000_000) : SIZES;
  const rows: Row[] = [];
  for (const n of sizes) {
    const bigint = engines['V8 BigInt'](n);
    const wasm = engines['gmp-wasm'](n);
    if (bigint !== wasm) throw new Error(`F(${n}): V8 BigInt and gmp-wasm differ`);
    const calls = batchToFill(
      Object.values(engines).map((engine) => (batch: number) => timeBatch(() => engine(n), batch) * batch),
      SAMPLE_MS,
    );
    const samples: Record<string, number[]> = { 'V8 BigInt': [], 'gmp-wasm': [] };
    for (let run = 0; run < runs; run++) {
      for (const [name, engine] of Object.entries(engines)) samples[name].push(timeBatch(() => engine(n), calls));
    }
    const faster = median(samples['V8 BigInt']) < median(samples['gmp-wasm']) ? 'V8 BigInt' : 'gmp-wasm';
    const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toPrecision(2));
    rows.push([
      n.toLocaleString('en-US'),
      bigint.length.toLocaleString('en-US'),
      fmtSpread(samples['V8 BigInt'], fmt),
      fmtSpread(samples['gmp-wasm'], fmt),
      `${faster} (${(Math.max(median(samples['V8 BigInt']), median(samples['gmp-wasm'])) / Math.min(median(samples['V8 BigInt']), median(samples['gmp-wasm']))).toFixed(2)}x)`,
      n >= GMP_MIN_N ? 'gmp-wasm' : 'V8 BigInt',
      String(calls),
    ]);
    console.log(`F(${n}) done`);
  }
  const spreadOf = runs > 1 ? ', min / median / max' : '';
  const header: Row = ['n', 'Decimal digits', `V8 BigInt, ms${spreadOf}`, `gmp-wasm, ms${spreadOf}`, 'Faster (median ratio)', `Service uses (GMP_MIN_N = ${GMP_MIN_N})`, 'Calls per sample'];
  const note =
    `ms = one F(n) computed and converted to its decimal string, on one thread, in this process (no service, no pool); each sample times a batch of calls (last column) and divides; ` +
    `${runs} sample(s) per figure, engines alternating, after a warm-up. Node ${process.version}, ${availableParallelism()} cores.${busyNote(neighbours?.otherCores())}`;
  console.log(`\n${plainTable(header, rows)}\n\n${note}`);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${note}`);
  writeBenchSection(
    {
      name: 'engines',
      title: 'Fibonacci engines',
      command: 'npm run bench:engines',
      about: [
        `V8 BigInt (\`src/fibonacci/fib-bigint.ts\`) against gmp-wasm (\`src/fibonacci/fib-gmp.ts\`) per n, one thread, no service: the table behind \`GMP_MIN_N\` (${GMP_MIN_N}: the service uses gmp-wasm from there on). ` +
          `A figure is the time of one F(n) with its decimal string, in ms: a timed sample calls the engine as many times as fill at least ${SAMPLE_MS} ms (last column) and divides. ` +
          "Samples alternate between the engines, after a warm-up; both engines' decimals are compared before anything is timed.",
      ],
      tables: [{ header, rows }],
      notes: [note],
      stamp: measured,
    },
    { quick },
  );
}

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

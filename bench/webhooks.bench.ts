/**
 * Webhook delivery latency: from a job's end (its `finishedAt`, as the signed payload carries it)
 * to the moment a loopback receiver has the whole request, verified with the standardwebhooks
 * package. Both modes side by side: one embedded instance (POOL_SIZE=2) and two instances on one
 * redis-server (POOL_SIZE=1 each, requests to A). Two loads: jobs one at a time (each waits for its
 * webhook), and bursts of jobs submitted at once. Rounds alternate between the modes.
 *
 * Run with `npm run bench:webhooks`; options after `--`: --runs N (3), --jobs N (100 per load and
 * run), --quick (10 jobs, 1 run). Writes its section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type Stamp, stamp, writeBenchSection } from './lib/bench-doc';
import { startTopologies, type Topologies } from './lib/cluster-services';
import { buildIfStale, type Service } from './lib/service';
import { fmtMs } from './lib/stats';
import { plainTable, type Row } from './lib/table';

const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;

interface Args {
  runs: number;
  jobs: number;
  quick: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 3, jobs: 100, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--runs') args.runs = value();
    else if (flag === '--jobs') args.jobs = value();
    else if (flag === '--quick') args.quick = true;
    else throw new Error(`unknown option ${flag}`);
  }
  if (args.quick) Object.assign(args, { runs: 1, jobs: 10 });
  return args;
}

/** A receiver that verifies each webhook and resolves the waiter of its job with the latency. */
async function startReceiver() {
  const verifier = new Webhook(SECRET);
  const waiters = new Map<string, (ms: number) => void>();
  const early = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const arrived = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const payload = verifier.verify(body, req.headers as Record<string, string>) as { data: { id: string; finishedAt: string } };
      res.writeHead(204).end();
      const latency = arrived - Date.parse(payload.data.finishedAt);
      const waiter = waiters.get(payload.data.id);
      if (waiter) waiter(latency);
      else early.set(payload.data.id, latency);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    latencyOf(jobId: string): Promise<number> {
      const known = early.get(jobId);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve) => waiters.set(jobId, resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Submits a small job with a webhook (again after a 503: a burst's admissions collide) and resolves with its webhook's latency. */
async function submit(service: Service, receiver: Receiver, n: number, tries = 20): Promise<number> {
  const res = await fetch(`${service.baseUrl}/fibonacci`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ numbers: [n, n + 1, n + 2], webhook: { url: receiver.url, secret: SECRET } }),
  });
  const job = (await res.json()) as { id: string };
  if (res.status === 503 && tries > 1) {
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    return submit(service, receiver, n, tries - 1);
  }
  if (res.status !== 202) throw new Error(`submission answered ${res.status}: ${JSON.stringify(job)}`);
  return receiver.latencyOf(job.id);
}

async function oneAtATime(service: Service, receiver: Receiver, jobs: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < jobs; i++) latencies.push(await submit(service, receiver, 100 + i));
  return latencies;
}

function burst(service: Service, receiver: Receiver, jobs: number): Promise<number[]> {
  return Promise.all(Array.from({ length: jobs }, (_, i) => submit(service, receiver, 100 + i)));
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  buildIfStale();
  const receiver = await startReceiver();
  const env = { WEBHOOK_ALLOW_TARGETS: '127.0.0.0/8', RATE_LIMIT_MAX: '10000000', MAX_JOBS_IN_FLIGHT_PER_KEY: '100000' };
  const topologies: Topologies = await startTopologies(env, 5_000);
  const kill = () => topologies.killNow();
  process.once('exit', kill);
  const figures: Record<string, number[]> = {};
  const add = (key: string, values: number[]) => (figures[key] ??= []).push(...values);
  let started: Stamp | undefined;
  try {
    // Warm-up: JIT, connections, the Redis scripts.
    await oneAtATime(topologies.embedded, receiver, 5);
    await oneAtATime(topologies.a, receiver, 5);
    started = stamp(args.runs);
    for (let run = 1; run <= args.runs; run++) {
      for (const [mode, service] of [
        ['embedded', topologies.embedded],
        ['cluster', topologies.a],
      ] as const) {
        add(`${mode}|one at a time`, await oneAtATime(service, receiver, args.jobs));
        add(`${mode}|burst`, await burst(service, receiver, args.jobs));
      }
      console.log(`run ${run}/${args.runs} done`);
    }
  } finally {
    await topologies.stop();
    await receiver.close();
    process.off('exit', kill);
  }
  const header: Row = ['mode', 'load', 'webhooks', 'p50', 'p99', 'max'];
  const rows: Row[] = Object.entries(figures).map(([key, values]) => {
    const [mode, load] = key.split('|');
    return [
      mode,
      load === 'burst' ? `bursts of ${args.jobs} jobs` : 'one job at a time',
      String(values.length),
      fmtMs(percentile(values, 0.5)),
      fmtMs(percentile(values, 0.99)),
      fmtMs(Math.max(...values)),
    ];
  });
  console.log(`\n${plainTable(header, rows)}`);
  writeBenchSection(
    {
      name: 'webhooks',
      title: 'Webhook delivery latency',
      command: 'npm run bench:webhooks',
      about: [
        "From a job's end (`finishedAt` in the signed payload) to the whole webhook request at a loopback receiver that verifies it with the standardwebhooks package: the outbox write, the dispatcher's claim, signing and the POST. Embedded: one instance, POOL_SIZE=2. Cluster: two instances on one redis-server (AOF on), POOL_SIZE=1 each, every job submitted to A.",
        `- one job at a time: ${args.jobs} jobs of 3 small numbers, each submitted after the previous one's webhook arrived;`,
        `- bursts: ${args.jobs} such jobs submitted at once (their webhooks queue behind each other: WEBHOOK_PER_RECEIVER=2 to the one receiver).`,
      ],
      tables: [{ header, rows }],
      notes: ["Figures are every webhook of every run together (not a median of runs); the clocks are one machine's."],
      stamp: started ?? stamp(args.runs),
    },
    { quick: args.quick },
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Crawl benchmark: the service's crawl jobs against Crawlee's CheerioCrawler, as shipped and tuned,
 * on the same generated site. Run with `npm run bench:crawl` (`-- --quick` for a cheap check).
 *
 * It builds dist/ if needed, installs Crawlee into a cache folder outside the repo (it is not a
 * project dependency; see lib/crawlee-install.ts), generates a deterministic site (lib/crawl-site.ts)
 * and crawls it whole with three crawlers, --runs times each, in rounds (each round runs all three
 * in turn, so a neighbour busy for a while slows all of them alike, not one):
 * - service: dist/main.js in its own process, POST /crawl?wait= then every results page;
 * - Crawlee defaults: CheerioCrawler as shipped (session pool, generated headers, 3 retries);
 * - Crawlee tuned: no session pool, no header generation, the service's retries.
 * Every crawl gets a fresh process and a fresh copy of the site, and the same concurrency. Two
 * scenarios: no added latency (parsing-bound) and a fixed latency per response (concurrency-bound).
 *
 * The same window for all (lib/crawl-runs.ts): from the request to the last result read, boot
 * excluded. Per crawler and scenario, min / median / max over the runs of: time, pages/s, CPU per
 * page (CPU of the crawling process tree, read from /proc the same way for all), and peak RSS.
 *
 * Options (after `--`): --runs N (5), --quick (300 pages, 1 run: checks the script, not a figure),
 * --pages N (3000), --concurrency N (32), --latency-ms N (50), --seed N (1), --scenarios MS,MS
 * (added latencies to run, default 0 and --latency-ms), --cpu-prof (afterwards profiles the service,
 * every thread, during one more no-latency crawl and prints where its time goes). Env: POOL_SIZE and
 * CRAWL_TASKS_PER_WORKER reach the service; CRAWL_BENCH_HOST (127.0.0.3) is the loopback address
 * the site listens on; CRAWLEE_VERSION picks another Crawlee. Writes its section of
 * docs/benchmarks.md (lib/bench-doc.ts).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { printCrawlReport, type Scenario } from './lib/crawl-report';
import { profileService } from './lib/crawl-profile';
import { CRAWLERS, type CrawlRun, type CrawlSettings, crawleeCrawl, mib, sec, serviceCrawl } from './lib/crawl-runs';
import { generateSite, type Site, serveSite } from './lib/crawl-site';
import { CRAWLEE_PACKAGE, type CrawleeInstall, ensureCrawlee } from './lib/crawlee-install';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { buildIfStale } from './lib/service';
import { since } from './lib/stats';

const HOST = process.env.CRAWL_BENCH_HOST || '127.0.0.3';
/** Per-fetch deadline for all crawlers (the service's timeoutMs, Crawlee's navigationTimeoutSecs). */
const TIMEOUT_MS = 10_000;
/** The service's default `retries`; Crawlee tuned gets as many. */
const RETRIES = 2;
const MAX_DEPTH = 50;
/** How long one crawl may take before the bench gives up on it. */
const CRAWL_DEADLINE_MS = 240_000;
const QUICK_PAGES = 300;

export interface Args {
  runs: number;
  quick: boolean;
  pages: number;
  concurrency: number;
  latencyMs: number;
  seed: number;
  cpuProf: boolean;
  /** Added latency of each scenario, in ms: 0 and --latency-ms unless --scenarios says otherwise. */
  scenarios?: number[];
}

const USAGE = 'known: --runs N --quick --pages N --concurrency N --latency-ms N --seed N --scenarios MS,MS --cpu-prof';

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, quick: false, pages: 3000, concurrency: 32, latencyMs: 50, seed: 1, cpuProf: false };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const value = () => Number(inline ?? argv[++i]);
    given.add(flag);
    if (flag === '--runs') args.runs = value();
    else if (flag === '--quick') args.quick = true;
    else if (flag === '--pages') args.pages = value();
    else if (flag === '--concurrency') args.concurrency = value();
    else if (flag === '--latency-ms') args.latencyMs = value();
    else if (flag === '--seed') args.seed = value();
    else if (flag === '--cpu-prof') args.cpuProf = true;
    else if (flag === '--scenarios') args.scenarios = (inline ?? argv[++i]).split(',').map(Number);
    else throw new Error(`unknown option ${argv[i]} (${USAGE})`);
  }
  if (args.quick) {
    if (!given.has('--pages')) args.pages = QUICK_PAGES;
    if (!given.has('--runs')) args.runs = 1;
  }
  for (const [name, n] of Object.entries({ ...args, scenarios: undefined })) if (typeof n === 'number' && !(Number.isInteger(n) && n >= 0)) throw new Error(`--${name} must be a whole number`);
  if (args.scenarios && !args.scenarios.every((n) => Number.isInteger(n) && n >= 0 && n <= 10_000)) throw new Error('--scenarios takes latencies in ms, comma-separated, e.g. 0,50');
  if (args.runs < 1 || args.runs > 50) throw new Error('--runs must be 1..50');
  if (args.pages < 100 || args.pages > 100_000) throw new Error('--pages must be 100..100000');
  if (args.concurrency < 1 || args.concurrency > 256) throw new Error('--concurrency must be 1..256');
  return args;
}

async function main(): Promise<void> {
  const started = performance.now();
  const args = parseArgs(process.argv.slice(2));
  buildIfStale();
  const crawlee = ensureCrawlee();
  const threads = Number(process.env.POOL_SIZE) || availableParallelism();
  const tasksPerWorker = Number(process.env.CRAWL_TASKS_PER_WORKER) || 16;
  const source = sourceState();
  console.log(`service: dist/ built from ${source}`);
  console.log(
    `Crawlee: ${CRAWLEE_PACKAGE}@${crawlee.version} loaded from ${crawlee.dir} (${crawlee.installedNow ? `installed now, ${(crawlee.installMs / 1000).toFixed(1)} s` : 'cached'}; installed by this bench, not a project dependency)`,
  );
  if (args.quick) console.log('--quick: a small site and few runs, to check the script works; these figures are not worth quoting');

  const genStart = performance.now();
  const site = generateSite({ pages: args.pages, seed: args.seed });
  console.log(describeSite(site, args, since(genStart)));
  console.log(
    `all crawlers: concurrency ${args.concurrency} (service concurrency = perHostConcurrency = ${args.concurrency}, ${threads} worker threads x ${tasksPerWorker} tasks; ` +
      `Crawlee minConcurrency = maxConcurrency = ${args.concurrency}), same-origin, no robots.txt, ${TIMEOUT_MS / 1000} s per fetch; ` +
      `retries: service ${RETRIES}, Crawlee tuned ${RETRIES}, Crawlee defaults its own 3; ${args.runs} run(s) per crawler and scenario\n`,
  );

  const children = new Set<{ kill(): void }>();
  const cleanup = () => children.forEach((c) => c.kill());
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.once('exit', cleanup);

  const settings: CrawlSettings = {
    concurrency: args.concurrency,
    retries: RETRIES,
    timeoutMs: TIMEOUT_MS,
    maxDepth: MAX_DEPTH,
    maxPages: Math.max(10_000, args.pages * 2),
    deadlineMs: CRAWL_DEADLINE_MS,
  };
  const env = serviceEnv(args, threads);
  const measured = stamp(args.runs);
  const scenarios: Scenario[] = [];
  for (const latencyMs of args.scenarios ?? [0, args.latencyMs]) {
    const name = latencyMs === 0 ? 'no added latency' : `${latencyMs} ms per response`;
    const runs = new Map(CRAWLERS.map((c) => [c, [] as CrawlRun[]]));
    for (let round = 1; round <= args.runs; round++) {
      for (const crawler of CRAWLERS) {
        const run = await crawlOnce(crawler, site, latencyMs, settings, env, crawlee, children);
        runs.get(crawler)!.push(run);
        console.log(`${name}, run ${round}/${args.runs}, ${crawler}: ${oneLine(run)}`);
      }
    }
    scenarios.push({ name, latencyMs, runs });
  }

  const report = printCrawlReport(scenarios, {
    expected: new Set(site.paths),
    concurrency: args.concurrency,
    runs: args.runs,
    context:
      `${site.paths.length}-page generated site (${mib(site.totalBytes / 1024)}, seed ${args.seed}) on ${HOST}; concurrency ${args.concurrency} for all ` +
      `(service: ${threads} worker threads x ${tasksPerWorker} tasks; Crawlee ${crawlee.version}: CheerioCrawler, min = max concurrency, in-memory storage); ` +
      `${args.runs} run(s) per figure in rounds, each on a fresh site and a fresh process; ` +
      'time = from the request (service: POST /crawl?wait= sent; Crawlee: the built crawler told to start) to the last result read, boot excluded for all; ' +
      'CPU = the crawling process tree (all threads, child processes included) over that window, from /proc; ' +
      `service at ${source}; Node ${process.version}, ${availableParallelism()} cores, NODE_ENV=production.`,
  });
  writeBenchSection(
    {
      name: 'crawl',
      title: 'Crawl',
      command: 'npm run bench:crawl',
      about: [
        `A generated ${site.paths.length}-page site (${mib(site.totalBytes / 1024)}: pages of a few KB to about 1 MB, some links to missing pages) on loopback, crawled whole, same-origin, concurrency ${args.concurrency}, by three crawlers:`,
        '- service: the built service in its own process (`POST /crawl?wait=`, then every results page);',
        "- Crawlee defaults: Crawlee's CheerioCrawler as shipped (session pool with a cookie jar per session, generated browser-like headers, 3 retries);",
        `- Crawlee tuned: the same without the session pool and header generation, with the service's retries (${RETRIES}).`,
        "Crawlee is installed by the benchmark into a temporary folder, not a project dependency; both Crawlee runs use in-memory storage, min = max concurrency, no robots.txt and the service's per-fetch timeout. " +
          'Scenarios: no added latency (bound by parsing) and a fixed latency per response (bound by concurrency). Each crawl gets a fresh process and a fresh copy of the site; runs go in rounds over the three crawlers. ' +
          'Time runs from the request to the last result read, boot excluded for all; CPU is that of the crawling process tree (every thread, any child process), read from /proc at both ends.',
      ],
      tables: report.tables,
      notes: report.notes,
      stamp: measured,
    },
    { quick: args.quick },
  );

  if (args.cpuProf) {
    console.log('\n--cpu-prof: one more no-latency crawl through the service, every thread profiled (not part of the figures above) ...');
    const report = await profileService(await serveSite(site, { host: HOST, latencyMs: 0 }), env, args, children);
    console.log(report.text);
  }
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function crawlOnce(
  crawler: (typeof CRAWLERS)[number],
  site: Site,
  latencyMs: number,
  settings: CrawlSettings,
  env: Record<string, string>,
  crawlee: CrawleeInstall,
  children: Set<{ kill(): void }>,
): Promise<CrawlRun> {
  const running = await serveSite(site, { host: HOST, latencyMs });
  try {
    if (crawler === 'service') return await serviceCrawl(running, settings, env, children);
    return await crawleeCrawl(running, crawler === 'Crawlee tuned' ? 'tuned' : 'defaults', settings, crawlee, children);
  } finally {
    await running.close();
  }
}

/** The service's settings for these crawls: the crawl options the request uses must be within its bounds. */
function serviceEnv(args: Args, threads: number): Record<string, string> {
  return {
    POOL_SIZE: String(threads),
    CRAWL_ALLOW_TARGETS: `${HOST}/32`,
    CRAWL_ALLOW_IGNORE_ROBOTS: 'true', // the comparison runs without robots.txt on both sides
    CRAWL_MAX_DEPTH: String(MAX_DEPTH),
    CRAWL_MAX_PAGES: String(Math.max(10_000, args.pages * 2)),
    CRAWL_MAX_CONCURRENCY: String(Math.max(64, args.concurrency)),
    CRAWL_MAX_PER_HOST: String(Math.max(16, args.concurrency)),
    // The one site is one host: its shared budget must not cap the crawl below the concurrency compared.
    CRAWL_HOST_MAX_CONCURRENCY: String(Math.max(16, args.concurrency)),
    // One anonymous client: keys and the rate limit would only get in the way.
    API_KEYS: '',
    RATE_LIMIT_MAX: '1000000',
  };
}

function oneLine(run: CrawlRun): string {
  return `${run.ok.size} pages ok in ${sec(run.ms)} = ${(run.ok.size / (run.ms / 1000)).toFixed(0)} pages/s, CPU ${sec(run.cpuMs)} (${(run.cpuMs / run.ok.size).toFixed(2)} ms/page), peak RSS ${mib(run.peakKb)}`;
}

/** The commit dist/ was built from, and whether src/ had changes not committed (others edit the tree too). */
function sourceState(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: join(__dirname, '..'), encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'an unknown commit (no git)';
  const dirty = git('status', '--porcelain', '--', 'src').stdout.split('\n').filter(Boolean).length;
  return `commit ${head.stdout.trim()}${dirty ? ` + ${dirty} uncommitted file(s) in src/` : ''}`;
}

function describeSite(site: Site, args: Args, ms: number): string {
  const sizes = [...site.bodies.values()].map((b) => b.length).sort((a, b) => a - b);
  const q = (f: number) => kb(sizes[Math.floor(f * (sizes.length - 1))]);
  const links = [...site.linkCounts].sort((a, b) => a - b);
  const l = (f: number) => links[Math.floor(f * (links.length - 1))];
  const share = sizes.filter((s) => s >= 10_000 && s <= 60_000).length / sizes.length;
  const externals = site.externalCounts.reduce((a, b) => a + b, 0);
  const anchors = site.linkCounts.reduce((a, b) => a + b, 0);
  return [
    `site: ${site.paths.length} pages on http://${HOST}, seed ${args.seed} (content hash ${site.hash}), ${mib(site.totalBytes / 1024)} of HTML, generated in ${(ms / 1000).toFixed(1)} s`,
    `  page size: median ${q(0.5)}, p10 ${q(0.1)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${q(1)}; ${(share * 100).toFixed(0)}% within 10-60 KB, ${sizes.filter((s) => s > 150_000).length} pages over 150 KB`,
    `  links per page: median ${l(0.5)}, p10 ${l(0.1)}, p90 ${l(0.9)}, max ${l(1)}; ${((externals / anchors) * 100).toFixed(0)}% off-site (.example hosts, mailto:, tel:, javascript:); ${site.missing.length} linked paths answer 404`,
    `  every page reachable from / within ${Math.max(...site.depths)} links (crawls allow ${MAX_DEPTH})`,
  ].join('\n');
}

function kb(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${Math.round(bytes / 1000)} KB`;
}

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

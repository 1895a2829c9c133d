/**
 * Crawl benchmark: the service's crawl jobs against Crawlee's CheerioCrawler, as shipped and tuned,
 * on two sites (lib/crawl-targets.ts), and against the one-thread link-parsing floor of each.
 * Run with `npm run bench:crawl` (`-- --quick` for a cheap check).
 *
 * It builds dist/ if needed, installs Crawlee into a cache folder outside the repo (it is not a
 * project dependency; see lib/crawlee-install.ts), and crawls each site whole with three crawlers,
 * --runs times each, in rounds (each round runs all three in turn, so a neighbour busy for a while
 * slows all of them alike, not one):
 * - service: dist/main.js in its own process, POST /crawl?wait= then every results page;
 * - Crawlee defaults: CheerioCrawler as shipped (session pool, generated headers, 3 retries);
 * - Crawlee tuned: no session pool, no header generation, the service's retries.
 * Every crawl gets a fresh process and a fresh server of the site, and the same concurrency. Sites:
 * - generated: a deterministic site (lib/crawl-site.ts) of mixed page sizes, served by node:http,
 *   in two scenarios: no added latency (parsing-bound) and a fixed latency per response
 *   (concurrency-bound); the service is held to 3x Crawlee's pages/s;
 * - docs: Debian's postgresql-doc-15 manual (~1,170 pages, 14 KB on average) served from disk by an nginx
 *   the bench starts (lib/nginx-site.ts, lib/docs-corpus.ts), with no added latency only (nginx
 *   cannot add any); the service is held to 8x Crawlee and to 3x the parsing floor (issue 16, at
 *   --concurrency 16). Needs `apt-get install -y nginx-light postgresql-doc-15`; without them the
 *   bench says so and skips this site.
 * Before each site's crawls, the floor (lib/parse-floor.ts): every page parsed on one thread of
 * this process by the service's own PageParser from dist/, after a warm-up, max(3, --runs) passes.
 *
 * The same window for all (lib/crawl-runs.ts): from the request to the last result read, boot
 * excluded. Per crawler and scenario, min / median / max over the runs of: time, pages/s, CPU per
 * page (CPU of the crawling process tree, read from /proc the same way for all), and peak RSS.
 *
 * Options (after `--`): --runs N (5), --quick (300 generated pages, 1 run: checks the script, not a
 * figure), --sites generated,docs (both), --pages N (3000, generated site), --concurrency N (32),
 * --latency-ms N (50), --seed N (1), --scenarios MS,MS (added latencies on the generated site,
 * default 0 and --latency-ms), --cpu-prof (afterwards profiles the service, every thread, during one
 * more no-latency crawl of each site and prints where its time goes), --warm (each timed crawl, of
 * every crawler, follows one untimed crawl of the same site in the same process: JIT warmed, like
 * the floor; the service also starts with the host's pacing state learned; default cold). Env: POOL_SIZE and
 * CRAWL_TASKS_PER_WORKER reach the service; CRAWL_BENCH_HOST (127.0.0.3) is the loopback address
 * the sites listen on; CRAWL_BENCH_DOCS another folder of HTML to serve as the docs site (its
 * index.html the start); CRAWLEE_VERSION picks another Crawlee. Writes its section of
 * docs/benchmarks.md (lib/bench-doc.ts).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { type CrawlArgs, parseCrawlArgs } from './lib/crawl-args';
import { profileService } from './lib/crawl-profile';
import { CRAWL_LEGEND, crawlAbout, printCrawlReport, type Scenario } from './lib/crawl-report';
import { CRAWLERS, type CrawlRun, type CrawlSettings, crawleeCrawl, mib, sec, serviceCrawl } from './lib/crawl-runs';
import { generateSite } from './lib/crawl-site';
import { type CrawlTarget, docsTarget, docsUnavailable, generatedTarget } from './lib/crawl-targets';
import { CRAWLEE_PACKAGE, type CrawleeInstall, ensureCrawlee } from './lib/crawlee-install';
import { FLOOR_NOTES, type Floor, type FloorSite, floorLine, floorTables, measureFloor } from './lib/parse-floor';
import { buildIfStale } from './lib/service';
import { since } from './lib/stats';
import { plainTable } from './lib/table';

const HOST = process.env.CRAWL_BENCH_HOST || '127.0.0.3';
/** Per-fetch deadline for all crawlers (the service's timeoutMs, Crawlee's navigationTimeoutSecs). */
const TIMEOUT_MS = 10_000;
/** The service's default `retries`; Crawlee tuned gets as many. */
const RETRIES = 2;
const MAX_DEPTH = 50;
/** How long one crawl may take before the bench gives up on it. */
const CRAWL_DEADLINE_MS = 240_000;
/** The concurrency issue 16's docs-site targets are stated at. */
const DOCS_TARGET_CONCURRENCY = 16;
interface SiteResult {
  target: CrawlTarget;
  floor: Floor;
  scenarios: Scenario[];
}

async function main(): Promise<void> {
  const started = performance.now();
  const args = parseCrawlArgs(process.argv.slice(2));
  buildIfStale();
  const crawlee = ensureCrawlee();
  const threads = Number(process.env.POOL_SIZE) || availableParallelism();
  const tasksPerWorker = Number(process.env.CRAWL_TASKS_PER_WORKER) || 16;
  const source = sourceState();
  console.log(`service: dist/ built from ${source}`);
  console.log(
    `Crawlee: ${CRAWLEE_PACKAGE}@${crawlee.version} loaded from ${crawlee.dir} (${crawlee.installedNow ? `installed now, ${(crawlee.installMs / 1000).toFixed(1)} s` : 'cached'}; installed by this bench, not a project dependency)`,
  );
  if (args.quick) console.log('--quick: a small generated site and few runs, to check the script works; these figures are not worth quoting');

  const targets: CrawlTarget[] = [];
  const skipped: string[] = [];
  if (args.sites.includes('generated')) {
    const genStart = performance.now();
    const site = generateSite({ pages: args.pages, seed: args.seed });
    targets.push(generatedTarget(site, { host: HOST, seed: args.seed, latencies: args.scenarios ?? [0, args.latencyMs], maxDepth: MAX_DEPTH, generatedMs: since(genStart) }));
  }
  if (args.sites.includes('docs')) {
    const why = docsUnavailable();
    if (why) skipped.push(`docs site SKIPPED: ${why}`);
    else targets.push(docsTarget({ host: HOST }));
  }
  for (const line of skipped) console.log(line);
  for (const target of targets) console.log(target.description);
  if (targets.some((t) => t.key === 'docs')) {
    console.log('  nginx cannot add latency to its answers: the docs site runs with no added latency only');
    if (args.concurrency !== DOCS_TARGET_CONCURRENCY) console.log(`  NOTE: the issue's docs-site targets are stated at --concurrency ${DOCS_TARGET_CONCURRENCY}; this run uses ${args.concurrency}`);
  }
  if (targets.length === 0) throw new Error('no site to crawl: every site asked for (--sites) was skipped, see above');
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
    warm: args.warm,
  };
  const env = serviceEnv(args, threads);
  const measured = stamp(args.runs);
  const passes = Math.max(3, args.runs);
  const results: SiteResult[] = [];
  for (const target of targets) {
    const floor = await measureFloor(target.floorPages, { origin: `http://${HOST}`, contentType: target.contentType, passes });
    console.log(floorLine(target.label, floor));
    const scenarios: Scenario[] = [];
    for (const latencyMs of target.latencies) {
      const name = latencyMs === 0 ? 'no added latency' : `${latencyMs} ms per response`;
      const runs = new Map(CRAWLERS.map((c) => [c, [] as CrawlRun[]]));
      for (let round = 1; round <= args.runs; round++) {
        for (const crawler of CRAWLERS) {
          const run = await crawlOnce(crawler, target, latencyMs, settings, env, crawlee, children);
          runs.get(crawler)!.push(run);
          console.log(`${target.label}, ${name}, run ${round}/${args.runs}, ${crawler}: ${oneLine(run)}`);
        }
      }
      scenarios.push({ name, latencyMs, runs });
    }
    results.push({ target, floor, scenarios });
  }

  const common =
    `concurrency ${args.concurrency} for all (service: ${threads} worker threads x ${tasksPerWorker} tasks; Crawlee ${crawlee.version}: CheerioCrawler, min = max concurrency, in-memory storage); ` +
    `${args.runs} run(s) per figure in rounds, each on a fresh server of the site and a fresh process; ` +
    (args.warm ? 'warm: each timed crawl follows one untimed crawl of the same site in the same process (the service keeps the host pacing it learned); ' : 'cold: fresh process, no warm-up crawl; ') +
    'time = from the request (service: POST /crawl?wait= sent; Crawlee: the built crawler told to start) to the last result read, boot excluded for all; ' +
    'CPU = the crawling process tree (all threads, child processes included) over that window, from /proc; ' +
    `service at ${source}; Node ${process.version}, ${availableParallelism()} cores, NODE_ENV=production.`;
  const tables = [];
  const notes: string[] = [];
  for (const { target, scenarios } of results) {
    const report = printCrawlReport(scenarios, {
      site: target.label,
      expected: target.expected,
      targetSpeedup: target.targetSpeedup,
      concurrency: args.concurrency,
      runs: args.runs,
      context: `${target.summary}, on ${HOST}; ${common}`,
    });
    tables.push(...report.tables);
    notes.push(...report.notes);
  }
  const floorSites: FloorSite[] = results.map(({ target, floor, scenarios }) => ({
    label: target.label,
    floor,
    service: scenarios.find((s) => s.latencyMs === 0)?.runs.get('service') ?? [],
    target: target.key === 'docs',
  }));
  const floors = floorTables(floorSites);
  for (const table of floors) console.log(`\n${table.caption}:\n\n${plainTable(table.header, table.rows)}`);
  console.log(`\n${FLOOR_NOTES.join('\n')}`);
  for (const line of skipped) console.log(`\n${line}`);
  writeBenchSection(
    {
      name: 'crawl',
      title: 'Crawl',
      command: 'npm run bench:crawl',
      about: crawlAbout({
        sites: results.map(({ target }) => target.summary + (target.key === 'docs' ? ' (nginx cannot add latency)' : '')),
        skipped,
        concurrency: args.concurrency,
        retries: RETRIES,
        docsConcurrency: DOCS_TARGET_CONCURRENCY,
        warm: args.warm,
      }),
      tables: [...tables, ...floors],
      notes: [...CRAWL_LEGEND, ...FLOOR_NOTES, ...notes],
      stamp: measured,
    },
    { quick: args.quick },
  );

  if (args.cpuProf) {
    for (const target of targets) {
      console.log(`\n--cpu-prof: one more no-latency crawl of the ${target.label} through the service, every thread profiled (not part of the figures above) ...`);
      const report = await profileService(await target.serve(0, children), env, args, children);
      console.log(report.text);
    }
  }
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function crawlOnce(
  crawler: (typeof CRAWLERS)[number],
  target: CrawlTarget,
  latencyMs: number,
  settings: CrawlSettings,
  env: Record<string, string>,
  crawlee: CrawleeInstall,
  children: Set<{ kill(): void }>,
): Promise<CrawlRun> {
  const running = await target.serve(latencyMs, children);
  try {
    if (crawler === 'service') return await serviceCrawl(running, settings, env, children);
    return await crawleeCrawl(running, crawler === 'Crawlee tuned' ? 'tuned' : 'defaults', settings, crawlee, children);
  } finally {
    await running.close();
  }
}

/** The service's settings for these crawls: the crawl options the request uses must be within its bounds. */
function serviceEnv(args: CrawlArgs, threads: number): Record<string, string> {
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

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

/**
 * Crawl benchmark: the service's crawl jobs against Crawlee's CheerioCrawler, on the same
 * generated site. Run with `npm run bench:crawl`.
 *
 * It builds dist/ if needed, installs Crawlee into a cache folder outside the repo (it is not a
 * project dependency; see lib/crawlee-install.ts), generates a deterministic site (lib/crawl-site.ts)
 * and crawls it whole twice per scenario: (a) through the service (dist/main.js, its own process,
 * POST /crawl, polled to completion, results read back), then (b) with Crawlee in its own
 * process; the site is started afresh for each crawl, the service once per scenario. Scenarios:
 * no added latency (parsing-bound) and a fixed latency per response (concurrency-bound).
 *
 * For each crawl: wall time, pages/s, CPU seconds of the crawling process (all its threads) over
 * the crawl, peak RSS (VmRSS sampled every 50 ms, and VmHWM), and whether both found the same
 * set of pages. One run per figure: each crawl is seconds long and fetches thousands of pages.
 *
 * The details under the tables say what each figure rests on: the service's CPU split between its
 * main thread and the rest, requests in flight at the site (with added latency: the concurrency a
 * crawler really reached), failures by kind, RSS before the crawl, and how busy the machine was.
 *
 * Options (after `--`): --pages N (3000), --concurrency N (32), --latency-ms N (50), --seed N (1),
 * --scenarios MS,MS (added latencies to run, default 0 and --latency-ms), --cpu-prof (afterwards
 * profiles the service, every thread, during one more no-latency crawl and prints where its time
 * goes). Env: POOL_SIZE and CRAWL_TASKS_PER_WORKER reach the service; CRAWL_BENCH_HOST (127.0.0.3)
 * is the loopback address the site listens on; CRAWLEE_VERSION picks another Crawlee.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { allResults, submitCrawl, waitForJob, type CrawlItem } from './lib/crawl-api';
import { profileService, type ProfileReport } from './lib/crawl-profile';
import { generateSite, serveSite, type Site, type SiteStats } from './lib/crawl-site';
import { CRAWLEE_PACKAGE, ensureCrawlee, type CrawleeInstall } from './lib/crawlee-install';
import { CpuNeighbours, processCpuMs } from './lib/contention';
import { RssSampler, statusKb, threadCpuDelta, threadCpuMs } from './lib/proc-stats';
import { buildIfStale, Service } from './lib/service';
import { since } from './lib/stats';
import { markdownTable, plainTable, type Row } from './lib/table';

const HOST = process.env.CRAWL_BENCH_HOST || '127.0.0.3';
const RUNNER = join(__dirname, 'lib', 'crawlee-run.mjs');
/** Per-fetch deadline for both crawlers (the service's timeoutMs, Crawlee's navigationTimeoutSecs). */
const TIMEOUT_MS = 10_000;
const MAX_DEPTH = 50;
/** How long one crawl may take before the bench gives up on it. */
const CRAWL_DEADLINE_MS = 240_000;
const TARGET_SPEEDUP = 3;
const POLL_MS = 100;

interface Args {
  pages: number;
  concurrency: number;
  latencyMs: number;
  seed: number;
  cpuProf: boolean;
  /** Added latency of each scenario, in ms: 0 and --latency-ms unless --scenarios says otherwise. */
  scenarios?: number[];
}

interface CrawlRun {
  crawler: 'service' | 'Crawlee';
  /** The crawl itself: POST to job completed (service), crawler.run() (Crawlee). */
  ms: number;
  ok: Set<string>;
  failed: Map<string, number>;
  cpuMs: number;
  /** Largest RSS seen: sampled every 50 ms, or the kernel's VmHWM if higher. */
  peakKb: number;
  /** RSS right before the crawl started (service: booted and idle; Crawlee: modules loaded). */
  beforeKb: number;
  site: SiteStats;
  /** Cores' worth of CPU other processes used meanwhile. */
  otherCores?: number;
  notes: string[];
}

interface Scenario {
  name: string;
  latencyMs: number;
  service: CrawlRun;
  crawlee: CrawlRun;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { pages: 3000, concurrency: 32, latencyMs: 50, seed: 1, cpuProf: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--pages') args.pages = value();
    else if (flag === '--concurrency') args.concurrency = value();
    else if (flag === '--latency-ms') args.latencyMs = value();
    else if (flag === '--seed') args.seed = value();
    else if (flag === '--cpu-prof') args.cpuProf = true;
    else if (flag === '--scenarios') args.scenarios = (inline ?? argv[++i]).split(',').map(Number);
    else throw new Error(`unknown option ${argv[i]} (known: --pages N --concurrency N --latency-ms N --seed N --scenarios MS,MS --cpu-prof)`);
  }
  for (const [name, n] of Object.entries({ ...args, scenarios: undefined })) if (typeof n === 'number' && !(Number.isInteger(n) && n >= 0)) throw new Error(`--${name} must be a whole number`);
  if (args.scenarios && !args.scenarios.every((n) => Number.isInteger(n) && n >= 0 && n <= 10_000)) throw new Error('--scenarios takes latencies in ms, comma-separated, e.g. 0,50');
  if (args.pages < 2000 || args.pages > 100_000) throw new Error('--pages must be 2000..100000');
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

  const genStart = performance.now();
  const site = generateSite({ pages: args.pages, seed: args.seed });
  console.log(describeSite(site, args, since(genStart)));
  console.log(
    `both crawlers: concurrency ${args.concurrency} (service concurrency = perHostConcurrency = ${args.concurrency}, ${threads} worker threads x ${tasksPerWorker} tasks; ` +
      `Crawlee minConcurrency = maxConcurrency = ${args.concurrency}), same-origin, no robots.txt, ${TIMEOUT_MS / 1000} s per fetch, default retries\n`,
  );

  const children = new Set<{ kill(): void }>();
  const cleanup = () => children.forEach((c) => c.kill());
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.once('exit', cleanup);

  const env = serviceEnv(args, threads);
  const scenarios: Scenario[] = [];
  for (const latencyMs of args.scenarios ?? [0, args.latencyMs]) {
    const name = latencyMs === 0 ? 'no added latency' : `${latencyMs} ms per response`;
    console.log(`${name}: service ...`);
    const service = await serviceCrawl(site, latencyMs, args, env, children);
    console.log(`  ${oneLine(service)}`);
    console.log(`${name}: Crawlee ...`);
    const crawleeRun = await crawleeCrawl(site, latencyMs, args, crawlee, children);
    console.log(`  ${oneLine(crawleeRun)}`);
    scenarios.push({ name, latencyMs, service, crawlee: crawleeRun });
  }

  print(scenarios, site, args, threads, tasksPerWorker, crawlee, source);

  if (args.cpuProf) {
    console.log('\n--cpu-prof: one more no-latency crawl through the service, every thread profiled (not part of the figures above) ...');
    const report = await profileService(await startSite(site, 0), env, args, children);
    printProfile(report);
  }
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
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
    // One anonymous client polling a job: keys and the rate limit would only get in the way.
    API_KEYS: '',
    RATE_LIMIT_MAX: '1000000',
  };
}

async function startSite(site: Site, latencyMs: number) {
  return serveSite(site, { host: HOST, latencyMs });
}

/** (a) A fresh service, then a fresh site, then one crawl job, measured from POST to completed. */
async function serviceCrawl(site: Site, latencyMs: number, args: Args, env: Record<string, string>, children: Set<{ kill(): void }>): Promise<CrawlRun> {
  const service = await Service.start(env);
  const handle = { kill: () => service.killNow() };
  children.add(handle);
  const pid = service.pid!;
  try {
    const running = await startSite(site, latencyMs);
    try {
      const neighbours = CpuNeighbours.start([pid]);
      const beforeKb = statusKb(pid, 'VmRSS');
      const cpuBefore = processCpuMs(pid) ?? NaN;
      const threadsBefore = threadCpuMs(pid);
      const sampler = new RssSampler(pid, 50);
      const start = performance.now();
      const job = await submitCrawl(service.baseUrl, `${running.origin}/`, { concurrency: args.concurrency, maxPages: Math.max(10_000, args.pages * 2), maxDepth: MAX_DEPTH, timeoutMs: TIMEOUT_MS });
      const postMs = since(start);
      // Polled every 100 ms: each GET costs the service's main thread about a millisecond, so
      // polling faster would show up in its CPU time. The wall time does not depend on the
      // interval: it is the POST's round trip plus the job's own start-to-finish time.
      const done = await waitForJob(service.baseUrl, job.id, { everyMs: POLL_MS, timeoutMs: CRAWL_DEADLINE_MS });
      const seenMs = since(start);
      const ms = done.durationMs !== null ? Math.min(seenMs, postMs + done.durationMs) : seenMs;
      const cpuMs = (processCpuMs(pid) ?? NaN) - cpuBefore;
      const threadSplit = threadCpuDelta(threadsBefore, threadCpuMs(pid));
      const memory = sampler.stop();
      const otherCores = neighbours?.otherCores();
      const siteStats = running.stats();
      const items = await allResults(service.baseUrl, job.id, done.total);
      const { ok, failed } = pageSets(items, running.origin);
      const s = done.summary;
      return {
        crawler: 'service',
        ms,
        ok,
        failed,
        cpuMs,
        peakKb: Math.max(memory.peakKb, memory.hwmKb || 0),
        beforeKb,
        site: siteStats,
        otherCores,
        notes: [
          `POST ${Math.round(postMs)} ms + job durationMs ${done.durationMs} (completion seen by the client, polling every ${POLL_MS} ms, after ${Math.round(seenMs)} ms); ${done.total} tasks, summary pagesOk ${s?.pagesOk} pagesFailed ${s?.pagesFailed} linksDiscovered ${s?.linksDiscovered} bytesFetched ${mib(s?.bytesFetched ?? 0)}`,
          threadSplit
            ? `CPU by thread: main thread (HTTP API, job bookkeeping, crawl coordinator) ${sec(threadSplit.mainMs)}, other threads (worker threads fetching + parsing, V8 GC/compiler helpers) ${sec(threadSplit.othersMs)}`
            : '',
          `RSS: ${mib(beforeKb * 1024)} idle before the crawl, peak ${mib(memory.peakKb * 1024)} sampled (${memory.samples} samples), VmHWM ${mib(memory.hwmKb * 1024)}`,
        ].filter(Boolean),
      };
    } finally {
      await running.close();
    }
  } finally {
    await service.stop();
    children.delete(handle);
  }
}

interface CrawleeReport {
  version: string;
  ok: string[];
  failed: { url: string; error: string }[];
  enqueued: number;
  ms: number;
  cpuMs: number;
  rssBeforeKb: number;
  hwmKb: number;
  stats: { requestsFinished: number; requestsFailed: number; retries: number; requestsTotal: number };
}

/** (b) A fresh site, then Crawlee in its own process; the crawl's figures come from inside it, the RSS from here too. */
async function crawleeCrawl(site: Site, latencyMs: number, args: Args, crawlee: CrawleeInstall, children: Set<{ kill(): void }>): Promise<CrawlRun> {
  const running = await startSite(site, latencyMs);
  // Crawlee's working directory and storage dir: it may create folders even with in-memory storage.
  const scratch = mkdtempSync(join(tmpdir(), 'crawl-bench-run-'));
  try {
    const outFile = join(scratch, 'result.json');
    const neighbours = CpuNeighbours.start([]);
    const input = { startUrl: `${running.origin}/`, concurrency: args.concurrency, crawleeDir: crawlee.dir, timeoutSecs: TIMEOUT_MS / 1000, outFile };
    const child = spawn(process.execPath, [RUNNER, JSON.stringify(input)], {
      cwd: scratch,
      env: { ...process.env, CRAWLEE_STORAGE_DIR: join(scratch, 'storage'), CRAWLEE_PERSIST_STORAGE: 'false', CRAWLEE_PURGE_ON_START: 'true', NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const handle = { kill: () => child.kill('SIGKILL') };
    children.add(handle);
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const sampler = new RssSampler(child.pid!, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), CRAWL_DEADLINE_MS + 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    children.delete(handle);
    const memory = sampler.stop();
    // Reaped by now: its CPU counts as ours, not as a neighbour's.
    const otherCores = neighbours?.otherCores();
    const siteStats = running.stats();
    if (code !== 0) throw new Error(`Crawlee run exited with ${code}:\n${output.join('').slice(-3000)}`);
    const report = JSON.parse(readFileSync(outFile, 'utf8')) as CrawleeReport;
    const ok = new Set<string>();
    for (const url of report.ok) ok.add(pageKey(url, running.origin));
    const failed = new Map<string, number>();
    for (const f of report.failed) failed.set(f.error.replace(/\d{3,}/g, 'N').slice(0, 60), (failed.get(f.error.replace(/\d{3,}/g, 'N').slice(0, 60)) ?? 0) + 1);
    const warnings = output
      .join('')
      .split('\n')
      .filter((line) => /WARN|ERROR/.test(line));
    return {
      crawler: 'Crawlee',
      ms: report.ms,
      ok,
      failed,
      cpuMs: report.cpuMs,
      peakKb: Math.max(memory.peakKb, report.hwmKb || 0),
      beforeKb: report.rssBeforeKb,
      site: siteStats,
      otherCores,
      notes: [
        `crawler.run() ${Math.round(report.ms)} ms; Crawlee statistics: ${report.stats.requestsFinished} finished, ${report.stats.requestsFailed} failed, ${report.stats.retries} retries; ${report.enqueued} links enqueued (before de-duplication)`,
        `RSS: ${mib(report.rssBeforeKb * 1024)} before crawler.run() (modules loaded), peak ${mib(memory.peakKb * 1024)} sampled (${memory.samples} samples), VmHWM ${mib(report.hwmKb * 1024)}`,
        ...(warnings.length ? [`Crawlee logged ${warnings.length} warning/error line(s), first: ${warnings[0].slice(0, 200)}`] : []),
      ],
    };
  } finally {
    await running.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The commit dist/ was built from, and whether src/ had changes not committed (others edit the tree too). */
function sourceState(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: join(__dirname, '..'), encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'an unknown commit (no git)';
  const dirty = git('status', '--porcelain', '--', 'src').stdout.split('\n').filter(Boolean).length;
  return `commit ${head.stdout.trim()}${dirty ? ` + ${dirty} uncommitted file(s) in src/` : ''}`;
}

/** A fetched URL as a path + query on the site; the port changes with every fresh site. */
function pageKey(url: string, origin: string): string {
  const parsed = new URL(url);
  if (parsed.origin !== origin) return `OFF-SITE ${parsed.href}`;
  return `${parsed.pathname}${parsed.search}`;
}

function pageSets(items: CrawlItem[], origin: string): { ok: Set<string>; failed: Map<string, number> } {
  const ok = new Set<string>();
  const failed = new Map<string, number>();
  for (const item of items) {
    if (item.state === 'completed') ok.add(pageKey(item.finalUrl ?? item.url, origin));
    else {
      const code = typeof item.error === 'object' ? item.error.code : item.state;
      failed.set(code, (failed.get(code) ?? 0) + 1);
    }
  }
  return { ok, failed };
}

function symmetricDifference(a: Set<string>, b: Set<string>): { onlyA: string[]; onlyB: string[] } {
  return { onlyA: [...a].filter((x) => !b.has(x)), onlyB: [...b].filter((x) => !a.has(x)) };
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
    `site: ${site.paths.length} pages on http://${HOST}, seed ${args.seed} (content hash ${site.hash}), ${mib(site.totalBytes)} of HTML, generated in ${(ms / 1000).toFixed(1)} s`,
    `  page size: median ${q(0.5)}, p10 ${q(0.1)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${q(1)}; ${(share * 100).toFixed(0)}% within 10-60 KB, ${sizes.filter((s) => s > 150_000).length} pages over 150 KB`,
    `  links per page: median ${l(0.5)}, p10 ${l(0.1)}, p90 ${l(0.9)}, max ${l(1)}; ${((externals / anchors) * 100).toFixed(0)}% off-site (.example hosts, mailto:, tel:, javascript:); ${site.missing.length} linked paths answer 404`,
    `  every page reachable from / within ${Math.max(...site.depths)} links (crawls allow ${MAX_DEPTH})`,
  ].join('\n');
}

function oneLine(run: CrawlRun): string {
  return `${run.ok.size} pages ok in ${sec(run.ms)} = ${rate(run).toFixed(0)} pages/s, CPU ${sec(run.cpuMs)}, peak RSS ${mib(run.peakKb * 1024)}`;
}

function rate(run: CrawlRun): number {
  return run.ok.size / (run.ms / 1000);
}

function print(scenarios: Scenario[], site: Site, args: Args, threads: number, tasksPerWorker: number, crawlee: CrawleeInstall, source: string): void {
  const expected = new Set(site.paths);
  const header: Row = ['Scenario', 'Crawler', 'Pages OK', 'Failed', 'Wall', 'Pages/s', 'CPU', 'CPU/page', 'Peak RSS', 'Same page set'];
  const rows: Row[] = [];
  const verdicts: Row[] = [];
  const details: string[] = [];
  for (const s of scenarios) {
    const diff = symmetricDifference(s.service.ok, s.crawlee.ok);
    const sameSet = diff.onlyA.length + diff.onlyB.length === 0;
    for (const run of [s.service, s.crawlee]) {
      const missing = [...expected].filter((p) => !run.ok.has(p)).length;
      rows.push([
        s.name,
        run.crawler === 'service' ? `service (${threads} workers)` : `Crawlee ${crawlee.version}`,
        `${run.ok.size}${missing ? ` (${missing} of the site missing)` : ''}`,
        String([...run.failed.values()].reduce((a, b) => a + b, 0)),
        sec(run.ms),
        rate(run).toFixed(0),
        sec(run.cpuMs),
        `${(run.cpuMs / run.ok.size).toFixed(2)} ms`,
        mib(run.peakKb * 1024),
        run.crawler === 'service' ? (sameSet ? 'yes' : 'NO') : `sym. diff ${diff.onlyA.length + diff.onlyB.length}`,
      ]);
    }
    const speedup = rate(s.service) / rate(s.crawlee);
    const memRatio = s.service.peakKb / s.crawlee.peakKb;
    verdicts.push([
      s.name,
      `${speedup.toFixed(2)}x`,
      speedup >= TARGET_SPEEDUP ? 'yes' : 'NO',
      `${(s.service.cpuMs / s.crawlee.cpuMs).toFixed(2)}x`,
      `${memRatio.toFixed(2)}x`,
      memRatio <= 1 ? 'yes' : 'NO',
    ]);
    details.push(`${s.name}:`);
    details.push(
      `  page sets: service ${s.service.ok.size}, Crawlee ${s.crawlee.ok.size}, site ${expected.size}; symmetric difference ${diff.onlyA.length + diff.onlyB.length}` +
        (diff.onlyA.length ? `; only the service: ${diff.onlyA.slice(0, 5).join(' ')}` : '') +
        (diff.onlyB.length ? `; only Crawlee: ${diff.onlyB.slice(0, 5).join(' ')}` : ''),
    );
    for (const run of [s.service, s.crawlee]) {
      const failures = [...run.failed].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
      const busy = run.otherCores !== undefined ? `; other processes used ${run.otherCores.toFixed(2)} cores meanwhile` : '';
      // Without added latency each response is written at once, so requests in flight say nothing.
      const inFlight = s.latencyMs > 0 ? `; requests in flight at the site: mean ${run.site.meanInFlight.toFixed(1)}, peak ${run.site.peakInFlight}` : '';
      details.push(
        `  ${run.crawler}: failures: ${failures}; the site served ${run.site.requests} requests (${run.site.ok} pages, ${run.site.repeats} of them repeats, ${run.site.notFound} 404s, ${mib(run.site.bytes)})${inFlight}${busy}`,
      );
      for (const note of run.notes) details.push(`    ${note}`);
      if (s.latencyMs > 0 && run.site.peakInFlight < args.concurrency / 2) {
        details.push(
          `    NOTE: never more than ${run.site.peakInFlight} requests in flight at the site, with concurrency ${args.concurrency}: ${run.crawler === 'service' ? 'the service does not fetch concurrently as asked' : 'Crawlee is CPU-bound (see its CPU time)'}`,
        );
      }
    }
  }
  const verdictHeader: Row = ['Scenario', 'Service/Crawlee pages/s', `>= ${TARGET_SPEEDUP}x`, 'Service/Crawlee CPU', 'Service/Crawlee peak RSS', '<= 1x'];
  const cores = availableParallelism();
  const busiest = Math.max(...scenarios.flatMap((s) => [s.service.otherCores ?? 0, s.crawlee.otherCores ?? 0]));
  const note =
    `${site.paths.length}-page generated site (${mib(site.totalBytes)}, seed ${args.seed}) on ${HOST}; concurrency ${args.concurrency} for both ` +
    `(service: ${threads} worker threads x ${tasksPerWorker} tasks, concurrency = perHostConcurrency = ${args.concurrency}; Crawlee: CheerioCrawler, min = max concurrency ${args.concurrency}, in-memory storage); ` +
    `one crawl per figure, each on a fresh site and a fresh process; wall = POST round trip + the job's durationMs (service) or crawler.run() (Crawlee); CPU = the crawling process, all threads, over the crawl; ` +
    `service at ${source}; Node ${process.version}, ${cores} cores, NODE_ENV=production.`;
  console.log(`\n${plainTable(header, rows)}`);
  console.log(`\n${plainTable(verdictHeader, verdicts)}`);
  console.log(`\n${note}`);
  if (busiest > 0.15) console.log(`\nWARNING: other processes took up to ${busiest.toFixed(2)} cores during a crawl; the figures are low. Rerun on an idle machine.`);
  console.log(`\n${details.join('\n')}`);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${markdownTable(verdictHeader, verdicts)}\n\n${note}`);
}

function printProfile(report: ProfileReport): void {
  console.log(report.text);
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function kb(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${Math.round(bytes / 1000)} KB`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

main().catch((err: unknown) => {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

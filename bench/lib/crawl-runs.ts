/**
 * One timed crawl of bench:crawl, by the service or by Crawlee, each in a fresh process of its own
 * against a fresh copy of the site. Both are measured the same way, from this process:
 * - the clock runs from the request (the service: POST /crawl is sent; Crawlee: `go` is sent to a
 *   crawler already built) to the last result read (the service: its last results page parsed;
 *   Crawlee: its results file parsed). Boot (process start, module loading, the service's pool,
 *   Crawlee's crawler construction) is excluded for both.
 * - CPU is that of the crawling process tree (every thread of the process, any child process
 *   too), read from /proc at both ends of the window.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuNeighbours } from './contention';
import { allResults, type CrawlItem, crawlAndWait } from './crawl-api';
import type { RunningSite, SiteStats } from './crawl-site';
import type { CrawleeInstall } from './crawlee-install';
import { RssSampler, statusKb, threadCpuDelta, threadCpuMs, treeCpuMs } from './proc-stats';
import { Service } from './service';
import { since } from './stats';

export type CrawlerName = 'service' | 'Crawlee defaults' | 'Crawlee tuned';
export const CRAWLERS: readonly CrawlerName[] = ['service', 'Crawlee defaults', 'Crawlee tuned'];

export interface CrawlSettings {
  concurrency: number;
  /** The service's `retries`; Crawlee tuned gets as many (Crawlee defaults keep its 3). */
  retries: number;
  timeoutMs: number;
  maxDepth: number;
  maxPages: number;
  /** How long one crawl may take before the bench gives up on it. */
  deadlineMs: number;
  /** One untimed crawl of the same site in the same process first (JIT warmed; the service also keeps the host's pacing state). */
  warm?: boolean;
}

export interface CrawlRun {
  crawler: CrawlerName;
  /** From the request to the last result read, ms. */
  ms: number;
  ok: Set<string>;
  failed: Map<string, number>;
  /** CPU of the crawling process tree over the same window, ms. */
  cpuMs: number;
  /** Largest RSS seen: sampled every 50 ms, or the kernel's VmHWM if higher. */
  peakKb: number;
  /** RSS right before the clock started (booted and idle). */
  beforeKb: number;
  site: SiteStats;
  /** Cores' worth of CPU other processes used meanwhile. */
  otherCores?: number;
  notes: string[];
}

/** The service: a fresh process, one crawl job held open with ?wait=, then every results page. */
export async function serviceCrawl(running: RunningSite, settings: CrawlSettings, env: Record<string, string>, children: Set<{ kill(): void }>): Promise<CrawlRun> {
  const service = await Service.start({ ...env, MAX_WAIT_MS: String(settings.deadlineMs) });
  const handle = { kill: () => service.killNow() };
  children.add(handle);
  try {
    const pid = service.pid!;
    if (settings.warm) {
      const warmJob = await crawlAndWait(service.baseUrl, running.startUrl, settings, settings.deadlineMs);
      await allResults(service.baseUrl, warmJob.id, warmJob.total, warmJob.results);
      await running.reset();
    }
    const neighbours = CpuNeighbours.start([pid, ...(running.pids ?? [])]);
    const beforeKb = statusKb(pid, 'VmRSS');
    const threadsBefore = threadCpuMs(pid);
    const sampler = new RssSampler(pid, 50);
    const cpuBefore = treeCpuMs(pid);
    const start = performance.now();
    const job = await crawlAndWait(service.baseUrl, running.startUrl, settings, settings.deadlineMs);
    const answeredMs = since(start);
    const items = await allResults(service.baseUrl, job.id, job.total, job.results);
    const ms = since(start);
    const cpuMs = treeCpuMs(pid) - cpuBefore;
    const threadSplit = threadCpuDelta(threadsBefore, threadCpuMs(pid));
    const memory = sampler.stop();
    const otherCores = neighbours?.otherCores();
    const { ok, failed } = pageSets(items, running.origin);
    const s = job.summary;
    return {
      crawler: 'service',
      ms,
      ok,
      failed,
      cpuMs,
      peakKb: Math.max(memory.peakKb, memory.hwmKb || 0),
      beforeKb,
      site: await running.stats(),
      otherCores,
      notes: [
        `POST ?wait answered after ${Math.round(answeredMs)} ms (job durationMs ${job.durationMs}), all ${job.total} results read after ${Math.round(ms)} ms; summary pagesOk ${s?.pagesOk} pagesFailed ${s?.pagesFailed} linksDiscovered ${s?.linksDiscovered}`,
        threadSplit
          ? `CPU by thread: main thread (HTTP API, jobs, crawl coordinator) ${sec(threadSplit.mainMs)}, other threads (workers fetching + parsing, V8 helpers) ${sec(threadSplit.othersMs)}`
          : '',
        `RSS: ${mib(beforeKb)} idle before the crawl, peak ${mib(memory.peakKb)} sampled (${memory.samples} samples), VmHWM ${mib(memory.hwmKb)}`,
      ].filter(Boolean),
    };
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
  rssBeforeKb: number;
  hwmKb: number;
  stats: { requestsFinished: number; requestsFailed: number; retries: number; requestsTotal: number };
}

const RUNNER = join(__dirname, 'crawlee-run.mjs');

/** Crawlee in a fresh process: built first, then timed from `go` to its results file read. */
export async function crawleeCrawl(running: RunningSite, mode: 'defaults' | 'tuned', settings: CrawlSettings, crawlee: CrawleeInstall, children: Set<{ kill(): void }>): Promise<CrawlRun> {
  // Crawlee's working directory and storage dir: it may create folders even with in-memory storage.
  const scratch = mkdtempSync(join(tmpdir(), 'crawl-bench-run-'));
  const outFile = join(scratch, 'result.json');
  const input = {
    startUrl: running.startUrl,
    concurrency: settings.concurrency,
    crawleeDir: crawlee.dir,
    timeoutSecs: settings.timeoutMs / 1000,
    retries: settings.retries,
    mode,
    outFile,
    warm: settings.warm,
  };
  const child = spawn(process.execPath, [RUNNER, JSON.stringify(input)], {
    cwd: scratch,
    env: { ...process.env, CRAWLEE_STORAGE_DIR: join(scratch, 'storage'), CRAWLEE_PERSIST_STORAGE: 'false', CRAWLEE_PURGE_ON_START: 'true', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const handle = { kill: () => child.kill('SIGKILL') };
  children.add(handle);
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // With warm, the runner crawls the site once before 'ready': the site's counts restart here.
    await message(child, 'ready', settings.warm ? 120_000 + settings.deadlineMs : 120_000, output);
    if (settings.warm) await running.reset();
    const pid = child.pid!;
    const neighbours = CpuNeighbours.start([pid, ...(running.pids ?? [])]);
    const sampler = new RssSampler(pid, 50);
    const cpuBefore = treeCpuMs(pid);
    const start = performance.now();
    child.send('go');
    await message(child, 'done', settings.deadlineMs, output);
    const report = JSON.parse(readFileSync(outFile, 'utf8')) as CrawleeReport;
    const ms = since(start);
    const cpuMs = treeCpuMs(pid) - cpuBefore;
    const memory = sampler.stop();
    const otherCores = neighbours?.otherCores();
    child.send('exit');
    const code = await exited;
    if (code !== 0) throw new Error(`Crawlee run exited with ${code}:\n${output.join('').slice(-3000)}`);
    const ok = new Set(report.ok.map((url) => pageKey(url, running.origin)));
    const failed = new Map<string, number>();
    for (const f of report.failed) {
      const kind = f.error.replace(/\d{3,}/g, 'N').slice(0, 60);
      failed.set(kind, (failed.get(kind) ?? 0) + 1);
    }
    const warnings = output
      .join('')
      .split('\n')
      .filter((line) => /WARN|ERROR/.test(line));
    return {
      crawler: mode === 'tuned' ? 'Crawlee tuned' : 'Crawlee defaults',
      ms,
      ok,
      failed,
      cpuMs,
      peakKb: Math.max(memory.peakKb, report.hwmKb || 0),
      beforeKb: report.rssBeforeKb,
      site: await running.stats(),
      otherCores,
      notes: [
        `Crawlee statistics: ${report.stats.requestsFinished} finished, ${report.stats.requestsFailed} failed, ${report.stats.retries} retries; ${report.enqueued} links enqueued (before de-duplication)`,
        `RSS: ${mib(report.rssBeforeKb)} before the crawl (crawler built), peak ${mib(memory.peakKb)} sampled (${memory.samples} samples), VmHWM ${mib(report.hwmKb)}`,
        ...(warnings.length ? [`Crawlee logged ${warnings.length} warning/error line(s), first: ${warnings[0].slice(0, 200)}`] : []),
      ],
    };
  } finally {
    child.kill('SIGKILL');
    children.delete(handle);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Waits for one IPC message from the runner; fails if it exits or takes too long. */
function message(child: ChildProcess, expected: string, timeoutMs: number, output: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      reject(new Error(`Crawlee run ${why} before '${expected}':\n${output.join('').slice(-3000)}`));
    };
    const onMessage = (m: unknown) => {
      if (m !== expected) return fail(`sent ${JSON.stringify(m)}`);
      cleanup();
      resolve();
    };
    const onExit = (code: number | null) => fail(`exited with ${code}`);
    const timer = setTimeout(() => fail(`took over ${timeoutMs} ms`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A fetched URL as a path + query on the site; the port changes with every fresh site. */
export function pageKey(url: string, origin: string): string {
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

export function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function mib(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MiB`;
}

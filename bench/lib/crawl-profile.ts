/**
 * `bench:crawl --cpu-prof`: one extra no-latency crawl through a service whose every thread runs
 * the V8 sampling profiler (crawl-prof-preload.cjs), then where the time went: per thread busy
 * time, self time by package / area, and the top functions, for the main thread and for the
 * worker threads together. Profiling slows the service, so these figures are not the bench's.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortUrl, type Profile, type ProfileNode } from './cpu-profile';
import { submitCrawl, waitForJob } from './crawl-api';
import type { RunningSite } from './crawl-site';
import { processCpuMs } from './contention';
import { threadCpuDelta, threadCpuMs } from './proc-stats';
import { Service } from './service';
import { since } from './stats';

export interface ProfileReport {
  text: string;
}

const PRELOAD = join(__dirname, 'crawl-prof-preload.cjs');

export async function profileService(running: RunningSite, env: Record<string, string>, args: { concurrency: number; pages: number }, children: Set<{ kill(): void }>): Promise<ProfileReport> {
  const dir = mkdtempSync(join(tmpdir(), 'crawl-bench-prof-'));
  const service = await Service.start({ ...env, NODE_OPTIONS: `--require ${PRELOAD}`, CRAWL_BENCH_PROF_DIR: dir, PISCINA_DISABLE_ATOMICS: '1' });
  const handle = { kill: () => service.killNow() };
  children.add(handle);
  const pid = service.pid!;
  try {
    const cpuBefore = processCpuMs(pid) ?? NaN;
    const threadsBefore = threadCpuMs(pid);
    process.kill(pid, 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = performance.now();
    const job = await submitCrawl(service.baseUrl, running.startUrl, { concurrency: args.concurrency, maxPages: Math.max(10_000, args.pages * 2), maxDepth: 50, timeoutMs: 10_000, retries: 2 });
    const done = await waitForJob(service.baseUrl, job.id, { everyMs: 100, timeoutMs: 240_000 });
    const ms = since(start);
    process.kill(pid, 'SIGUSR2');
    const cpuMs = (processCpuMs(pid) ?? NaN) - cpuBefore;
    const split = threadCpuDelta(threadsBefore, threadCpuMs(pid));
    // The main thread writes at once; workers when the channel message reaches them.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && profiles(dir).length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const lines = [
      `profiled crawl: ${done.completed} pages in ${(ms / 1000).toFixed(2)} s (${(done.completed / (ms / 1000)).toFixed(0)} pages/s with the profiler on), service CPU ${(cpuMs / 1000).toFixed(2)} s` +
        (split ? ` = main thread ${(split.mainMs / 1000).toFixed(2)} s + other threads ${(split.othersMs / 1000).toFixed(2)} s` : ''),
    ];
    const files = profiles(dir);
    const main = files.filter((f) => f === 'main.cpuprofile');
    const workers = files.filter((f) => f.startsWith('worker-'));
    if (main.length)
      lines.push(
        summarise(
          'main thread (Nest HTTP API, jobs service, crawl coordinator, pool messaging)',
          main.map((f) => load(join(dir, f))),
          25,
        ),
      );
    // The CPU pool's threads (Fibonacci) are profiled too, and sit idle: only busy threads count.
    const loaded = workers.map((f) => load(join(dir, f)));
    const busiest = Math.max(0, ...loaded.map(busyUs));
    const busyWorkers = loaded.filter((p) => busyUs(p) > busiest / 10);
    if (busyWorkers.length) lines.push(summarise(`worker threads (${busyWorkers.length} busy of ${workers.length} profiled: fetch + decode + parse + post results), together`, busyWorkers, 25));
    if (!main.length && !workers.length) lines.push(`no profile was written to ${dir}`);
    return { text: lines.join('\n') };
  } finally {
    await service.stop();
    children.delete(handle);
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function profiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
}

function load(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** Sampled time not spent idle, in µs. */
function busyUs(profile: Profile): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return profile.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : (profile.timeDeltas[i] ?? 0)), 0);
}

/** Self time of one group of threads: busy share, by area and by function. */
function summarise(title: string, group: Profile[], top: number): string {
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  /** For native frames (no script URL): self time by the JavaScript function that called them. */
  const callers = new Map<string, Map<string, number>>();
  let total = 0;
  let idle = 0;
  for (const profile of group) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const frame = byId.get(id)!.callFrame;
      total += us;
      if (frame.functionName === '(idle)') {
        idle += us;
        return;
      }
      const key = describe(frame);
      fns.set(key, (fns.get(key) ?? 0) + us);
      const area = areaOf(frame.url, frame.functionName);
      areas.set(area, (areas.get(area) ?? 0) + us);
      if (!frame.url && !frame.functionName.startsWith('(')) {
        let up = parentOf.get(id);
        while (up !== undefined && !byId.get(up)!.callFrame.url) up = parentOf.get(up);
        const caller = up === undefined ? '?' : describe(byId.get(up)!.callFrame);
        const mine = callers.get(key) ?? new Map<string, number>();
        mine.set(caller, (mine.get(caller) ?? 0) + us);
        callers.set(key, mine);
      }
    });
  }
  const busy = total - idle;
  const rows = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => {
        const from = callers.get(key);
        const top = from
          ? [...from]
              .sort((a, b) => b[1] - a[1])
              .slice(0, 2)
              .map(([caller, t]) => `${caller} ${Math.round((t / us) * 100)}%`)
          : [];
        return `    ${(us / 1e3).toFixed(0).padStart(7)} ms ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${key}${top.length ? `  <- ${top.join(', ')}` : ''}`;
      });
  return [
    `\n  ${title}: ${(total / 1e6).toFixed(2)} s sampled, busy ${(busy / 1e6).toFixed(2)} s`,
    '   self time by area (% of busy):',
    ...rows(areas, 14),
    `   top ${top} functions by self time (% of busy):`,
    ...rows(fns, top),
  ].join('\n');
}

function describe(frame: ProfileNode['callFrame']): string {
  const where = shortUrl(frame.url);
  return `${frame.functionName || '(anonymous)'}${where ? `  ${where}:${frame.lineNumber + 1}` : ''}`;
}

/** An npm package (scoped ones whole), a service dist/ folder, node: core, or a V8 pseudo-frame. */
function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native / V8 builtins)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return `service ${url
      .slice(dist + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}/`;
  if (url.startsWith('node:')) return 'node: core';
  return url;
}

/**
 * A folder of files served by nginx on a loopback address, for bench:crawl's documentation site:
 * a real static web server reading from disk (sendfile), not a Node server sharing the bench's
 * CPU. The bench starts its own nginx from a generated config in a temporary folder (nothing of
 * the system's nginx is used or touched), one master and one worker, access log off, and stops it
 * after the crawl. nginx cannot add a delay to its responses, so this site has no latency scenario.
 *
 * Requests are counted with stub_status (on a path no page links to); nginx's CPU is read from
 * /proc and its processes are named to the contention check, so they do not count as neighbours.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { processCpuMs } from './contention';
import type { RunningSite, SiteStats } from './crawl-site';

const STATUS_PATH = '/__bench_nginx_status';
const READY_MS = 10_000;

/** The nginx binary: /usr/sbin/nginx or the first on PATH; undefined when there is none. */
export function findNginx(): string | undefined {
  const dirs = ['/usr/sbin', ...(process.env.PATH ?? '').split(delimiter)];
  return dirs.map((dir) => join(dir, 'nginx')).find((path) => existsSync(path));
}

function config(dir: string, root: string, host: string, port: number): string {
  return `daemon off;
master_process on;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { text/html html; text/css css; image/svg+xml svg; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  # Like the generated site's server: keep-alive connections are never closed for their age or count mid-crawl.
  keepalive_timeout 30s;
  keepalive_requests 1000000;
  server {
    listen ${host}:${port};
    root ${root};
    index index.html;
    location = ${STATUS_PATH} { stub_status; }
  }
}
`;
}

/** Starts nginx over `root` on `host` and a free port; resolves once it answers. Crawls start at the path `start`. */
export async function serveWithNginx(root: string, { host, bin, start }: { host: string; bin: string; start: string }, children: Set<{ kill(): void }>): Promise<RunningSite> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(root, host, bin, start, await freePort(host), children);
    } catch (err) {
      // Another process may take the port between our probe and nginx's bind.
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

async function startOnce(root: string, host: string, bin: string, start: string, port: number, children: Set<{ kill(): void }>): Promise<RunningSite> {
  const dir = mkdtempSync(join(tmpdir(), 'crawl-bench-nginx-'));
  writeFileSync(join(dir, 'nginx.conf'), config(dir, root, host, port));
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGTERM: nginx's fast shutdown, which stops its worker too (SIGKILL would orphan it).
  const handle = { kill: () => child.kill('SIGTERM') };
  children.add(handle);
  const origin = `http://${host}:${port}`;
  const close = async () => {
    const workers = childPids(child.pid!);
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000))]);
    if (!stopped) for (const pid of [child.pid!, ...workers]) tryKill(pid);
    children.delete(handle);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let before = await waitUntilAnswering(origin, child, () => output.join('') + readLog(dir));
    const pids = [child.pid!, ...childPids(child.pid!)];
    let cpuBefore = cpuOf(pids);
    return {
      origin,
      startUrl: `${origin}${start}`,
      pids,
      stats: async (): Promise<SiteStats> => {
        const cpuMs = cpuOf(pids) - cpuBefore;
        // stub_status counts the request that reads it: the one before is in `before`, this one is not served to a crawler.
        const requests = (await statusRequests(origin)) - before - 1;
        return {
          requests,
          ok: 0,
          notFound: 0,
          bytes: 0,
          repeats: 0,
          peakInFlight: 0,
          meanInFlight: 0,
          note: `nginx answered ${requests} requests using ${(cpuMs / 1000).toFixed(2)} s of CPU (pages, 404s and bytes not counted: access log off)`,
        };
      },
      reset: async () => {
        before = await statusRequests(origin);
        cpuBefore = cpuOf(pids);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Polls the status page until nginx answers; the requests it has counted by then. */
async function waitUntilAnswering(origin: string, child: ChildProcess, log: () => string): Promise<number> {
  const deadline = performance.now() + READY_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) before answering:\n${log().slice(-2000)}`);
    try {
      return await statusRequests(origin);
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`nginx did not answer on ${origin} within ${READY_MS} ms (${String(err)}):\n${log().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The `requests` counter of stub_status, over a connection of its own (not kept alive). */
function statusRequests(origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(`${origin}${STATUS_PATH}`, { agent: false, timeout: 2_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const counters = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
        if (res.statusCode === 200 && counters) resolve(Number(counters[3]));
        else reject(new Error(`status page answered ${res.statusCode}: ${text.slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('status page timed out')));
    req.on('error', reject);
  });
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {
    return '';
  }
}

function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
}

/** Processes whose parent is `pid` (nginx's workers), from /proc. */
function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A port free on `host` right now (nginx cannot be told to pick one). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRNOTAVAIL' ? new Error(`cannot listen on ${host}: this system does not route all of 127.0.0.0/8 to loopback; set CRAWL_BENCH_HOST=127.0.0.1`) : err),
    );
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

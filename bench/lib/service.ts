/**
 * The service under test, as it runs in production: compiled dist/, NODE_ENV=production, its own
 * process, listening on loopback only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const ENTRY = join(ROOT, 'dist', 'main.js');
const WORKER = join(ROOT, 'dist', 'workers', 'fibonacci.worker.js');
/** What the build reads: a change to any of these makes dist/ stale. */
const BUILD_INPUTS = ['src', 'tsconfig.json', 'nest-cli.json'];
/** Sources the build leaves out (tsconfig.json excludes specs): a new test must not force a rebuild. */
const SKIPPED = /\.spec\.ts$/;

/** Runs `npm run build` when dist/ is missing or older than its sources. */
export function buildIfStale(): void {
  const reason = staleness();
  if (!reason) return;
  console.log(`building dist/ (${reason}) ...`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(`npm run build failed (exit ${build.status}):\n${build.stdout}${build.stderr}`);
  }
}

function staleness(): string | undefined {
  if (!existsSync(ENTRY) || !existsSync(WORKER)) return 'dist/ is missing';
  // nest build empties dist/ first (deleteOutDir), so main.js dates the whole output.
  const built = statSync(ENTRY).mtimeMs;
  for (const input of BUILD_INPUTS) {
    const newer = newestFile(join(ROOT, input));
    if (newer && newer.mtimeMs > built) return `${newer.path.slice(ROOT.length + 1)} is newer`;
  }
  return undefined;
}

function newestFile(path: string): { path: string; mtimeMs: number } | undefined {
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (!stat.isDirectory()) return SKIPPED.test(path) ? undefined : { path, mtimeMs: stat.mtimeMs };
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(path)) {
    const candidate = newestFile(join(path, entry));
    if (candidate && (!newest || candidate.mtimeMs > newest.mtimeMs)) newest = candidate;
  }
  return newest;
}

/** A free loopback port. The service cannot report the port it got for PORT=0, so we pick one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class Service {
  private readonly log: string[] = [];
  private exited?: string;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.log.push(chunk.toString());
      if (this.log.length > 200) this.log.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => (this.exited = `exited with ${signal ?? `code ${code}`}`));
  }

  /** Starts dist/main.js and resolves once GET /health/ready answers 200. */
  static async start(env: Record<string, string> = {}): Promise<Service> {
    const port = await freePort();
    const child = spawn(process.execPath, [ENTRY], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new Service(child, `http://127.0.0.1:${port}`);
    try {
      await service.waitReady(90_000);
    } catch (err) {
      await service.stop();
      throw err;
    }
    return service;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The service's last log lines, for error messages. */
  recentLog(): string {
    return this.log.join('').split('\n').slice(-20).join('\n');
  }

  /** SIGTERM (the service cancels running jobs and closes its pool), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    if (!this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`service ${this.exited} before it was ready:\n${this.recentLog()}`);
      try {
        const res = await fetch(`${this.baseUrl}/health/ready`);
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`service not ready after ${timeoutMs} ms:\n${this.recentLog()}`);
  }
}

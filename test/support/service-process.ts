import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { configSchema } from '../../src/config/config.schema';

/** The repository root (this file lives in test/support/). */
export const ROOT = resolve(__dirname, '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the moment stop() sent the signal (or the process started, for runToExit) to its exit. */
  ms: number;
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  /** ws://127.0.0.1:port */
  wsUrl: string;
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited (whatever the cause). */
  exited: Promise<Omit<Exit, 'ms'>>;
  /** Sends `signal` and resolves with how and how fast the process ended; SIGKILLs it after `ms`. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<Exit>;
}

export interface StartOptions {
  /** Added to (and overriding) HOST=127.0.0.1, NODE_ENV=production, CRAWL_WARM_UP_PASSES=0 and the free PORT. */
  env?: Record<string, string>;
  /** Folder holding dist/main.js; the repository root by default. */
  cwd?: string;
  readyTimeoutMs?: number;
  /** Node arguments that start the service instead of dist/main.js (e.g. a test's own entry through tsx). */
  entry?: string[];
}

/** Every child this module started, so that afterAll can kill whatever a failed test left behind. */
const children = new Set<ChildProcess>();

/** dist/main.js under `cwd`, or a clear failure telling how to produce it. */
export function distMain(cwd = ROOT): string {
  const main = join(cwd, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first (npm test does it)`);
  return main;
}

/** A loopback port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * The environment of a child: this process's, minus every service setting (a developer's
 * API_KEYS or PORT must not leak in), NODE_OPTIONS and NODE_PATH (modules resolve from the
 * child's own folder, as in the image), plus the given settings.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of [...Object.keys(configSchema.shape), 'NODE_OPTIONS', 'NODE_PATH']) delete base[key];
  return { ...base, ...env };
}

function launch(cwd: string, env: Record<string, string>, entry?: string[]) {
  const child = spawn(process.execPath, entry ?? [distMain(cwd)], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Omit<Exit, 'ms'>>((done) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      // Let the pipes drain what the process wrote last.
      setImmediate(() => done({ code, signal }));
    }),
  );
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Starts `node dist/main.js` on a free loopback port and resolves once GET /health/ready is 200. */
export async function startService({ env = {}, cwd = ROOT, readyTimeoutMs = 20_000, entry }: StartOptions = {}): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // No JIT warm-up of crawl threads (about 1 s of CPU per thread at boot, timing only) unless a
    // test asks: crawl-warm-up.e2e-spec tests it, runtime-image boots with the shipped default.
    const proc = launch(cwd, { HOST: '127.0.0.1', NODE_ENV: 'production', CRAWL_WARM_UP_PASSES: '0', ...env, PORT: String(port) }, entry);
    let exit: Omit<Exit, 'ms'> | undefined;
    void proc.exited.then((value) => (exit = value));
    const deadline = Date.now() + readyTimeoutMs;
    while (!exit && Date.now() < deadline) {
      const status = await fetch(`${url}/health/ready`).then(
        (res) => res.status,
        () => 0,
      );
      if (status === 200) break;
      await new Promise((wake) => setTimeout(wake, 50));
    }
    if (exit) {
      // Someone took the port between freePort() and the listen: try another one.
      if (attempt < 3 && proc.stderr().includes('EADDRINUSE')) continue;
      throw new Error(`the service exited (${JSON.stringify(exit)}) before it was ready:\n${proc.stderr()}\n${proc.stdout().slice(-2_000)}`);
    }
    if (Date.now() >= deadline) {
      proc.child.kill('SIGKILL');
      throw new Error(`the service was not ready within ${readyTimeoutMs} ms:\n${proc.stderr()}\n${proc.stdout().slice(-2_000)}`);
    }
    const stop = async (signal: NodeJS.Signals = 'SIGTERM', ms = 15_000): Promise<Exit> => {
      const sent = Date.now();
      if (exit) return { ...exit, ms: 0 };
      proc.child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, fail) => {
        timer = setTimeout(() => {
          proc.child.kill('SIGKILL');
          fail(new Error(`the service did not exit within ${ms} ms of ${signal}`));
        }, ms);
      });
      try {
        const result = await Promise.race([proc.exited, late]);
        return { ...result, ms: Date.now() - sent };
      } finally {
        clearTimeout(timer);
      }
    };
    return { ...proc, port, url, wsUrl: url.replace(/^http/, 'ws'), stop };
  }
}

/** Runs `node dist/main.js` to its own exit (for boots expected to fail); SIGKILLs it after `ms`. */
export async function runToExit(env: Record<string, string>, ms = 15_000, cwd = ROOT): Promise<Exit & { stdout: string; stderr: string }> {
  const started = Date.now();
  const proc = launch(cwd, { HOST: '127.0.0.1', NODE_ENV: 'production', ...env });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  const result = await proc.exited.finally(() => clearTimeout(timer));
  return { ...result, ms: Date.now() - started, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** For afterAll: SIGKILLs every child still running and waits until they are gone. */
export async function killLeftovers(): Promise<void> {
  const left = [...children];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

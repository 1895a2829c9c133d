import { inCI } from './ci';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './service-process';

/**
 * A real redis-server for the cluster tests, on a free loopback port with its own data folder.
 * Missing on a developer's machine, the tests that need it skip with one line saying how to get
 * it; with CI set, they fail instead (CI installs it: .ci/run).
 */
export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export function redisServerAvailable(): boolean {
  return spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * For `describe.skipIf(!haveRedis(...))`: true when redis-server can run. Without it, prints why the
 * tests skip (or throws under CI, where a skipped cluster test would hide a missing proof).
 */
export function haveRedis(what: string): boolean {
  if (redisServerAvailable()) return true;
  const message = `${what}: skipped, redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER_BIN)`;
  if (inCI()) throw new Error(`${message}; CI must run them`);
  console.warn(message);
  return false;
}

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:port */
  url: string;
  dir: string;
  process: ChildProcess;
  /** A client for assertions and set-up (closed by stop()). */
  client(): Redis;
  /** SIGKILL (a crash) or SIGTERM; the data folder is kept for restart(). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts redis-server again on the same port and folder (AOF replays what it had). */
  restart(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file: what the cluster mode's durability needs. */
  appendonly?: boolean;
  /**
   * How often the AOF is synced: `everysec` (the default, as the compose profile runs it: a Redis
   * process crash loses nothing, the host's crash up to a second) or `always`.
   */
  fsync?: 'always' | 'everysec';
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const clients: Redis[] = [];
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    options.fsync ?? 'everysec',
    '--maxmemory-policy',
    'noeviction',
  ];
  let child = await launch(args, port);
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get process() {
      return child;
    },
    client() {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: false });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await stopChild(child, signal);
    },
    async restart() {
      child = await launch(args, port);
    },
    async stop() {
      for (const client of clients.splice(0)) client.disconnect();
      await stopChild(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  const deadline = Date.now() + 10_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${log}`);
      try {
        if (probe.status !== 'ready') await probe.connect();
        if ((await probe.ping()) === 'PONG') return child;
      } catch {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer within 10 s:\n${log}`);
      await new Promise((wake) => setTimeout(wake, 50));
    }
  } finally {
    probe.disconnect();
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}

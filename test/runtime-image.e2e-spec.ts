import { inCI } from './support/ci';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { childEnv, distMain, freePort, killLeftovers, ROOT } from './support/service-process';

/**
 * The Dockerfile's runtime stage without Docker: a fresh folder with only what that stage gets
 * (package.json, dist/ and production dependencies; `npm ci --omit=dev` stands for the build
 * stage's `npm ci && npm prune --omit=dev`, so it also needs package-lock.json), then the
 * image's command. Catches a runtime import of a devDependency, or a file dist/ needs but lacks.
 * The image's files belong to root and the process runs as `node` (uid 1000): run as root, the
 * test runs the service as uid 1000 too, with a HOME it cannot write, as a read-only root would.
 */
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const runtimeStage = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime\s*$/im));
/** The runtime stage's `COPY --from=build [--flags] /app/<path> ./<dest>` lines. */
const copies = [...runtimeStage.matchAll(/^COPY\s+--from=build\s+((?:--\S+\s+)*)\/app\/(\S+)\s+\S+\s*$/gim)].map((m) => ({ flags: m[1].trim(), path: m[2].replace(/\/$/, '') }));
const copied = copies.map((copy) => copy.path);
/** The HEALTHCHECK's exec-form command. */
const healthcheck = JSON.parse(/^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/im.exec(runtimeStage)?.[1] ?? 'null') as string[] | null;
/** The official node image's `node` user. */
const NODE_UID = 1000;
const asRoot = process.getuid?.() === 0;

/** Every file and folder under `dir` that someone other than its owner may write. */
function writableByOthers(dir: string): { checked: number; writable: string[] } {
  let checked = 0;
  const writable: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    checked++;
    if (!stat.isSymbolicLink() && stat.mode & 0o022) writable.push(`${path} (${(stat.mode & 0o777).toString(8)})`);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(dir);
  return { checked, writable };
}

let folder: string | undefined;
let service: ChildProcess | undefined;

interface User {
  uid: number;
  gid: number;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, ms: number, user?: User): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], ...user });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/** `node dist/main.js` in `folder` as `user`, on a free loopback port; resolves once /health/ready is 200. */
async function startImage(folder: string, env: Record<string, string>, user?: User) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: folder, env: childEnv({ HOST: '127.0.0.1', ...env, PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'], ...user });
  service = child;
  let stderr = '';
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await fetch(`${url}/health/ready`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) break;
    if (gone || Date.now() > deadline) throw new Error(`the service was not ready (exited: ${gone}):\n${stderr}`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
  return { child, url, port, exited, stderr: () => stderr };
}

describe('the runtime image, reproduced without Docker', () => {
  afterAll(async () => {
    if (service && service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    await killLeftovers();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('reads the runtime stage: package.json, node_modules and dist/ from the build stage; node dist/main.js', () => {
    expect([...copied].sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(runtimeStage).toMatch(/^CMD\s+\["node",\s*"dist\/main\.js"\]\s*$/m);
    expect(runtimeStage).toMatch(/NODE_ENV=production/);
    expect(healthcheck?.[0]).toBe('node');
  });

  it('leaves the app files to root and runs as the unprivileged node user', () => {
    // No --chown/--chmod: COPY keeps root as the owner, so the runtime user cannot rewrite its code.
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.filter((copy) => copy.flags !== '')).toEqual([]);
    const user = /^USER\s+(\S+)\s*$/m.exec(runtimeStage);
    expect(user?.[1]).toBe('node');
    const lastCopy = Math.max(...[...runtimeStage.matchAll(/^(COPY|ADD|RUN)\b/gm)].map((m) => m.index));
    expect(user!.index, 'USER node comes after the last COPY/RUN').toBeGreaterThan(lastCopy);
  });

  it('runs the Node the tests run on, from a base image pinned by digest or with the pinning procedure beside it', () => {
    const base = /^ARG\s+NODE_IMAGE=(\S+)\s*$/m.exec(dockerfile)?.[1];
    expect(base, 'ARG NODE_IMAGE=<image> before the first FROM').toBeDefined();
    expect(dockerfile.match(/^FROM\s+\$\{NODE_IMAGE\}\s+AS\s+\w+\s*$/gm)).toHaveLength(2);
    const tag = /^node:(\d+)\.(\d+)[-.@\w]*$/.exec(base!);
    expect(tag, `${base} names a node:<major>.<minor> image`).not.toBeNull();
    const [major, minor] = process.versions.node.split('.');
    expect(`${tag![1]}.${tag![2]}`).toBe(`${major}.${minor}`);
    if (!base!.includes('@sha256:')) expect(dockerfile).toMatch(/--build-arg NODE_IMAGE=node:\S+@sha256:<digest>/);
  });

  it('installs production dependencies only, serves ready and computes a real job as a non-owner of its files, then drains on SIGTERM', async () => {
    distMain(); // fails with "run npm run build" when there is no build
    folder = mkdtempSync(join(tmpdir(), 'runtime-image-'));
    for (const path of ['package-lock.json', ...copied.filter((path) => path !== 'node_modules')]) {
      cpSync(join(ROOT, path), join(folder, path), { recursive: true });
    }

    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const install = await run(npm, ['ci', '--omit=dev', '--no-audit', '--no-fund'], folder, { ...childEnv({}), NODE_ENV: 'production' }, 150_000);
    expect(install.code, `npm ci --omit=dev failed:\n${install.output}`).toBe(0);
    const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    for (const dev of ['vitest', '@nestjs/cli', 'tsx', 'supertest']) {
      expect(pkg.devDependencies?.[dev], `${dev} is a devDependency`).toBeDefined();
      expect(existsSync(join(folder, 'node_modules', dev)), `${dev} was installed`).toBe(false);
    }

    // /app as the image has it: root's, readable by all, writable by its owner only.
    chmodSync(folder, 0o755);
    const files = writableByOthers(folder);
    expect(files.checked).toBeGreaterThan(1_000);
    expect(files.writable).toEqual([]);
    const user = asRoot ? { uid: NODE_UID, gid: NODE_UID } : undefined;
    if (!user) {
      // Running as another user needs root. CI runs as root, so there the check must run.
      const reason = 'runtime image: the unprivileged-user checks need root (to run as uid 1000); skipped';
      if (inCI()) throw new Error(`${reason} under CI, where they must run`);
      console.warn(reason);
    }
    if (user) {
      // The runtime user can neither change a file nor add one (HOME is unwritable too, as under read_only).
      const attempt = `const fs=require('fs');for(const [f,how] of [['dist/main.js','a'],['node_modules/zod/package.json','a'],['new-file.js','w']]){try{fs.closeSync(fs.openSync(f,how));console.log('WROTE '+f)}catch(e){console.log(e.code+' '+f)}}`;
      const probe = await run(process.execPath, ['-e', attempt], folder, childEnv({ HOME: folder }), 10_000, user);
      expect(probe.output.trim().split('\n')).toEqual(['EACCES dist/main.js', 'EACCES node_modules/zod/package.json', 'EACCES new-file.js']);
    }

    const svc = await startImage(folder, { NODE_ENV: 'production', POOL_SIZE: '2', HOME: folder }, user);
    const live = await fetch(`${svc.url}/health/live`);
    expect(live.status).toBe(200);

    // The image's HEALTHCHECK command, as Docker would run it inside the container.
    const [command, ...args] = healthcheck!;
    const probe = await run(command === 'node' ? process.execPath : command, args, folder, childEnv({ PORT: String(svc.port) }), 10_000, user);
    expect(probe.code, probe.output).toBe(0);

    const res = await fetch(`${svc.url}/fibonacci?wait=10000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ numbers: [10, 1000, 100000] }),
    });
    const body = (await res.json()) as { status: string; results: { items: { n: number; value: string; digits: number; state: string }[] } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('completed');
    const [f10, f1000, f100000] = body.results.items;
    expect(f10).toMatchObject({ n: 10, value: '55', digits: 2, state: 'completed' });
    expect(f1000).toMatchObject({ n: 1000, digits: 209, state: 'completed' });
    expect(f1000.value).toBe(fib(1000).toString());
    expect(f100000).toMatchObject({ n: 100000, digits: 20899, state: 'completed' });
    expect(f100000.value).toHaveLength(20899);
    expect(f100000.value).toBe(fib(100000).toString());

    // Threads count against compose's pids_limit: leave room for the healthcheck's node and growth.
    if (process.platform === 'linux') {
      const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${svc.child.pid}/status`, 'utf8'))?.[1]);
      const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { compute: { pids_limit: number } } };
      console.log(`[runtime image] ${threads} threads with POOL_SIZE=2; compose pids_limit ${compose.services.compute.pids_limit}`);
      expect(threads).toBeGreaterThan(4);
      expect(2 * threads).toBeLessThanOrEqual(compose.services.compute.pids_limit);
    }

    svc.child.kill('SIGTERM');
    const exit = await Promise.race([svc.exited, new Promise<'late'>((late) => setTimeout(() => late('late'), 20_000).unref())]);
    expect(exit, svc.stderr()).toEqual({ code: 0, signal: null });
  }, 180_000);
});

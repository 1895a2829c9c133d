import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { childEnv, distMain, killLeftovers, ROOT, startService } from './support/service-process';

/**
 * The Dockerfile's runtime stage without Docker: a fresh folder with only what that stage gets
 * (package.json, dist/ and production dependencies; `npm ci --omit=dev` stands for the build
 * stage's `npm ci && npm prune --omit=dev`, so it also needs package-lock.json), then the
 * image's command. Catches a runtime import of a devDependency, or a file dist/ needs but lacks.
 */
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const runtimeStage = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime\s*$/im));
/** Sources of the runtime stage's `COPY --from=build ... /app/<path> ./<dest>` lines. */
const copied = [...runtimeStage.matchAll(/^COPY\s+--from=build\s+(?:--\S+\s+)*\/app\/(\S+)\s+\S+\s*$/gim)].map((m) => m[1].replace(/\/$/, ''));
/** The HEALTHCHECK's exec-form command. */
const healthcheck = JSON.parse(/^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/im.exec(runtimeStage)?.[1] ?? 'null') as string[] | null;

let folder: string | undefined;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, ms: number): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('the runtime image, reproduced without Docker', () => {
  afterAll(async () => {
    await killLeftovers();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('reads the runtime stage: package.json, node_modules and dist/ from the build stage; node dist/main.js', () => {
    expect([...copied].sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(runtimeStage).toMatch(/^CMD\s+\["node",\s*"dist\/main\.js"\]\s*$/m);
    expect(runtimeStage).toMatch(/NODE_ENV=production/);
    expect(healthcheck?.[0]).toBe('node');
  });

  it('installs production dependencies only, serves ready and computes a real job, then drains on SIGTERM', async () => {
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
      if (pkg.devDependencies?.[dev]) expect(existsSync(join(folder, 'node_modules', dev)), `${dev} was installed`).toBe(false);
    }

    const svc = await startService({ cwd: folder, env: { NODE_ENV: 'production', POOL_SIZE: '2' } });
    const live = await fetch(`${svc.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${svc.url}/health/ready`);
    expect(ready.status).toBe(200);

    // The image's HEALTHCHECK command, as Docker would run it inside the container.
    const [command, ...args] = healthcheck!;
    const probe = await run(command === 'node' ? process.execPath : command, args, folder, childEnv({ PORT: String(svc.port) }), 10_000);
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

    const exit = await svc.stop('SIGTERM');
    expect({ code: exit.code, signal: exit.signal }, svc.stderr()).toEqual({ code: 0, signal: null });
  }, 180_000);
});

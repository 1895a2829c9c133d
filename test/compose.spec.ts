import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// js-yaml comes with @nestjs/swagger (a production dependency, which pins it).
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../src/config/config.schema';
import { ROOT } from './support/service-process';

/**
 * docker-compose.yml without Docker (no engine runs here): it parses, names only real settings,
 * boots with them, and keeps the deployment defaults safe (README: Production).
 */
const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

interface Service {
  ports?: string[];
  environment?: Record<string, string>;
  init?: boolean;
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  mem_limit?: string;
  pids_limit?: number;
  cpus?: number | string;
}
const compose = load(text) as { services: Record<string, Service> };
const service = compose.services?.compute ?? {};
const environment = service.environment ?? {};

/** A key that satisfies the API_KEYS rule, standing in for the operator's. */
const OPERATOR_KEY = 'operator-key-0123456789';

/** Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?message}` (enough for this file). */
const interpolations = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g)].map(([, name, op, arg]) => ({ name, op, arg }));
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    if (given[name]) return given[name];
    if (op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}
const settingsWith = (given: Record<string, string>) => Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, interpolate(String(value), given)]));

/** "1m30s", "15s", "500ms" -> milliseconds. */
function durationMs(value: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration ${value}`).toBe(value);
  const unit = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
  return parts.reduce((ms, [, n, u]) => ms + Number(n) * unit[u as keyof typeof unit], 0);
}

/** "6g", "512m" -> bytes. */
function bytes(value: string): number {
  const match = /^(\d+)([bkmg])$/i.exec(value);
  expect(match, `memory ${value}`).not.toBeNull();
  return Number(match![1]) * 1024 ** 'bkmg'.indexOf(match![2].toLowerCase());
}

describe('docker-compose.yml', () => {
  it('parses as YAML, and every variable it sets, interpolates or suggests in a comment is a setting of config.schema.ts', () => {
    const settings = new Set(Object.keys(configSchema.shape));
    const suggested = [...text.matchAll(/^\s*#\s*([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    const used = [...Object.keys(environment), ...interpolations.map((i) => i.name), ...suggested];
    expect(Object.keys(environment).length).toBeGreaterThan(0);
    expect(suggested.length).toBeGreaterThan(0);
    expect(used.filter((name) => !settings.has(name))).toEqual([]);
  });

  it('boots with its settings once API_KEYS is given, and refuses to start without it, saying what to set', () => {
    const config = loadConfig(settingsWith({ API_KEYS: OPERATOR_KEY }));
    expect(config.API_KEYS).toEqual([OPERATOR_KEY]);
    expect(config.NODE_ENV).toBe('production');
    // Compose treats an empty value like a missing one for `:?`.
    for (const given of [{}, { API_KEYS: '' }]) expect(() => settingsWith(given)).toThrow(/API_KEYS.*set API_KEYS/);
  });

  it('publishes the port on loopback only', () => {
    const ports = service.ports ?? [];
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(String(port)).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+:\d+$/);
  });

  it('locks the container down: read-only root, no capabilities, no new privileges, a small noexec /tmp, and the image`s tini as the only init', () => {
    expect(service.read_only).toBe(true);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.security_opt).toContain('no-new-privileges:true');
    const tmp = (service.tmpfs ?? []).find((entry) => entry.startsWith('/tmp:'));
    expect(tmp).toMatch(/size=\d+[km]/);
    expect(tmp).toMatch(/noexec/);
    // The Dockerfile's ENTRYPOINT is tini; compose's init would put a second one in front of it.
    expect(service.init).toBeUndefined();
  });

  it('lets a drain finish: stop_grace_period is longer than SHUTDOWN_GRACE_MS plus the hard-stop margin of src/main.ts', () => {
    const margin = /SHUTDOWN_GRACE_MS\s*\+\s*([\d_]+)/.exec(readFileSync(join(ROOT, 'src', 'main.ts'), 'utf8'));
    expect(margin, 'src/main.ts no longer arms its hard stop at SHUTDOWN_GRACE_MS + <ms>').not.toBeNull();
    const hardStopMs = loadConfig(settingsWith({ API_KEYS: OPERATOR_KEY })).SHUTDOWN_GRACE_MS + Number(margin![1].replaceAll('_', ''));
    expect(durationMs(service.stop_grace_period ?? '10s')).toBeGreaterThan(hardStopMs);
  });

  it('bounds memory and processes, and its settings fit the memory it gets', () => {
    expect(service.pids_limit).toBeGreaterThan(0);
    expect(service.mem_limit).toBeDefined();
    const limit = bytes(service.mem_limit!);
    const config = loadConfig(settingsWith({ API_KEYS: OPERATOR_KEY }));
    // POOL_SIZE defaults to the host's cores, which a CPU quota does not change.
    expect(service.cpus).toBeDefined();
    expect(config.POOL_SIZE).toBeLessThanOrEqual(Number(service.cpus));
    // Node 20 sizes the main thread's heap from the container's limit: about half, at most ~2 GiB
    // below 16 GiB. Kept results plus the largest job must fit in it...
    const mainHeap = Math.min(limit / 2, 2 * 1024 ** 3);
    expect(config.JOB_RETENTION_BYTES + Math.max(config.FIB_MAX_RESULT_BYTES, config.CRAWL_MAX_RESULT_BYTES)).toBeLessThanOrEqual(mainHeap);
    // ...and the main heap plus every worker's heap cap (two pools of POOL_SIZE threads) in the limit.
    expect(mainHeap + 2 * config.POOL_SIZE * config.WORKER_MAX_OLD_GEN_MB * 1024 ** 2).toBeLessThanOrEqual(limit);
  });
});

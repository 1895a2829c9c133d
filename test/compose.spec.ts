import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// js-yaml comes with @nestjs/swagger (a production dependency, which pins it).
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { trustProxy } from '../src/common/client-address';
import { configSchema, loadConfig } from '../src/config/config.schema';
import { ROOT } from './support/service-process';

/**
 * docker-compose.yml without Docker (no engine runs here): it parses, names only real settings,
 * boots with them, and keeps the deployment defaults safe (README: Production).
 */
const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

interface Service {
  profiles?: string[];
  image?: string;
  build?: string;
  command?: string[];
  volumes?: string[];
  user?: string;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
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
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
interface Network {
  ipam?: { config?: { subnet?: string; ip_range?: string; gateway?: string }[] };
}
// Compose resolves YAML merge keys (`<<: *anchor`); js-yaml 5 does once asked to.
const compose = load(text, { schema: CORE_SCHEMA.withTags(mergeTag) }) as { services: Record<string, Service>; volumes?: Record<string, unknown>; networks?: Record<string, Network> };
const service = compose.services?.compute ?? {};
const environment = service.environment ?? {};
const cluster = { redis: compose.services?.redis ?? {}, replicas: compose.services?.['compute-cluster'] ?? {}, lb: compose.services?.lb ?? {} };

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
const settingsWith = (given: Record<string, string>, env: Record<string, string> = environment) =>
  Object.fromEntries(Object.entries(env).map(([name, value]) => [name, interpolate(String(value), given)]));

function expectLockedDown(container: Service): void {
  expect(container.read_only).toBe(true);
  expect(container.cap_drop).toEqual(['ALL']);
  expect(container.security_opt).toContain('no-new-privileges:true');
  const tmp = (container.tmpfs ?? []).find((entry) => entry.startsWith('/tmp:'));
  expect(tmp).toMatch(/size=\d+[km]/);
  expect(tmp).toMatch(/noexec/);
  expect(container.pids_limit).toBeGreaterThan(0);
  expect(container.mem_limit).toBeDefined();
  expect(container.cpus).toBeDefined();
}

function expectLoopbackOnly(ports: string[]): void {
  expect(ports.length).toBeGreaterThan(0);
  for (const port of ports) expect(String(port)).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+:\d+$/);
}

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
    const everyEnvironment = Object.values(compose.services).flatMap((s) => Object.keys(s.environment ?? {}));
    const used = [...everyEnvironment, ...interpolations.map((i) => i.name), ...suggested];
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
    expectLoopbackOnly(service.ports ?? []);
  });

  it('locks the container down: read-only root, no capabilities, no new privileges, a small noexec /tmp, and the image`s tini as the only init', () => {
    expectLockedDown(service);
    // The Dockerfile's ENTRYPOINT is tini; compose's init would put a second one in front of it.
    expect(service.init).toBeUndefined();
  });

  it('lets a drain finish: stop_grace_period is longer than SHUTDOWN_GRACE_MS plus the hard-stop margin of src/serve.ts', () => {
    const margin = /SHUTDOWN_GRACE_MS\s*\+\s*([\d_]+)/.exec(readFileSync(join(ROOT, 'src', 'serve.ts'), 'utf8'));
    expect(margin, 'src/serve.ts no longer arms its hard stop at SHUTDOWN_GRACE_MS + <ms>').not.toBeNull();
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

describe('docker-compose.yml cluster profile', () => {
  const nginxMount = (cluster.lb.volumes ?? []).find((volume) => volume.includes(':/etc/nginx/'));
  const nginx = nginxMount ? readFileSync(join(ROOT, nginxMount.split(':')[0]), 'utf8').replace(/#.*$/gm, '') : '';
  const replicaEnvironment = cluster.replicas.environment ?? {};
  const replicaConfig = () => loadConfig(settingsWith({ API_KEYS: OPERATOR_KEY }, replicaEnvironment));
  /** `--flag value` of the Redis command line. */
  const redisFlag = (flag: string) => {
    const command = cluster.redis.command ?? [];
    const at = command.indexOf(`--${flag}`);
    return at >= 0 ? String(command[at + 1]) : undefined;
  };

  it('is a profile of its own: Redis, replicas and the load balancer start only when asked, the embedded service always', () => {
    expect(service.profiles).toBeUndefined();
    expect(service.environment?.REDIS_URL).toBeUndefined();
    for (const [name, container] of Object.entries(cluster)) expect(container.profiles, name).toEqual(['cluster']);
  });

  it('runs Redis so that nothing accepted is lost: AOF on a named volume, noeviction under a memory cap, not published', () => {
    expect(cluster.redis.image).toMatch(/^redis:7(\.|$)/);
    expect(cluster.redis.command?.[0]).toBe('redis-server');
    expect(redisFlag('appendonly')).toBe('yes');
    expect(['everysec', 'always']).toContain(redisFlag('appendfsync'));
    expect(redisFlag('maxmemory-policy')).toBe('noeviction');
    expect(redisFlag('maxmemory')).toMatch(/^\d+[kmg]b$/);
    const data = (cluster.redis.volumes ?? []).find((volume) => volume.endsWith(':/data'));
    expect(data, 'the AOF must live on a volume, not in the container').toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data!.split(':')[0]);
    expect(cluster.redis.ports).toBeUndefined();
    expect(cluster.redis.healthcheck?.test).toContain('ping');
  });

  it('runs two or more replicas of the service on that Redis, with the embedded service`s settings and none published', () => {
    expect(cluster.replicas.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(cluster.replicas.image).toBe(service.image);
    expect(replicaEnvironment.REDIS_URL).toBe('redis://redis:6379');
    expect(cluster.replicas.depends_on?.redis?.condition).toBe('service_healthy');
    // The same settings as the embedded service, plus the cluster's own.
    for (const [name, value] of Object.entries(environment)) expect(replicaEnvironment[name], name).toBe(value);
    const config = replicaConfig();
    expect(config.REDIS_URL).toBe('redis://redis:6379');
    expect(config.NODE_ENV).toBe('production');
    expect(() => settingsWith({}, replicaEnvironment)).toThrow(/API_KEYS/);
    expect(cluster.replicas.ports).toBeUndefined();
  });

  it('locks every cluster container down like the embedded one, and lets the replicas drain', () => {
    for (const [name, container] of Object.entries(cluster)) {
      expect(container.read_only, name).toBe(true);
      expectLockedDown(container);
    }
    expect(cluster.redis.user, 'Redis runs as its image`s user, not root').toMatch(/^[1-9]\d*(:\d+)?$/);
    for (const key of ['cpus', 'mem_limit', 'pids_limit', 'stop_grace_period', 'tmpfs', 'cap_drop', 'security_opt'] as const) {
      expect(cluster.replicas[key], key).toEqual(service[key]);
    }
  });

  it('publishes only the load balancer, on loopback, and it listens where it is published', () => {
    expectLoopbackOnly(cluster.lb.ports ?? []);
    const published = Object.entries(compose.services).filter(([, container]) => container.ports !== undefined);
    expect(published.map(([name]) => name).sort()).toEqual(['compute', 'lb']);
    const containerPort = String(cluster.lb.ports![0]).split(':').at(-1);
    expect(nginx).toMatch(new RegExp(`listen\\s+${containerPort};`));
    expect(cluster.lb.depends_on?.['compute-cluster']?.condition).toBe('service_healthy');
  });

  it('balances over every replica and passes WebSocket upgrades and SSE unbuffered', () => {
    expect(nginxMount).toMatch(/:ro$/);
    // Every replica, re-resolved as they restart or scale.
    const port = replicaConfig().PORT;
    expect(nginx).toMatch(new RegExp(`server\\s+compute-cluster:${port}\\s+resolve;`));
    expect(nginx).toMatch(/resolver\s+127\.0\.0\.11\b/);
    // WebSocket: HTTP/1.1 and the hop-by-hop upgrade headers passed on.
    expect(nginx).toMatch(/proxy_http_version\s+1\.1;/);
    expect(nginx).toMatch(/proxy_set_header\s+Upgrade\s+\$http_upgrade;/);
    expect(nginx).toMatch(/proxy_set_header\s+Connection\s+\$connection_upgrade;/);
    expect(nginx).toMatch(/map\s+\$http_upgrade\s+\$connection_upgrade\s*\{[^}]*default\s+upgrade;/);
    // SSE: streamed as written.
    expect(nginx).toMatch(/proxy_buffering\s+off;/);
    // Idle feeds outlive the service's heartbeat; bodies up to the service's own limit get through.
    const seconds = /proxy_read_timeout\s+(\d+)([smh]);/.exec(nginx);
    expect(seconds).not.toBeNull();
    expect(Number(seconds![1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[seconds![2] as 's' | 'm' | 'h']).toBeGreaterThan(2 * replicaConfig().WS_HEARTBEAT_MS);
    const body = /client_max_body_size\s+(\d+)([km]);/.exec(nginx);
    expect(body).not.toBeNull();
    expect(Number(body![1]) * 1024 ** (body![2] === 'm' ? 2 : 1)).toBeGreaterThan(replicaConfig().BODY_LIMIT_BYTES);
  });

  /** The networks a service joins, by name, with its fixed address if it has one. */
  const networksOf = (container: Service): Record<string, string | undefined> =>
    Array.isArray(container.networks)
      ? Object.fromEntries(container.networks.map((name) => [name, undefined]))
      : Object.fromEntries(Object.entries(container.networks ?? {}).map(([name, options]) => [name, options?.ipv4_address]));
  const lbNetwork = Object.entries(networksOf(cluster.lb)).find(([, address]) => address !== undefined);
  const ipam = lbNetwork ? compose.networks?.[lbNetwork[0]]?.ipam?.config?.[0] : undefined;
  const inRange = (address: string, cidr: string) => ipaddr.parse(address).match(ipaddr.parseCIDR(cidr));

  it('gives the load balancer a fixed address on a network of its own subnet, outside the range Docker hands out, and puts Redis and the replicas on it', () => {
    expect(lbNetwork, 'the lb needs networks.<name>.ipv4_address').toBeDefined();
    const [network, lbAddress] = lbNetwork as [string, string];
    expect(ipam?.subnet).toBeDefined();
    expect(ipam?.ip_range, 'dynamic addresses must come from a range that leaves the lb`s out').toBeDefined();
    expect(ipam?.gateway).toBeDefined();
    expect(inRange(lbAddress, ipam!.subnet!)).toBe(true);
    expect(inRange(ipam!.gateway!, ipam!.subnet!)).toBe(true);
    const [rangeStart, rangeBits] = ipaddr.parseCIDR(ipam!.ip_range!);
    expect(inRange(rangeStart.toString(), ipam!.subnet!)).toBe(true);
    expect(rangeBits).toBeGreaterThan(ipaddr.parseCIDR(ipam!.subnet!)[1]);
    expect(inRange(lbAddress, ipam!.ip_range!)).toBe(false);
    expect(lbAddress).not.toBe(ipam!.gateway);
    for (const [name, container] of Object.entries(cluster)) expect(Object.keys(networksOf(container)), name).toEqual([network]);
  });

  it('has the replicas trust the load balancer`s address alone: not the gateway the published port comes through, nor the rest of the network', () => {
    const lbAddress = lbNetwork![1]!;
    expect(replicaEnvironment.TRUST_PROXY).toBe(`${lbAddress}/32`);
    const trusted = trustProxy(replicaConfig().TRUST_PROXY);
    expect(trusted(lbAddress, 0)).toBe(true);
    // The gateway (every connection through the published port), a replica's neighbour, any private address.
    const [first] = ipaddr.parseCIDR(ipam!.ip_range!);
    for (const other of [ipam!.gateway!, first.toString(), '10.0.0.1', '172.17.0.1', '192.168.1.1', '127.0.0.1']) expect(trusted(other, 0), other).toBe(false);
  });

  it('has nginx overwrite X-Forwarded-For with the client it sees, and take a front proxy`s header only from the gateway, its last entry only', () => {
    expect(nginx).toMatch(/proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;/);
    expect(nginx).not.toMatch(/\$proxy_add_x_forwarded_for/);
    expect([...nginx.matchAll(/set_real_ip_from\s+([^;\s]+);/g)].map((m) => m[1])).toEqual([ipam?.gateway]);
    expect(nginx).toMatch(/real_ip_header\s+X-Forwarded-For;/);
    expect(nginx).toMatch(/real_ip_recursive\s+off;/);
  });
});

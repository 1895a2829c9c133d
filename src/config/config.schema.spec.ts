import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.schema';

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    // toMatchObject, not toEqual: new settings keep arriving, and each brings its own default.
    expect(loadConfig({})).toMatchObject({
      NODE_ENV: 'development',
      HOST: '0.0.0.0',
      PORT: 3000,
      BODY_LIMIT_BYTES: 1024 * 1024,
      POOL_SIZE: availableParallelism(),
      WORKER_MAX_OLD_GEN_MB: 1024,
      TASK_TIMEOUT_MS: 120_000,
      FIB_MAX_N: 10_000_000,
      FIB_MAX_NUMBERS: 500_000,
      FIB_MAX_RESULT_BYTES: 512 * 1024 ** 2,
      JOB_RETENTION_MS: 3_600_000,
      JOB_RETENTION_COUNT: 1_000,
      JOB_RETENTION_BYTES: 1536 * 1024 ** 2,
      MAX_WAIT_MS: 30_000,
      PROGRESS_FLUSH_MS: 50,
    });
  });

  it('keeps crawls polite by default: robots.txt cannot be turned off, 32 fetches at once at most', () => {
    expect(loadConfig({})).toMatchObject({ CRAWL_ALLOW_IGNORE_ROBOTS: false, CRAWL_MAX_CONCURRENCY: 32, CRAWL_MAX_ROBOTS_BYTES: 16 * 1024 ** 2 });
    expect(loadConfig({ CRAWL_ALLOW_IGNORE_ROBOTS: 'true' }).CRAWL_ALLOW_IGNORE_ROBOTS).toBe(true);
    expect(loadConfig({ CRAWL_ALLOW_IGNORE_ROBOTS: 'false' }).CRAWL_ALLOW_IGNORE_ROBOTS).toBe(false);
    expect(() => loadConfig({ CRAWL_ALLOW_IGNORE_ROBOTS: 'maybe' })).toThrow(/CRAWL_ALLOW_IGNORE_ROBOTS/);
    expect(() => loadConfig({ CRAWL_MAX_ROBOTS_BYTES: '1000' })).toThrow(/CRAWL_MAX_ROBOTS_BYTES/);
  });

  it('coerces numeric strings, as the environment only holds strings', () => {
    const config = loadConfig({ PORT: '8080', POOL_SIZE: '3', TASK_TIMEOUT_MS: '1000', NODE_ENV: 'test', HOST: '127.0.0.1' });
    expect(config).toMatchObject({ PORT: 8080, POOL_SIZE: 3, TASK_TIMEOUT_MS: 1_000, NODE_ENV: 'test', HOST: '127.0.0.1' });
    expect(typeof config.PORT).toBe('number');
  });

  it('accepts the bounds themselves', () => {
    expect(loadConfig({ PORT: '0', MAX_WAIT_MS: '0' })).toMatchObject({ PORT: 0, MAX_WAIT_MS: 0 });
    expect(loadConfig({ PORT: '65535', POOL_SIZE: '256' })).toMatchObject({ PORT: 65535, POOL_SIZE: 256 });
  });

  it('treats an empty string as unset, so the default applies', () => {
    // Without this, z.coerce.number() would read '' as 0 and PORT= would mean "port 0".
    expect(loadConfig({ PORT: '', POOL_SIZE: '', HOST: '', NODE_ENV: '' })).toMatchObject({
      PORT: 3000,
      POOL_SIZE: availableParallelism(),
      HOST: '0.0.0.0',
      NODE_ENV: 'development',
    });
  });

  it('ignores variables it does not know (the real environment is full of them)', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' }).PORT).toBe(3000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['POOL_SIZE', '0'],
    ['WORKER_MAX_OLD_GEN_MB', '63'],
    ['TASK_TIMEOUT_MS', '999'],
    ['NODE_ENV', 'staging'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  ${name}: `));
  });

  it('refuses a renamed setting under its old name, naming the new one (it would otherwise be ignored without a word)', () => {
    expect(() => loadConfig({ CLUSTER_PAGES_PER_TASK: '4' })).toThrow(/^Invalid configuration:\n {2}CLUSTER_PAGES_PER_TASK: renamed, set CRAWL_PAGES_PER_TASK/);
    // Reported with the other problems, not instead of them.
    expect(() => loadConfig({ CLUSTER_PAGES_PER_TASK: '4', PORT: 'abc' })).toThrow(/CLUSTER_PAGES_PER_TASK: renamed[^\n]*\n {2}PORT: /);
    expect(loadConfig({ CRAWL_PAGES_PER_TASK: '4' }).CRAWL_PAGES_PER_TASK).toBe(4);
    expect(loadConfig({}).CRAWL_PAGES_PER_TASK).toBe(16);
  });

  it('names every bad variable at once', () => {
    let message = '';
    try {
      // FIB_MAX_N=1 is at its bound and valid: it must not be reported.
      loadConfig({ PORT: 'abc', POOL_SIZE: '0', FIB_MAX_N: '1' });
    } catch (err) {
      message = (err as Error).message;
    }
    const lines = message
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(':')[0]);
    expect(lines).toEqual(['PORT', 'POOL_SIZE']);
  });
});

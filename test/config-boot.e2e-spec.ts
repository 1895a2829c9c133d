import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from './support/app';
import { distMain, killLeftovers, runToExit } from './support/service-process';

/**
 * A bad setting stops the built service at boot: it exits 1, quickly, without ever
 * listening, and stderr names the variable and the rule it broke (src/config/config.schema.ts).
 */

/** Generous for a shared 2-core box (about 1 s when idle): the point is that it does not hang or serve. */
const QUICKLY_MS = 15_000;

const cases: { env: Record<string, string>; variable: string; rule: RegExp }[] = [
  { env: { PORT: 'abc' }, variable: 'PORT', rule: /expected number/i },
  { env: { POOL_SIZE: '0' }, variable: 'POOL_SIZE', rule: />=\s*1/ },
  { env: { API_KEYS: 'short' }, variable: 'API_KEYS', rule: /16-256 characters/ },
];

describe('booting dist/main.js with an invalid setting', () => {
  afterAll(killLeftovers);

  it('has a build to boot', () => {
    expect(() => distMain()).not.toThrow();
  });

  const named = cases.map((c) => ({
    ...c,
    setting: Object.entries(c.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  }));

  it.each(named)(
    '$setting exits 1 at once, naming the variable and the rule',
    async ({ env, variable, rule }) => {
      // PORT=0 where the case does not set it: were validation to pass wrongly, no fixed port is taken.
      const result = await runToExit({ PORT: '0', ...env }, QUICKLY_MS + 5_000);
      const where = `stderr:\n${result.stderr}\nstdout:\n${result.stdout.slice(-2_000)}`;

      expect(result.signal, `killed instead of exiting (${result.ms} ms); ${where}`).toBeNull();
      expect(result.code, where).toBe(1);
      expect(result.ms).toBeLessThan(QUICKLY_MS);

      // The message names the variable together with its rule, e.g. "POOL_SIZE: Too small: expected number to be >=1".
      const line = result.stderr.split('\n').find((text) => new RegExp(`\\b${variable}\\b[.\\w]*:`).test(text) && rule.test(text));
      expect(line, `no stderr line names ${variable} with ${rule}; ${where}`).toBeDefined();
      expect(result.stdout).not.toMatch(/listening on/);
    },
    30_000,
  );
});

describe('apps made in one process', () => {
  it('read only the settings they are given and write none into process.env', async () => {
    const before = { ...process.env };
    const keyed = await startApp({ API_KEYS: 'first-app-key-0123456789', REDIS_PREFIX: 'first' });
    try {
      expect(process.env).toEqual(before);
      expect((await fetch(`${keyed.url}/jobs`)).status).toBe(401);
    } finally {
      await keyed.close();
    }
    // Given neither, the next app has no keys and its own defaults, not the first app's.
    const open = await startApp({});
    try {
      expect(open.config.API_KEYS).toEqual([]);
      expect(open.config.REDIS_PREFIX).not.toBe('first');
      expect((await fetch(`${open.url}/jobs`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

import { afterAll } from 'vitest';

/**
 * Each test file ends with the process environment it started with. Files share one process
 * (vitest.config.ts: isolate false), and an in-process app writes its settings into process.env
 * (@nestjs/config assigns what it validated), where a later app reads any setting it was not
 * given: one file's REDIS_URL or API_KEYS would reach the next file's apps.
 */
const atStart = { ...process.env };

afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in atStart)) delete process.env[key];
  Object.assign(process.env, atStart);
});

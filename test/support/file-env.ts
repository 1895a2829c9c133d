import { afterAll } from 'vitest';

/**
 * Each test file ends with the process environment it started with. Files share one process
 * (vitest.config.ts: isolate false), so a variable one file sets (a test, or a library it loads)
 * must not reach the next file's apps or child processes.
 */
const atStart = { ...process.env };

afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in atStart)) delete process.env[key];
  Object.assign(process.env, atStart);
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a worker entry point lives. From dist/ it is compiled JavaScript; when the app runs
 * from TypeScript sources (tests, `tsx`) worker threads cannot load .ts by themselves, so they
 * get tsx's loader through execArgv.
 */
export function workerFile(name: string, dir = join(__dirname, '..', 'workers')): string {
  const js = join(dir, `${name}.worker.js`);
  return existsSync(js) ? js : join(dir, `${name}.worker.ts`);
}

export function workerExecArgv(file: string): string[] {
  return file.endsWith('.ts') ? ['--import', 'tsx'] : [];
}

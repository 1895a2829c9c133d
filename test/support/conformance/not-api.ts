import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The dashboard's files (src/dashboard/static.ts serves them; the build copies them to dist/). */
const DASHBOARD_DIR = resolve(__dirname, '../../../src/dashboard/public');

/**
 * The service's responses the conformance check leaves alone, each with why: they are not API
 * routes, so the OpenAPI document does not (and should not) describe them. Nothing else is skipped;
 * a route missing from the document is a failure.
 */
export const NOT_API: { reason: string; matches(method: string, path: string): boolean }[] = [
  {
    reason: 'the dashboard: static files (HTML, JS, CSS) served at / for browsers, not an API',
    matches: (method, path) => (method === 'GET' || method === 'HEAD') && isDashboardFile(path),
  },
  {
    reason: 'Swagger UI (/docs, HTML and its assets) and the document itself (/docs-json), which is what the check reads',
    matches: (_method, path) => path === '/docs' || path.startsWith('/docs/') || path === '/docs-json' || path === '/docs-yaml',
  },
];

function isDashboardFile(path: string): boolean {
  if (path === '/') return true;
  const file = join(DASHBOARD_DIR, decodeURIComponent(path));
  return file.startsWith(DASHBOARD_DIR) && existsSync(file) && statSync(file).isFile();
}

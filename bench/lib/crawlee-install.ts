/**
 * Crawlee for bench:crawl, installed on demand into a cache folder outside the repository
 * (<os.tmpdir()>/crawl-bench-crawlee), never into the project's package.json: it is the
 * yardstick, not a dependency. The version is pinned so that figures compare across runs;
 * CRAWLEE_VERSION overrides it. 3.18.1 was the latest 3.x when this bench was written and runs on
 * Node 20 (its dependencies ask for Node >= 16, got 14 for >= 20).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CRAWLEE_PACKAGE = '@crawlee/cheerio';
export const CRAWLEE_VERSION = process.env.CRAWLEE_VERSION || '3.18.1';

export interface CrawleeInstall {
  dir: string;
  version: string;
  /** False when the cache already had this version. */
  installedNow: boolean;
  installMs: number;
}

export function ensureCrawlee(): CrawleeInstall {
  const dir = join(tmpdir(), 'crawl-bench-crawlee');
  const started = performance.now();
  let version = installedVersion(dir);
  let installedNow = false;
  if (version !== CRAWLEE_VERSION) {
    console.log(`installing ${CRAWLEE_PACKAGE}@${CRAWLEE_VERSION} into ${dir} (a cache outside the repo; not a project dependency) ...`);
    const npm = spawnSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `${CRAWLEE_PACKAGE}@${CRAWLEE_VERSION}`], { encoding: 'utf8' });
    if (npm.status !== 0) throw new Error(`npm install ${CRAWLEE_PACKAGE}@${CRAWLEE_VERSION} failed (exit ${npm.status}):\n${npm.stdout}${npm.stderr}`);
    version = installedVersion(dir);
    if (version !== CRAWLEE_VERSION) throw new Error(`after npm install, ${dir} has ${CRAWLEE_PACKAGE} ${version ?? 'missing'}, expected ${CRAWLEE_VERSION}`);
    installedNow = true;
  }
  // It must load on this Node before any figure is taken.
  const probe = spawnSync(process.execPath, ['-e', `require(require('node:module').createRequire(${JSON.stringify(join(dir, 'package.json'))}).resolve('${CRAWLEE_PACKAGE}'))`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`${CRAWLEE_PACKAGE}@${version} does not load on Node ${process.version}:\n${probe.stderr}`);
  return { dir, version: version!, installedNow, installMs: performance.now() - started };
}

function installedVersion(dir: string): string | undefined {
  const manifest = join(dir, 'node_modules', ...CRAWLEE_PACKAGE.split('/'), 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

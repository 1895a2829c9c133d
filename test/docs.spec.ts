/**
 * The documentation cannot drift from the code: docs/settings.md is what the config schema renders
 * today, the README's routes table lists exactly the routes the app serves, the README stays short,
 * and the benchmarks file keeps one marked section per benchmark.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { replaceSection, SECTIONS } from '../bench/lib/bench-doc';
import { renderSettingsDoc, SETTINGS_DOC } from '../scripts/settings-doc';
import { configSchema } from '../src/config/config.schema';
import { startApp, type RunningApp } from './support/app';

const ROOT = join(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'WS'];

/** `METHOD /path` of every row of the README's "API at a glance" table (`:id` written as `{id}`). */
function readmeRoutes(): string[] {
  const section = README.split(/^## /m).find((part) => part.startsWith('API at a glance'));
  if (!section) throw new Error('README.md has no "## API at a glance" section');
  return section
    .split('\n')
    .map((line) => /^\|\s*`?([A-Z]+)`?\s*\|\s*`([^`]+)`\s*\|/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && METHODS.includes(match[1]))
    .map(([, method, path]) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
}

describe('docs/settings.md', () => {
  const doc = readFileSync(SETTINGS_DOC, 'utf8');

  it('has a row for every setting of the config schema', () => {
    const rows = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1]));
    const missing = Object.keys(configSchema.shape).filter((key) => !rows.has(key));
    expect(missing, 'settings missing from docs/settings.md: run npm run docs:settings').toEqual([]);
    expect(rows.size).toBe(Object.keys(configSchema.shape).length);
  });

  it('is exactly what `npm run docs:settings` writes from the schema today', () => {
    expect(doc, 'docs/settings.md is stale: run npm run docs:settings and commit it').toBe(renderSettingsDoc());
  });
});

describe('README.md', () => {
  it('has at most 300 lines', () => {
    expect(README.trimEnd().split('\n').length).toBeLessThanOrEqual(300);
  });

  describe('routes table', () => {
    let svc: RunningApp;
    let documented: Set<string>;

    beforeAll(async () => {
      svc = await startApp();
      // Nest's route scan, as the OpenAPI document carries it: every controller route.
      const doc = (await request(svc.url).get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
      documented = new Set(Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)));
    });
    afterAll(() => svc?.close());

    it('lists every route of the OpenAPI document', () => {
      const listed = new Set(readmeRoutes());
      expect(documented.size).toBeGreaterThanOrEqual(10);
      expect([...documented].filter((route) => !listed.has(route)).sort(), 'routes the app serves that the README table does not list').toEqual([]);
    });

    it('lists no route the app does not serve', async () => {
      // Rows outside the document are served outside the controllers: the dashboard's files, Swagger UI
      // and the document itself (the document does not describe its own routes), and the WebSocket
      // gateway. Each must answer here, or the row names a route that does not exist.
      const outside = readmeRoutes().filter((route) => !documented.has(route));
      const unserved: string[] = [];
      for (const route of outside) {
        const [method, path] = route.split(' ');
        if (method === 'WS') {
          const refused = await refusal(`${svc.wsUrl}${path}`);
          if (refused) unserved.push(`${route} (${refused})`);
        } else if (method !== 'GET' || path.includes('{') || (await request(svc.url).get(path).redirects(1)).status !== 200) unserved.push(route);
      }
      expect(unserved, 'README rows that name no route of the app').toEqual([]);
      // And the entry points outside the document are listed too.
      expect(outside.sort()).toEqual(expect.arrayContaining(['GET /', 'GET /docs', 'GET /docs-json', 'WS /ws']));
    });
  });
});

describe('docs/benchmarks.md', () => {
  it('has one marked section per benchmark, in order', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'benchmarks.md'), 'utf8');
    const starts = SECTIONS.map((name) => doc.indexOf(`<!-- bench:${name}:start -->`));
    const ends = SECTIONS.map((name) => doc.indexOf(`<!-- bench:${name}:end -->`));
    expect(starts.every((at, i) => at >= 0 && ends[i] > at && (i === 0 || at > ends[i - 1]))).toBe(true);
  });

  it('a bench replaces its own section only, and inserts a missing one in its place', () => {
    let doc = replaceSection(undefined, 'fib', 'fib one');
    doc = replaceSection(doc, 'cluster', 'cluster one');
    doc = replaceSection(doc, 'parse', 'parse one');
    doc = replaceSection(`${doc}\nafter`, 'fib', 'fib two');
    expect(doc).toContain('<!-- bench:fib:start -->\nfib two\n<!-- bench:fib:end -->');
    expect(doc).not.toContain('fib one');
    expect(doc.indexOf('parse one')).toBeGreaterThan(doc.indexOf('fib two'));
    expect(doc.indexOf('cluster one')).toBeGreaterThan(doc.indexOf('parse one'));
    expect(doc.trimEnd().endsWith('after')).toBe(true);
    expect(doc.startsWith('# Benchmarks')).toBe(true);
  });
});

/** Why a WebSocket to `url` does not open (undefined: it opens). */
function refusal(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      socket.close();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

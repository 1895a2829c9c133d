import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFibonacci } from '../examples/typed-client';
import { fib } from '../src/fibonacci/fib-bigint';
import { startApp, type RunningApp } from './support/app';

const EXAMPLES = resolve(__dirname, '..', 'examples');
const GENERATED = join(EXAMPLES, 'generated');
const KEY = 'key-client-0123456789abcdef';

/**
 * tsc (in a child process: a compile holds the event loop for seconds, and the app under test
 * shares it) over the example and `wrong`, a file of calls that must not type-check; the errors by file.
 */
async function typeCheck(wrong: string): Promise<{ example: string[]; wrong: string[] }> {
  writeFileSync(join(GENERATED, 'wrong-usage.ts'), wrong);
  writeFileSync(join(GENERATED, 'tsconfig.check.json'), JSON.stringify({ extends: '../tsconfig.json', include: [], files: ['../typed-client.ts', 'wrong-usage.ts', 'api.d.ts'] }));
  const out = await new Promise<string>((done) =>
    execFile(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(GENERATED, 'tsconfig.check.json'), '--pretty', 'false'], (_err, stdout) => done(stdout)),
  );
  const errors = out.split('\n').filter((line) => line.includes('error TS'));
  return { example: errors.filter((e) => !e.includes('wrong-usage.ts')), wrong: errors.filter((e) => e.includes('wrong-usage.ts')) };
}

describe('the typed client example (types generated from /docs-json)', () => {
  let svc: RunningApp;

  beforeAll(async () => {
    svc = await startApp({ API_KEYS: KEY });
    // The single source: the document this service serves, turned into types where the example imports them.
    const doc = await (await fetch(`${svc.url}/docs-json`)).json();
    mkdirSync(GENERATED, { recursive: true });
    writeFileSync(join(GENERATED, 'api.d.ts'), astToString(await openapiTS(doc)));
  });
  afterAll(() => svc?.close());

  it('type-checks against the generated types, which do catch a wrong call', async () => {
    // The example is clean; the types are not `any`, so a wrong body type, an unknown route and a
    // misnamed parameter are errors (one compile: tsc is slow to start).
    const { example, wrong } = await typeCheck(`import createClient from 'openapi-fetch';
import type { paths } from './api';
const api = createClient<paths>({ baseUrl: 'http://x' });
void api.POST('/fibonacci', { body: { numbers: 'five' } });
void api.GET('/jobs/{id}/result', { params: { path: { id: 'x' } } });
void api.GET('/jobs/{id}', { params: { path: { jobId: 'x' } } });
`);
    expect(example).toEqual([]);
    expect(wrong.join('\n')).toMatch(/wrong-usage\.ts\(4,/);
    expect(wrong.join('\n')).toMatch(/wrong-usage\.ts\(5,.*\/jobs\/\{id\}\/result/);
    expect(wrong.join('\n')).toMatch(/wrong-usage\.ts\(6,.*jobId/);
  }, 120_000);

  it('runs: submits with a key and an Idempotency-Key, follows the feed to the end, exports NDJSON', async () => {
    const numbers = [0, 1, 10, 90, 1000];
    const outcome = await computeFibonacci(svc.url, KEY, numbers);
    expect(outcome.replayed).toBe(true);
    expect(outcome.job).toMatchObject({ status: 'completed', total: numbers.length, completed: numbers.length, name: 'typed client example' });
    expect(outcome.events[0].event).toBe('job.snapshot');
    expect(outcome.events.at(-1)!.event).toBe('job.completed');
    expect(outcome.results.map((item) => ('n' in item ? [item.index, item.n, item.value] : item))).toEqual(numbers.map((n, index) => [index, n, fib(n).toString()]));
    // Without the key the service refuses, and the example says so.
    await expect(computeFibonacci(svc.url, 'wrong-key-0123456789abcdef', [1])).rejects.toThrow(/401/);
  });
});

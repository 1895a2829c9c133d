import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { csvCell } from '../src/jobs/results-export';
import { type RunningApp, startApp } from './support/app';
import { call, Cluster, type Instance } from './support/cluster';
import { haveRedis } from './support/redis-server';

/**
 * Issue 15, item 3: GET /jobs/{id}/results with `Accept: application/x-ndjson` or `text/csv`
 * streams every result from `offset` to the end without paging; `follow=true` keeps the stream
 * open while the job runs and ends it after the last result. In both modes.
 */
async function exportOf(url: string, accept: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, { headers: { accept } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

function exportScenarios(nodes: () => { url: string }[]) {
  it('streams all of a 30,000-result job as NDJSON, in order, past the page size, from any offset', async () => {
    const [first, second] = [nodes()[0], nodes().at(-1)!];
    const numbers = Array.from({ length: 30_000 }, (_, i) => i % 500);
    const job = await call(first, 'POST', '/fibonacci?wait=30000', { numbers });
    expect(job.status).toBe(200);
    const all = await exportOf(`${second.url}/jobs/${job.body.id}/results`, 'application/x-ndjson');
    expect(all.status).toBe(200);
    expect(all.type).toMatch(/^application\/x-ndjson/);
    const lines = all.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(numbers.length);
    expect(lines.every((line, i) => line.index === i && line.n === numbers[i] && line.state === 'completed')).toBe(true);
    for (const i of [0, 499, 12_345, 29_999]) expect(lines[i].value).toBe(fib(numbers[i]).toString());
    const tail = await exportOf(`${second.url}/jobs/${job.body.id}/results?offset=29990&format=hex`, 'application/x-ndjson');
    const hex = tail.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(hex.map((line) => line.index)).toEqual(Array.from({ length: 10 }, (_, i) => 29_990 + i));
    expect(hex[0].value).toBe(fib(numbers[29_990]).toString(16));
  });

  it('exports CSV with a header row and one row per result', async () => {
    const node = nodes()[0];
    const job = await call(node, 'POST', '/fibonacci?wait=30000', { numbers: [10, 0, 90] });
    const csv = await exportOf(`${node.url}/jobs/${job.body.id}/results`, 'text/csv');
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('index,n,state,value,digits,ms,error');
    expect(rows.slice(1).map((row) => row.split(',').slice(0, 4).join(','))).toEqual(['0,10,completed,55', '1,0,completed,0', '2,90,completed,2880067194370816120']);
  });

  it('follows a running job: the stream stays open and ends after its last result, each once and in order', async () => {
    const [first, second] = [nodes()[0], nodes().at(-1)!];
    const numbers = Array.from({ length: 40 }, (_, i) => 1_500_000 + i);
    const job = await call(first, 'POST', '/fibonacci', { numbers });
    expect(job.status).toBe(202);
    const followed = await exportOf(`${second.url}/jobs/${job.body.id}/results?follow=true&maxChars=16`, 'application/x-ndjson');
    const lines = followed.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.index)).toEqual(numbers.map((_, i) => i));
    expect(lines.every((line) => line.state === 'completed' && line.shortened === true)).toBe(true);
    expect((await call(second, 'GET', `/jobs/${job.body.id}`)).body.status).toBe('completed');
  });

  it('refuses a bad follow value (400 naming it)', async () => {
    const node = nodes()[0];
    const job = await call(node, 'POST', '/fibonacci?wait=30000', { numbers: [1] });
    const res = await fetch(`${node.url}/jobs/${job.body.id}/results?follow=maybe`, { headers: { accept: 'application/x-ndjson' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).issues[0].field).toBe('query.follow');
  });
}

describe('csvCell', () => {
  it('quotes what needs it and defuses spreadsheet formulas from page titles', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\nthere')).toBe('"say ""hi""\nthere"');
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(['https://a/', 'https://b/'])).toBe('https://a/ https://b/');
    expect(csvCell({ code: 'timeout', message: 'no answer' })).toBe('timeout: no answer');
    expect(csvCell(undefined)).toBe('');
  });
});

describe('streamed export in the embedded mode', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp({ RATE_LIMIT_MAX: '1000000' });
  });
  afterAll(() => running?.close());
  exportScenarios(() => [running]);
});

describe.skipIf(!haveRedis('streamed export across instances'))('streamed export on two instances (submitted on A, exported from B)', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    cluster = await Cluster.start({ poolSize: 1, env: { RATE_LIMIT_MAX: '1000000', MAX_WAIT_MS: '30000' } });
    a = await cluster.startInstance('a');
    b = await cluster.startInstance('b');
  }, 60_000);
  afterAll(() => cluster?.close());
  exportScenarios(() => [a, b]);
});

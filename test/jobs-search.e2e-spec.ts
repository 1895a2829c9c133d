import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { JobView } from '../src/jobs/job.view';
import { describeBothModes } from './support/both-modes';

/**
 * Issue 15 item 5: GET /jobs filters by status, kind, labels and q, paged by an opaque cursor,
 * each API key seeing its own jobs only; in the cluster mode any instance lists what another made.
 */
const KEY_A = 'search-key-a-0123456789abcdef';
const KEY_B = 'search-key-b-0123456789abcdef';
const KEYS = `${KEY_A},${KEY_B}`;

interface JobList {
  items: JobView[];
  nextCursor: string | null;
  limit: number;
  total: number | null;
}

async function call(url: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** A finished one-number job of `key`'s, named and labelled. */
async function made(url: string, key: string, name: string | undefined, labels: Record<string, string>): Promise<string> {
  const res = await call(url, key, 'POST', '/fibonacci?wait=10000', { numbers: [3], name, labels });
  expect(res.status).toBe(200);
  return res.body.id;
}

const list = async (url: string, key: string, query: string): Promise<{ status: number; body: JobList }> => call(url, key, 'GET', `/jobs?${query}`);
const ids = (page: JobList) => page.items.map((job) => job.id);

/** Every page of a query, following nextCursor: the ids of each page. */
async function walk(url: string, key: string, query: string, between?: () => Promise<void>): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const res = await list(url, key, `${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    pages.push(ids(res.body));
    cursor = res.body.nextCursor;
    await between?.();
  } while (cursor !== null && pages.length < 50);
  return pages;
}

function scenarios(first: () => string, second: () => string) {
  it('filters by label, status, kind and q on any instance, each key seeing its own jobs', async () => {
    const run = randomUUID().slice(0, 8);
    const nightly = await made(first(), KEY_A, `Nightly ${run}`, { run, env: 'prod', url: 'http://x:80/a' });
    const adhoc = await made(first(), KEY_A, `ad-hoc ${run}`, { run, env: 'dev' });
    const bobs = await made(first(), KEY_B, `Nightly ${run}`, { run, env: 'prod' });

    const byLabel = await list(second(), KEY_A, `label=run:${run}`);
    expect(byLabel.status).toBe(200);
    expect(byLabel.body).toEqual({ items: [expect.objectContaining({ id: adhoc }), expect.objectContaining({ id: nightly })], nextCursor: null, limit: 50, total: 2 });
    expect(ids((await list(second(), KEY_A, `label=run:${run}&label=env:prod`)).body)).toEqual([nightly]);
    expect(ids((await list(second(), KEY_A, `label=run:${run}&label=url:http://x:80/a`)).body)).toEqual([nightly]);
    expect(ids((await list(second(), KEY_A, `label=run:${run}&status=completed&kind=fibonacci`)).body)).toEqual([adhoc, nightly]);
    expect(ids((await list(second(), KEY_A, `label=run:${run}&status=failed`)).body)).toEqual([]);
    expect(ids((await list(second(), KEY_A, `q=NIGHTLY%20${run}`)).body)).toEqual([nightly]);
    expect(ids((await list(second(), KEY_A, `q=${adhoc.slice(0, 8)}`)).body)).toEqual([adhoc]);
    // Hostile q: matched as plain text, never as a pattern.
    expect(ids((await list(second(), KEY_A, `q=${encodeURIComponent('.*%[')}`)).body)).toEqual([]);
    // Key B sees its job only, whatever it asks for.
    expect(ids((await list(second(), KEY_B, `label=run:${run}`)).body)).toEqual([bobs]);
    expect(ids((await list(second(), KEY_B, `q=${nightly.slice(0, 8)}`)).body)).toEqual([]);
  });

  it('pages with a cursor: every job once, in order, while new jobs arrive', async () => {
    const run = randomUUID().slice(0, 8);
    const older: string[] = [];
    for (let i = 0; i < 5; i++) older.unshift(await made(first(), KEY_A, `page ${i}`, { run }));
    const arrived: string[] = [];
    const more = async () => {
      arrived.push(await made(first(), KEY_A, 'page new', { run }));
    };
    const pages = await walk(second(), KEY_A, `label=run:${run}&limit=2`, more);
    expect(pages).toEqual([older.slice(0, 2), older.slice(2, 4), older.slice(4)]);
    // A checked walk (two filters and q) keeps the same order and sees the jobs that came meanwhile.
    const checked = (await walk(second(), KEY_A, `label=run:${run}&status=completed&q=page&limit=3`)).flat();
    expect(checked).toEqual([...[...arrived].reverse(), ...older]);
  });

  it('refuses a cursor from another key, other filters or nowhere, naming query.cursor', async () => {
    const run = randomUUID().slice(0, 8);
    for (let i = 0; i < 3; i++) await made(first(), KEY_A, undefined, { run });
    const { body } = await list(first(), KEY_A, `label=run:${run}&limit=1`);
    expect(body.nextCursor).toEqual(expect.any(String));
    for (const [key, query] of [
      [KEY_B, `label=run:${run}&limit=1&cursor=${body.nextCursor}`],
      [KEY_A, `label=run:other&limit=1&cursor=${body.nextCursor}`],
      [KEY_A, `limit=1&cursor=${body.nextCursor}`],
      [KEY_A, `label=run:${run}&cursor=${Buffer.from('12.abc').toString('base64url')}`],
      [KEY_A, `label=run:${run}&cursor=${Buffer.from('-1.x').toString('base64url')}`],
      [KEY_A, `label=run:${run}&cursor=not%20base64`],
      [KEY_A, `label=run:${run}&cursor=${'A'.repeat(500)}`],
    ]) {
      const res = await list(second(), key, query);
      expect(res.status, query).toBe(400);
      expect(res.body.issues.map((issue: { field: string }) => issue.field)).toEqual(['query.cursor']);
    }
    // Its own query continues.
    expect((await list(second(), KEY_A, `label=run:${run}&limit=1&cursor=${body.nextCursor}`)).status).toBe(200);
  });

  it.each([
    ['label=nocolon', 'query.label'],
    ['label=:value', 'query.label'],
    ['label=bad%20key:v', 'query.label'],
    [`label=k:${'v'.repeat(201)}`, 'query.label'],
    ['label=k:a%01b', 'query.label'],
    [Array.from({ length: 21 }, (_, i) => `label=k${i}:v`).join('&'), 'query.label'],
    ['q=', 'query.q'],
    [`q=${'x'.repeat(201)}`, 'query.q'],
    ['q=a%00b', 'query.q'],
    ['status=lost', 'query.status'],
    ['kind=nope', 'query.kind'],
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['offset=10', 'query.offset'],
  ])('400 naming the field for %s', async (query, field) => {
    const res = await list(first(), KEY_A, query);
    expect(res.status).toBe(400);
    expect(res.body.issues.map((issue: { field: string }) => issue.field)).toContain(field);
  });
}

describeBothModes('GET /jobs search', { API_KEYS: KEYS, RATE_LIMIT_MAX: '1000000', AUTH_FAILURES_MAX: '1000' }, scenarios);

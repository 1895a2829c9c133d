import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../jobs/job-data';
import type { PageInput, PageResult } from './crawl-page';
import { Duplicates, verdictsFor } from './duplicates';
import { Frontier } from './frontier';
import { ALLOW_ALL } from './robots-rules';
import { ScopeFilter } from './scope';
import { UrlPatterns } from './url-patterns';

/** The job's notes as the store keeps them (shared by every "runner" of the job). */
class Notes {
  readonly map = new Map<string, string>();
  async saveNotes(notes: Record<string, string>) {
    for (const [key, value] of Object.entries(notes)) this.map.set(key, value);
  }
  async readNotes(prefix: string) {
    return Object.fromEntries([...this.map].filter(([key]) => key.startsWith(prefix)));
  }
}

const scope = new ScopeFilter(['http://a.test/'], { scope: 'same-host', include: new UrlPatterns([]), exclude: new UrlPatterns([]) });
const limits = { maxDepth: 5, maxPages: 100, perHost: 1, delayMs: 0, maxDelayMs: 0, maxRobotsBytes: 1 << 20, maxRobotsLoads: 1 };
const runner = (notes: Notes, canonical: 'record' | 'follow' = 'follow') => {
  const frontier = new Frontier(scope, limits, (_origin, set) => set(ALLOW_ALL));
  return { frontier, duplicates: new Duplicates({ canonical, nearBits: 3 }, frontier, scope, notes) };
};
const page = (index: number, path: string, extra: Partial<PageResult> = {}): TaskRecord<PageInput, PageResult> => {
  const url = `http://a.test${path}`;
  const input = { url, depth: 1, parent: null };
  return { index, input, state: 'completed', result: { ...input, finalUrl: url, status: 200, contentType: 'text/html', bytes: 1, ms: 1, title: null, links: [], ...extra } } as TaskRecord<
    PageInput,
    PageResult
  >;
};

describe('Duplicates', () => {
  it('judges by canonical and by fingerprint; the verdicts outlive the runner (a takeover keeps them and goes on)', async () => {
    const notes = new Notes();
    const first = runner(notes);
    first.frontier.add(0, page(0, '/main').input, false);
    expect(await first.duplicates.judge(page(0, '/main', { fingerprint: '00000000000000ff' }))).toBeUndefined();
    expect(await first.duplicates.judge(page(1, '/copy', { canonical: 'http://a.test/main' }))).toEqual({ of: 'http://a.test/main', by: 'canonical' });
    expect(await first.duplicates.judge(page(2, '/near', { fingerprint: '00000000000000f8' }))).toEqual({ of: 'http://a.test/main', by: 'content' });
    // A canonical not crawled yet is claimed: never offered after.
    expect(await first.duplicates.judge(page(300, '/other', { canonical: 'http://a.test/unlinked' }))).toBeUndefined();
    first.frontier.offer('http://a.test/unlinked', 1, null);
    expect(first.frontier.takeCandidates()).toEqual([]);
    expect(first.duplicates.count).toBe(2);

    // Another instance takes the job over: verdicts from the notes, the rest rebuilt from the stored results.
    const second = runner(notes);
    await second.duplicates.restore();
    expect(second.duplicates.count).toBe(2);
    expect(second.duplicates.replay(page(0, '/main', { fingerprint: '00000000000000ff' }))).toBe(true);
    expect(second.duplicates.replay(page(1, '/copy', { canonical: 'http://a.test/main' }))).toBe(false); // links not followed
    expect(second.duplicates.replay(page(300, '/other', { canonical: 'http://a.test/unlinked' }))).toBe(true);
    expect(await second.duplicates.judge(page(301, '/late', { fingerprint: '00000000000000fe' }))).toEqual({ of: 'http://a.test/main', by: 'content' });
    expect(await second.duplicates.judge(page(302, '/also', { canonical: 'http://a.test/unlinked' }))).toEqual({ of: 'http://a.test/other', by: 'canonical' });

    const shown = await verdictsFor([0, 1, 2, 301, 302], (prefix) => notes.readNotes(prefix));
    expect(Object.fromEntries(shown)).toEqual({
      1: { of: 'http://a.test/main', by: 'canonical' },
      2: { of: 'http://a.test/main', by: 'content' },
      301: { of: 'http://a.test/main', by: 'content' },
      302: { of: 'http://a.test/other', by: 'canonical' },
    });
  });

  it('with canonical "record", a canonical is only reported', async () => {
    const { frontier, duplicates } = runner(new Notes(), 'record');
    frontier.add(0, page(0, '/main').input, false);
    expect(await duplicates.judge(page(1, '/copy', { canonical: 'http://a.test/main' }))).toBeUndefined();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../backends/memory/memory-job.store';
import { Frontier } from './frontier';
import { type JobNotes, robotsLoaderWithNotes, robotsNoteKey } from './robots-notes';
import { disallowAll, type RobotsRules } from './robots-rules';
import { ScopeFilter } from './scope';
import { UrlPatterns } from './url-patterns';

const stores: MemoryJobStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A running job in a real (memory) store, and its notes as the job context hands them out. */
async function jobNotes(): Promise<{ store: MemoryJobStore; notes: JobNotes }> {
  const store = new MemoryJobStore({ maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 20 });
  stores.push(store);
  const { version } = await store.admission('alice');
  const reservation = { tasks: 10, resultBytes: 0, counters: { 'crawl.pages': 10, 'crawl.fetches': 1 } };
  await store.create({ id: 'j', kind: 'crawl', callerId: 'alice', reservation, createdAt: Date.now() }, [], version);
  return { store, notes: { saveNotes: (notes) => store.saveNotes('j', notes), readNotes: (prefix) => store.readNotes('j', prefix) } };
}

/** robots.txt "over the network": the rules per origin, counting each read. */
function network(rulesByOrigin: Record<string, RobotsRules | Error>) {
  const reads: string[] = [];
  const fetchRules = async (origin: string) => {
    reads.push(origin);
    const rules = rulesByOrigin[origin];
    if (rules instanceof Error) throw rules;
    return rules;
  };
  return { reads, fetchRules };
}

/** The rules a loader hands over for `origin`. */
function load(loader: ReturnType<typeof robotsLoaderWithNotes>, origin: string): Promise<RobotsRules> {
  return new Promise((resolve) => loader(origin, resolve));
}

const privateRules: RobotsRules = { allow: ['/private/ok'], disallow: ['/private/'], crawlDelay: 2 };
const unreachable = disallowAll('robots.txt unreachable (http_error: 503)');

describe('robots.txt decisions as job notes', () => {
  it('fetches an origin once, stores the decision, and a takeover reads it instead of fetching', async () => {
    const { notes } = await jobNotes();
    const { reads, fetchRules } = network({ 'http://a.test': privateRules, 'http://down.test': unreachable });
    const first = robotsLoaderWithNotes(notes, fetchRules);
    expect(await load(first, 'http://a.test')).toEqual(privateRules);
    expect(await load(first, 'http://down.test')).toEqual(unreachable);
    expect(await notes.readNotes('robots:')).toEqual({
      [robotsNoteKey('http://a.test')]: JSON.stringify(privateRules),
      [robotsNoteKey('http://down.test')]: JSON.stringify(unreachable),
    });

    // Another runner (a new loader on the same job) decides nothing again.
    const takeover = robotsLoaderWithNotes(notes, fetchRules);
    expect(await load(takeover, 'http://a.test')).toEqual(privateRules);
    expect(await load(takeover, 'http://down.test')).toEqual(unreachable);
    expect(reads).toEqual(['http://a.test', 'http://down.test']);
  });

  it('keeps origins apart whose names share a prefix', async () => {
    const { notes } = await jobNotes();
    const other: RobotsRules = { allow: [], disallow: ['/'] };
    const { reads, fetchRules } = network({ 'http://a.test:8080': other, 'http://a.test': privateRules });
    const loader = robotsLoaderWithNotes(notes, fetchRules);
    expect(await load(loader, 'http://a.test:8080')).toEqual(other);
    expect(await load(loader, 'http://a.test')).toEqual(privateRules);
    expect(reads).toEqual(['http://a.test:8080', 'http://a.test']);
  });

  it('stores no decision when the read was stopped (the job ends or is handed over)', async () => {
    const { notes } = await jobNotes();
    const { reads, fetchRules } = network({ 'http://a.test': new Error('aborted') });
    const loader = robotsLoaderWithNotes(notes, fetchRules);
    expect((await load(loader, 'http://a.test')).unreachable).toBe('robots.txt could not be read');
    expect(await notes.readNotes('robots:')).toEqual({});
    await load(loader, 'http://a.test');
    expect(reads).toEqual(['http://a.test', 'http://a.test']);
  });

  it('reads an origin again when its note is not rules', async () => {
    const { notes } = await jobNotes();
    await notes.saveNotes({ [robotsNoteKey('http://a.test')]: '{not json' });
    const { reads, fetchRules } = network({ 'http://a.test': privateRules });
    expect(await load(robotsLoaderWithNotes(notes, fetchRules), 'http://a.test')).toEqual(privateRules);
    expect(reads).toEqual(['http://a.test']);
    expect(await notes.readNotes(robotsNoteKey('http://a.test'))).toEqual({ [robotsNoteKey('http://a.test')]: JSON.stringify(privateRules) });
  });

  it('serves rules the frontier dropped (over CRAWL_MAX_ROBOTS_BYTES) from the note, not the network', async () => {
    const { notes } = await jobNotes();
    const big = (n: number): RobotsRules => ({ allow: [], disallow: [`/${String(n).repeat(2_000)}`] });
    const origins = ['http://o1.test', 'http://o2.test', 'http://o3.test'];
    const { reads, fetchRules } = network(Object.fromEntries(origins.map((origin, i) => [origin, big(i + 1)])));
    const loader = robotsLoaderWithNotes(notes, fetchRules);
    const loads: string[] = [];
    const frontier = new Frontier(
      new ScopeFilter(origins, { scope: 'any', include: new UrlPatterns([]), exclude: new UrlPatterns([]) }),
      { maxDepth: 5, maxPages: 100, perHost: 1, delayMs: 0, maxDelayMs: 0, maxRobotsBytes: 5_000, maxRobotsLoads: 1 },
      (origin, set) => {
        loads.push(origin);
        loader(origin, set);
      },
    );
    let index = 0;
    /** Queues a page on `origin` and serves it once its rules arrived; returns the rules it was served with. */
    const fetchPageOn = async (origin: string) => {
      frontier.add(index, { url: `${origin}/p${index++}`, depth: 0, parent: null }, true);
      // A bounded poll: the memory store answers within a few turns of the event loop.
      for (let turn = 0; turn < 1_000; turn++) {
        const next = frontier.next(0);
        if ('index' in next) {
          frontier.release(next.host);
          return next.rules;
        }
        await new Promise((wake) => setImmediate(wake));
      }
      throw new Error(`no rules arrived for ${origin}`);
    };
    for (const [i, origin] of origins.entries()) expect(await fetchPageOn(origin)).toEqual(big(i + 1));
    // Each set of rules is ~4 KB, the budget 5 KB: o1's (least recently used) were dropped to read o3's.
    expect(frontier.robots.origins).toBe(2);
    expect(await fetchPageOn('http://o1.test')).toEqual(big(1));
    expect(loads).toEqual([...origins, 'http://o1.test']); // dropped, so read again...
    expect(reads).toEqual(origins); // ...from the note
  });
});

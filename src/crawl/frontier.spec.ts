import { describe, expect, it } from 'vitest';
import type { PageInput } from './crawl-page';
import { Frontier, type FrontierLimits } from './frontier';
import { ALLOW_ALL, isAllowed, type RobotsRules, robotsRulesBytes } from './robots-rules';
import { ScopeFilter } from './scope';
import { UrlPatterns } from './url-patterns';

/** Rules of about `bytes` bytes that disallow /private/. */
const rulesOf = (bytes: number): RobotsRules => ({ allow: [], disallow: ['/private/', `/${'x'.repeat(Math.max(0, (bytes - 300) / 2))}`] });

/**
 * Plays the job store's part as crawl.kind drives it: the candidates the frontier collected are
 * appended to the job unless their URL was seen before (the store's seen set outlives any one
 * frontier), at the next index, while the job has fewer than maxPages; the appended ones are
 * handed back with add(). The real store's appendTasks is pinned in test/contracts/job-store.contract.ts.
 */
class JobPages {
  /** The job's pages, by index. */
  readonly pages: PageInput[] = [];
  readonly seen = new Set<string>();

  constructor(
    private readonly frontier: Frontier,
    private readonly maxPages: number,
  ) {}

  /** A page the job already has (a takeover resumes it): handed to the frontier as resume() does. */
  resume(page: PageInput, waiting: boolean): void {
    this.seen.add(page.url);
    this.frontier.add(this.pages.push(page) - 1, page, waiting);
  }

  /** Appends the frontier's candidates; returns the URLs appended. */
  append(): string[] {
    const appended: string[] = [];
    for (const page of this.frontier.takeCandidates()) {
      if (this.seen.has(page.url)) continue;
      this.seen.add(page.url);
      if (this.pages.length >= this.maxPages) continue;
      this.frontier.add(this.pages.push(page) - 1, page, true);
      appended.push(page.url);
    }
    return appended;
  }
}

function setup(limits: Partial<FrontierLimits> = {}, answerAtOnce = false) {
  const loads: string[] = [];
  const pendingLoads = new Map<string, (rules: RobotsRules) => void>();
  const bounds: FrontierLimits = { maxDepth: 5, maxPages: 1_000, perHost: 4, delayMs: 0, maxDelayMs: 60_000, maxRobotsBytes: 10_000, maxRobotsLoads: 8, ...limits };
  const frontier = new Frontier(new ScopeFilter(['http://a.test/'], { scope: 'any', include: new UrlPatterns([]), exclude: new UrlPatterns([]) }), bounds, (origin, set) => {
    loads.push(origin);
    if (answerAtOnce) set(ALLOW_ALL);
    else pendingLoads.set(origin, set);
  });
  const job = new JobPages(frontier, bounds.maxPages);
  const answer = (origin: string, rules: RobotsRules) => {
    const set = pendingLoads.get(origin);
    if (!set) throw new Error(`no robots.txt read pending for ${origin}`);
    pendingLoads.delete(origin);
    set(rules);
  };
  /** Like the crawl's loop: appends the candidates, then dispatches everything that may start at `now`; returns the origins served. */
  const dispatch = (now = 0) => {
    job.append();
    const served: string[] = [];
    for (let next = frontier.next(now); 'index' in next; next = frontier.next(now)) served.push(next.host);
    return served;
  };
  /** Like dispatch, but returns the task indexes in dispatch order. */
  const order = () => {
    job.append();
    const indexes: number[] = [];
    for (let next = frontier.next(0); 'index' in next; next = frontier.next(0)) indexes.push(next.index);
    return indexes;
  };
  return { frontier, job, loads, answer, dispatch, order };
}

describe('Frontier: which pages join the job', () => {
  it('de-duplicates, limits depth and pages, and dispatches the shallowest page first', () => {
    const { frontier, job, order } = setup({ maxDepth: 2, maxPages: 4, perHost: 10 }, true);
    frontier.offer('http://a.test/', 0, null);
    frontier.offer('http://a.test/', 1, 'x'); // seen
    frontier.offer('http://a.test/deep', 3, 'x'); // too deep
    frontier.offer('http://b.test/two', 2, 'x');
    frontier.offer('http://a.test/one', 1, 'x');
    frontier.offer('http://a.test/two', 2, 'x');
    frontier.offer('http://a.test/three', 2, 'x'); // over maxPages, counting candidates not appended yet
    expect(job.append()).toEqual(['http://a.test/', 'http://b.test/two', 'http://a.test/one', 'http://a.test/two']);
    expect(frontier.takeCandidates()).toEqual([]); // taken once
    expect([frontier.total, frontier.queued, frontier.discovered]).toEqual([4, 4, 6]);
    expect(order()).toEqual([0, 2, 1, 3]);
    expect(frontier.queued).toBe(0);
  });

  it('offers candidates with their depth and parent, and only in scope', () => {
    const frontier = new Frontier(
      new ScopeFilter(['http://a.test/'], { scope: 'same-origin', include: new UrlPatterns([]), exclude: new UrlPatterns(['/skip']) }),
      { maxDepth: 5, maxPages: 100, perHost: 1, delayMs: 0, maxDelayMs: 0, maxRobotsBytes: 1 << 20, maxRobotsLoads: 1 },
      (_origin, set) => set(ALLOW_ALL),
    );
    frontier.offer('http://a.test/x', 1, 'http://a.test/');
    frontier.offer('http://b.test/x', 1, 'http://a.test/'); // another origin
    frontier.offer('http://a.test/skip', 1, 'http://a.test/'); // excluded
    expect(frontier.takeCandidates()).toEqual([{ url: 'http://a.test/x', depth: 1, parent: 'http://a.test/', via: 'link' }]);
    expect(frontier.discovered).toBe(3); // links found count, in scope or not
  });

  it('dispatches only the pages the store appended: a URL the job had seen before stays out', () => {
    const { frontier, job, order } = setup({}, true);
    job.seen.add('http://a.test/old'); // seen by the job under an earlier runner
    frontier.offer('http://a.test/old', 0, null);
    frontier.offer('http://a.test/new', 0, null);
    expect(job.append()).toEqual(['http://a.test/new']);
    expect(order()).toEqual([0]);
    expect(frontier.total).toBe(1);
  });

  it('counts the pages a takeover resumes: done ones against maxPages only, waiting ones dispatched again, none offered twice', () => {
    const { frontier, job, order } = setup({ maxPages: 3 }, true);
    job.resume({ url: 'http://a.test/', depth: 0, parent: null }, false);
    job.resume({ url: 'http://a.test/1', depth: 1, parent: 'http://a.test/' }, true);
    expect([frontier.total, frontier.queued]).toEqual([2, 1]);
    frontier.offer('http://a.test/', 1, 'http://a.test/1'); // already a page of the job
    frontier.offer('http://a.test/2', 1, 'http://a.test/');
    frontier.offer('http://a.test/3', 1, 'http://a.test/'); // past maxPages
    expect(job.append()).toEqual(['http://a.test/2']);
    expect(order()).toEqual([1, 2]);
  });

  it('offers no redirect target as a page, and nothing once closed', () => {
    const { frontier, job } = setup({}, true);
    frontier.markSeen('http://a.test/moved-here');
    frontier.offer('http://a.test/moved-here', 1, 'http://a.test/');
    expect(job.append()).toEqual([]);
    frontier.closed = true; // the crawl's result budget is spent
    frontier.offer('http://a.test/more', 1, 'http://a.test/');
    expect(job.append()).toEqual([]);
  });
});

describe('Frontier: politeness', () => {
  it('holds a host to its concurrency and delay', () => {
    const { frontier, job } = setup({ perHost: 1, delayMs: 1_000 }, true);
    for (const path of ['a', 'b', 'c']) frontier.offer(`http://a.test/${path}`, 0, null);
    job.append();
    const first = frontier.next(0);
    expect('index' in first).toBe(true);
    expect('index' in frontier.next(0)).toBe(false); // one at a time
    frontier.release((first as { host: string }).host);
    expect(frontier.next(500)).toEqual({ wakeAt: 1_000 }); // the delay is not over
    expect('index' in frontier.next(1_000)).toBe(true);
  });

  it('spaces starts by Crawl-delay, capped by maxDelayMs', () => {
    const { frontier, job, answer } = setup({ perHost: 4, delayMs: 0, maxDelayMs: 5_000 });
    for (const path of ['a', 'b']) frontier.offer(`http://a.test/${path}`, 0, null);
    job.append();
    frontier.next(0);
    answer('http://a.test', { allow: [], disallow: [], crawlDelay: 30 });
    expect('index' in frontier.next(0)).toBe(true);
    expect(frontier.next(0)).toEqual({ wakeAt: 5_000 });
  });
});

describe('Frontier: robots rules held under a memory budget', () => {
  it('reads robots.txt once per origin, only for origins with a page waiting, and serves them once read', () => {
    const { frontier, loads, answer, dispatch } = setup();
    frontier.offer('http://a.test/1', 0, null);
    frontier.offer('http://a.test/2', 0, null);
    frontier.offer('https://a.test/1', 0, null); // another origin: its own robots.txt
    expect(loads).toEqual([]); // candidates only: nothing waits yet
    expect(dispatch()).toEqual([]);
    expect(loads).toEqual(['http://a.test', 'https://a.test']);
    answer('http://a.test', rulesOf(1_000));
    expect(dispatch()).toEqual(['http://a.test', 'http://a.test']);
    expect(loads).toHaveLength(2);
    expect(frontier.robots).toEqual({ bytes: robotsRulesBytes(rulesOf(1_000)), origins: 1 });
  });

  it('drops the rules of the least recently used idle origins past the budget, and reads them again when a page turns up', () => {
    const { frontier, loads, answer, dispatch } = setup({ maxRobotsBytes: 10_000 });
    const origins = ['http://o1.test', 'http://o2.test', 'http://o3.test', 'http://o4.test'];
    for (const origin of origins) {
      frontier.offer(`${origin}/page`, 0, null);
      dispatch();
      answer(origin, rulesOf(4_000));
      const [served] = dispatch();
      frontier.release(served); // done: nothing queued or running for it any more
    }
    // 4 x 4,000 bytes read one after the other: the oldest idle ones made room for the next.
    expect(frontier.robots.bytes).toBeLessThanOrEqual(10_000 + 4_100);
    expect(frontier.robots.origins).toBeLessThan(4);
    expect(loads).toEqual(origins);
    frontier.offer('http://o1.test/again', 0, null);
    dispatch();
    expect(loads).toEqual([...origins, 'http://o1.test']); // dropped, so read again
    frontier.offer('http://o4.test/again', 0, null);
    expect(dispatch()).toEqual(['http://o4.test']); // kept: the most recent
  });

  it('never drops rules of an origin with pages queued or running; reads no more while over budget with nothing to drop', () => {
    const { frontier, loads, answer, dispatch } = setup({ maxRobotsBytes: 5_000, perHost: 1 });
    frontier.offer('http://busy.test/1', 0, null);
    frontier.offer('http://busy.test/2', 0, null);
    dispatch();
    answer('http://busy.test', rulesOf(6_000));
    expect(dispatch()).toEqual(['http://busy.test']); // one running, one queued (perHost 1)
    frontier.offer('http://next.test/1', 0, null);
    expect(dispatch()).toEqual([]);
    expect(loads).toEqual(['http://busy.test']); // over budget and busy.test cannot go: next.test waits
    frontier.release('http://busy.test');
    expect(dispatch()).toEqual(['http://busy.test']);
    frontier.release('http://busy.test');
    dispatch(); // busy.test is idle now: dropped, next.test read
    expect(loads).toEqual(['http://busy.test', 'http://next.test']);
    expect(frontier.robots).toEqual({ bytes: 0, origins: 0 });
  });

  it('limits robots.txt reads in flight', () => {
    const { frontier, loads, answer, dispatch } = setup({ maxRobotsLoads: 2 });
    for (let i = 0; i < 5; i++) frontier.offer(`http://h${i}.test/`, 0, null);
    dispatch();
    expect(loads).toHaveLength(2);
    answer(loads[0], rulesOf(500));
    dispatch();
    expect(loads).toHaveLength(3);
  });

  it('hands out the rules with each page, for the check before the fetch and for the worker', () => {
    const { frontier, answer, dispatch } = setup();
    frontier.offer('http://a.test/private/x', 0, null);
    dispatch();
    answer('http://a.test', rulesOf(1_000));
    const next = frontier.next(0);
    expect('rules' in next && isAllowed(next.rules, 'http://a.test/private/x')).toBe(false);
  });
});

describe('Frontier: links are considered in slices', () => {
  it('offers waiting links until the budget is spent (at least one per call), in page order', () => {
    const { frontier, job } = setup();
    frontier.offerLater(['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], 1, 'http://a.test/');
    frontier.offerLater(['http://a.test/4'], 2, 'http://a.test/1');
    expect(job.append()).toEqual([]);
    expect(frontier.drain(0)).toBe(true);
    expect(job.append()).toEqual(['http://a.test/1']);
    expect(frontier.drain(0)).toBe(true);
    expect(frontier.drain(1_000)).toBe(false);
    expect(job.append()).toEqual(['http://a.test/2', 'http://a.test/3', 'http://a.test/4']);
    expect(job.pages.map((page) => [page.depth, page.parent])).toEqual([
      [1, 'http://a.test/'],
      [1, 'http://a.test/'],
      [1, 'http://a.test/'],
      [2, 'http://a.test/1'],
    ]);
    expect(frontier.queued).toBe(4);
    expect(frontier.drain(0)).toBe(false);
  });
});

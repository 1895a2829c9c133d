import { describe, expect, it } from 'vitest';
import { Frontier, type FrontierLimits } from './frontier';
import { isAllowed, type RobotsRules, robotsRulesBytes } from './robots-rules';
import { ScopeFilter } from './scope';
import { UrlPatterns } from './url-patterns';

/** Rules of about `bytes` bytes that disallow /private/. */
const rulesOf = (bytes: number): RobotsRules => ({ allow: [], disallow: ['/private/', `/${'x'.repeat(Math.max(0, (bytes - 300) / 2))}`] });

function setup(limits: Partial<FrontierLimits> = {}) {
  const loads: string[] = [];
  const pendingLoads = new Map<string, (rules: RobotsRules) => void>();
  const frontier = new Frontier(
    new ScopeFilter(['http://a.test/'], { scope: 'any', include: new UrlPatterns([]), exclude: new UrlPatterns([]) }),
    { maxDepth: 5, maxPages: 1_000, perHost: 4, delayMs: 0, maxDelayMs: 60_000, maxRobotsBytes: 10_000, maxRobotsLoads: 8, ...limits },
    () => loads.length + pendingLoads.size + Math.random(), // task indexes are not looked at here
    (origin, set) => {
      loads.push(origin);
      pendingLoads.set(origin, set);
    },
  );
  const answer = (origin: string, rules: RobotsRules) => {
    pendingLoads.get(origin)!(rules);
    pendingLoads.delete(origin);
  };
  /** Dispatches everything that may start now; returns the origins served. */
  const dispatch = () => {
    const served: string[] = [];
    for (let next = frontier.next(0); 'index' in next; next = frontier.next(0)) served.push(next.host);
    return served;
  };
  return { frontier, loads, pendingLoads, answer, dispatch };
}

describe('Frontier: robots rules held under a memory budget', () => {
  it('reads robots.txt once per origin, only for origins with a page waiting, and serves them once read', () => {
    const { frontier, loads, answer, dispatch } = setup();
    frontier.offer('http://a.test/1', 0, null);
    frontier.offer('http://a.test/2', 0, null);
    frontier.offer('https://a.test/1', 0, null); // another origin: its own robots.txt
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
    const { frontier, answer } = setup();
    frontier.offer('http://a.test/private/x', 0, null);
    frontier.next(0);
    answer('http://a.test', rulesOf(1_000));
    const next = frontier.next(0);
    expect('rules' in next && isAllowed(next.rules, 'http://a.test/private/x')).toBe(false);
  });
});

describe('Frontier: links are considered in slices', () => {
  it('offers waiting links until the budget is spent (at least one per call), in page order', () => {
    const { frontier } = setup();
    frontier.offerLater(['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], 1, 'http://a.test/');
    frontier.offerLater(['http://a.test/4'], 2, 'http://a.test/1');
    expect(frontier.queued).toBe(0);
    expect(frontier.drain(0)).toBe(true);
    expect(frontier.queued).toBe(1);
    expect(frontier.drain(0)).toBe(true);
    expect(frontier.drain(1_000)).toBe(false);
    expect(frontier.queued).toBe(4);
    expect(frontier.drain(0)).toBe(false);
  });
});

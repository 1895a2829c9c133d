import { describe, expect, it } from 'vitest';
import { RobotsRulesCache } from './robots-cache';
import { ALLOW_ALL, disallowAll, type RobotsRules } from './robots-rules';

describe('RobotsRulesCache (a worker thread’s rules for redirect targets)', () => {
  const rules = (tag: string): RobotsRules => ({ allow: [], disallow: [`/${tag}`] });

  it('keys entries by owner and user agent as well as origin: tenants never share', async () => {
    const cache = new RobotsRulesCache(10, 60_000);
    let loads = 0;
    const load = (tag: string) => () => {
      loads++;
      return Promise.resolve(rules(tag));
    };
    expect(await cache.get('alice', 'bot', 'http://o.test', load('a'))).toEqual(rules('a'));
    expect(await cache.get('alice', 'bot', 'http://o.test', load('x'))).toEqual(rules('a'));
    expect(await cache.get('bob', 'bot', 'http://o.test', load('b'))).toEqual(rules('b'));
    expect(await cache.get('alice', 'other-bot', 'http://o.test', load('c'))).toEqual(rules('c'));
    expect(loads).toBe(3);
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const cache = new RobotsRulesCache(2, 60_000);
    const loaded: string[] = [];
    const get = (origin: string) =>
      cache.get('', 'bot', origin, () => {
        loaded.push(origin);
        return Promise.resolve(ALLOW_ALL);
      });
    await get('http://1');
    await get('http://2');
    await get('http://1'); // 1 is now the most recent
    await get('http://3'); // drops 2
    expect(cache.size).toBe(2);
    await get('http://1');
    await get('http://2');
    expect(loaded).toEqual(['http://1', 'http://2', 'http://3', 'http://2']);
  });

  it('renews entries after the TTL and forgets failed loads', async () => {
    const cache = new RobotsRulesCache(10, 1_000);
    let n = 0;
    const load = () => Promise.resolve(disallowAll(`load ${++n}`));
    expect((await cache.get('', 'bot', 'http://o', load, 0)).unreachable).toBe('load 1');
    expect((await cache.get('', 'bot', 'http://o', load, 999)).unreachable).toBe('load 1');
    expect((await cache.get('', 'bot', 'http://o', load, 1_000)).unreachable).toBe('load 2');
    await expect(cache.get('', 'bot', 'http://f', () => Promise.reject(new Error('cancelled')))).rejects.toThrow('cancelled');
    await new Promise((resolve) => setImmediate(resolve));
    expect((await cache.get('', 'bot', 'http://f', load)).unreachable).toBe('load 3');
  });
});

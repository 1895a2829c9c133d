import { describe, expect, it } from 'vitest';
import { QueryParamFilter, DEFAULT_IGNORED_PARAMS, PARAM_PATTERN } from './query-params';
import { extractLinks } from './extract-links';
import { hammingDistance, NearDuplicateIndex, Simhash } from './simhash';
import { SitemapStream } from './sitemap-parse';
import { LinkStream } from './stream-links';
import { DEFAULT_TRAP_OPTIONS, TrapGuards } from './trap-guards';

describe('ignoreQueryParams', () => {
  const filter = new QueryParamFilter(DEFAULT_IGNORED_PARAMS);
  it('drops trackers by name or glob, case-insensitively, keeping the rest in order and encoding', () => {
    expect(filter.strip('http://h/a?utm_source=x&id=1&FBCLID=2&q=a%20b')).toBe('http://h/a?id=1&q=a%20b');
    expect(filter.strip('http://h/a?gclid=1')).toBe('http://h/a');
    expect(filter.strip('http://h/a?utm=1')).toBe('http://h/a?utm=1');
    expect(new QueryParamFilter(['a*b*c']).matches('axxbyyc')).toBe(true);
    expect(new QueryParamFilter(['a*b*c']).matches('acb')).toBe(false);
    expect(new QueryParamFilter([]).strip('http://h/?utm_x=1')).toBe('http://h/?utm_x=1');
  });
  it('accepts only names with at most two stars', () => {
    expect(['utm_*', 'a*b*', 'x[y]', '_ga'].every((p) => PARAM_PATTERN.test(p))).toBe(true);
    expect(['*a*b*', 'a b', '', 'a'.repeat(65), 'a=b'].some((p) => PARAM_PATTERN.test(p))).toBe(false);
  });
});

describe('trap guards', () => {
  const guards = (options = {}) => new TrapGuards({ ...DEFAULT_TRAP_OPTIONS, ...options });
  it('stops long URLs and repeated segments, and budgets calendars and prefixes', () => {
    const g = guards({ maxUrlLength: 30, maxSegmentRepeats: 2, maxCalendarPages: 2, maxPagesPerPrefix: 3 });
    expect(g.check(`http://h/${'x'.repeat(30)}`)).toBe('urlTooLong');
    expect(g.check('http://h/a/b/a/b/a')).toBe('repeatedSegments');
    expect([g.check('http://h/c?month=1'), g.check('http://h/c?month=2'), g.check('http://h/c?month=3')]).toEqual([undefined, undefined, 'calendar']);
    expect([g.check('http://h/2024/01/'), g.check('http://h/2024/02/'), g.check('http://h/2024/03/')]).toEqual([undefined, undefined, 'calendar']);
    expect([g.check('http://h/p/1'), g.check('http://h/p/2'), g.check('http://h/p/3'), g.check('http://h/p/4')]).toEqual([undefined, undefined, undefined, 'prefixBudget']);
    expect(g.skipped).toEqual({ urlTooLong: 1, repeatedSegments: 1, prefixBudget: 1, calendar: 2, sessionId: 0 });
  });
  it('removes session ids from paths and queries', () => {
    const g = guards();
    expect(g.clean('http://h/a;jsessionid=ABC?x=1&PHPSESSID=9&sid=2')).toBe('http://h/a?x=1');
    expect(guards({ sessionIds: false }).clean('http://h/a;jsessionid=1')).toBe('http://h/a;jsessionid=1');
  });
  it('blog posts under dates are separate shapes, not one calendar', () => {
    const g = guards({ maxCalendarPages: 1 });
    expect([g.check('http://h/2024/01/02/one'), g.check('http://h/2024/01/03/two')]).toEqual([undefined, undefined]);
  });
});

describe('sitemap parsing', () => {
  const parse = (xml: string, max = 100) => {
    const stream = new SitemapStream('http://h/sitemap.xml', max);
    stream.write(xml);
    stream.end();
    return { type: stream.type, urls: stream.urls, full: stream.full };
  };
  it('reads urlsets and indexes, namespaced or not, only their <loc>s', () => {
    expect(parse('<urlset><url><loc> http://h/a </loc><lastmod>2024</lastmod></url><url><loc>/b</loc></url></urlset>')).toEqual({ type: 'urlset', urls: ['http://h/a', 'http://h/b'], full: false });
    expect(parse('<sm:sitemapindex><sm:sitemap><sm:loc>http://h/s1.xml.gz</sm:loc></sm:sitemap></sm:sitemapindex>').urls).toEqual(['http://h/s1.xml.gz']);
    expect(parse('<html><loc>http://h/x</loc></html>')).toEqual({ type: undefined, urls: [], full: false });
  });
  it('expands no entity a DOCTYPE declares, and stops at the URL cap', () => {
    const laughs = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><urlset><url><loc>http://h/&b;&amp;x</loc></url></urlset>';
    expect(parse(laughs).urls).toEqual(['http://h/&b;&x']);
    const many = `<urlset>${Array.from({ length: 10 }, (_, i) => `<url><loc>http://h/${i}</loc></url>`).join('')}</urlset>`;
    expect(parse(many, 3)).toMatchObject({ urls: ['http://h/0', 'http://h/1', 'http://h/2'], full: true });
  });
});

describe('simhash', () => {
  const text = 'The quick brown fox jumps over the lazy dog while the careful crawler reads every page of the site once and keeps what it finds in order. '.repeat(8);
  const digest = (...pieces: string[]) => {
    const hash = new Simhash();
    for (const piece of pieces) hash.add(piece);
    return hash.digest();
  };
  it('is the same however the text is split, and close for text that differs in a word', () => {
    const whole = digest(text);
    expect(whole).toMatch(/^[0-9a-f]{16}$/);
    expect(digest(text.slice(0, 101), text.slice(101, 102), text.slice(102))).toBe(whole);
    expect(hammingDistance(whole!, digest(`${text} apples`)!)).toBeLessThanOrEqual(3);
    expect(hammingDistance(whole!, digest('Entirely different words about sitemaps, gzip bombs and calendars appear here. '.repeat(8))!)).toBeGreaterThan(10);
    expect(digest('too few words')).toBeUndefined();
  });
  it('both parsers give a page the same fingerprint and canonical', () => {
    const html = `<html><head><link rel="canonical" href="/c?x=1"><script>var ignored = "words words words"</script></head><body><p>${text}</p><p>x&amp;y <b>bo</b>ld</p></body></html>`;
    const dom = extractLinks(html, 'http://h/p', { maxLinks: 100, budgetMs: 1000, fingerprint: true });
    const stream = new LinkStream('http://h/p', { maxLinks: 100, budgetMs: 1000, fingerprint: true });
    for (let at = 0; at < html.length; at += 37) stream.write(html.slice(at, at + 37));
    const streamed = stream.end();
    expect(dom.canonical).toBe('http://h/c?x=1');
    expect(dom.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(streamed).toEqual(dom);
  });
  it('finds earlier fingerprints within the distance through bands, never farther ones', () => {
    const index = new NearDuplicateIndex(3);
    index.add('0000000000000000', 'a');
    expect(index.find('0000000000000007')).toBe('a');
    expect(index.find('000000000000000f')).toBeUndefined();
    expect(index.find('1000100010000000')).toBe('a');
    expect(new NearDuplicateIndex(0).find('0000000000000000')).toBeUndefined();
  });
});

describe('simhash on hostile text', () => {
  it('takes linear time on one endless word fed in pieces', () => {
    const hash = new Simhash();
    const piece = 'a'.repeat(64 * 1024);
    const started = performance.now();
    for (let i = 0; i < 16; i++) hash.add(piece);
    hash.digest();
    expect(performance.now() - started, 'ms for 1 MiB').toBeLessThan(500);
  });
});

describe('simhash on many small text nodes', () => {
  it('splits words at elements and stays fast on 1 MiB of <p>filler</p>', () => {
    const html = `<html><body>${'<p>filler</p>'.repeat(80_000)}</body></html>`;
    const started = performance.now();
    const stream = new LinkStream('http://h/p', { maxLinks: 100, budgetMs: 10_000, fingerprint: true });
    for (let at = 0; at < html.length; at += 64 * 1024) stream.write(html.slice(at, at + 64 * 1024));
    const streamed = stream.end();
    expect(performance.now() - started, 'ms').toBeLessThan(1_500);
    expect(streamed.fingerprint).toBe(extractLinks(html, 'http://h/p', { maxLinks: 100, budgetMs: 10_000, fingerprint: true }).fingerprint);
    expect(streamed.truncated).toBe(false);
  });
});

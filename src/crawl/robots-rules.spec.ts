import { describe, expect, it } from 'vitest';
import { isAllowed, matchesPattern, normalizePattern, parseRobotsTxt, productToken, type RobotsRules, robotsRulesBytes } from './robots-rules';

const UA = 'parallel-compute-crawler/0.1 (+https://example.invalid/bot)';
const allowed = (text: string, path: string, ua = UA) => isAllowed(parseRobotsTxt(text, ua), `http://h.test${path}`);

describe('matchesPattern', () => {
  it.each([
    ['/private/', '/private/x', true],
    ['/private/', '/privat', false],
    ['/private', '/private-data', true],
    ['/*.pdf', '/a/b.pdf', true],
    ['/*.pdf', '/a/b.pdf?x=1', true],
    ['/*.pdf$', '/a/b.pdf?x=1', false],
    ['/*.pdf$', '/a/b.pdf', true],
    ['/a$', '/a', true],
    ['/a$', '/ab', false],
    ['/a$b', '/a$b', true], // `$` inside a pattern is literal
    ['$', '/', false],
    ['*', '/anything', true],
    ['/**a***b*', '/xxaYYb', true],
    ['/*a*b$', '/ab/ba', false],
    ['/*a*b$', '/ab/bab', true],
    ['/*ab*ab$', '/ab', false], // the pieces may not overlap
    ['/*ab*ab$', '/abab', true],
    ['/x*$', '/x', true],
    ['/x*$', '/y', false],
    ['/fish*', '/fish.html', true],
    ['/*/x', '//x', true],
  ])('%s on %s -> %s', (pattern, path, expected) => {
    expect(matchesPattern(pattern, path)).toBe(expected);
  });

  it('stays linear on the hostile wildcard rules that took seconds with robots-parser', () => {
    const rule = `/${'*a'.repeat(200)}*b`;
    const path = `/${'a'.repeat(2_000)}`;
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) expect(matchesPattern(rule, path)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('parseRobotsTxt: groups (RFC 9309 2.2.1)', () => {
  const text = [
    'User-agent: other-bot',
    'Disallow: /',
    '',
    'User-agent: *',
    'Disallow: /star-only/',
    'Crawl-delay: 3',
    '',
    'User-agent: Parallel-Compute-Crawler/2.0',
    'Disallow: /mine/',
    'Sitemap: https://h.test/sitemap.xml',
    'Crawl-delay: 1.5',
    'User-agent: someone-else',
    'Disallow: /theirs/',
    '',
    'user-agent: PARALLEL-COMPUTE-CRAWLER',
    'disallow: /mine-too/ # a comment',
  ].join('\n');

  it('uses only the groups naming our product token, case-insensitively, merged', () => {
    const rules = parseRobotsTxt(text, UA);
    expect(rules).toEqual({ allow: [], disallow: ['/mine/', '/mine-too/'], crawlDelay: 1.5, sitemaps: ['https://h.test/sitemap.xml'] });
  });

  it('falls back to the * groups, merged, when none names us; nothing when there is neither', () => {
    expect(parseRobotsTxt(text, 'unknown-bot/1.0')).toEqual({ allow: [], disallow: ['/star-only/'], crawlDelay: 3, sitemaps: ['https://h.test/sitemap.xml'] });
    expect(parseRobotsTxt('User-agent: a\nDisallow: /\n', 'b')).toEqual({ allow: [], disallow: [] });
  });

  it('combines consecutive User-agent lines into one group; rules before any are ignored', () => {
    const shared = 'Disallow: /orphan\nUser-agent: x\n\nUser-agent: parallel-compute-crawler\nDisallow: /shared\nUser-agent: y\nDisallow: /y';
    expect(parseRobotsTxt(shared, UA).disallow).toEqual(['/shared']);
    expect(parseRobotsTxt(shared, 'x').disallow).toEqual(['/shared']);
  });

  it('a group naming us wins even with no rules: an empty Disallow allows everything', () => {
    const text = 'User-agent: *\nDisallow: /\n\nUser-agent: parallel-compute-crawler\nDisallow:\n';
    expect(allowed(text, '/anything')).toBe(true);
    expect(allowed(text, '/anything', 'other')).toBe(false);
  });

  it('reads CRLF, CR, a BOM and odd spacing', () => {
    expect(parseRobotsTxt('\uFEFFUser-agent: *\r\nDisallow:   /a  \rAllow:/a/b\r\n', 'x')).toEqual({ allow: ['/a/b'], disallow: ['/a'] });
  });

  it('takes the product token from a user agent', () => {
    expect(productToken(UA)).toBe('parallel-compute-crawler');
    expect(productToken('Mozilla/5.0 (compatible; X)')).toBe('mozilla');
    expect(productToken('My_Bot')).toBe('my_bot');
  });
});

describe('isAllowed: precedence and encoding (RFC 9309 2.2.2)', () => {
  it('longest match wins; Allow wins a tie', () => {
    const text = 'User-agent: *\nDisallow: /shop\nAllow: /shop/public\nDisallow: /shop/public/secret\nAllow: /tie\nDisallow: /tie\nDisallow: /*.php$\nAllow: /index.php$';
    expect(allowed(text, '/shop/cart')).toBe(false);
    expect(allowed(text, '/shop/public/item')).toBe(true);
    expect(allowed(text, '/shop/public/secret/x')).toBe(false);
    expect(allowed(text, '/tie/x')).toBe(true);
    expect(allowed(text, '/a.php')).toBe(false);
    expect(allowed(text, '/a.php?x')).toBe(true);
    expect(allowed(text, '/index.php')).toBe(true);
    expect(allowed(text, '/other')).toBe(true);
  });

  it('includes the query in the path', () => {
    expect(allowed('User-agent: *\nDisallow: /*?sessionid=', '/page?sessionid=1')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /*?sessionid=', '/page?x=1')).toBe(true);
  });

  it('normalises percent-encoding on both sides, as URLs are normalised', () => {
    expect(normalizePattern('/café')).toBe('/caf%C3%A9');
    expect(normalizePattern('/%7euser/%2f%e2')).toBe('/~user/%2F%E2');
    expect(normalizePattern('/100%')).toBe('/100%');
    expect(normalizePattern('/a%2A*$')).toBe('/a%2A*$');
    expect(allowed('User-agent: *\nDisallow: /café', '/caf%c3%a9/x')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /%7Euser', '/~user/')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /~user', '/%7euser/')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /a%2fb', '/a%2Fb')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /a%2fb', '/a/b')).toBe(true);
  });

  it('disallows everything when robots.txt was unreachable', () => {
    const rules: RobotsRules = { allow: ['/'], disallow: [], unreachable: 'HTTP 503' };
    expect(isAllowed(rules, 'http://h.test/')).toBe(false);
  });
});

describe('parseRobotsTxt: caps', () => {
  it('keeps the first rules in file order up to the rule cap, and says it cut', () => {
    const text = `User-agent: *\n${Array.from({ length: 10 }, (_, i) => `Disallow: /d${i}\nAllow: /a${i}`).join('\n')}`;
    const rules = parseRobotsTxt(text, UA, { maxRules: 5, maxPatternChars: 1_000 });
    expect(rules).toEqual({ allow: ['/a0', '/a1'], disallow: ['/d0', '/d1', '/d2'], truncated: true });
    expect(isAllowed(rules, 'http://h.test/d3')).toBe(true); // dropped: no longer obeyed
  });

  it('stops at the pattern-character cap', () => {
    const text = 'User-agent: *\nDisallow: /aaaa\nDisallow: /bbbbbbbbbb\nDisallow: /c';
    expect(parseRobotsTxt(text, UA, { maxRules: 100, maxPatternChars: 7 })).toEqual({ allow: [], disallow: ['/aaaa'], truncated: true });
  });

  it('bounds a 500 KB hostile file: parsed once, checks stay fast, memory small', () => {
    const rule = `Disallow: /${'*a'.repeat(40)}*b\n`;
    const text = `User-agent: *\n${rule.repeat(Math.ceil(500_000 / rule.length))}`;
    let started = performance.now();
    const rules = parseRobotsTxt(text, UA);
    const parseMs = performance.now() - started;
    expect(rules.truncated).toBe(true);
    expect(rules.disallow.length).toBeLessThanOrEqual(1_000);
    expect(robotsRulesBytes(rules)).toBeLessThan(300 * 1024);
    const url = `http://h.test/${'a'.repeat(2_000)}`;
    started = performance.now();
    for (let i = 0; i < 10; i++) expect(isAllowed(rules, url)).toBe(true);
    const checkMs = (performance.now() - started) / 10;
    expect({ parseMs: parseMs < 500, checkMs: checkMs < 50 }).toEqual({ parseMs: true, checkMs: true });
  });
});

import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { isAllowedAddress, parseCidrs } from './address-policy';
import { decodeHtml } from './decode-html';
import { extractLinks } from './extract-links';
import { ScopeFilter } from './scope';
import { normalizeUrl } from './url-normalize';
import { UrlPatterns } from './url-patterns';

describe('normalizeUrl', () => {
  it.each([
    ['HTTP://Example.COM:80/a/../b?x=1#frag', undefined, 'http://example.com/b?x=1'],
    ['https://example.com:443/', undefined, 'https://example.com/'],
    ['/p/%7euser/%2f%41?q=%e2%82%ac', 'http://h/', 'http://h/p/~user/%2FA?q=%E2%82%AC'],
    ['http://bücher.example/', undefined, 'http://xn--bcher-kva.example/'],
    ['  rel/page.html  ', 'http://h/dir/index.html', 'http://h/dir/rel/page.html'],
    ['#only-fragment', 'http://h/page', 'http://h/page'],
  ])('%s -> %s', (href, base, expected) => {
    expect(normalizeUrl(href, base)).toBe(expected);
  });

  it.each(['javascript:alert(1)', 'mailto:a@b.c', 'tel:123', 'data:text/html,x', 'ftp://h/x', 'file:///etc/passwd', 'http://u:p@h/', 'http://['])('skips %s', (href) => {
    expect(normalizeUrl(href, 'http://h/')).toBeUndefined();
  });

  it('skips over-long URLs', () => {
    expect(normalizeUrl(`http://h/${'a'.repeat(3000)}`)).toBeUndefined();
  });
});

describe('isAllowedAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '[::ffff:10.0.0.1]',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '::127.0.0.1',
    '::7f00:1',
    '[::10.0.0.1]',
    '::169.254.169.254',
    '192.0.2.1',
    'not-an-ip',
  ])('blocks %s', (address) => expect(isAllowedAddress(address)).toBe(false));

  it.each(['8.8.8.8', '2606:4700::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '::8.8.8.8'])('allows %s', (address) => {
    expect(isAllowedAddress(address)).toBe(true);
  });

  // RFC 8215's local-use NAT64 prefix: the IPv4 address sits around the u octet (bits 64-71) in a
  // /48, /56 or /64 and in the last 32 bits of a /96; the address must be allowed in every layout.
  it.each([
    ['64:ff9b:1:a9fe:a9:fe00:808:808', '169.254.169.254 as a /48 (the last 32 bits say 8.8.8.8)'],
    ['64:ff9b:1:7f00:1:0:808:808', '127.0.0.1 as a /48'],
    ['64:ff9b:1:808:a:0:808:808', '10.0.0.8 as a /64'],
    ['64:ff9b:1:808:8:808:a9fe:a9fe', '169.254.169.254 as a /96 (8.8.8.8 as a /48)'],
    ['64:ff9b:1::a9fe:a9fe', '169.254.169.254 as a /96, 0.0.0.0 as a /48'],
    ['64:ff9b:1:808:8:800::', '0.0.0.0 as a /96 (8.8.8.8 as a /48)'],
  ])('blocks %s (%s)', (address) => expect(isAllowedAddress(address)).toBe(false));

  it('allows a local-use NAT64 address whose every layout is global, and judges the well-known prefix by its last 32 bits only', () => {
    expect(isAllowedAddress('64:ff9b:1:808:8:808:808:808')).toBe(true);
    expect(isAllowedAddress('64:ff9b::a9fe:a9fe')).toBe(false);
    expect(isAllowedAddress('64:ff9b::808:808')).toBe(true);
    // CRAWL_ALLOW_TARGETS applies to the embedded address.
    expect(isAllowedAddress('64:ff9b::a9fe:a9fe', parseCidrs(['169.254.0.0/16']))).toBe(true);
  });

  it('opens exactly the configured ranges', () => {
    const allow = parseCidrs(['127.0.0.2/32', 'fd00::/8']);
    expect(isAllowedAddress('127.0.0.2', allow)).toBe(true);
    expect(isAllowedAddress('127.0.0.1', allow)).toBe(false);
    expect(isAllowedAddress('fd12::1', allow)).toBe(true);
    expect(isAllowedAddress('fc00::1', allow)).toBe(false);
  });
});

describe('ScopeFilter', () => {
  const seeds = ['https://docs.example.co.uk/start'];
  const allows = (scope: 'same-origin' | 'same-host' | 'same-domain' | 'any', url: string, include: string[] = [], exclude: string[] = []) =>
    new ScopeFilter(seeds, { scope, include: new UrlPatterns(include), exclude: new UrlPatterns(exclude) }).allows(url);

  it('tells origin, host and registrable domain apart (public suffix list)', () => {
    expect(allows('same-origin', 'https://docs.example.co.uk/x')).toBe(true);
    expect(allows('same-origin', 'http://docs.example.co.uk/x')).toBe(false);
    expect(allows('same-host', 'http://docs.example.co.uk/x')).toBe(true);
    expect(allows('same-host', 'https://www.example.co.uk/x')).toBe(false);
    expect(allows('same-domain', 'https://www.example.co.uk/x')).toBe(true);
    expect(allows('same-domain', 'https://other.co.uk/x')).toBe(false);
    expect(allows('any', 'https://elsewhere.org/')).toBe(true);
  });

  it('applies include and exclude patterns', () => {
    expect(allows('any', 'https://docs.example.co.uk/guide/a', ['\\/guide\\/'])).toBe(true);
    expect(allows('any', 'https://docs.example.co.uk/blog/a', ['/guide/'])).toBe(false);
    expect(allows('any', 'https://docs.example.co.uk/guide/a.pdf', ['/guide/'], ['\\.pdf$'])).toBe(false);
    // The full URL, not the path: a pattern may name the scheme and host.
    expect(allows('any', 'https://docs.example.co.uk/x', ['^https://docs\\.'])).toBe(true);
    expect(allows('any', 'http://docs.example.co.uk/x', ['^https://docs\\.'])).toBe(false);
  });
});

describe('extractLinks', () => {
  const html = `<html><head><title> A &amp; B </title><base href="/docs/"></head><body>
    <a href="guide.html#top">g</a><a href="guide.html">dup</a><A HREF="/x?a=1&amp;b=2">x</A>
    <map><area href="https://other.test/area"></map><a href="mailto:x@y">m</a><a>no href</a>
    <a rel="external nofollow" href="https://other.test/nf">nf</a></body></html>`;

  it('resolves against <base>, drops fragments and duplicates, keeps area and nofollow', () => {
    const page = extractLinks(html, 'http://h.test/index.html', { maxLinks: 100, budgetMs: 1_000 });
    expect(page.title).toBe('A & B');
    expect(page.links).toEqual(['http://h.test/docs/guide.html', 'http://h.test/x?a=1&b=2', 'https://other.test/area', 'https://other.test/nf']);
    expect(page.nofollow).toEqual(['https://other.test/nf']);
    expect(page.truncated).toBe(false);
  });

  it('caps links per page: the first maxLinks distinct links, truncated by maxLinks', () => {
    // 100,000 links (3.5 MB): past CRAWL_DOM_MAX_BYTES, so the crawler would stream it; the cap is the same rule.
    const big = `<ul>${Array.from({ length: 100_000 }, (_, i) => `<li><a href="/p/${i}">${i}</a></li>`).join('')}</ul>`;
    const page = extractLinks(big, 'http://h.test/', { maxLinks: 5_000, budgetMs: 60_000 });
    expect(page.links).toEqual(Array.from({ length: 5_000 }, (_, i) => `http://h.test/p/${i}`));
    expect([page.truncated, page.truncatedBy]).toEqual([true, 'maxLinks']);
  });
});

describe('decodeHtml', () => {
  it('uses the Content-Type charset, then <meta charset>, then UTF-8', () => {
    const cp1252 = iconv.encode('<title>Café – “quoted” €</title>', 'windows-1252');
    expect(decodeHtml(cp1252, 'text/html; charset=windows-1252')).toContain('Café – “quoted” €');
    const korean = Buffer.concat([Buffer.from('<meta charset="euc-kr"><title>'), iconv.encode('한국어', 'euc-kr'), Buffer.from('</title>')]);
    expect(decodeHtml(korean, 'text/html')).toContain('한국어');
    expect(decodeHtml(Buffer.from('<p>naïve</p>'), null)).toBe('<p>naïve</p>');
  });
});

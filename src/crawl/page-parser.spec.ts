import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng';
import { extractLinks } from './extract-links';
import type { ExtractedPage } from './link-collector';
import { linksOnly, PageParser } from './page-parser';
import { LinkStream } from './stream-links';

const URL0 = 'http://h.test/dir/index.html';
/** Pages of Debian's documentation packages (see test/fixtures/docs). */
const DOCS = join(__dirname, '../../test/fixtures/docs');
const OPTIONS = { maxLinks: 5_000, budgetMs: 60_000 };
const anchors = (count: number, href = (i: number) => `/p/${i}`) => Array.from({ length: count }, (_, i) => `<li><a href="${href(i)}">${i}</a></li>`).join('\n');

/** Pages that exercise every rule the two paths must agree on. */
const PAGES: Record<string, string> = {
  basics: `<html><head><title> A &amp; B </title><base href="/docs/"></head><body>
    <a href="guide.html#top">g</a><a href="guide.html">dup</a><A HREF="/x?a=1&amp;b=2">x</A>
    <map><area href="https://other.test/area"></map><a href="mailto:x@y">m</a><a>no href</a>
    <a rel="external nofollow" href="https://other.test/nf">nf</a></body></html>`,
  'title entities, whitespace, a second title': '<title>\n  Caf&eacute; &amp;\t&#8220;q&#8221; </title><title>second</title><a href=a>a</a>',
  'upper case, unquoted and unclosed': `<HTML><HEAD><TITLE>Up</TITLE><BODY><A HREF=/x>x<A href='y' REL="NOFOLLOW">y<AREA href=z><a href = " spaced ">s<a href>empty`,
  'markup hidden in script, style, comments, textarea': `<script>var s = "<a href='/fake'>";</script><style>/* <a href="/nope"> */</style>
    <!-- <a href="/commented"> --><textarea><a href="/ta"></textarea><a href="/real">r</a>`,
  'svg title first': '<svg><title>SVG <b>title</b></title><a href="/svg-link">s</a></svg><title>Real</title>',
  'base: entities, only the first counts, later links only': '<a href="early">e</a><base href="/a/?x=1&amp;y=2"><base href="/b/"><a href="late">l</a>',
  'cdata and processing instructions': `<![CDATA[<a href="/cdata">]]><?php echo '<a href="/php">'; ?><a href="/after">a</a>`,
  'cut in the middle of a tag': '<title>T</title><a href="/one">1</a><a href="/two"',
  'title never closed': '<title>Never closed <a href="/x">x</a>',
  'entities in href': '<a href="/q?a=1&amp;b=2&lt;">q</a><a href="&#x2F;hex">h</a><a href="caf&eacute;">c</a>',
  'skipped schemes and credentials': '<a href="javascript:void(0)">j</a><a href="http://u:p@h.test/">c</a><a href="ftp://h.test/">f</a><a href="//other.test/p">o</a>',
  'links past the cap, duplicates included': `<title>Many</title><ul>${anchors(12_000, (i) => `/p/${i % 7_000}`)}</ul><title>late</title>`,
  'exactly the cap': anchors(5_000),
};

/** The streaming path, fed `size` characters at a time. */
function streamed(html: string, size: number, options = OPTIONS): ExtractedPage {
  const stream = new LinkStream(URL0, options);
  for (let offset = 0; offset < html.length; offset += size) stream.write(html.slice(offset, offset + size));
  return stream.end();
}

/** The whole path from bytes: `domMaxBytes` 0 streams everything, Infinity never streams. */
async function parsed(bytes: Buffer, domMaxBytes: number, chunkSizes: () => number, contentType: string | null = 'text/html', options = OPTIONS): Promise<ExtractedPage> {
  const parser = new PageParser(URL0, contentType, { ...options, domMaxBytes });
  for (let offset = 0; offset < bytes.length; ) {
    const size = chunkSizes();
    if (!(await parser.write(bytes.subarray(offset, offset + size)))) break;
    offset += size;
  }
  return parser.finish();
}

describe('the DOM path and the streaming path give the same result', () => {
  it.each(Object.keys(PAGES))('%s', (name) => {
    const html = PAGES[name];
    const dom = extractLinks(html, URL0, OPTIONS);
    const sizes = html.length > 10_000 ? [4_096, 65_536, html.length] : [1, 2, 7, 100, html.length];
    for (const size of sizes) expect({ size, ...streamed(html, size) }).toEqual({ size, ...dom });
  });

  it('on real documentation pages: a links-only page (no DOM) finds what the DOM walk finds', () => {
    for (const name of readdirSync(DOCS)) {
      const html = readFileSync(join(DOCS, name), 'utf8');
      const dom = extractLinks(html, URL0, { ...OPTIONS, fingerprint: true });
      expect(dom.links.length, name).toBeGreaterThan(5);
      expect(linksOnly(html, URL0, { ...OPTIONS, fingerprint: true }), name).toEqual(dom);
    }
  });

  it('pins the rules themselves on a few pages', () => {
    const result = (name: string) => extractLinks(PAGES[name], URL0, OPTIONS);
    expect(result('basics')).toEqual({
      title: 'A & B',
      links: ['http://h.test/docs/guide.html', 'http://h.test/x?a=1&b=2', 'https://other.test/area', 'https://other.test/nf'],
      nofollow: ['https://other.test/nf'],
      truncated: false,
    });
    expect(result('title entities, whitespace, a second title').title).toBe('Café & “q”');
    expect(result('upper case, unquoted and unclosed')).toMatchObject({
      title: 'Up',
      links: ['http://h.test/x', 'http://h.test/dir/y', 'http://h.test/dir/z', 'http://h.test/dir/spaced', URL0],
      nofollow: ['http://h.test/dir/y'],
    });
    expect(result('markup hidden in script, style, comments, textarea').links).toEqual(['http://h.test/real']);
    expect(result('base: entities, only the first counts, later links only').links).toEqual(['http://h.test/dir/early', 'http://h.test/a/late']);
    expect(result('cut in the middle of a tag')).toMatchObject({ title: 'T', links: ['http://h.test/one'] });
    expect(result('title never closed')).toMatchObject({ title: 'Never closed <a href="/x">x</a>', links: [] });
    expect(result('skipped schemes and credentials').links).toEqual(['http://other.test/p']);
    const many = result('links past the cap, duplicates included');
    expect(many).toMatchObject({ title: 'Many', truncated: true, truncatedBy: 'maxLinks' });
    expect(many.links).toEqual(Array.from({ length: 5_000 }, (_, i) => `http://h.test/p/${i}`));
    expect(result('exactly the cap')).toMatchObject({ truncated: false });
    expect(result('exactly the cap').links).toHaveLength(5_000);
  });

  it('from bytes split anywhere, multi-byte characters across chunk boundaries included', async () => {
    const html = `<title>Ça coûte 10 € — “ok”</title>${anchors(300, (i) => `/été/${i}?q=日本`)}<a href="/ünï">u</a>`;
    const bytes = Buffer.from(html);
    const dom = await parsed(bytes, Infinity, () => bytes.length);
    expect(dom.title).toBe('Ça coûte 10 € — “ok”');
    expect(dom.links.at(-1)).toBe('http://h.test/%C3%BCn%C3%AF');
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      expect(await parsed(bytes, 0, () => 1 + Math.floor(random() * 50))).toEqual(dom);
    }
  });

  it('decodes the declared charset, else the <meta> one, when streaming too', async () => {
    const padding = `<p>${'x'.repeat(3_000)}</p>`;
    const cp1252 = iconv.encode(`<title>Café – “quoted” €</title>${padding}<a href="/caf\u00e9">c</a>`, 'windows-1252');
    const korean = Buffer.concat([Buffer.from('<meta charset="euc-kr"><title>'), iconv.encode('한국어 페이지', 'euc-kr'), Buffer.from(`</title>${padding}`)]);
    for (const domMaxBytes of [Infinity, 1_024]) {
      const western = await parsed(cp1252, domMaxBytes, () => 100, 'text/html; charset=windows-1252');
      expect(western).toMatchObject({ title: 'Café – “quoted” €', links: ['http://h.test/caf%C3%A9'] });
      expect((await parsed(korean, domMaxBytes, () => 100)).title).toBe('한국어 페이지');
    }
  });
});

describe('cuts', () => {
  it('a body cut at maxBytes says so, unless the cap had cut the list already', async () => {
    for (const domMaxBytes of [Infinity, 0]) {
      const parser = new PageParser(URL0, 'text/html', { ...OPTIONS, domMaxBytes });
      await parser.write(Buffer.from('<title>Cut</title><a href="/a">a</a><a href="/b'));
      expect(parser.finish('maxBytes')).toEqual({ title: 'Cut', links: ['http://h.test/a'], nofollow: [], truncated: true, truncatedBy: 'maxBytes' });
      const capped = new PageParser(URL0, 'text/html', { ...OPTIONS, maxLinks: 1, domMaxBytes });
      await capped.write(Buffer.from('<a href="/a">a</a><a href="/b">b</a>'));
      expect(capped.finish('maxBytes')).toMatchObject({ links: ['http://h.test/a'], truncatedBy: 'maxLinks' });
    }
  });

  it('the streaming parser asks for no more input once the cap is reached', async () => {
    const parser = new PageParser(URL0, 'text/html', { ...OPTIONS, maxLinks: 10, domMaxBytes: 0 });
    expect(await parser.write(Buffer.from(anchors(10)))).toBe(true);
    expect(await parser.write(Buffer.from(anchors(1, () => '/one-more')))).toBe(false);
    expect(parser.finish()).toMatchObject({ truncated: true, truncatedBy: 'maxLinks' });
  });

  it('the time budget cuts either path, keeping the links found until then', () => {
    const html = `<ul>${anchors(100_000)}</ul>`;
    const all = Array.from({ length: 100_000 }, (_, i) => `http://h.test/p/${i}`);
    const dom = extractLinks(html, URL0, { maxLinks: 1_000_000, budgetMs: 1 });
    const stream = streamed(html, 65_536, { maxLinks: 1_000_000, budgetMs: 1 });
    for (const page of [dom, stream]) {
      expect(page).toMatchObject({ truncated: true, truncatedBy: 'parseBudget' });
      expect(page.links.length).toBeLessThan(all.length);
      expect(page.links).toEqual(all.slice(0, page.links.length));
    }
  });
});

describe('a big page', () => {
  it('is parsed without holding the thread: the event loop never waits 100 ms', async () => {
    const block = Buffer.from(`<div>${anchors(20, (i) => `/big/${i}`)}<p>${'filler '.repeat(4_000)}</p></div>`);
    const chunk = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / block.length) }, () => block));
    const parser = new PageParser(URL0, 'text/html', { ...OPTIONS, domMaxBytes: 1 << 20 });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let turns = 0;
    let parsing = true;
    const turn = () => {
      turns++;
      if (parsing) setImmediate(turn);
    };
    delay.enable();
    setImmediate(turn);
    // 24 MiB, handed over 1 MiB at a time with no pause in between: only the parser's own yields
    // let the event loop turn.
    for (let i = 0; i < 24; i++) expect(await parser.write(chunk)).toBe(true);
    const page = parser.finish();
    parsing = false;
    delay.disable();
    expect(page).toMatchObject({ truncated: false, links: Array.from({ length: 20 }, (_, i) => `http://h.test/big/${i}`) });
    // A turn per 64 KiB piece parsed (384 of them), give or take.
    expect(turns).toBeGreaterThan(300);
    expect(delay.max / 1e6, 'longest event-loop stall (ms)').toBeLessThan(100);
  });
});

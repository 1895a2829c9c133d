import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from '../extract-links';
import { PageParser } from '../page-parser';
import type { ContentRequest } from './content-options';
import { type PageContent, pageContent } from './page-content';
import { selectorError } from './select-fields';

const DOCS = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'docs');
/** Underscore.js's documentation page as Debian ships it (libjs-underscore, MIT): a sidebar of links, then headings, lists, code. */
const UNDERSCORE = readFileSync(join(DOCS, 'underscore.html'), 'utf8');
/** A page of libffi's Texinfo manual (libffi8, MIT): a navigation header, a section, definitions, code. */
const LIBFFI = readFileSync(join(DOCS, 'libffi-the-basics.html'), 'utf8');
const PAGE = 'https://docs.example/underscore/index.html';

const request = (over: Partial<ContentRequest> = {}): ContentRequest => ({ formats: ['markdown'], onlyMainContent: false, select: {}, maxChars: 1_000_000, ...over });
const convert = (html: string, over: Partial<ContentRequest> = {}, deadline = Number.POSITIVE_INFINITY): PageContent => pageContent(parseDocument(html), PAGE, request(over), deadline);

describe('markdown of a real documentation page', () => {
  const whole = convert(UNDERSCORE, { formats: ['markdown', 'text', 'html'] });
  const main = convert(UNDERSCORE, { formats: ['markdown', 'text', 'html'], onlyMainContent: true });

  it('keeps headings, lists, code blocks and links (absolute)', () => {
    const md = whole.markdown!;
    expect(md).toMatch(/^## Package Installation$/m);
    expect(md).toMatch(/^## Collection Functions \(Arrays or Objects\)$/m);
    expect(md).toMatch(/^\* \[?\S/m); // list items
    expect(md).toContain('```\n_.each([1, 2, 3], alert);\n=> alerts each number in turn...');
    expect(md).toContain('[GitHub Repository](https://github.com/jashkenas/underscore)');
    expect(md).toMatch(/\]\(https:\/\/docs\.example\/underscore\/docs\/underscore-esm\.html\)/); // a relative link, resolved
    expect(md).not.toMatch(/getElementById|function_filter/); // an inline script, an <input>
    expect(md).toContain('[UMD (Development)](https://docs.example/underscore/underscore-umd.js)'); // in a table
    expect(whole.cut).toBeUndefined();
  });

  it('onlyMainContent drops the sidebar navigation and keeps the body', () => {
    for (const format of ['markdown', 'text', 'html'] as const) {
      expect(whole[format], format).toContain('Annotated Source (single read)');
      expect(main[format], format).not.toContain('Annotated Source (single read)');
      expect(main[format], format).toContain('Iterates over a');
      expect(main[format], format).toContain('Package Installation');
    }
    expect(main.markdown).toContain('```\n_.each([1, 2, 3], alert);');
  });

  it('text is plain: no markup, no link targets', () => {
    expect(main.text).toContain('_.each([1, 2, 3], alert);');
    expect(main.text).toContain('Iterates over a list of elements, yielding each in turn to an iteratee function.');
    expect(main.text).toContain('Returns the list for chaining.');
    expect(main.text).not.toMatch(/\]\(http|<tt>|<b>list<\/b>/); // (the page documents <script> and <b> tags: that text stays)
  });

  it('html is cleaned: no scripts or styles, only href/src/alt/title attributes, absolute links', () => {
    expect(main.html).not.toMatch(/<(script|style|input|link|meta)\b|<[a-z][^>]*\s(class|style|id|on\w+)=/i);
    expect(main.html).toContain('href="#each"');
    expect(main.html).toContain('href="https://docs.example/underscore/underscore-umd.js"');
  });

  it('drops the Texinfo navigation header of a manual page (no <main>: the body without its header blocks)', () => {
    const page = convert(LIBFFI, { onlyMainContent: true }).markdown!;
    expect(convert(LIBFFI).markdown).toMatch(/^Next: \[Simple Example\]/);
    expect(page).not.toContain('Next: [Simple Example]');
    expect(page).toMatch(/^### 2\.1 The Basics$/m);
    expect(page).toContain('`ffi_prep_cif` returns a `libffi` status code');
  });
});

describe('onlyMainContent, the heuristic', () => {
  const frame = (inner: string) => `<html><head><title>t</title></head><body>
    <header><a href="/">Site header</a></header><nav><a href="/a">Nav link</a></nav>
    <div class="sidebar">Sidebar text</div><div role="navigation">Role nav</div>${inner}
    <aside>Aside text</aside><footer>Footer text</footer><div id="cookie-banner">Cookie text</div></body></html>`;
  const boilerplate = ['Site header', 'Nav link', 'Sidebar text', 'Role nav', 'Aside text', 'Footer text', 'Cookie text'];

  it.each([
    ['<main>', '<main><h1>Title</h1><p>Body text</p></main>'],
    ['[role=main]', '<div role="main"><h1>Title</h1><p>Body text</p></div>'],
    ['the biggest <article>', '<article><p>Teaser</p></article><article><header><h1>Title</h1></header><p>Body text and more</p><nav>In-article nav</nav></article>'],
    ['the body without its frame', '<div class="content"><h1>Title</h1><p>Body text</p></div>'],
  ])('%s', (_name, inner) => {
    const { text } = convert(frame(inner), { formats: ['text'], onlyMainContent: true });
    expect(text).toContain('Body text');
    expect(text).toContain('Title'); // an article's own header stays
    for (const gone of [...boilerplate, 'In-article nav', 'Teaser']) expect(text).not.toContain(gone);
  });

  it('without it, everything but scripts and styles is content', () => {
    const { text } = convert(frame('<main><p>Body text</p><script>var secret = 1;</script><style>p{}</style></main>'), { formats: ['text'] });
    for (const kept of [...boilerplate, 'Body text']) expect(text).toContain(kept);
    expect(text).not.toMatch(/secret|p\{\}/);
  });

  it('keeps inline elements that merely have such class names', () => {
    const { text } = convert('<main><p><b class="header">each</b> iterates</p></main>', { formats: ['text'], onlyMainContent: true });
    expect(text).toContain('each iterates');
  });
});

describe('select', () => {
  const html = `<html><head><title>T</title><meta property="og:title" content="OG &amp; title"></head><body>
    <h1>  Main
      heading </h1><a class="x" href="/one">One</a><a class="x" href="/two">Two &lt;2&gt;</a><p data-v="${'v'.repeat(3_000)}">${'p'.repeat(3_000)}</p></body></html>`;

  it('reads the first match, an attribute, all matches; null when none; values capped and decoded', () => {
    const { fields, markdown } = convert(html, {
      formats: [],
      select: {
        heading: { css: 'h1' },
        og: { css: 'meta[property="og:title"]', attr: 'content' },
        hrefs: { css: 'a.x', attr: 'href', all: true },
        names: { css: 'a.x', all: true },
        missing: { css: '.nothing' },
        none: { css: '.nothing', all: true },
        noAttr: { css: 'h1', attr: 'href' },
        long: { css: 'p' },
      },
    });
    expect(markdown).toBeUndefined();
    expect(fields).toEqual({
      heading: 'Main heading',
      og: 'OG & title',
      hrefs: ['/one', '/two'],
      names: ['One', 'Two <2>'],
      missing: null,
      none: [],
      noAttr: null,
      long: 'p'.repeat(2_000),
    });
  });

  it('keeps at most 100 values of an all field', () => {
    const many = `<ul>${'<li>x</li>'.repeat(500)}</ul>`;
    expect((convert(many, { formats: [], select: { items: { css: 'li', all: true } } }).fields!.items as string[]).length).toBe(100);
  });

  it('reads fields before onlyMainContent and cleaning remove anything', () => {
    const { fields, text } = convert('<nav><a href="/n">Nav</a></nav><main><p>Body</p></main><script type="application/ld+json">{"a":1}</script>', {
      formats: ['text'],
      onlyMainContent: true,
      select: { nav: { css: 'nav a' }, ld: { css: 'script[type="application/ld+json"]' } },
    });
    expect(fields).toEqual({ nav: 'Nav', ld: '{"a":1}' });
    expect(text).toBe('Body');
  });

  it('refuses invalid selectors and nested :has() at submit', () => {
    expect(selectorError('div > p.x, a[href$=".pdf"]')).toBeUndefined();
    expect(selectorError('li:has(a)')).toBeUndefined();
    expect(selectorError('a[')).toMatch(/Expected name/);
    expect(selectorError(':nosuch')).toMatch(/Unknown pseudo-class/);
    expect(selectorError('a,')).toBeDefined();
    expect(selectorError('div:has(p:has(a))')).toMatch(/at most one :has/);
  });
});

describe('limits', () => {
  it('cuts each format at maxChars (never half a surrogate pair) and says so', () => {
    const html = `<p>${'😀'.repeat(200)}</p>`;
    const content = convert(html, { formats: ['markdown', 'text', 'html'], maxChars: 101 });
    expect(content.cut).toBe('contentChars');
    for (const format of ['markdown', 'text', 'html'] as const) {
      expect(content[format]!.length, format).toBeLessThanOrEqual(101);
      expect(content[format]!.length, format).toBeGreaterThanOrEqual(100);
      expect(content[format], format).not.toMatch(/[\ud800-\udbff]$/);
    }
  });

  // (htmlparser2 itself parses nesting in quadratic time — 20,000 levels take ~0.6 s — so the DOM a page can reach is smaller than this.)
  it('nesting 10,000 deep: flattened below 64 levels, its text kept, no stack overflow', () => {
    const depth = 10_000;
    const html = `${'<div>'.repeat(depth)}deep text${'</div>'.repeat(depth)}<p>after</p>`;
    const content = convert(html, { formats: ['markdown', 'text', 'html'] });
    expect(content.markdown).toContain('deep text');
    expect(content.text).toContain('deep text');
    expect(content.text).toContain('after');
    expect(content.html!.split('<div>').length - 1).toBeLessThanOrEqual(64);
  });

  it('400,000 elements: at most 1,000 children each and 50,000 in all kept, the cut named', () => {
    const flat = convert(`<div>${'<br>'.repeat(400_000)}</div>`, { formats: ['html', 'markdown'] });
    expect(flat.cut).toBe('contentElements');
    expect(flat.html!.split('<br>').length - 1).toBe(1_000);
    const wide = convert(`<section>${'<br>'.repeat(999)}</section>`.repeat(400), { formats: ['html', 'markdown', 'text'] });
    expect(wide.cut).toBe('contentElements');
    const kept = wide.html!.split('<section>').length - 1 + wide.html!.split('<br>').length - 1;
    expect(kept).toBeLessThanOrEqual(50_000);
    expect(kept).toBeGreaterThan(49_000);
  });

  it('huge attributes are dropped before any converter sees them', () => {
    const huge = 'x'.repeat(1_000_000);
    const content = convert(`<p title="${huge}" data-x="${huge}"><a href="/ok" title="fine">link</a><img alt="${huge}" src="/i.png"></p>`, { formats: ['html', 'markdown'] });
    expect(content.html).toBe('<p><a href="https://docs.example/ok" title="fine">link</a><img src="https://docs.example/i.png"></p>');
    expect(content.markdown).toContain('[link](https://docs.example/ok "fine")');
  });

  it('a past deadline: nothing converted, the cut is parseBudget', () => {
    const content = convert(UNDERSCORE, { formats: ['markdown', 'text'], select: { h: { css: 'h2' } } }, performance.now() - 1);
    expect(content.cut).toBe('parseBudget');
    expect(content.markdown).toBe('');
    expect(content.fields).toEqual({ h: null });
  });
});

describe('PageParser makes content on the same DOM, within the parse budget', () => {
  const parse = async (html: string, domMaxBytes: number, content?: ContentRequest) => {
    const parser = new PageParser(PAGE, 'text/html; charset=utf-8', { maxLinks: 5_000, budgetMs: 60_000, domMaxBytes, content });
    const bytes = Buffer.from(html);
    for (let offset = 0; offset < bytes.length; offset += 16_384) await parser.write(bytes.subarray(offset, offset + 16_384));
    return parser.finish();
  };

  it('no content asked: no content made', async () => {
    expect((await parse(LIBFFI, 1 << 20)).content).toBeUndefined();
  });

  it('a page streamed past domMaxBytes: content of its first domMaxBytes, cut named domMaxBytes; links of the whole', async () => {
    const whole = await parse(UNDERSCORE, 1 << 20, request());
    const streamed = await parse(UNDERSCORE, 64 * 1024, request());
    expect(whole.content!.cut).toBeUndefined();
    expect(streamed.content!.cut).toBe('domMaxBytes');
    expect(streamed.links).toEqual(whole.links);
    expect(streamed.content!.markdown!.length).toBeLessThan(whole.content!.markdown!.length);
    expect(whole.content!.markdown!.startsWith(streamed.content!.markdown!.slice(0, 2_000))).toBe(true);
  });
});

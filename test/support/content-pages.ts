/**
 * Pages for the crawl's content options, served by the fixture site (fixture-site.ts):
 *   /docs/                 an index (nav, header, footer, main) linking to the two real pages below
 *   /docs/underscore.html  Underscore.js's documentation page (Debian libjs-underscore, MIT)
 *   /docs/libffi.html      a page of libffi's Texinfo manual (Debian libffi8, MIT)
 *   /content/select.html   fields to select (og meta, h1, several links)
 *   /content/long.html     300,000 characters of text in one article
 *   /content/nested.html   <div> nested 10,000 deep (htmlparser2 parses nesting in quadratic time: deeper is the parser's own limit)
 *   /content/elements.html 400,000 elements in 400 blocks (1.6 MB: set CRAWL_DOM_MAX_BYTES above it for the DOM path)
 *   /content/attrs.html    three attributes of 1 MB each around a little text
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOCS = join(__dirname, '..', 'fixtures', 'docs');
export const NESTED_DEPTH = 10_000;
export const ELEMENTS = 400_000;
const ATTRIBUTE = 'x'.repeat(1_000_000);

const frame = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

const PAGES: Record<string, () => string> = {
  '/docs/': () =>
    frame(
      'Docs',
      `<header><a href="/">Site header</a></header><nav><a href="/docs/">Docs navigation</a></nav>
      <main><h1>Documentation</h1><ul><li><a href="underscore.html">Underscore</a></li><li><a href="libffi.html">libffi</a></li></ul></main><footer>Site footer</footer>`,
    ),
  '/docs/underscore.html': () => readFileSync(join(DOCS, 'underscore.html'), 'utf8'),
  '/docs/libffi.html': () => readFileSync(join(DOCS, 'libffi-the-basics.html'), 'utf8'),
  '/content/select.html': () =>
    frame('Select', '<h1> Product   name </h1><meta property="og:image" content="/img/a.png"><a class="tag" href="/t/1">one</a><a class="tag" href="/t/2">two &amp; more</a>').replace(
      '<head>',
      '<head><meta property="og:title" content="OG title">',
    ),
  '/content/long.html': () => frame('Long', `<article><p>${'All work and no play. '.repeat(13_637)}</p></article>`),
  '/content/nested.html': () => frame('Nested', `${'<div>'.repeat(NESTED_DEPTH)}deep text${'</div>'.repeat(NESTED_DEPTH)}<p>after the nest</p>`),
  '/content/elements.html': () => frame('Elements', `<div>${'<p>x'.repeat(999)}</div>`.repeat(ELEMENTS / 1_000)),
  '/content/attrs.html': () => frame('Attrs', `<p title="${ATTRIBUTE}" data-a="${ATTRIBUTE}"><a href="/leaf/ok" data-b="${ATTRIBUTE}">attribute text</a></p>`),
};

const built = new Map<string, Buffer>();

/** The page at `path`, built once (as bytes: serving it again costs the server no encoding), or undefined when it is not one of these. */
export function contentPage(path: string): Buffer | undefined {
  const make = PAGES[path];
  if (!make) return undefined;
  if (!built.has(path)) built.set(path, Buffer.from(make()));
  return built.get(path);
}

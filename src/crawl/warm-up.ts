/**
 * JIT warm-up of a crawl thread. A fresh thread parses its first pages in V8's interpreter and
 * baseline tiers: on the PostgreSQL manual (1,169 small pages) the first crawl of a fresh process
 * cost the crawl threads about twice the CPU of later crawls. Parsing a built-in sample page a few
 * hundred times when the thread starts, before it takes tasks, moves that cost to boot, where no
 * caller waits for it. The sample is what documentation and article pages are made of (navigation
 * lists, headings, paragraphs with inline links, code, tables) with every kind of link the
 * collector tells apart, so the code the pages take is the code that gets optimized.
 */
import { decodeHtml } from './decode-html';
import { linksOnly } from './page-parser';

/** The warm-up page's origin: reserved (.invalid), so nothing in it is ever fetched. */
const ORIGIN = 'https://warm-up.invalid';

function samplePage(): string {
  const nav = Array.from({ length: 40 }, (_, i) => `<li class="toc"><a href="chapter-${i}.html" title="Chapter ${i}">${i}. Chapter ${i}</a></li>`).join('\n');
  const section = (i: number) => `
<div class="sect1" id="s${i}"><h2 class="title">Section ${i} &amp; more</h2>
<p>Text with <a href="../ref/item-${i}.html#anchor">a relative link</a>, an <a href="${ORIGIN}/abs/${i}?b=2&amp;a=1">absolute one</a>,
<a href="#local-${i}">a fragment</a>, <a href="mailto:someone@example.invalid">mail</a>, <a href="javascript:void(0)">script</a>
and <a href="//other.invalid/p/${i}" rel="nofollow">another host</a>. <code class="literal">SELECT ${i}</code> &lt;tag&gt; &#x27;quoted&#x27;.</p>
<pre class="programlisting">CREATE TABLE t${i} (id int PRIMARY KEY, name text);
INSERT INTO t${i} VALUES (1, 'one');</pre>
<table class="table"><tr><th>Name</th><th>Value</th></tr><tr><td><a href="value-${i}.html">v${i}</a></td><td>${i * 7}</td></tr></table>
<ul><li><p><a href="./list/${i}/one.html">one</a></p></li><li><p><a href="list/${i}/two.html?x=1">two</a></p></li></ul></div>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Warm-up page: parsing</title><link rel="stylesheet" href="/style.css"><link rel="canonical" href="${ORIGIN}/docs/canonical.html">
<script>var x = "<a href='not-a-link'>";</script><style>a { color: red }</style></head>
<body><div class="navheader"><table width="100%"><tr><th colspan="3" align="center">Chapter 1</th></tr>
<tr><td width="10%" align="left"><a accesskey="p" href="prev.html">Prev</a></td><td width="10%" align="right"><a accesskey="n" href="next.html">Next</a></td></tr></table><hr></div>
<div class="toc"><dl class="toc"><ul>${nav}</ul></dl></div>
${Array.from({ length: 12 }, (_, i) => section(i)).join('\n')}
<!-- a comment with <a href="commented.html"> -->
<div class="navfooter"><a href="index.html">Home</a> | <a href="https://example.invalid/elsewhere">Elsewhere</a></div></body></html>`;
}

/** Parses the sample page `passes` times as a crawl thread parses a small links-only page; throws if a pass finds no links. */
export function warmUpParsing(passes: number): void {
  if (passes <= 0) return;
  const body = Buffer.from(samplePage());
  const options = { maxLinks: 1_000, budgetMs: 1_000 };
  for (let i = 0; i < passes; i++) {
    const page = linksOnly(decodeHtml(body, 'text/html; charset=utf-8'), `${ORIGIN}/docs/${i % 50}/page.html`, options);
    // A parser that finds nothing would warm nothing up: say so at boot rather than run cold.
    if (page.links.length === 0) throw new Error('crawl warm-up: the sample page gave no links');
  }
}

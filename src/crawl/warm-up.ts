/**
 * JIT warm-up of a crawl thread. A fresh thread runs its first pages in V8's interpreter and
 * baseline tiers: on the PostgreSQL manual (1,169 small pages) the first crawl of a fresh process
 * cost the crawl threads about three times the CPU of later crawls. Crawling a built-in sample
 * site a few hundred pages deep when the thread starts, before it takes tasks, moves that cost to
 * boot, where no caller waits for it. The whole page path runs, not only the parser: undici's
 * client and its HTTP parser, the exchange, charset sniffing, the parser and the link collector
 * (parsing alone left the first crawl at twice the CPU of later ones). The sample is what
 * documentation and article pages are made of (navigation lists, headings, paragraphs with inline
 * links, code, tables) with every kind of link the collector tells apart, in the sizes and the two
 * ways of declaring a charset real sites use, so the code real pages take is the code that gets
 * optimized.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCidrs } from './address-policy';
import { crawlPage, type PageOptions } from './crawl-page';
import { createSafeAgent } from './safe-agent';

/** The warm-up page's origin: reserved (.invalid), so nothing in it is ever fetched. */
const ORIGIN = 'https://warm-up.invalid';

/** How a sample page is served and declares its encoding: both ways real sites do it. */
interface SampleVariant {
  sections: number;
  /** XHTML served as text/html with no charset (the encoding found by sniffing the meta tag), or HTML5 with the charset in the header. */
  xhtml: boolean;
}

function samplePage({ sections, xhtml }: SampleVariant): string {
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
  const head = xhtml
    ? `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />`
    : '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">';
  return `${head}
<title>Warm-up page: parsing</title><link rel="stylesheet" href="/style.css"><link rel="canonical" href="${ORIGIN}/docs/canonical.html">
<script>var x = "<a href='not-a-link'>";</script><style>a { color: red }</style></head>
<body><div class="navheader"><table width="100%"><tr><th colspan="3" align="center">Chapter 1</th></tr>
<tr><td width="10%" align="left"><a accesskey="p" href="prev.html">Prev</a></td><td width="10%" align="right"><a accesskey="n" href="next.html">Next</a></td></tr></table><hr></div>
<div class="toc"><dl class="toc"><ul>${nav}</ul></dl></div>
${Array.from({ length: sections }, (_, i) => section(i)).join('\n')}
<!-- a comment with <a href="commented.html"> -->
<div class="navfooter"><a href="index.html">Home</a> | <a href="https://example.invalid/elsewhere">Elsewhere</a></div></body></html>`;
}

/** Small, typical and long pages (about 3, 14 and 90 KB), each both ways. */
const SAMPLE_VARIANTS: SampleVariant[] = [2, 12, 80].flatMap((sections) => [true, false].map((xhtml) => ({ sections, xhtml })));

/** Pages of the warm-up in flight at once: a crawl's usual concurrency, so the pool's paths for many open exchanges warm up too. */
const WARM_UP_CONCURRENCY = 16;

/**
 * Crawls `passes` pages of the sample site the way a task crawls a page, fetch included: served by a
 * server of this thread on 127.0.0.1 (a port of its own, closed afterwards), through an agent of
 * its own that may reach only that address (the thread's task agent never may unless
 * CRAWL_ALLOW_TARGETS says so), so undici's client and HTTP parser, the exchange, the parser and
 * the link collector all get optimized before the first real page. Throws if a pass fails or finds
 * no links (a warm-up that warms nothing should say so at boot); says how much it crawled.
 */
export async function warmUpCrawling(passes: number): Promise<{ pages: number; links: number }> {
  const done = { pages: 0, links: 0 };
  if (passes <= 0) return done;
  const samples = SAMPLE_VARIANTS.map((variant) => ({ body: Buffer.from(samplePage(variant)), contentType: variant.xhtml ? 'text/html' : 'text/html; charset=utf-8' }));
  const server = createServer((req, res) => {
    const { body, contentType } = samples[Number(/\/(\d+)\//.exec(req.url ?? '')?.[1] ?? 0) % samples.length];
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = createSafeAgent(parseCidrs(['127.0.0.1/32']));
  const options: PageOptions = { timeoutMs: 10_000, maxBytes: 5_000_000, maxRedirects: 5, retries: 0, userAgent: 'warm-up', maxLinks: 1_000, parseBudgetMs: 1_000, domMaxBytes: 1024 ** 2 };
  let next = 0;
  const crawlSome = async () => {
    while (next < passes) {
      const i = next++;
      const page = await crawlPage({ url: `${origin}/docs/${i % 50}/page.html`, depth: 1, parent: null, via: 'link' }, options, agent);
      if (page.error || page.links.length === 0) throw new Error(`the sample page gave ${page.error ? page.error.code : 'no links'}`);
      done.pages++;
      done.links += page.links.length;
    }
  };
  try {
    await Promise.all(Array.from({ length: WARM_UP_CONCURRENCY }, crawlSome));
  } finally {
    await agent.close();
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  }
  return done;
}

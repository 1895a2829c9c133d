/**
 * Title and links of an ordinary page (up to CRAWL_DOM_MAX_BYTES) whose content is wanted too
 * (a links-only page skips the DOM: page-parser.ts's linksOnly) with cheerio, on its
 * htmlparser2 path. `npm run bench:parse` compares the ways (medians on a typical 12 KB page with
 * 66 links, ms per page, one thread, 2026-12-01): default parse5 load + selectors 2.34,
 * htmlparser2 load + `$('a[href], area[href]')` 0.66, htmlparser2 load + a plain walk of the tree
 * 0.59, the same without entity decoding during the parse 0.58 — the path used here (fastest on
 * the 100-page sample too), with only the attributes and title we keep decoded (by the
 * LinkCollector). (`.map().get()` must never be used: it is quadratic in the number of matches.)
 * The walk runs under the link cap and a time budget, so a hostile page cannot stall a worker.
 * A DOM costs about 20 times the page's size in heap (26 MiB for a 1 MiB page of links, 184 MiB
 * for 10 MiB): bigger pages go to stream-links.ts instead.
 */
import { type CheerioAPI, load } from 'cheerio';
import { type ExtractedPage, LinkCollector } from './link-collector';
import { parseShallowDom } from './shallow-parser';

export type { ExtractedPage } from './link-collector';

export interface ExtractOptions {
  maxLinks: number;
  budgetMs: number;
  /** Compute the text's simhash (near-duplicate detection). */
  fingerprint?: boolean;
}

/** The parts of domhandler's nodes the walk reads. */
export interface Node {
  type: string;
  name?: string;
  attribs?: Record<string, string>;
  data?: string;
  children?: Node[];
}

/** The same parser settings as stream-links.ts, so both see the same tags. */
const PARSE_OPTIONS = { xml: { xmlMode: false, decodeEntities: false } };

/** The page as a DOM, with the parser settings the link walk expects (content passes reuse it). */
export function parseDocument(html: string): CheerioAPI {
  // Built by a depth-capped parser (shallow-parser.ts), then handed to cheerio as a tree.
  return load(parseShallowDom(html, PARSE_OPTIONS.xml), PARSE_OPTIONS);
}

export function extractLinks(html: string, pageUrl: string, options: ExtractOptions): ExtractedPage {
  return linksOf(parseDocument(html), pageUrl, options);
}

/** Title and links of a parsed page (see parseDocument). */
export function linksOf($: CheerioAPI, pageUrl: string, { maxLinks, budgetMs, fingerprint }: ExtractOptions): ExtractedPage {
  const deadline = performance.now() + budgetMs;
  const page = new LinkCollector(pageUrl, maxLinks, fingerprint);
  let visited = 0;
  // Depth-first, in document order (the order the streaming parser sees tags in), without
  // recursion (deeply nested pages exist).
  const stack: Node[] = [...(($.root()[0] as unknown as Node).children ?? [])].reverse();
  while (stack.length > 0 && !page.done) {
    if ((++visited & 1023) === 0 && performance.now() > deadline) {
      page.stop('parseBudget');
      break;
    }
    const node = stack.pop()!;
    if (node.type === 'text') {
      page.content(node.data ?? '');
      page.endText();
      continue;
    }
    if (node.type !== 'tag') continue; // scripts and styles hold no links, and their text is no content
    const href = node.attribs?.href;
    if (node.name === 'a' || node.name === 'area') {
      if (href !== undefined) page.anchor(href, node.attribs!.rel);
    } else if (node.name === 'title') {
      page.openTitle();
      page.text(textOf(node));
      page.closeTitle();
    } else if (node.name === 'base' && href !== undefined) {
      page.baseHref(href);
    } else if (node.name === 'link' && href !== undefined) {
      page.linkTag(href, node.attribs!.rel);
    }
    const children = node.children;
    if (children) for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return page.result();
}

function textOf(node: Node): string {
  return (node.children ?? []).map((child) => (child.type === 'text' ? (child.data ?? '') : textOf(child))).join('');
}

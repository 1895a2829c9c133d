/**
 * Title and links of an HTML page with cheerio, on its htmlparser2 path. Measured on a typical
 * 12 KB page with 66 links (ms per page, one thread): default parse5 load + selectors 2.0,
 * htmlparser2 load + `$('a[href], area[href]')` 1.22, htmlparser2 load + a plain walk of the
 * tree 0.81, the same without entity decoding during the parse 0.65 — the path used here, with
 * only the attributes and title we keep decoded. (`.map().get()` must never be used: it is
 * quadratic in the number of matches.) The walk runs under a link cap and a time budget, so a
 * hostile page cannot stall a worker.
 */
import { load } from 'cheerio';
import { decodeHTML } from 'entities';
import { normalizeUrl } from './url-normalize';

export interface ExtractOptions {
  maxLinks: number;
  budgetMs: number;
}

export interface ExtractedPage {
  title: string | null;
  /** Absolute, normalised, de-duplicated http(s) URLs in page order. */
  links: string[];
  /** The subset of links marked rel=nofollow: reported, not followed. */
  nofollow: string[];
  /** True when the link cap or the time budget cut the list short. */
  truncated: boolean;
}

/** The parts of domhandler's nodes the walk reads. */
interface Node {
  type: string;
  name?: string;
  attribs?: Record<string, string>;
  data?: string;
  children?: Node[];
}

const PARSE_OPTIONS = { xml: { xmlMode: false, decodeEntities: false } };
const MAX_TITLE = 500;

export function extractLinks(html: string, pageUrl: string, { maxLinks, budgetMs }: ExtractOptions): ExtractedPage {
  const deadline = performance.now() + budgetMs;
  const $ = load(html, PARSE_OPTIONS);
  const anchors: Node[] = [];
  let title: string | undefined;
  let baseHref: string | undefined;
  let visited = 0;
  let truncated = false;
  // Depth-first, in document order, without recursion (deeply nested pages exist).
  const stack: Node[] = [...(($.root()[0] as unknown as Node).children ?? [])].reverse();
  while (stack.length > 0) {
    if ((++visited & 1023) === 0 && performance.now() > deadline) {
      truncated = true;
      break;
    }
    const node = stack.pop()!;
    if (node.type !== 'tag' && node.type !== 'script' && node.type !== 'style') continue;
    if (node.name === 'a' || node.name === 'area') {
      if (node.attribs?.href !== undefined) anchors.push(node);
    } else if (node.name === 'title' && title === undefined) {
      title = textOf(node);
    } else if (node.name === 'base' && baseHref === undefined && node.attribs?.href !== undefined) {
      baseHref = decodeHTML(node.attribs.href);
    }
    const children = node.children;
    if (children) for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  const base = (baseHref && normalizeUrl(baseHref, pageUrl)) || pageUrl;
  const seen = new Set<string>();
  const links: string[] = [];
  const nofollow: string[] = [];
  for (const { attribs } of anchors) {
    if (links.length >= maxLinks) {
      truncated = true;
      break;
    }
    const url = normalizeUrl(decodeHTML(attribs!.href), base);
    if (!url || seen.has(url)) continue;
    seen.add(url);
    links.push(url);
    if (/(^|\s)nofollow(\s|$)/i.test(attribs!.rel ?? '')) nofollow.push(url);
  }
  const cleanTitle = title === undefined ? '' : decodeHTML(title).replace(/\s+/g, ' ').trim();
  return { title: cleanTitle ? cleanTitle.slice(0, MAX_TITLE) : null, links, nofollow, truncated };
}

function textOf(node: Node): string {
  return (node.children ?? []).map((child) => (child.type === 'text' ? (child.data ?? '') : textOf(child))).join('');
}

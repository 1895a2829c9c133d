/**
 * A page's content, on the worker thread, from the DOM its links were read from (or, for a page
 * streamed past CRAWL_DOM_MAX_BYTES, from its first CRAWL_DOM_MAX_BYTES): the tree is bounded
 * (prune.ts), `select` reads it, then it is cleaned (clean.ts), narrowed to the main content when
 * asked (main-content.ts) and converted (chunks.ts, convert.ts), all before `deadline` (what is
 * left of CRAWL_PARSE_BUDGET_MS). The first limit that cut anything is reported.
 */
import type { CheerioAPI } from 'cheerio';
import { decodeHTML } from 'entities';
import { cleanTree } from './clean';
import type { ContentCut, ContentRequest } from './content-options';
import { CONVERTERS, convertChunks, cutAt } from './convert';
import { htmlChunks } from './chunks';
import type { DomNode } from './dom';
import { mainContent } from './main-content';
import { pruneTree } from './prune';
import { type FieldValue, selectFields } from './select-fields';

export interface PageContent {
  markdown?: string;
  text?: string;
  html?: string;
  fields?: Record<string, FieldValue>;
  /** The first limit that cut the content (its link list may be whole). */
  cut?: ContentCut;
}

export function pageContent($: CheerioAPI, pageUrl: string, request: ContentRequest, deadline: number): PageContent {
  const document = $.root()[0] as unknown as DomNode;
  const content: PageContent = {};
  const cutBy = (cut: ContentCut | undefined) => {
    if (cut) content.cut ??= cut;
  };
  cutBy(pruneTree(document, deadline));
  if (Object.keys(request.select).length > 0) {
    const selected = selectFields($, request.select, deadline);
    content.fields = selected.fields;
    cutBy(selected.cut);
  }
  if (request.formats.length === 0) return content;
  // Main content is found by class and role, which cleaning removes.
  const root = request.onlyMainContent ? mainContent(document) : document;
  cleanTree(root, baseUrl($, pageUrl));
  const serialize = (nodes: DomNode[]) => $.html(nodes as never);
  if (request.formats.includes('html')) {
    const html = serialize(root.children ?? []).trim();
    if (html.length > request.maxChars) cutBy('contentChars');
    content.html = cutAt(html, request.maxChars);
  }
  const chunks = request.formats.includes('markdown') || request.formats.includes('text') ? htmlChunks(root, serialize) : [];
  for (const format of ['markdown', 'text'] as const) {
    if (!request.formats.includes(format)) continue;
    const converted = convertChunks(chunks, CONVERTERS[format], request.maxChars, deadline);
    content[format] = converted.value;
    cutBy(converted.cut);
  }
  return content;
}

/** The page's `<base href>` (the first), else its own URL: relative links resolve against it. */
function baseUrl($: CheerioAPI, pageUrl: string): string {
  const href = $('base[href]').first().attr('href');
  if (href === undefined) return pageUrl;
  try {
    return new URL(decodeHTML(href), pageUrl).href;
  } catch {
    return pageUrl;
  }
}

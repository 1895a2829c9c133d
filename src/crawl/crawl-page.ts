/**
 * One page of a crawl: fetch, decode, extract. Runs in a worker thread; no Nest, no job state.
 */
import type { Dispatcher } from 'undici';
import { CrawlFailure, type CrawlError } from './crawl-errors';
import { decodeHtml } from './decode-html';
import { extractLinks } from './extract-links';
import { fetchPage, type FetchOptions, type HopCheck } from './fetch-page';

export interface PageInput {
  url: string;
  depth: number;
  /** The page that linked here; null for seeds. */
  parent: string | null;
}

export interface PageOptions extends FetchOptions {
  maxLinks: number;
  parseBudgetMs: number;
}

export interface PageResult extends PageInput {
  finalUrl: string;
  status: number | null;
  contentType: string | null;
  bytes: number;
  ms: number;
  title: string | null;
  links: string[];
  nofollow?: string[];
  /** The link list was cut by the per-page cap or the parse time budget. */
  truncated?: boolean;
  error?: CrawlError;
}

export async function crawlPage(input: PageInput, options: PageOptions, dispatcher: Dispatcher, signal?: AbortSignal, checkHop?: HopCheck): Promise<PageResult> {
  const started = performance.now();
  const base = { ...input, finalUrl: input.url, status: null, contentType: null, bytes: 0, title: null, links: [] as string[] };
  try {
    const page = await fetchPage(input.url, options, dispatcher, signal, checkHop);
    const html = decodeHtml(page.body!, page.contentType);
    const extracted = extractLinks(html, page.finalUrl, { maxLinks: options.maxLinks, budgetMs: options.parseBudgetMs });
    return {
      ...base,
      finalUrl: page.finalUrl,
      status: page.status,
      contentType: page.contentType,
      bytes: page.bytes,
      ms: elapsed(started),
      title: extracted.title,
      links: extracted.links,
      ...(extracted.nofollow.length ? { nofollow: extracted.nofollow } : {}),
      ...(extracted.truncated ? { truncated: true } : {}),
    };
  } catch (err) {
    if (!(err instanceof CrawlFailure)) throw err; // cancelled, or a bug: the task fails as a whole
    return {
      ...base,
      finalUrl: err.finalUrl ?? input.url,
      status: err.status ?? null,
      contentType: err.contentType ?? null,
      bytes: err.bytesRead ?? 0,
      ms: elapsed(started),
      error: err.toJSON(),
    };
  }
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

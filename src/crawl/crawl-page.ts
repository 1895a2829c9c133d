/**
 * One page of a crawl: fetch, decode, extract, the parsing fed as the body arrives (see
 * page-parser.ts). Runs in a worker thread; no Nest, no job state.
 */
import type { Dispatcher } from 'undici';
import { CrawlFailure, type CrawlError } from './crawl-errors';
import { fetchPage, type FetchOptions, type HopCheck, type ObserveAnswer } from './fetch-page';
import type { HostFeedback } from './host-budget';
import type { ContentCut, ContentRequest } from './content/content-options';
import type { FieldValue } from './content/select-fields';
import type { TruncatedBy } from './link-collector';
import { PageParser } from './page-parser';

/** How a page was found: a seed of the request, a link on a page, or a sitemap entry. */
export type Via = 'seed' | 'link' | 'sitemap';

export interface PageInput {
  url: string;
  depth: number;
  /** The page that linked here (the sitemap that listed it); null for seeds. */
  parent: string | null;
  via?: Via;
}

/**
 * What a crawl worker takes from the instance it runs on (CrawlKind registers it with the worker;
 * the pool gives it to every thread at start), never from the task.
 */
export interface CrawlWorkerSettings {
  /** CRAWL_ALLOW_TARGETS: CIDRs the agent may reach despite the default address policy. */
  allow: string[];
  /** CRAWL_WARM_UP_PASSES: the thread crawls this many pages of a sample site when it starts (warm-up.ts). */
  warmUpPasses?: number;
}

export interface PageOptions extends FetchOptions {
  maxLinks: number;
  parseBudgetMs: number;
  /** CRAWL_DOM_MAX_BYTES: bigger bodies are parsed as a stream, never into a DOM. */
  domMaxBytes: number;
  /** Compute the text's simhash (nearDuplicateBits >= 0). */
  fingerprint?: boolean;
  /** Content wanted besides the links (formats other than links, select); none: links only. */
  content?: ContentRequest;
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
  /** Content, as the request's formats ask (absent otherwise). */
  markdown?: string;
  text?: string;
  html?: string;
  /** `select`'s fields, by name. */
  fields?: Record<string, FieldValue>;
  /**
   * The page was cut short: its link list (and so its content) by the per-page cap, the parse time
   * budget or maxBytes (the body was cut there); or only its content, by maxContentChars, the
   * content tree's bounds or CRAWL_DOM_MAX_BYTES (a streamed page's content is its first part).
   */
  truncated?: boolean;
  truncatedBy?: TruncatedBy | ContentCut;
  /** rel=canonical, absolute and normalised. */
  canonical?: string;
  /** Simhash of the text, 16 hex digits. */
  fingerprint?: string;
  /** Shown with a results page (a job note, not stored with the result): see duplicates.ts. */
  duplicateOf?: string;
  duplicateBy?: 'canonical' | 'content';
  error?: CrawlError;
  /** How the host answered (for the shared per-host pacing; not shown in the results). */
  host?: HostFeedback;
}

export async function crawlPage(input: PageInput, options: PageOptions, dispatcher: Dispatcher, signal?: AbortSignal, checkHop?: HopCheck): Promise<PageResult> {
  const started = performance.now();
  const base = { ...input, finalUrl: input.url, status: null, contentType: null, bytes: 0, title: null, links: [] as string[] };
  const host: HostFeedback = { ok: 0, latencyMs: 0, throttled: 0, retryAfterMs: 0 };
  const observe: ObserveAnswer = ({ status, latencyMs, retryAfterMs }) => {
    if (status === 429 || status === 503) {
      host.throttled++;
      host.retryAfterMs = Math.max(host.retryAfterMs, retryAfterMs ?? 0);
    } else {
      host.ok++;
      host.latencyMs = Math.max(host.latencyMs, Math.round(latencyMs));
    }
  };
  try {
    let parser: PageParser | undefined;
    const parseOptions = { maxLinks: options.maxLinks, budgetMs: options.parseBudgetMs, domMaxBytes: options.domMaxBytes, fingerprint: options.fingerprint, content: options.content };
    const page = await fetchPage(input.url, options, dispatcher, signal, checkHop, ({ finalUrl, contentType }) => (parser = new PageParser(finalUrl, contentType, parseOptions)), observe);
    const extracted = parser!.finish(page.cut);
    const truncatedBy = extracted.truncatedBy ?? extracted.content?.cut;
    const { cut: _, ...content } = extracted.content ?? {};
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
      ...content,
      ...(truncatedBy ? { truncated: true, truncatedBy } : {}),
      ...(extracted.canonical ? { canonical: extracted.canonical } : {}),
      ...(extracted.fingerprint ? { fingerprint: extracted.fingerprint } : {}),
      host,
    };
  } catch (err) {
    if (!(err instanceof CrawlFailure)) throw err; // cancelled, or a bug: the task fails as a whole
    return {
      ...base,
      finalUrl: err.finalUrl ?? input.url,
      status: err.status ?? null,
      contentType: err.contentType ?? null,
      ms: elapsed(started),
      error: err.toJSON(),
      host,
    };
  }
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

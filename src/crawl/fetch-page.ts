/**
 * One page fetch with undici, for a worker thread. Redirects are followed here, hop by hop, so
 * every hop goes through the safe agent's address check again. Each hop has a deadline that
 * covers the whole body (a server trickling one byte at a time still times out), decoded bytes
 * are counted while streaming (a gzip bomb is cut at maxBytes), non-HTML bodies are never read,
 * and network errors, 429 and 5xx are retried with exponential backoff, jitter and Retry-After.
 *
 * The body is handed to a sink chunk by chunk as it arrives (a page's parser, robots.txt's
 * collector): maxBytes cuts it there (`cut`), and the sink may stop the reading early.
 */
import type { Dispatcher } from 'undici';
import { CrawlFailure } from './crawl-errors';
import { type BodySink, decodable, ExchangeError, exchange, type ResponsePlan } from './http-exchange';

export type { BodySink } from './http-exchange';

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  retries: number;
  userAgent: string;
  /** `html` (pages: other types are not read) or `any` (robots.txt). */
  accept?: 'html' | 'any';
}

export interface FetchedPage {
  finalUrl: string;
  status: number;
  contentType: string | null;
  /** Decoded bytes read. */
  bytes: number;
  /** Reading stopped at maxBytes: the rest of the body was never read. */
  cut?: 'maxBytes';
}

/** Makes the sink for the final response (one per attempt: a retried body starts over). */
export type OpenSink = (response: { finalUrl: string; contentType: string | null }) => BodySink;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const HTML_TYPES = /^(text\/html|application\/xhtml\+xml)\b/i;
const MAX_BACKOFF_MS = 30_000;
const ACCEPT = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1';

/** Told of every response the host gave (each attempt, each hop), for the shared per-host pacing. */
export type ObserveAnswer = (answer: { status: number; latencyMs: number; retryAfterMs?: number }) => void;

/** Decides whether a redirect may go to `url` (robots.txt of its origin); a failure says why not. */
export type HopCheck = (url: string) => Promise<CrawlFailure | undefined>;

/** Fetches `url`, following redirects; throws CrawlFailure with a stable code on failure. */
export async function fetchPage(
  url: string,
  options: FetchOptions,
  dispatcher: Dispatcher,
  signal: AbortSignal | undefined,
  checkHop: HopCheck | undefined,
  openSink: OpenSink,
  observe?: ObserveAnswer,
): Promise<FetchedPage> {
  const chain = new Set<string>();
  let current = url;
  try {
    return await follow();
  } catch (err) {
    if (err instanceof CrawlFailure) err.finalUrl ??= current;
    throw err;
  }

  async function follow(): Promise<FetchedPage> {
    for (let hop = 0; ; hop++) {
      if (chain.has(current)) throw new CrawlFailure('too_many_redirects', `redirect loop back to ${current}`);
      chain.add(current);
      const { status, location, page } = await withRetries(current, options, dispatcher, signal, openSink, observe);
      if (location === undefined) return page!;
      if (hop >= options.maxRedirects) throw new CrawlFailure('too_many_redirects', `more than ${options.maxRedirects} redirects (last ${status} to ${location})`);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new CrawlFailure('invalid_url', `redirect to an invalid URL: ${location}`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new CrawlFailure('invalid_url', `redirect to a non-http(s) URL: ${next.protocol}`);
      if (next.username || next.password) throw new CrawlFailure('invalid_url', 'redirect to a URL with credentials');
      next.hash = '';
      current = next.href;
      const refusal = await checkHop?.(current);
      if (refusal) throw refusal;
    }
  }
}

interface HopResult {
  status: number;
  location?: string;
  page?: FetchedPage;
}

async function withRetries(url: string, options: FetchOptions, dispatcher: Dispatcher, signal: AbortSignal | undefined, openSink: OpenSink, observe?: ObserveAnswer): Promise<HopResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(url, options, dispatcher, signal, openSink, observe);
    } catch (err) {
      const failure = err instanceof Retryable ? err : undefined;
      if (!failure || attempt >= options.retries || signal?.aborted) throw failure ? failure.final : err;
      const backoff = failure.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt) * (0.5 + Math.random());
      await sleep(Math.min(backoff, MAX_BACKOFF_MS), signal);
    }
  }
}

/** A failure worth retrying; `final` is what the caller sees when retries run out. */
class Retryable extends Error {
  constructor(
    readonly final: CrawlFailure,
    readonly retryAfterMs?: number,
  ) {
    super(final.message);
  }
}

function fetchOnce(url: string, options: FetchOptions, dispatcher: Dispatcher, outer: AbortSignal | undefined, openSink: OpenSink, observe?: ObserveAnswer): Promise<HopResult> {
  const sent = performance.now();
  let answered: { status: number; contentType: string | null } | undefined;
  const request = { url, headers: { 'user-agent': options.userAgent, accept: ACCEPT, 'accept-encoding': 'gzip, deflate, br' }, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes };
  return exchange<HopResult>(dispatcher, request, outer, (status, headers): ResponsePlan<HopResult> => {
    const header = (name: string) => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    observe?.({ status, latencyMs: performance.now() - sent, retryAfterMs: retryAfterMs(header('retry-after')) });
    const location = header('location');
    if (REDIRECTS.has(status) && location) return { settle: { status, location } };
    if (status === 429 || status >= 500) return { fail: new Retryable(new CrawlFailure('http_error', `HTTP ${status}`, { status }), retryAfterMs(header('retry-after'))) };
    if (status >= 400) return { fail: new CrawlFailure('http_error', `HTTP ${status}`, { status }) };
    const contentType = header('content-type') ?? null;
    answered = { status, contentType };
    // Never read what will not be parsed.
    if (options.accept !== 'any' && (!contentType || !HTML_TYPES.test(contentType)))
      return { fail: new CrawlFailure('not_html', `not HTML: ${contentType ?? 'no content type'}`, { status, contentType }) };
    const encoding = header('content-encoding');
    if (!decodable(encoding)) return { fail: new CrawlFailure('network_error', `unsupported content-encoding: ${encoding?.trim().toLowerCase()}`, { status, contentType }) };
    return {
      sink: openSink({ finalUrl: url, contentType }),
      encoding,
      done: ({ bytes, cut }) => ({ status, page: { finalUrl: url, status, contentType, bytes, ...(cut ? { cut } : {}) } }),
    };
  }).catch((err: unknown) => {
    // A failure while the body was read (the parser's, a cut connection) says what was answered.
    if (err instanceof CrawlFailure && answered) Object.assign(err, answered);
    throw classify(err, options, url, outer);
  });
}

function classify(err: unknown, options: FetchOptions, url: string, outer?: AbortSignal): Error {
  if (err instanceof CrawlFailure || err instanceof Retryable) return err;
  if (outer?.aborted || (err instanceof ExchangeError && err.reason === 'cancelled')) return outer?.reason instanceof Error ? outer.reason : new Error('cancelled'); // not a page error
  const blocked = findCause(err, (e) => (e as { code?: string }).code === 'blocked_address');
  if (blocked) return new CrawlFailure('blocked_address', (blocked as Error).message);
  if (err instanceof ExchangeError && err.reason === 'deadline') return new CrawlFailure('timeout', `no complete response within timeoutMs (${options.timeoutMs} ms)`);
  const message = (err as Error)?.message ?? String(err);
  const code = (findCause(err, (e) => typeof (e as { code?: unknown }).code === 'string') as { code?: string } | undefined)?.code;
  return new Retryable(new CrawlFailure('network_error', `${code ? `${code}: ` : ''}${message} (${new URL(url).host})`));
}

/** The first error along `err`'s cause chain that matches (undici wraps connector errors). */
export function findCause(err: unknown, match: (e: unknown) => boolean): unknown {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (match(e)) return e;
  }
  return undefined;
}

/** A Retry-After header (seconds or an HTTP date) in ms from now, at most `capMs`. */
export function retryAfterMs(value: string | undefined, capMs = MAX_BACKOFF_MS): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.min(ms, capMs)) : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * robots.txt, read once per origin and turned into compact rules (RFC 9309): 4xx means no rules;
 * an unreachable file (429, 5xx, network error, timeout) means everything is disallowed. Only the
 * first MAX_ROBOTS_BYTES are read and parsed; the rest of a longer file is ignored.
 */
import type { Dispatcher } from 'undici';
import { CrawlFailure } from './crawl-errors';
import { fetchPage, type HopCheck } from './fetch-page';
import { ALLOW_ALL, disallowAll, isAllowed, parseRobotsTxtInSlices, type RobotsRules } from './robots-rules';

/** Google reads 500 KiB and RFC 9309 asks for at least that; bytes past this are ignored. */
export const MAX_ROBOTS_BYTES = 512 * 1024;
/** RFC 9309 2.3.1.2: follow at least five redirects. */
const MAX_ROBOTS_REDIRECTS = 5;

export interface RobotsFetch {
  userAgent: string;
  timeoutMs: number;
}

/** The rules of `origin`'s robots.txt for `fetch.userAgent`. Throws only when `signal` aborts. */
export async function loadRobots(origin: string, fetch: RobotsFetch, dispatcher: Dispatcher, signal?: AbortSignal): Promise<RobotsRules> {
  try {
    return await parseRobotsTxtInSlices(await fetchRobotsText(`${origin}/robots.txt`, fetch, dispatcher, signal), fetch.userAgent);
  } catch (err) {
    if (signal?.aborted) throw err;
    const failure = err instanceof CrawlFailure ? err : new CrawlFailure('network_error', (err as Error)?.message ?? String(err));
    if (failure.code === 'http_error' && failure.status !== undefined && failure.status < 500 && failure.status !== 429) return ALLOW_ALL;
    // A blocked address fails its pages with blocked_address, which says more.
    if (failure.code === 'blocked_address') return ALLOW_ALL;
    return disallowAll(`robots.txt unreachable (${failure.code}: ${failure.message})`);
  }
}

/**
 * The first MAX_ROBOTS_BYTES of the file (decoded), as text; whole lines only when cut. Fetched
 * like a page (same address checks, deadline, decoding and redirect rules), without retries: a
 * 429 or 5xx means unreachable at once.
 */
async function fetchRobotsText(url: string, fetch: RobotsFetch, dispatcher: Dispatcher, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  const collect = {
    write: async (chunk: Buffer) => {
      chunks.push(chunk);
      return true;
    },
  };
  const options = { ...fetch, maxBytes: MAX_ROBOTS_BYTES, maxRedirects: MAX_ROBOTS_REDIRECTS, retries: 0, accept: 'any' as const };
  const { cut } = await fetchPage(url, options, dispatcher, signal, undefined, () => collect);
  const text = Buffer.concat(chunks).toString('utf8');
  // A line cut in the middle could turn `Disallow: /private/x` into `Disallow: /p`: drop it.
  return cut ? text.slice(0, Math.max(0, text.lastIndexOf('\n') + 1)) : text;
}

/**
 * The redirect check a worker applies to every hop: the rules the coordinator already read for
 * the page's own origin, else `rulesFor` (a cache in the worker) for an origin a redirect leads to.
 */
export function robotsHopCheck(pageUrl: string, pageRules: RobotsRules, rulesFor: (origin: string) => Promise<RobotsRules>): HopCheck {
  const origin = new URL(pageUrl).origin;
  return async (url) => {
    const hopOrigin = new URL(url).origin;
    const rules = hopOrigin === origin ? pageRules : await rulesFor(hopOrigin);
    if (isAllowed(rules, url)) return undefined;
    return new CrawlFailure('robots_disallowed', `redirect to ${url}: ${rules.unreachable ?? 'disallowed by robots.txt'}`);
  };
}

/**
 * robots.txt, fetched once per origin per crawl and obeyed (RFC 9309): 4xx means no rules,
 * an unreachable file (5xx, network error, timeout) means everything is disallowed.
 */
import robotsParser from 'robots-parser';
import type { Dispatcher } from 'undici';
import { CrawlFailure } from './crawl-errors';
import { fetchPage, type FetchOptions, type HopCheck } from './fetch-page';

export interface RobotsRules {
  allowed(url: string): boolean;
  /** Seconds between requests the site asks for, if any. */
  crawlDelay?: number;
  /** Why everything is disallowed, when robots.txt could not be read. */
  unreachable?: string;
  /** The robots.txt text the rules came from ('' for none), so a worker can apply them too. */
  source?: string;
}

const ALLOW_ALL: RobotsRules = { allowed: () => true, source: '' };

/** Rules from a robots.txt text. */
export function parseRobots(robotsUrl: string, text: string, userAgent: string): RobotsRules {
  const robots = robotsParser(robotsUrl, text);
  return { allowed: (url) => robots.isAllowed(url, userAgent) !== false, crawlDelay: robots.getCrawlDelay(userAgent), source: text };
}
/** robots.txt files past this are cut (Google reads 500 KiB). */
const MAX_ROBOTS_BYTES = 512 * 1024;

export class RobotsCache {
  private readonly rules = new Map<string, Promise<RobotsRules>>();

  constructor(
    private readonly userAgent: string,
    private readonly options: FetchOptions,
    private readonly dispatcher: Dispatcher,
    private readonly signal?: AbortSignal,
  ) {}

  forUrl(url: string): Promise<RobotsRules> {
    const origin = new URL(url).origin;
    let rules = this.rules.get(origin);
    if (!rules) this.rules.set(origin, (rules = this.load(origin)));
    return rules;
  }

  private async load(origin: string): Promise<RobotsRules> {
    const robotsUrl = `${origin}/robots.txt`;
    try {
      const page = await fetchPage(robotsUrl, { ...this.options, maxBytes: MAX_ROBOTS_BYTES, accept: 'any' }, this.dispatcher, this.signal);
      return parseRobots(robotsUrl, page.body!.toString('utf8'), this.userAgent);
    } catch (err) {
      if (!(err instanceof CrawlFailure)) throw err;
      if (err.code === 'http_error' && err.status !== undefined && err.status < 500) return ALLOW_ALL;
      // A blocked address fails its pages with blocked_address, which says more.
      if (err.code === 'blocked_address' || err.code === 'too_large') return ALLOW_ALL;
      return { allowed: () => false, unreachable: `robots.txt unreachable (${err.code}: ${err.message})` };
    }
  }
}

/**
 * The redirect check a worker applies to every hop: robots.txt of the hop's origin, from the text
 * the coordinator already read for the page's own origin, else fetched (once per thread and
 * origin, kept for a while) for an origin a redirect leads to.
 */
export function robotsHopCheck(pageUrl: string, pageRobots: string, cache: RobotsCache, userAgent: string): HopCheck {
  const origin = new URL(pageUrl).origin;
  const own = parseRobots(`${origin}/robots.txt`, pageRobots, userAgent);
  return async (url) => {
    const rules = new URL(url).origin === origin ? own : await cache.forUrl(url);
    if (rules.allowed(url)) return undefined;
    return new CrawlFailure('robots_disallowed', `redirect to ${url}: ${rules.unreachable ?? 'disallowed by robots.txt'}`);
  };
}

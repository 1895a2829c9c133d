/**
 * robots.txt, read once per origin and turned into compact rules (RFC 9309): 4xx means no rules;
 * an unreachable file (429, 5xx, network error, timeout) means everything is disallowed. Only the
 * first MAX_ROBOTS_BYTES are read and parsed; the rest of a longer file is ignored.
 */
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type Dispatcher, request } from 'undici';
import { CrawlFailure } from './crawl-errors';
import type { HopCheck } from './fetch-page';
import { ALLOW_ALL, disallowAll, isAllowed, parseRobotsTxtInSlices, type RobotsRules } from './robots-rules';

/** Google reads 500 KiB and RFC 9309 asks for at least that; bytes past this are ignored. */
export const MAX_ROBOTS_BYTES = 512 * 1024;
/** RFC 9309 2.3.1.2: follow at least five redirects. */
const MAX_ROBOTS_REDIRECTS = 5;
const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

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
    const failure = err instanceof CrawlFailure ? err : classify(err);
    if (failure.code === 'http_error' && failure.status !== undefined && failure.status < 500 && failure.status !== 429) return ALLOW_ALL;
    // A blocked address fails its pages with blocked_address, which says more.
    if (failure.code === 'blocked_address') return ALLOW_ALL;
    return disallowAll(`robots.txt unreachable (${failure.code}: ${failure.message})`);
  }
}

/** The first MAX_ROBOTS_BYTES of the file (decoded), as text; whole lines only when cut. */
async function fetchRobotsText(url: string, options: RobotsFetch, dispatcher: Dispatcher, outer?: AbortSignal): Promise<string> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = outer ? AbortSignal.any([outer, deadline]) : deadline;
  try {
    for (let hop = 0; ; hop++) {
      const { statusCode: status, headers, body } = await request(url, { dispatcher, signal, headers: { 'user-agent': options.userAgent, accept: 'text/plain,*/*;q=0.5' } });
      const header = (name: string) => [headers[name]].flat()[0];
      if (status >= 300 && status < 400 && header('location')) {
        discard(body);
        if (hop >= MAX_ROBOTS_REDIRECTS) throw new CrawlFailure('too_many_redirects', `more than ${MAX_ROBOTS_REDIRECTS} redirects`);
        const next = new URL(header('location')!, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new CrawlFailure('invalid_url', `redirect to a non-http(s) URL: ${next.protocol}`);
        url = next.href;
        continue;
      }
      if (status >= 300) {
        discard(body);
        throw new CrawlFailure('http_error', `HTTP ${status}`, { status });
      }
      return await readCapped(body, header('content-encoding'));
    }
  } catch (err) {
    if (deadline.aborted && !outer?.aborted) throw new CrawlFailure('timeout', `no complete robots.txt within ${options.timeoutMs} ms`);
    throw err;
  }
}

async function readCapped(body: Readable, encoding: string | undefined): Promise<string> {
  const coding = encoding?.trim().toLowerCase();
  let stream: Readable = body;
  if (coding && coding !== 'identity') {
    const decoder = DECODERS[coding];
    if (!decoder) throw new CrawlFailure('network_error', `unsupported content-encoding: ${coding}`);
    stream = body.pipe(decoder() as unknown as NodeJS.WritableStream) as unknown as Readable;
    body.on('error', (err) => stream.destroy(err));
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let cut = false;
  try {
    for await (const chunk of stream) {
      const piece = (chunk as Buffer).subarray(0, MAX_ROBOTS_BYTES - total);
      chunks.push(piece);
      total += piece.length;
      if (total >= MAX_ROBOTS_BYTES) {
        cut = true;
        break;
      }
    }
  } finally {
    discard(body);
    if (stream !== body) stream.destroy();
  }
  const text = Buffer.concat(chunks, total).toString('utf8');
  // A line cut in the middle could turn `Disallow: /private/x` into `Disallow: /p`: drop it.
  return cut ? text.slice(0, Math.max(0, text.lastIndexOf('\n') + 1)) : text;
}

/** Stops reading a body; the no-op listener keeps the 'error' that destroying emits from crashing the thread. */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function classify(err: unknown): CrawlFailure {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: string }).code === 'blocked_address') return new CrawlFailure('blocked_address', (e as Error).message);
  }
  return new CrawlFailure('network_error', (err as Error)?.message ?? String(err));
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

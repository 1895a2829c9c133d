/**
 * One sitemap document read on a worker thread: fetched like a page (the same safe agent, address
 * checks, deadline, redirect and retry rules, and the caller's maxBytes on the decoded body), then
 * gunzipped if it is gzip (a `.gz` file is usually served as application/gzip, not with a
 * Content-Encoding) with the decompressed size capped at maxBytes too: a gzip bomb stops there.
 * Parsed as a stream with a turn of the event loop between pieces, so the other fetches on the
 * thread go on.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { CrawlFailure, type CrawlError } from './crawl-errors';
import { fetchPage, type FetchOptions, type HopCheck } from './fetch-page';
import { type SitemapKind, SitemapStream } from './sitemap-parse';

export interface SitemapOptions extends FetchOptions {
  /** URLs kept from one document (CRAWL_MAX_LINKS_PER_PAGE). */
  maxUrls: number;
}

export interface SitemapResult {
  url: string;
  /** null when the document was not a sitemap (or could not be read). */
  type: SitemapKind | null;
  urls: string[];
  /** Bytes read from the network (after Content-Encoding) and after gunzip. */
  bytes: number;
  /** Reading stopped at maxBytes (of the download or of the gunzipped text), or at maxUrls. */
  truncatedBy?: 'maxBytes' | 'maxLinks';
  error?: CrawlError;
  /** The HTTP status of a document that could not be read (404: there is none). */
  status?: number;
}

const PIECE_BYTES = 64 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b];

export async function readSitemap(url: string, options: SitemapOptions, dispatcher: Dispatcher, signal?: AbortSignal, checkHop?: HopCheck): Promise<SitemapResult> {
  const chunks: Buffer[] = [];
  const collect = {
    write: async (chunk: Buffer) => {
      chunks.push(chunk);
      return true;
    },
  };
  try {
    const page = await fetchPage(url, { ...options, accept: 'any' }, dispatcher, signal, checkHop, () => collect);
    const raw = Buffer.concat(chunks);
    const sitemap = new SitemapStream(page.finalUrl, options.maxUrls);
    const gzipped = raw[0] === GZIP_MAGIC[0] && raw[1] === GZIP_MAGIC[1];
    let cut: 'maxBytes' | undefined = page.cut;
    let bytes = raw.length;
    if (gzipped) {
      const unzipped = await gunzipInto(raw, options.maxBytes, sitemap, signal, page.cut !== undefined);
      bytes = unzipped.bytes;
      cut ??= unzipped.cut;
    } else {
      await feed(raw.toString('utf8'), sitemap);
    }
    sitemap.end();
    const truncatedBy = sitemap.full ? 'maxLinks' : cut;
    return { url, type: sitemap.type ?? null, urls: sitemap.urls, bytes, ...(truncatedBy ? { truncatedBy } : {}) };
  } catch (err) {
    if (!(err instanceof CrawlFailure)) throw err; // cancelled, or a bug
    return { url, type: null, urls: [], bytes: 0, error: err.toJSON(), ...(err.status !== undefined ? { status: err.status } : {}) };
  }
}

/** Gunzips into the parser up to `cap` bytes of output; a truncated or corrupt stream ends where it breaks. */
async function gunzipInto(raw: Buffer, cap: number, sitemap: SitemapStream, signal: AbortSignal | undefined, rawCut: boolean): Promise<{ bytes: number; cut?: 'maxBytes' }> {
  const gunzip = createGunzip();
  gunzip.end(raw);
  const decoder = new TextDecoder('utf-8');
  let total = 0;
  try {
    // Reading pulls output as it is consumed (16 KiB at a time): a bomb never inflates past the cap.
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw signal.reason;
      const room = cap - total;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      total += piece.length;
      await feed(decoder.decode(piece, { stream: true }), sitemap);
      if (piece.length < chunk.length || sitemap.full) return { bytes: total, ...(piece.length < chunk.length ? { cut: 'maxBytes' as const } : {}) };
    }
    return { bytes: total };
  } catch (err) {
    if (signal?.aborted) throw err;
    // A download cut at maxBytes ends mid-stream: what was inflated before is kept.
    if (rawCut) return { bytes: total, cut: 'maxBytes' };
    throw new CrawlFailure('network_error', `invalid gzip data: ${(err as Error).message}`);
  } finally {
    gunzip.destroy();
  }
}

async function feed(text: string, sitemap: SitemapStream): Promise<void> {
  for (let offset = 0; offset < text.length && !sitemap.full; offset += PIECE_BYTES) {
    sitemap.write(text.slice(offset, offset + PIECE_BYTES));
    await nextTurn();
  }
}

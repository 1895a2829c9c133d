/**
 * A page body, fed chunk by chunk as it is read, in; its title and links out. An ordinary page
 * is held until it ends, then parsed: by the streaming parser when only links are wanted (see
 * linksOnly), into a DOM with cheerio when content is (formats, select).
 * A page that grows past `domMaxBytes` is never turned into a DOM: what was held is decoded and
 * parsed as a stream (charset sniffed from its first bytes), then every later chunk as it
 * arrives, so the body is never held whole. Parsing gives the event loop a turn after every
 * piece, so the other fetches on the thread keep going.
 *
 * Content (formats, select: content/page-content.ts) is made from the same DOM after the links,
 * within what is left of the parse budget; a streamed page's content is made from its first
 * `domMaxBytes` only (`domMaxBytes` names the cut), so it costs what an ordinary page does.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeHtml, htmlDecoder, sniffEncoding } from './decode-html';
import type { ContentRequest } from './content/content-options';
import { type PageContent, pageContent } from './content/page-content';
import { type ExtractOptions, linksOf, parseDocument } from './extract-links';
import type { ExtractedPage } from './link-collector';
import { LinkStream } from './stream-links';

export interface PageParseOptions extends ExtractOptions {
  /** Bodies up to this many decoded bytes are parsed into a DOM; bigger ones are streamed. */
  domMaxBytes: number;
  /** Content wanted besides the links; none: links only (no extra work). */
  content?: ContentRequest;
}

export interface ParsedPage extends ExtractedPage {
  content?: PageContent;
}

/** Bytes go to the streaming parser in pieces this big (about a millisecond of parsing), each followed by a turn of the event loop. */
const PIECE_BYTES = 64 * 1024;

export class PageParser {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private stream?: { decoder: ReturnType<typeof htmlDecoder>; links: LinkStream };
  /** A streamed page's first domMaxBytes, decoded, when content is wanted. */
  private contentHtml?: string;

  constructor(
    private readonly pageUrl: string,
    private readonly contentType: string | null,
    private readonly options: PageParseOptions,
  ) {}

  /**
   * Takes the next chunk of the decompressed body; false when no more is wanted (list cut). A chunk
   * that is only held answers at once, not with a promise: most pages are nothing but such chunks.
   */
  write(chunk: Buffer): boolean | Promise<boolean> {
    if (this.stream) return this.feed(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= this.options.domMaxBytes) return true;
    const held = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    if (this.options.content) this.contentHtml = decodeHtml(held, this.contentType);
    this.stream = { decoder: htmlDecoder(sniffEncoding(held, this.contentType)), links: new LinkStream(this.pageUrl, this.options) };
    return this.feed(held);
  }

  /** The body is over, or was cut at maxBytes (`cut`): the page's title, links and content. */
  finish(cut?: 'maxBytes'): ParsedPage {
    const started = performance.now();
    let page: ParsedPage;
    if (this.stream) {
      this.stream.links.write(this.stream.decoder.end() ?? '');
      page = this.stream.links.end();
      const html = this.contentHtml;
      this.contentHtml = undefined;
      if (html !== undefined) page.content = this.contentOf(parseDocument(html), started - this.stream.links.parseMs, 'domMaxBytes');
    } else {
      const html = decodeHtml(Buffer.concat(this.held, this.heldBytes), this.contentType);
      this.held = [];
      if (this.options.content) {
        const $ = parseDocument(html);
        page = linksOf($, this.pageUrl, this.options);
        page.content = this.contentOf($, started);
      } else page = linksOnly(html, this.pageUrl, this.options);
    }
    // A list already cut by the cap or the budget was cut by that, wherever reading stopped.
    return cut && !page.truncated ? { ...page, truncated: true, truncatedBy: cut } : page;
  }

  /** Content within the page's parse budget, counted from `since`; `partial` names what already cut its source. */
  private contentOf($: ReturnType<typeof parseDocument>, since: number, partial?: 'domMaxBytes'): PageContent {
    const content = pageContent($, this.pageUrl, this.options.content!, since + this.options.budgetMs);
    // The source was cut before any conversion began: that is the first limit.
    return partial ? { ...content, cut: partial } : content;
  }

  private async feed(bytes: Buffer): Promise<boolean> {
    const { decoder, links } = this.stream!;
    for (let offset = 0; offset < bytes.length && !links.done; offset += PIECE_BYTES) {
      links.write(decoder.write(bytes.subarray(offset, offset + PIECE_BYTES)));
      // Chunks that arrive back to back resolve as microtasks: without this, a fast server would
      // keep the thread parsing one page until its end.
      await nextTurn();
    }
    return !links.done;
  }
}

/**
 * Title and links of a whole page without a DOM: the streaming parser over the text, in pieces so
 * that the parse budget is looked at between them. On small pages it costs about a quarter of the
 * DOM path (0.27-0.32 against 0.94-1.2 ms per page over the 1,173 pages of the PostgreSQL 15
 * manual, one thread): most of a DOM's cost is allocating nodes that the link walk reads once.
 */
export function linksOnly(html: string, pageUrl: string, options: ExtractOptions): ParsedPage {
  const links = new LinkStream(pageUrl, options);
  for (let offset = 0; offset < html.length && !links.done; offset += PIECE_BYTES) links.write(html.slice(offset, offset + PIECE_BYTES));
  return links.end();
}

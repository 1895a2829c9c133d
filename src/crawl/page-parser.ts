/**
 * A page body, fed chunk by chunk as it is read, in; its title and links out. An ordinary page
 * is held until it ends and parsed into a DOM with cheerio (the faster path for small pages).
 * A page that grows past `domMaxBytes` is never turned into a DOM: what was held is decoded and
 * parsed as a stream (charset sniffed from its first bytes), then every later chunk as it
 * arrives, so the body is never held whole. Parsing gives the event loop a turn after every
 * piece, so the other fetches on the thread keep going.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeHtml, htmlDecoder, sniffEncoding } from './decode-html';
import { type ExtractOptions, extractLinks } from './extract-links';
import type { ExtractedPage } from './link-collector';
import { LinkStream } from './stream-links';

export interface PageParseOptions extends ExtractOptions {
  /** Bodies up to this many decoded bytes are parsed into a DOM; bigger ones are streamed. */
  domMaxBytes: number;
}

/** Bytes go to the streaming parser in pieces this big (about a millisecond of parsing), each followed by a turn of the event loop. */
const PIECE_BYTES = 64 * 1024;

export class PageParser {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private stream?: { decoder: ReturnType<typeof htmlDecoder>; links: LinkStream };

  constructor(
    private readonly pageUrl: string,
    private readonly contentType: string | null,
    private readonly options: PageParseOptions,
  ) {}

  /** Takes the next chunk of the decompressed body; false when no more is wanted (list cut). */
  async write(chunk: Buffer): Promise<boolean> {
    if (this.stream) return this.feed(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= this.options.domMaxBytes) return true;
    const held = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.stream = { decoder: htmlDecoder(sniffEncoding(held, this.contentType)), links: new LinkStream(this.pageUrl, this.options) };
    return this.feed(held);
  }

  /** The body is over, or was cut at maxBytes (`cut`): the page's title and links. */
  finish(cut?: 'maxBytes'): ExtractedPage {
    let page: ExtractedPage;
    if (this.stream) {
      this.stream.links.write(this.stream.decoder.end() ?? '');
      page = this.stream.links.end();
    } else {
      page = extractLinks(decodeHtml(Buffer.concat(this.held, this.heldBytes), this.contentType), this.pageUrl, this.options);
      this.held = [];
    }
    // A list already cut by the cap or the budget was cut by that, wherever reading stopped.
    return cut && !page.truncated ? { ...page, truncated: true, truncatedBy: cut } : page;
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

/**
 * Title and links of a big page, parsed as a stream with htmlparser2's Parser (the parser cheerio
 * uses, with the same settings) and callbacks: no DOM, no whole body. Text goes in piece by piece
 * as it is decoded; what the parser keeps between pieces is the unfinished tag or text run, so a
 * 48 MB page costs about what its link list does. The link cap and the time budget (time spent
 * parsing, not waiting for the network) stop it early.
 */
import { ShallowParser } from './shallow-parser';
import type { ExtractOptions } from './extract-links';
import { type ExtractedPage, LinkCollector } from './link-collector';

export class LinkStream {
  private readonly page: LinkCollector;
  private readonly parser: ShallowParser;
  private spentMs = 0;
  /** Inside <script> or <style>: text that is not content. */
  private inCode = 0;

  constructor(
    pageUrl: string,
    private readonly options: ExtractOptions,
  ) {
    const page = (this.page = new LinkCollector(pageUrl, options.maxLinks, options.fingerprint));
    this.parser = new ShallowParser(
      {
        onopentag: (name, attribs) => {
          page.endText();
          if (name === 'a' || name === 'area') {
            // At the cap the rest of the piece is not worth tokenizing.
            if (attribs.href !== undefined && !page.anchor(attribs.href, attribs.rel)) this.parser.pause();
          } else if (name === 'title') page.openTitle();
          else if (name === 'base' && attribs.href !== undefined) page.baseHref(attribs.href);
          else if (name === 'link' && attribs.href !== undefined) page.linkTag(attribs.href, attribs.rel);
          else if (name === 'script' || name === 'style') this.inCode++;
        },
        ontext: (text) => {
          page.text(text);
          if (this.inCode === 0) page.content(text);
        },
        oncomment: () => page.endText(),
        onclosetag: (name) => {
          page.endText();
          if (name === 'title') page.closeTitle();
          else if ((name === 'script' || name === 'style') && this.inCode > 0) this.inCode--;
        },
      },
      { decodeEntities: false },
    );
  }

  /** Time spent parsing so far (the budget counts it, not the waits for the network). */
  get parseMs(): number {
    return this.spentMs;
  }

  /** True once the list is cut: later text would be ignored, so the caller can stop reading. */
  get done(): boolean {
    return this.page.done;
  }

  /** Parses the next piece of the page's text. */
  write(text: string): void {
    if (this.page.done || text.length === 0) return;
    const started = performance.now();
    this.parser.write(text);
    this.spentMs += performance.now() - started;
    if (this.spentMs > this.options.budgetMs) this.page.stop('parseBudget');
  }

  /** The text is over (or the caller stopped reading): flushes what the parser holds. */
  end(): ExtractedPage {
    if (!this.page.done) this.parser.end();
    return this.page.result();
  }
}

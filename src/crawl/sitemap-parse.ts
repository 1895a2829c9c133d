/**
 * A sitemap (https://www.sitemaps.org/protocol.html) parsed as a stream: a `<urlset>` lists pages,
 * a `<sitemapindex>` lists more sitemaps; either way only the `<loc>` texts are kept. Pure, for a
 * worker thread. htmlparser2 in XML mode decodes the five XML entities and numeric references and
 * nothing else: a DOCTYPE is never read, so no entity is ever expanded (no "billion laughs").
 * Namespace prefixes (`<sm:loc>`) are ignored; anything that is not a sitemap yields no URLs.
 */
import { ShallowParser } from './shallow-parser';
import { normalizeUrl } from './url-normalize';

export type SitemapKind = 'urlset' | 'sitemapindex';

/** A `<loc>` longer than this is no URL we would keep (MAX_URL_LENGTH), and is not held whole. */
const MAX_LOC_CHARS = 4096;

export class SitemapStream {
  private readonly parser: ShallowParser;
  private kind: SitemapKind | undefined;
  private depth = 0;
  private loc: string | undefined;
  private readonly seen = new Set<string>();
  readonly urls: string[] = [];
  /** The URL list reached `maxUrls`: the rest of the document is not worth parsing. */
  full = false;

  constructor(
    private readonly base: string,
    private readonly maxUrls: number,
  ) {
    this.parser = new ShallowParser(
      {
        onopentag: (name) => {
          const local = localName(name);
          if (this.depth++ === 0) this.kind = local === 'urlset' || local === 'sitemapindex' ? local : undefined;
          else if (local === 'loc' && this.kind && this.depth === 3) this.loc = '';
        },
        ontext: (text) => {
          if (this.loc !== undefined && this.loc.length < MAX_LOC_CHARS) this.loc += text.slice(0, MAX_LOC_CHARS - this.loc.length);
        },
        onclosetag: () => {
          this.depth--;
          if (this.loc === undefined || this.depth !== 2) return;
          this.take(this.loc.trim());
          this.loc = undefined;
        },
      },
      { xmlMode: true, decodeEntities: true },
    );
  }

  /** What the document is, once its root element was seen (undefined: not a sitemap). */
  get type(): SitemapKind | undefined {
    return this.kind;
  }

  write(text: string): void {
    if (!this.full) this.parser.write(text);
  }

  end(): void {
    if (!this.full) this.parser.end();
  }

  private take(loc: string): void {
    // Sitemap URLs must be absolute; relative ones are resolved against the sitemap anyway.
    const url = loc ? normalizeUrl(loc, this.base) : undefined;
    if (!url || this.seen.has(url)) return;
    this.seen.add(url);
    this.urls.push(url);
    if (this.urls.length >= this.maxUrls) {
      this.full = true;
      this.parser.pause();
    }
  }
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return (colon >= 0 ? name.slice(colon + 1) : name).toLowerCase();
}

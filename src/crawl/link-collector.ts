/**
 * Where a page's markup becomes its result: title, links, nofollow links, truncation. Both
 * parsers feed it (the cheerio walk for pages whose content is wanted, the streaming parser for
 * the others and for big ones), in
 * document order and with the raw, undecoded attribute and title text, so that one set of rules
 * (entity decoding, `<base href>`, normalisation, de-duplication, the link cap) applies to both
 * and both give the same result for the same page.
 *
 * `<base href>` applies to the links after it: a stream cannot go back, and the element belongs
 * in `<head>`, before any link, anyway.
 */
import { decodeHTML } from 'entities';
import { Simhash } from './simhash';
import { normalizeUrl } from './url-normalize';

/** The rule that cut a page's link list short. */
export type TruncatedBy = 'maxLinks' | 'parseBudget' | 'maxBytes';

export interface ExtractedPage {
  title: string | null;
  /** Absolute, normalised, de-duplicated http(s) URLs in page order. */
  links: string[];
  /** The subset of links marked rel=nofollow: reported, not followed. */
  nofollow: string[];
  /** True when the link list was cut short; `truncatedBy` says by what. */
  truncated: boolean;
  truncatedBy?: TruncatedBy;
  /** The first `<link rel="canonical">`, absolute and normalised. */
  canonical?: string;
  /** Simhash of the page's text (src/crawl/simhash.ts), when asked for and the page has enough words. */
  fingerprint?: string;
}

const MAX_TITLE = 500;
/** Raw title text kept: plenty for MAX_TITLE characters, and a hostile 40 MB title stays 16 KB. */
const MAX_RAW_TITLE = 16 * 1024;
const NOFOLLOW = /(^|\s)nofollow(\s|$)/i;
const CANONICAL = /(^|\s)canonical(\s|$)/i;

export class LinkCollector {
  private base: string;
  private baseSeen = false;
  private readonly seen = new Set<string>();
  private readonly links: string[] = [];
  private readonly nofollow: string[] = [];
  private rawTitle: string | undefined;
  private inTitle = false;
  private cut: TruncatedBy | undefined;
  private canonical: string | undefined;
  private canonicalSeen = false;
  private readonly simhash: Simhash | undefined;

  constructor(
    pageUrl: string,
    private readonly maxLinks: number,
    fingerprint = false,
  ) {
    this.base = pageUrl;
    if (fingerprint) this.simhash = new Simhash();
  }

  /** A `<link href rel>`, raw: the first rel=canonical counts. */
  linkTag(href: string, rel: string | undefined): void {
    if (this.canonicalSeen || this.cut || !rel || !CANONICAL.test(rel)) return;
    this.canonicalSeen = true;
    this.canonical = normalizeUrl(decodeHTML(href), this.base);
  }

  /** Text of the page outside scripts and styles, raw, in document order (the fingerprint's). */
  content(text: string): void {
    if (!this.cut) this.simhash?.add(text);
  }

  /** The text node ended: words never run across elements (both parsers then split text alike). */
  endText(): void {
    this.simhash?.boundary();
  }

  /** True once the list was cut: nothing more is taken, the parser may stop. */
  get done(): boolean {
    return this.cut !== undefined;
  }

  /** An `<a href>` or `<area href>`, raw. Returns false when the cap is reached (the list is cut). */
  anchor(href: string, rel: string | undefined): boolean {
    if (this.cut) return false;
    if (this.links.length >= this.maxLinks) {
      this.stop('maxLinks');
      return false;
    }
    const url = normalizeUrl(decodeHTML(href), this.base);
    if (!url || this.seen.has(url)) return true;
    this.seen.add(url);
    this.links.push(url);
    if (rel && NOFOLLOW.test(rel)) this.nofollow.push(url);
    return true;
  }

  /** A `<base href>`; only the first one counts. */
  baseHref(href: string): void {
    if (this.baseSeen || this.cut) return;
    this.baseSeen = true;
    this.base = normalizeUrl(decodeHTML(href), this.base) ?? this.base;
  }

  /** `<title>` opens; only the first one counts. */
  openTitle(): void {
    if (this.rawTitle !== undefined || this.cut) return;
    this.rawTitle = '';
    this.inTitle = true;
  }

  /** Text, raw; kept only inside the first title. */
  text(text: string): void {
    if (!this.inTitle || this.rawTitle!.length >= MAX_RAW_TITLE) return;
    this.rawTitle += text.slice(0, MAX_RAW_TITLE - this.rawTitle!.length);
  }

  closeTitle(): void {
    this.inTitle = false;
  }

  /** Cuts the list (time budget, byte cap); the first reason sticks. */
  stop(reason: TruncatedBy): void {
    this.cut ??= reason;
    this.inTitle = false;
  }

  result(): ExtractedPage {
    const title = this.rawTitle === undefined ? '' : decodeHTML(this.rawTitle).replace(/\s+/g, ' ').trim();
    return {
      title: title ? title.slice(0, MAX_TITLE) : null,
      links: this.links,
      nofollow: this.nofollow,
      truncated: this.cut !== undefined,
      ...(this.cut ? { truncatedBy: this.cut } : {}),
      ...(this.canonical ? { canonical: this.canonical } : {}),
      ...withFingerprint(this.simhash?.digest()),
    };
  }
}

function withFingerprint(fingerprint: string | undefined): { fingerprint?: string } {
  return fingerprint ? { fingerprint } : {};
}

/**
 * What a crawl asks of each page's content (POST /crawl `formats`, `onlyMainContent`, `select`,
 * `maxContentChars`) and the fixed bounds that keep a hostile page's content affordable. Plain
 * data: it travels in every page task, to this instance's threads or another's.
 */

export const FORMATS = ['links', 'text', 'markdown', 'html'] as const;
export type Format = (typeof FORMATS)[number];
/** The formats that are content (converted from the page), as opposed to its link list. */
export const CONTENT_FORMATS = ['text', 'markdown', 'html'] as const;
export type ContentFormat = (typeof CONTENT_FORMATS)[number];

export interface SelectSpec {
  css: string;
  /** Read this attribute instead of the text. */
  attr?: string;
  /** Every match (up to SELECT_MAX_VALUES) instead of the first. */
  all?: boolean;
}

export interface ContentRequest {
  formats: ContentFormat[];
  onlyMainContent: boolean;
  select: Record<string, SelectSpec>;
  /** Characters kept per format per page; the rest is cut (`truncatedBy: contentChars`). */
  maxChars: number;
}

/** Fields one `select` may name, and the length of a field's name. */
export const SELECT_MAX_FIELDS = 20;
export const SELECT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Characters of one CSS selector, and of an attribute name. */
export const SELECT_MAX_CSS = 300;
export const SELECT_MAX_ATTR = 100;
/** Values an `all: true` field keeps, and characters per value. */
export const SELECT_MAX_VALUES = 100;
export const SELECT_MAX_VALUE_CHARS = 2_000;

/**
 * The tree that content is made from is bounded before any converter sees it (see prune.ts):
 * elements kept, nesting depth (deeper subtrees become their text), children per element, and
 * characters per attribute value (longer ones are dropped). Chosen so that the worst page that
 * fits CRAWL_DOM_MAX_BYTES converts in well under the default parse budget (docs/api.md, Content).
 */
export const CONTENT_MAX_ELEMENTS = 50_000;
export const CONTENT_MAX_DEPTH = 64;
export const CONTENT_MAX_CHILDREN = 1_000;
export const CONTENT_MAX_ATTR_CHARS = 2_048;

/** What cut a page's content short (its links may be whole): see PageResult.truncatedBy. */
export type ContentCut = 'contentChars' | 'contentElements' | 'domMaxBytes' | 'parseBudget';

/** The content asked for by a request, or undefined when only links are (today's pages, no extra work). */
export function contentRequestOf(request: { formats: readonly Format[]; onlyMainContent: boolean; select?: Record<string, SelectSpec>; maxContentChars: number }): ContentRequest | undefined {
  const formats = CONTENT_FORMATS.filter((format) => request.formats.includes(format));
  const select = request.select ?? {};
  if (formats.length === 0 && Object.keys(select).length === 0) return undefined;
  return { formats, onlyMainContent: request.onlyMainContent, select, maxChars: request.maxContentChars };
}

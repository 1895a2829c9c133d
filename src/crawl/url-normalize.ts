/**
 * URL normalisation for de-duplication. Pure. WHATWG URL already lower-cases scheme and host,
 * drops default ports and converts IDN hosts to punycode; on top of that fragments are dropped
 * and percent-encoding is made canonical (unreserved characters decoded, hex upper-cased).
 */
const SKIPPED_SCHEMES = /^\s*(javascript|mailto|tel|data|vbscript|about|blob|file|ftp):/i;
/** RFC 3986 unreserved characters never need escaping: %41 and A are the same URL. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export const MAX_URL_LENGTH = 2048;

/** Absolute, normalised http(s) URL for `href` seen on a page at `base`; undefined to skip it. */
export function normalizeUrl(href: string, base?: string | URL): string | undefined {
  if (SKIPPED_SCHEMES.test(href)) return undefined;
  let url: URL;
  try {
    url = new URL(href.trim(), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  let text = url.href;
  // Setting URL parts re-parses the whole URL: only do it when escapes need work (this runs for
  // every link of every page). A '#' in href can only start the fragment.
  if (text.includes('%')) {
    url.hash = '';
    url.pathname = canonicalEscapes(url.pathname);
    url.search = canonicalEscapes(url.search);
    text = url.href;
  }
  const hash = text.indexOf('#');
  if (hash >= 0) text = text.slice(0, hash);
  return text.length <= MAX_URL_LENGTH ? text : undefined;
}

function canonicalEscapes(part: string): string {
  return part.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * `url` without the query parameters whose (lower-cased, raw) name `drop` says to drop; the rest
 * keep their order and encoding. A URL left with no parameter loses its `?`.
 */
export function removeQueryParams(url: string, drop: (name: string) => boolean): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const parts = url.slice(question + 1).split('&');
  const kept = parts.filter((part) => {
    const equals = part.indexOf('=');
    return part !== '' && !drop((equals >= 0 ? part.slice(0, equals) : part).toLowerCase());
  });
  if (kept.length === parts.length) return url;
  return kept.length > 0 ? `${url.slice(0, question)}?${kept.join('&')}` : url.slice(0, question);
}

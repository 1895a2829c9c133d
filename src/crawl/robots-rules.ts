/**
 * robots.txt as compact, serialisable rules (RFC 9309). Pure: used on the main thread and in
 * workers. A file is parsed once into the Allow/Disallow patterns of the group(s) that apply to
 * our user agent (capped), and a URL is matched against them in time linear in path length x
 * pattern length, whatever the patterns (see `matchesPattern`).
 */

export interface RobotsRules {
  /** Allow patterns of the group(s) that apply to us, normalised, in file order. */
  allow: string[];
  /** Disallow patterns, likewise. */
  disallow: string[];
  /** Seconds between requests the site asks for, if any. */
  crawlDelay?: number;
  /** Why everything is disallowed, when robots.txt could not be read. */
  unreachable?: string;
  /** Rules past the caps were dropped (the first ones in file order are kept). */
  truncated?: boolean;
  /** `Sitemap:` URLs (absolute http(s), whatever the group), the first MAX_ROBOTS_SITEMAPS. */
  sitemaps?: string[];
}

/** Sitemap lines kept per robots.txt: real files list one to a handful. */
export const MAX_ROBOTS_SITEMAPS = 20;

export interface RobotsCaps {
  /** Allow + Disallow rules kept per origin. */
  maxRules: number;
  /** Characters of all kept patterns together. */
  maxPatternChars: number;
}

/**
 * Caps per origin. Real groups hold tens to a few hundred rules; these bound both the memory an
 * origin's rules take (~130 KB at most) and one check (~1,000 linear scans of the path).
 */
export const ROBOTS_CAPS: RobotsCaps = { maxRules: 1_000, maxPatternChars: 64 * 1024 };

export const ALLOW_ALL: RobotsRules = Object.freeze({ allow: [], disallow: [] }) as RobotsRules;

export function disallowAll(reason: string): RobotsRules {
  return { allow: [], disallow: [], unreachable: reason };
}

/**
 * The product token robots.txt groups are matched on (RFC 9309 2.2.1): the leading run of
 * letters, `-` and `_` of a user agent, lower-cased ("Crawler-X/1.0 (+url)" -> "crawler-x").
 */
export function productToken(userAgent: string): string {
  return /^[A-Za-z_-]*/.exec(userAgent.trim())![0].toLowerCase();
}

interface Collected {
  allow: string[];
  disallow: string[];
  chars: number;
  crawlDelay?: number;
  truncated?: boolean;
}

/**
 * The rules of a robots.txt for `userAgent`, fed line by line: the groups naming its product
 * token, merged; if none, the `*` groups, merged; if none either, no rules. Lines are
 * `key: value # comment`; keys are case-insensitive; unknown keys (Sitemap, Host...) are skipped
 * without ending a group; a User-agent line after a rule starts a new group; rules before any
 * User-agent line are ignored.
 */
export class RobotsParser {
  private readonly token: string;
  private readonly specific: Collected = { allow: [], disallow: [], chars: 0 };
  private readonly star: Collected = { allow: [], disallow: [], chars: 0 };
  private foundSpecific = false;
  private agents: string[] = [];
  private afterRule = true;
  private readonly sitemaps: string[] = [];

  constructor(
    userAgent: string,
    private readonly caps: RobotsCaps = ROBOTS_CAPS,
  ) {
    this.token = productToken(userAgent);
  }

  line(line: string): void {
    const hash = line.indexOf('#');
    const content = hash >= 0 ? line.slice(0, hash) : line;
    const colon = content.indexOf(':');
    if (colon < 0) return;
    const key = content.slice(0, colon).trim().toLowerCase();
    const value = content.slice(colon + 1).trim();
    if (key === 'user-agent') {
      if (this.afterRule) this.agents = [];
      this.afterRule = false;
      this.agents.push(value === '*' ? '*' : productToken(value));
      return;
    }
    if (key === 'sitemap') return this.sitemap(value);
    if (key !== 'allow' && key !== 'disallow' && key !== 'crawl-delay') return;
    this.afterRule = true;
    let into: Collected;
    if (this.token && this.agents.includes(this.token)) {
      this.foundSpecific = true;
      into = this.specific;
    } else if (this.agents.includes('*')) into = this.star;
    else return;
    if (key === 'crawl-delay') {
      const seconds = Number(value);
      if (value && Number.isFinite(seconds) && seconds >= 0) into.crawlDelay ??= seconds;
    } else if (value && !into.truncated) addRule(into, key === 'allow', normalizePattern(value), this.caps);
  }

  result(): RobotsRules {
    const chosen = this.foundSpecific ? this.specific : this.star;
    return {
      allow: chosen.allow,
      disallow: chosen.disallow,
      ...(chosen.crawlDelay !== undefined ? { crawlDelay: chosen.crawlDelay } : {}),
      ...(chosen.truncated ? { truncated: true } : {}),
      ...(this.sitemaps.length > 0 ? { sitemaps: this.sitemaps } : {}),
    };
  }

  /** A Sitemap line belongs to no group (RFC 9309 2.2.4) and does not end one. */
  private sitemap(value: string): void {
    if (this.sitemaps.length >= MAX_ROBOTS_SITEMAPS || value.length > 2048) return;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return;
    url.hash = '';
    if (!this.sitemaps.includes(url.href)) this.sitemaps.push(url.href);
  }
}

/** Parses a whole robots.txt text at once. */
export function parseRobotsTxt(text: string, userAgent: string, caps: RobotsCaps = ROBOTS_CAPS): RobotsRules {
  const parser = new RobotsParser(userAgent, caps);
  for (let at = text.charCodeAt(0) === 0xfeff ? 1 : 0; at < text.length; ) at = feedLine(text, at, parser);
  return parser.result();
}

/**
 * Parses a robots.txt text a slice of lines at a time, yielding to the event loop in between:
 * 512 KiB of one-character lines is ~250,000 lines, tens of ms of work that the main thread
 * must not do in one go.
 */
export async function parseRobotsTxtInSlices(text: string, userAgent: string, linesPerSlice = 1_000): Promise<RobotsRules> {
  const parser = new RobotsParser(userAgent);
  for (let at = text.charCodeAt(0) === 0xfeff ? 1 : 0, lines = 0; at < text.length; lines++) {
    if (lines === linesPerSlice) {
      lines = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    at = feedLine(text, at, parser);
  }
  return parser.result();
}

/** Feeds the line starting at `at` (ended by CRLF, LF or CR); returns where the next starts. */
function feedLine(text: string, at: number, parser: RobotsParser): number {
  let end = at;
  for (let c = text.charCodeAt(end); end < text.length && c !== 10 && c !== 13; c = text.charCodeAt(++end));
  parser.line(text.slice(at, end));
  if (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10) end++;
  return end + 1;
}

function addRule(into: Collected, allow: boolean, pattern: string, caps: RobotsCaps): void {
  if (into.truncated) return; // keep a prefix of the file, not a sample of it
  if (into.allow.length + into.disallow.length >= caps.maxRules || into.chars + pattern.length > caps.maxPatternChars) {
    into.truncated = true;
    return;
  }
  into.chars += pattern.length;
  (allow ? into.allow : into.disallow).push(pattern);
}

/** True when `url` may be fetched. Longest matching pattern wins; Allow wins a tie (RFC 9309 2.2.2). */
export function isAllowed(rules: RobotsRules, url: string): boolean {
  if (rules.unreachable !== undefined) return false;
  if (rules.disallow.length === 0) return true;
  const parsed = new URL(url);
  const path = canonicalEscapes(parsed.pathname + parsed.search);
  const disallowed = longestMatch(rules.disallow, path);
  return disallowed < 0 || longestMatch(rules.allow, path) >= disallowed;
}

/** Memory the rules take, roughly (UTF-16 strings plus array and object overhead). */
export function robotsRulesBytes(rules: RobotsRules): number {
  let bytes = 200 + (rules.unreachable?.length ?? 0) * 2;
  for (const pattern of rules.allow) bytes += 32 + pattern.length * 2;
  for (const pattern of rules.disallow) bytes += 32 + pattern.length * 2;
  for (const url of rules.sitemaps ?? []) bytes += 32 + url.length * 2;
  return bytes;
}

function longestMatch(patterns: readonly string[], path: string): number {
  let best = -1;
  for (const pattern of patterns) if (pattern.length > best && matchesPattern(pattern, path)) best = pattern.length;
  return best;
}

/**
 * Whether a robots.txt pattern matches `path` from its start: `*` is any run of characters, a
 * final `$` anchors at the end, anything else is literal. Greedy, with no backtracking: with `*`
 * as the only wildcard, the literal pieces between stars can each be taken at their leftmost
 * occurrence after the previous one (a later occurrence never helps), and the last piece of a
 * `$` pattern must end the path. Each piece is one native indexOf from where the last ended, so
 * a check costs O(path + pattern) in practice, never more than O(path x pattern).
 */
export function matchesPattern(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith('$');
  const end = anchored ? pattern.length - 1 : pattern.length;
  let star = pattern.indexOf('*');
  if (star < 0 || star >= end) star = end;
  if (!path.startsWith(pattern.slice(0, star))) return false;
  if (star === end) return !anchored || path.length === end;
  let at = star;
  for (let from = star + 1; ; ) {
    let next = pattern.indexOf('*', from);
    if (next < 0 || next >= end) next = end;
    const piece = pattern.slice(from, next);
    if (next === end) return anchored ? path.length - piece.length >= at && path.endsWith(piece) : path.indexOf(piece, at) >= 0;
    if (piece) {
      const found = path.indexOf(piece, at);
      if (found < 0) return false;
      at = found + piece.length;
    }
    from = next + 1;
  }
}

/**
 * Patterns are compared with normalised URLs (src/crawl/url-normalize.ts), so they get the same
 * treatment: non-ASCII percent-encoded as UTF-8 (as robots-parser did), escapes of unreserved
 * characters decoded, other escapes upper-cased. `*` and `$` are left alone (%2A stays literal).
 */
export function normalizePattern(pattern: string): string {
  let encoded: string;
  try {
    encoded = encodeURI(pattern).replace(/%25/g, '%');
  } catch {
    encoded = pattern; // a lone surrogate: keep the text as written
  }
  return canonicalEscapes(encoded);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function canonicalEscapes(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

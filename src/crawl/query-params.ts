/**
 * `ignoreQueryParams`: query parameters that never make a page different (click and campaign
 * trackers), removed from every URL the frontier considers, so `/a?utm_source=x` and `/a` are one
 * page. Patterns are parameter names with `*` for any run of characters, matched case-insensitively.
 * Pure; the main thread runs it for every discovered link, so a pattern is a tiny glob, never a
 * regular expression: matching is linear-time per star and names past MAX_NAME are never matched.
 */
import { removeQueryParams } from './url-normalize';

export const DEFAULT_IGNORED_PARAMS = ['utm_*', 'fbclid', 'gclid', 'dclid', 'gbraid', 'wbraid', 'msclkid', 'yclid', 'mc_cid', 'mc_eid', '_ga', '_gl', 'igshid', '_hsenc', '_hsmi', 'mkt_tok'];
export const MAX_IGNORED_PARAMS = 100;
/** What a pattern may be: a parameter name's characters and at most two stars, 1..64 characters. */
export const PARAM_PATTERN = /^(?=[^*]*(\*[^*]*){0,2}$)[A-Za-z0-9_.\-[\]*]{1,64}$/;
const MAX_NAME = 256;

export class QueryParamFilter {
  private readonly exact = new Set<string>();
  private readonly globs: string[][] = [];

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns.map((p) => p.toLowerCase())) {
      if (pattern.includes('*')) this.globs.push(pattern.split('*'));
      else this.exact.add(pattern);
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.globs.length === 0;
  }

  strip(url: string): string {
    return this.empty ? url : removeQueryParams(url, (name) => this.matches(name));
  }

  matches(name: string): boolean {
    if (this.exact.has(name)) return true;
    if (name.length > MAX_NAME) return false;
    return this.globs.some((parts) => globMatch(parts, name));
  }
}

/** `parts` are the pattern split at its stars: the first is a prefix, the last a suffix, the rest in order between. */
function globMatch(parts: string[], name: string): boolean {
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = name.indexOf(parts[i], at);
    if (found < 0 || found + parts[i].length > end) return false;
    at = found + parts[i].length;
  }
  return true;
}

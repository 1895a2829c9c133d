/**
 * Which discovered URLs a crawl may follow. Pure. `same-domain` compares registrable domains
 * from the public suffix list (tldts), so a.example.co.uk and b.example.co.uk match but
 * example.co.uk and other.co.uk do not. include/exclude patterns are RE2 (src/crawl/url-patterns.ts),
 * searched for in the full normalised URL.
 */
import { getDomain } from 'tldts';
import type { UrlPatterns } from './url-patterns';

export const SCOPES = ['same-origin', 'same-host', 'same-domain', 'any'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ScopeRules {
  scope: Scope;
  /** Follow only URLs matching one of these (none: no restriction). */
  include: UrlPatterns;
  /** Never follow URLs matching one of these. */
  exclude: UrlPatterns;
}

export class ScopeFilter {
  private readonly origins: Set<string>;
  private readonly hosts: Set<string>;
  private readonly domains: Set<string>;

  constructor(
    seeds: readonly string[],
    private readonly rules: ScopeRules,
  ) {
    const urls = seeds.map((seed) => new URL(seed));
    this.origins = new Set(urls.map((url) => url.origin));
    this.hosts = new Set(urls.map((url) => url.hostname));
    this.domains = new Set(urls.map((url) => registrable(url.hostname)));
  }

  /** Within the scope's sites, patterns aside (where a sitemap may be read from). */
  reaches(href: string): boolean {
    return this.inScope(new URL(href));
  }

  allows(href: string): boolean {
    const url = new URL(href);
    if (!this.inScope(url)) return false;
    if (!this.rules.include.empty && !this.rules.include.test(href)) return false;
    return !this.rules.exclude.test(href);
  }

  private inScope(url: URL): boolean {
    switch (this.rules.scope) {
      case 'same-origin':
        return this.origins.has(url.origin);
      case 'same-host':
        return this.hosts.has(url.hostname);
      case 'same-domain':
        return this.domains.has(registrable(url.hostname));
      case 'any':
        return true;
    }
  }
}

/** The registrable domain (example.co.uk), or the host itself for IPs and single labels. */
function registrable(hostname: string): string {
  return getDomain(hostname, { allowPrivateDomains: true }) ?? hostname;
}

/**
 * A worker thread's cache of robots.txt rules for origins that redirects lead to. Keyed by owner
 * (the API key's owner), user agent and origin, so one tenant's crawl never reads another's
 * entries, and bounded: at most `maxEntries` (least recently used dropped first), each kept for
 * `ttlMs`. Entries are compact rules (capped per origin), so the bound is one of memory too.
 */
import type { RobotsRules } from './robots-rules';

interface Entry {
  rules: Promise<RobotsRules>;
  until: number;
}

export class RobotsRulesCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached rules, or `load()`'s (stored; a failed load is not kept). */
  get(owner: string, userAgent: string, origin: string, load: () => Promise<RobotsRules>, now = Date.now()): Promise<RobotsRules> {
    const key = `${owner}\n${userAgent}\n${origin}`;
    const cached = this.entries.get(key);
    this.entries.delete(key);
    if (cached && cached.until > now) {
      this.entries.set(key, cached); // most recently used last
      return cached.rules;
    }
    const rules = load();
    rules.catch(() => this.entries.get(key)?.rules === rules && this.entries.delete(key));
    this.entries.set(key, { rules, until: now + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return rules;
  }
}

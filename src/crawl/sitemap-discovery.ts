/**
 * `sitemap: include | only`: the coordinator's side of sitemaps. Each seed's origin has its
 * `/sitemap.xml` and the `Sitemap:` lines of its robots.txt read, sitemap indexes lead to more
 * sitemaps (at most MAX_SITEMAPS documents per job), and the pages they list are offered to the
 * frontier like links (depth 0, `via: "sitemap"`), so scope, include/exclude, robots.txt, the trap
 * guards and maxPages apply to them as to any link. A document is fetched and parsed on an I/O
 * worker thread of this instance (the crawl worker, as pages are), queued in the frontier with
 * its origin's pages so per-host politeness holds for it too. Nothing of it is stored but a note
 * once they have all been read: a runner taking the job over before that reads them again (the
 * store's seen set keeps their pages from being added twice).
 */
import type { RunOptions, WorkerName } from '../pool/task-scheduler';
import type { Frontier } from './frontier';
import type { JobNotes } from './robots-notes';
import { isAllowed, type RobotsRules } from './robots-rules';
import type { ScopeFilter } from './scope';
import type { SitemapOptions, SitemapResult } from './sitemap-read';

export const SITEMAP_MODES = ['include', 'skip', 'only'] as const;
export type SitemapMode = (typeof SITEMAP_MODES)[number];

/** Sitemap documents read per job at most (indexes and their children together). */
export const MAX_SITEMAPS = 50;
const DONE_NOTE = 'sitemaps:done';

export type RunSitemapTask = (worker: WorkerName, payload: object, options: RunOptions) => Promise<void>;

export interface SitemapTally {
  sitemapsRead: number;
  sitemapsFailed: number;
  /** Read only in part: cut at maxBytes (download or gunzipped size) or at CRAWL_MAX_LINKS_PER_PAGE URLs. */
  sitemapsTruncated: number;
  sitemapUrls: number;
}

export class SitemapDiscovery {
  readonly tally: SitemapTally = { sitemapsRead: 0, sitemapsFailed: 0, sitemapsTruncated: 0, sitemapUrls: 0 };
  private readonly seedOrigins: Set<string>;
  private running = 0;
  private done = false;
  /** The seed origins' /sitemap.xml, read on a guess (robots.txt did not list it). */
  private readonly guessed = new Set<string>();

  constructor(
    readonly mode: SitemapMode,
    seeds: readonly string[],
    private readonly frontier: Frontier,
    private readonly scope: ScopeFilter,
    private readonly notes: JobNotes,
  ) {
    this.seedOrigins = new Set(seeds.map((seed) => new URL(seed).origin));
  }

  get enabled(): boolean {
    return this.mode !== 'skip';
  }

  /** True while documents are being read: more pages may come. */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Queues each seed origin's /sitemap.xml, unless a previous runner of the job read them all. */
  async start(resumed: boolean): Promise<void> {
    if (!this.enabled) return;
    if (resumed) {
      const notes = await this.notes.readNotes(DONE_NOTE).catch(() => ({}) as Record<string, string>);
      if (notes[DONE_NOTE]) return void (this.done = true);
    }
    for (const origin of this.seedOrigins) {
      this.guessed.add(`${origin}/sitemap.xml`);
      this.queue(`${origin}/sitemap.xml`);
    }
  }

  /** An origin's robots.txt rules arrived: a seed origin's `Sitemap:` lines are queued. */
  rulesArrived(origin: string, rules: RobotsRules): void {
    if (!this.enabled || this.done || !this.seedOrigins.has(origin)) return;
    for (const url of rules.sitemaps ?? []) {
      this.guessed.delete(url); // listed: a 404 there is a broken sitemap
      this.queue(url);
    }
  }

  /** Reads one document the frontier handed out (its host's slot is released by the caller). */
  async read(url: string, rules: RobotsRules, run: RunSitemapTask, payload: { options: SitemapOptions; robots: RobotsRules | null; owner: string }, signal: AbortSignal): Promise<void> {
    if (!isAllowed(rules, url)) {
      this.tally.sitemapsFailed++;
      return;
    }
    this.running++;
    try {
      let result: SitemapResult | undefined;
      await run('crawl', { sitemap: url, ...payload }, { signal, onUpdates: (updates) => (result = (updates.find((update) => update.result)?.result as SitemapResult | undefined) ?? result) });
      if (!result || result.error || !result.type) {
        // Most sites have no /sitemap.xml: the guess answering 404 or 410 is no failure.
        const absent = this.guessed.has(url) && (result?.status === 404 || result?.status === 410);
        if (!absent) this.tally.sitemapsFailed++;
        return;
      }
      this.tally.sitemapsRead++;
      if (result.truncatedBy) this.tally.sitemapsTruncated++;
      if (result.type === 'sitemapindex') for (const child of result.urls) this.queue(child);
      else {
        this.tally.sitemapUrls += result.urls.length;
        this.frontier.offerLater(result.urls, 0, url, 'sitemap');
      }
    } catch {
      if (!signal.aborted) this.tally.sitemapsFailed++;
    } finally {
      this.running--;
    }
  }

  /**
   * Once no document is waiting or being read and their pages were all offered and added, a
   * note says so (a runner taking the job over then does not read them again).
   */
  async finishIfDone(): Promise<void> {
    if (!this.enabled || this.done || this.running > 0 || !this.frontier.sitemapsSettled || this.frontier.sitemapsQueued === 0) return;
    this.done = true;
    await this.notes.saveNotes({ [DONE_NOTE]: '1' }).catch(() => undefined);
  }

  private queue(url: string): void {
    if (this.frontier.sitemapsQueued >= MAX_SITEMAPS || !this.scope.reaches(url)) return;
    this.frontier.addSitemap(url);
  }
}

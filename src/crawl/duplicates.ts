/**
 * The coordinator's side of de-duplication by content and by rel=canonical. A page's result is
 * stored by whichever instance ran it before the coordinator sees it, so the verdict ("this page
 * duplicates that one") cannot go into the result: it is a job note, one per block of BLOCK
 * task indexes (`dup:<block>;` -> {index: [url, by]}), written when the verdict is made, read
 * back by a runner taking the job over (the pages' fingerprints and canonicals it rebuilds from
 * the stored results themselves) and by a results page, which shows it as `duplicateOf` and
 * `duplicateBy` (CrawlKind.prepare). Main thread: a few map lookups per page.
 */
import type { TaskRecord } from '../jobs/job-data';
import type { PageInput, PageResult } from './crawl-page';
import type { Frontier } from './frontier';
import type { JobNotes } from './robots-notes';
import type { ScopeFilter } from './scope';
import { NearDuplicateIndex } from './simhash';

export type DuplicateBy = 'canonical' | 'content';
export interface Verdict {
  of: string;
  by: DuplicateBy;
}

const BLOCK = 256;
const PREFIX = 'dup:';
const blockKey = (block: number) => `${PREFIX}${block};`;

export interface DuplicateOptions {
  canonical: 'record' | 'follow';
  /** nearDuplicateBits; -1: off. */
  nearBits: number;
}

export class Duplicates {
  /** Verdicts by block of task indexes, as the notes hold them. */
  private readonly blocks = new Map<number, Record<string, [string, DuplicateBy]>>();
  /** Canonical identity -> the page of the job that holds it. */
  private readonly identities = new Map<string, string>();
  private readonly near: NearDuplicateIndex | undefined;
  count = 0;

  constructor(
    private readonly options: DuplicateOptions,
    private readonly frontier: Frontier,
    private readonly scope: ScopeFilter,
    private readonly notes: JobNotes,
  ) {
    if (options.nearBits >= 0) this.near = new NearDuplicateIndex(options.nearBits);
  }

  /** A takeover: the verdicts made before (the pages themselves are then replayed in index order by `replay`). */
  async restore(): Promise<void> {
    const notes = await this.notes.readNotes(PREFIX);
    for (const [key, value] of Object.entries(notes)) {
      const block = Number(key.slice(PREFIX.length, -1));
      const verdicts = parseBlock(value);
      if (!Number.isInteger(block) || !verdicts) continue;
      this.blocks.set(block, verdicts);
      this.count += Object.keys(verdicts).length;
    }
  }

  /** A page done before a takeover: known again, without a new verdict. Whether its links are worth following. */
  replay(record: TaskRecord<PageInput, PageResult>): boolean {
    const verdict = this.blocks.get(Math.floor(record.index / BLOCK))?.[record.index];
    if (verdict) return verdict[1] !== 'canonical';
    this.remember(record.result!, record.input.url);
    return true;
  }

  /** A page that just ended: its verdict (stored before it is returned), if it duplicates an earlier one. */
  async judge(record: TaskRecord<PageInput, PageResult>): Promise<Verdict | undefined> {
    const result = record.result;
    if (record.state !== 'completed' || !result || result.error) return undefined;
    const verdict = this.canonicalVerdict(result) ?? this.contentVerdict(result);
    if (!verdict) {
      this.remember(result, record.input.url);
      return undefined;
    }
    const block = Math.floor(record.index / BLOCK);
    const verdicts = this.blocks.get(block) ?? {};
    verdicts[record.index] = [verdict.of, verdict.by];
    this.blocks.set(block, verdicts);
    this.count++;
    await this.notes.saveNotes({ [blockKey(block)]: JSON.stringify(verdicts) });
    return verdict;
  }

  private canonicalVerdict(result: PageResult): Verdict | undefined {
    if (this.options.canonical !== 'follow' || !result.canonical) return undefined;
    const canonical = this.frontier.clean(result.canonical);
    if (canonical === result.url || canonical === this.frontier.clean(result.finalUrl) || !this.scope.reaches(canonical)) return undefined;
    const holder = this.identities.get(canonical) ?? (this.frontier.isPage(canonical) ? canonical : undefined);
    return holder !== undefined && holder !== result.url ? { of: holder, by: 'canonical' } : undefined;
  }

  private contentVerdict(result: PageResult): Verdict | undefined {
    if (!this.near || !result.fingerprint) return undefined;
    const of = this.near.find(result.fingerprint);
    return of !== undefined && of !== result.url ? { of, by: 'content' } : undefined;
  }

  /** An original: it holds its identity (and its canonical's, never fetched after), and its fingerprint is compared with later pages'. */
  private remember(result: PageResult, url: string): void {
    if (!this.identities.has(url)) this.identities.set(url, url);
    if (this.options.canonical === 'follow' && result.canonical) {
      const canonical = this.frontier.clean(result.canonical);
      if (this.scope.reaches(canonical) && !this.identities.has(canonical)) {
        this.identities.set(canonical, url);
        this.frontier.markSeen(canonical);
      }
    }
    if (this.near && result.fingerprint) this.near.add(result.fingerprint, url);
  }
}

/** Verdicts of the records given (a results page), read from the notes: `duplicateOf`/`duplicateBy` by index. */
export async function verdictsFor(indexes: number[], readNotes: (prefix: string) => Promise<Record<string, string>>): Promise<Map<number, Verdict>> {
  const found = new Map<number, Verdict>();
  for (const block of new Set(indexes.map((index) => Math.floor(index / BLOCK)))) {
    const key = blockKey(block);
    const verdicts = parseBlock((await readNotes(key))[key]);
    for (const [index, [of, by]] of Object.entries(verdicts ?? {})) found.set(Number(index), { of, by });
  }
  return found;
}

function parseBlock(value: string | undefined): Record<string, [string, DuplicateBy]> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as Record<string, [string, DuplicateBy]>;
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

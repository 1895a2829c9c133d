/**
 * The request options and result fields of how a crawl finds pages and tells them apart:
 * sitemaps, de-duplication (ignored query parameters, rel=canonical, near-duplicate content) and
 * trap guards. Spread into the crawl request schema (crawl.schema.ts).
 */
import { z } from 'zod';
import type { AppConfig } from '../config/config.schema';
import { DEFAULT_IGNORED_PARAMS, MAX_IGNORED_PARAMS, PARAM_PATTERN } from './query-params';
import { MAX_SITEMAPS, SITEMAP_MODES } from './sitemap-discovery';
import { DEFAULT_TRAP_OPTIONS } from './trap-guards';

export const CANONICAL_MODES = ['record', 'follow'] as const;
import { MAX_URL_LENGTH } from './url-normalize';

function count(min: number, max: number, fallback: number, doc: string) {
  return z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` })
    .default(fallback)
    .describe(doc);
}

export function discoveryOptions(config: AppConfig) {
  return {
    sitemap: z
      .enum(SITEMAP_MODES, { error: `must be one of ${SITEMAP_MODES.join(', ')}` })
      .default('include')
      .describe(
        `include: also crawl the pages the seeds' sites list in sitemaps (/sitemap.xml and robots.txt Sitemap: lines, indexes and gzip, at most ${MAX_SITEMAPS} documents); skip: links only; only: the sitemaps' pages only, links not followed`,
      ),
    ignoreQueryParams: z
      .array(z.string({ error: 'must be a string' }).regex(PARAM_PATTERN, { error: 'must be a query parameter name of 1-64 characters (letters, digits, _ . - [ ]) with at most two * wildcards' }), {
        error: 'must be an array of parameter names',
      })
      .max(MAX_IGNORED_PARAMS, { error: `at most ${MAX_IGNORED_PARAMS} names` })
      .default(DEFAULT_IGNORED_PARAMS)
      .describe('query parameters removed from every URL before de-duplication (case-insensitive, * matches any run); default the common click and campaign trackers; [] keeps every parameter'),
    canonical: z
      .enum(CANONICAL_MODES, { error: `must be one of ${CANONICAL_MODES.join(', ')}` })
      .default('record')
      .describe(
        "record: each page's rel=canonical is reported (`canonical`); follow: it is also the page's identity: a page whose canonical was crawled is a duplicate (`duplicateOf`, links not followed), and the canonical URL is not fetched again",
      ),
    nearDuplicateBits: count(
      -1,
      6,
      -1,
      "near-duplicate content: a page whose text simhash (64 bits over 3-word shingles) differs from an earlier page's in at most this many bits is flagged `duplicateOf` that page (its links are still followed); -1 (the default) turns it off: the fingerprint costs about a third more CPU per small page",
    ),
    traps: z
      .strictObject(
        {
          maxUrlLength: count(0, MAX_URL_LENGTH, DEFAULT_TRAP_OPTIONS.maxUrlLength, `longest URL followed (characters); 0: up to ${MAX_URL_LENGTH}`),
          maxSegmentRepeats: count(0, 100, DEFAULT_TRAP_OPTIONS.maxSegmentRepeats, 'times one path segment may appear in a URL (/a/b/a/b/a has a 3 times); 0: off'),
          maxPagesPerPrefix: count(0, config.CRAWL_MAX_PAGES, DEFAULT_TRAP_OPTIONS.maxPagesPerPrefix, 'pages per path prefix (host + first prefixSegments segments); 0: off'),
          prefixSegments: count(1, 20, DEFAULT_TRAP_OPTIONS.prefixSegments, 'path segments that make a prefix for maxPagesPerPrefix'),
          maxCalendarPages: count(
            0,
            config.CRAWL_MAX_PAGES,
            DEFAULT_TRAP_OPTIONS.maxCalendarPages,
            'pages per calendar-like URL shape (dates in the path, ?date= ?day= ?month= ?year= ?week= taken out); 0: off',
          ),
          sessionIds: z
            .boolean({ error: 'must be true or false' })
            .default(DEFAULT_TRAP_OPTIONS.sessionIds)
            .describe('remove session ids (;jsessionid=, PHPSESSID, sid, sessionid...) from URLs: the copies they make are skipped'),
        },
        { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object' : undefined) },
      )
      .default(DEFAULT_TRAP_OPTIONS)
      .describe('trap guards; a link one of them stops is counted in the summary as skipped.<guard> (urlTooLong, repeatedSegments, prefixBudget, calendar, sessionId)'),
  };
}

/** Result fields of each page about how it was found and what it duplicates. */
export const discoveryResultFields = {
  via: z.enum(['seed', 'link', 'sitemap']).optional().describe('how the page was found: a seed, a link on a page (parent), or a sitemap entry (parent is the sitemap)'),
  canonical: z.string().optional().describe("the page's rel=canonical URL (absolute, normalised), when it has one"),
  fingerprint: z.string().optional().describe('simhash of the page text, 16 hex digits (near-duplicate detection)'),
  duplicateOf: z.string().optional().describe('the earlier page this one duplicates: the crawled page of its canonical URL (canonical: follow), or a page of near-identical text'),
  duplicateBy: z.enum(['canonical', 'content']).optional().describe('why it is a duplicate'),
};

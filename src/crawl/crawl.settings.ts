import { z } from 'zod';
import { int, isCidr, list } from '../config/setting-types';

/** The crawl kind's settings, part of the one config schema (src/config/config.schema.ts). */
export const crawlSettings = {
  MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY: int(1, 100_000_000, 50_000).describe("Pages (the sum of `maxPages`) one key's unfinished crawls may reserve together; more get 429."),
  MAX_CRAWL_CONCURRENCY_PER_KEY: int(1, 1_000_000, 128).describe(
    "Fetches at once (the sum of `concurrency`) one key's unfinished crawls may ask for; more get 429 (else N crawls multiply CRAWL_MAX_CONCURRENCY).",
  ),
  CRAWL_ALLOW_TARGETS: list(z.string().refine((cidr) => isCidr(cidr), { error: 'each entry must be a CIDR such as 127.0.0.2/32 or fd00::/8' })).describe(
    'Comma-separated CIDRs the crawler may reach although they are private, loopback or reserved (tests, intranets: 127.0.0.1/32, 192.168.1.0/24); logged as a warning at startup. Empty: only global unicast addresses.',
  ),
  CRAWL_USER_AGENT: z.string().min(1).max(200).default('parallel-compute-crawler/0.1 (+https://example.invalid/bot)').describe('User-Agent of crawl fetches when a request sets no `userAgent`.'),
  CRAWL_ALLOW_IGNORE_ROBOTS: z
    .stringbool({ error: 'must be true or false' })
    .default(false)
    .describe('Whether callers may turn robots.txt off (`respectRobotsTxt: false`); off by default, so a caller cannot make the service impolite.'),
  CRAWL_MAX_SEEDS: int(1, 10_000, 100).describe('Most seed URLs one crawl request may give.'),
  CRAWL_MAX_PAGES: int(1, 1_000_000, 10_000).describe("Upper bound of a crawl request's `maxPages` (default 100)."),
  CRAWL_MAX_DEPTH: int(0, 100, 10).describe("Upper bound of a crawl request's `maxDepth` (default 2)."),
  CRAWL_MAX_CONCURRENCY: int(1, 1_024, 32).describe("Upper bound of a crawl request's `concurrency` (default 16): fetches at once one crawl may ask for; 32 is polite enough for most sites."),
  CRAWL_MAX_PER_HOST: int(1, 256, 16).describe("Upper bound of a crawl request's `perHostConcurrency` (default 4)."),
  CRAWL_MAX_DELAY_MS: int(0, 600_000, 60_000).describe("Upper bound of a crawl request's `delayMs`, the pause between fetches to one host (default 0)."),
  CRAWL_PAGES_PER_TASK: int(1, 32, 16).describe(
    "Up to this many pages of one host that a crawl starts together go to a worker thread as one pool task (cluster mode: one queue task, which costs about half a dozen Redis round trips), fetched side by side and each recorded as it ends; their slots free when the last of them ends, or 250 ms after their own end (whichever instance ran them). Never more than the crawl's `concurrency` ÷ the worker threads it spreads over, so every thread gets a share. 1: a pool task per page (the PostgreSQL manual's first crawl, 1,169 small pages at concurrency 16, took about a third more CPU that way than in groups of 8). The crawl of 3,000 small pages at concurrency 32 on two cluster instances (bench:cluster) took about a fifth less CPU in groups of 16 than of 8.",
  ),
  CRAWL_HOST_MAX_CONCURRENCY: int(1, 1_024, 16).describe(
    "Fetches in flight to one host (origin) at any moment, whatever the number of crawls, keys and instances on it (shared in the store); a crawl's `perHostConcurrency` can only be stricter. Adaptive back-off lowers it for a host answering 429/503 or slowing down.",
  ),
  CRAWL_HOST_MIN_DELAY_MS: int(0, 600_000, 0).describe(
    "Pause between fetch starts to one host, across every crawl and instance. Above 0 every fetch start takes a store round trip (cluster mode); a crawl's `delayMs` can only be stricter.",
  ),
  CRAWL_HOST_MAX_BACKOFF_MS: int(0, 600_000, 30_000).describe(
    'The most adaptive back-off may space fetch starts to a host (it doubles on each 429/503 and halves back gradually), and the longest Retry-After honoured.',
  ),
  CRAWL_MAX_TIMEOUT_MS: int(100, 600_000, 60_000).describe("Upper bound of a crawl request's `timeoutMs`, the deadline per fetch, body included (default 10000)."),
  CRAWL_MAX_BYTES: int(1_024, 1024 ** 3, 50 * 1024 ** 2).describe("Upper bound of a crawl request's `maxBytes`, the decoded bytes read per page (default 5000000)."),
  CRAWL_MAX_REDIRECTS: int(0, 50, 20).describe("Upper bound of a crawl request's `maxRedirects` (default 5)."),
  CRAWL_MAX_RETRIES: int(0, 10, 5).describe("Upper bound of a crawl request's `retries` for network errors, 429 and 5xx (default 2)."),
  CRAWL_MAX_LINKS_PER_PAGE: int(1, 1_000_000, 5_000).describe('Links kept per page; the rest of the body is not read and the page is marked `truncatedBy: maxLinks`.'),
  CRAWL_PARSE_BUDGET_MS: int(10, 60_000, 2_000).describe('Parsing time one page may take; then the links found so far are kept (`truncatedBy: parseBudget`).'),
  CRAWL_DOM_MAX_BYTES: int(64 * 1024, 16 * 1024 ** 2, 1024 ** 2).describe(
    'Pages bigger than this (decoded) are parsed as a stream, never into a DOM (about 20x the page in heap); a page holds at most this much of its body.',
  ),
  CRAWL_WARM_UP_PASSES: int(0, 100_000, 500).describe(
    'Pages of a built-in sample site each crawl thread crawls when it starts (served by the thread itself on 127.0.0.1, through an agent that reaches only that), before it takes pages and before the instance reports ready: the JIT warm-up a fresh process would otherwise pay on its first crawl. About 1 s of one core per thread at 500; 0 turns it off.',
  ),
  CRAWL_MAX_CONTENT_CHARS: int(100, 100_000_000, 1_000_000).describe(
    "Upper bound of a crawl request's `maxContentChars`, the characters of each content format (text, markdown, html) kept per page (default 200000).",
  ),
  CRAWL_MAX_RESULT_BYTES: int(1_024, 16 * 1024 ** 3, 256 * 1024 ** 2).describe('Result bytes (mostly link lists) one crawl may hold; past it no new pages are started.'),
  CRAWL_MAX_ROBOTS_BYTES: int(64 * 1024, 1024 ** 3, 16 * 1024 ** 2).describe(
    "Memory of robots.txt rules one crawl holds (a page may link to thousands of origins); past it idle origins' rules are dropped and read again when needed.",
  ),
};

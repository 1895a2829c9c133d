import { availableParallelism } from 'node:os';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * Every setting of the service, its default and its bound. The one source of truth: the
 * README's settings table mirrors this file, and boot fails on any value outside it.
 */
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A comma-separated list; empty means none. */
const list = (item: z.ZodString) =>
  z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
const origin = z.string().regex(/^https?:\/\/[^/\s]+$/, { error: 'each origin must look like https://host[:port]' });

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Lowest level logged; `debug` adds a line per job accepted and finished. */
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose'], { error: 'must be one of error, warn, log, debug, verbose' }).default('log'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535, 3000),
  /** JSON request bodies larger than this get 413. */
  BODY_LIMIT_BYTES: int(1_024, 64 * 1024 * 1024, 1024 * 1024),

  /** Worker threads; defaults to the cores this process may use. */
  POOL_SIZE: int(1, 256, availableParallelism()),
  WORKER_MAX_OLD_GEN_MB: int(64, 16_384, 1_024),
  TASK_TIMEOUT_MS: int(1_000, 3_600_000, 120_000),

  FIB_MAX_N: int(1, 100_000_000, 10_000_000),
  FIB_MAX_NUMBERS: int(1, 10_000_000, 500_000),
  /** Decimal digits one job may produce. */
  FIB_MAX_RESULT_BYTES: int(1_024, 16 * 1024 ** 3, 512 * 1024 ** 2),

  /** Finished jobs are evicted after this long... */
  JOB_RETENTION_MS: int(1_000, 30 * 24 * 3_600_000, 3_600_000),
  /** ...or when more finished jobs than this are kept... */
  JOB_RETENTION_COUNT: int(1, 1_000_000, 1_000),
  /** ...or when their results together take more than this. */
  JOB_RETENTION_BYTES: int(1_024, 64 * 1024 ** 3, 1536 * 1024 ** 2),

  /** Bytes of JSON one results page may hold (it ends before the item that would pass it): pages of huge values stay cheap to build and send. */
  RESULTS_MAX_PAGE_BYTES: int(1_024, 1024 ** 3, 4 * 1024 ** 2),

  /** Longest `?wait=` a request may ask for. */
  MAX_WAIT_MS: int(0, 600_000, 30_000),
  /** Task updates of one job are coalesced into one message per this window. */
  PROGRESS_FLUSH_MS: int(0, 10_000, 50),

  /** Bearer keys; when set, every route but health needs one and jobs belong to their key. */
  API_KEYS: list(z.string().regex(/^[A-Za-z0-9._~+-]{16,256}$/, { error: 'each key must be 16-256 characters of A-Z a-z 0-9 . _ ~ + -' })),
  /** Browser origins allowed by CORS; empty keeps CORS closed. */
  CORS_ORIGINS: list(origin),
  /** Proxies trusted to say who the client is (X-Forwarded-For): addresses, CIDRs, or loopback / linklocal / uniquelocal. Set it to the load balancer's range, or every client counts as the balancer in the per-address limits. */
  TRUST_PROXY: list(
    z.string().refine((entry) => ['loopback', 'linklocal', 'uniquelocal'].includes(entry) || isCidr(entry) || ipaddr.isValid(entry), {
      error: 'each entry must be an address, a CIDR, or loopback / linklocal / uniquelocal',
    }),
  ),
  /** Requests per window per API key (or client address when keys are off). */
  RATE_LIMIT_MAX: int(1, 10_000_000, 600),
  RATE_LIMIT_WINDOW_MS: int(1_000, 3_600_000, 60_000),
  /** Failed authentications (HTTP and WebSocket upgrade) per address per RATE_LIMIT_WINDOW_MS; past it every keyed request from that address gets 429, so guessing stops paying. */
  AUTH_FAILURES_MAX: int(1, 1_000_000, 20),
  /** Bearer token for GET /metrics; needed when set, and when API_KEYS is set (no token then: /metrics refused), since metrics show every tenant's totals. */
  METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+-]{16,256}$/, { error: 'must be 16-256 characters of A-Z a-z 0-9 . _ ~ + -' })
    .optional(),
  /** Unfinished jobs one key (or address) may have at once; more get 429. */
  MAX_JOBS_IN_FLIGHT_PER_KEY: int(1, 1_000_000, 100),
  /** Result bytes one key's unfinished jobs may reserve together (429): job count alone allowed 100 x FIB_MAX_RESULT_BYTES. */
  MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY: int(1_024, 64 * 1024 ** 3, 1024 ** 3),
  /** Pages (the sum of maxPages) one key's unfinished crawls may reserve together (429). */
  MAX_CRAWL_PAGES_IN_FLIGHT_PER_KEY: int(1, 100_000_000, 50_000),
  /** Fetches at once (the sum of concurrency) one key's unfinished crawls may ask for (429): else N crawls multiply CRAWL_MAX_CONCURRENCY. */
  MAX_CRAWL_CONCURRENCY_PER_KEY: int(1, 1_000_000, 128),
  /** Unfinished tasks across all jobs past which new jobs get 503 (backpressure); a crawl counts as its maxPages. */
  MAX_QUEUED_TASKS: int(1, 100_000_000, 2_000_000),
  /** On SIGTERM, running jobs get this long to finish before they are cancelled. */
  SHUTDOWN_GRACE_MS: int(0, 600_000, 8_000),

  /** Largest WebSocket message a client may send; a bigger one closes that socket (1009). */
  WS_MAX_MESSAGE_BYTES: int(64, 1_048_576, 4_096),
  /** Ping interval; a peer that misses a pong for a whole interval is dropped. */
  WS_HEARTBEAT_MS: int(1_000, 600_000, 30_000),
  /** Browser origins allowed to open the feed besides the page's own (same host); clients without Origin are not browsers and pass (API keys still apply). */
  WS_ALLOWED_ORIGINS: list(origin),
  /** Bytes queued for one feed client (WebSocket or SSE) before it is judged too slow and closed. */
  WS_MAX_BUFFERED_BYTES: int(65_536, 1024 ** 3, 8 * 1024 ** 2),
  WS_MAX_SUBSCRIPTIONS: int(1, 10_000, 100),
  /** Open feed connections per API key, and per client address: more are refused at the upgrade (429), so one caller cannot hold every socket. */
  WS_MAX_CONNECTIONS_PER_KEY: int(1, 100_000, 20),
  WS_MAX_CONNECTIONS_PER_ADDRESS: int(1, 100_000, 50),
  /** Messages one connection may send per minute; past it the client gets an `error` event and a 1008 close (each message costs a parse and maybe a snapshot). */
  WS_MAX_MESSAGES_PER_MINUTE: int(1, 1_000_000, 600),

  /** Cluster mode: Redis that jobs, tasks, results, events and shared limits live in (redis:// or rediss://). Unset: everything stays in this process. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, { error: 'must be a redis:// or rediss:// URL' })
    .optional(),
  /** Prefix of every Redis key and BullMQ queue, so several deployments can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'must be 1-32 characters of A-Z a-z 0-9 _ -' })
    .default('pcs'),
  /** Cluster mode: how long a dead instance's jobs and pool tasks stay with it before the others take them over (lease and BullMQ lock); shorter recovers faster, but a main thread blocked this long loses its work to another instance. */
  CLUSTER_LEASE_MS: int(1_000, 600_000, 5_000),
  /** Cluster mode: this instance's name on the dashboard's pool panel and in logs; defaults to host name and process id. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' })
    .optional(),

  /** CIDRs the crawler may reach despite being private/loopback (tests, intranets); empty by default. */
  CRAWL_ALLOW_TARGETS: list(z.string().refine((cidr) => isCidr(cidr), { error: 'each entry must be a CIDR such as 127.0.0.2/32 or fd00::/8' })),
  /** Concurrent page fetches one I/O worker thread runs. */
  CRAWL_TASKS_PER_WORKER: int(1, 256, 16),
  CRAWL_USER_AGENT: z.string().min(1).max(200).default('parallel-compute-crawler/0.1 (+https://example.invalid/bot)'),
  /** Whether callers may turn robots.txt off (`respectRobotsTxt: false`); off by default, so a caller cannot make the service impolite. */
  CRAWL_ALLOW_IGNORE_ROBOTS: z.stringbool({ error: 'must be true or false' }).default(false),
  /** Hard upper bounds of the per-request crawl options (the request may ask for less). */
  CRAWL_MAX_SEEDS: int(1, 10_000, 100),
  CRAWL_MAX_PAGES: int(1, 1_000_000, 10_000),
  CRAWL_MAX_DEPTH: int(0, 100, 10),
  /** 32 by default: fetches at once a single crawl may ask for, polite enough for most sites. */
  CRAWL_MAX_CONCURRENCY: int(1, 1_024, 32),
  CRAWL_MAX_PER_HOST: int(1, 256, 16),
  CRAWL_MAX_DELAY_MS: int(0, 600_000, 60_000),
  CRAWL_MAX_TIMEOUT_MS: int(100, 600_000, 60_000),
  CRAWL_MAX_BYTES: int(1_024, 1024 ** 3, 50 * 1024 ** 2),
  CRAWL_MAX_REDIRECTS: int(0, 50, 20),
  CRAWL_MAX_RETRIES: int(0, 10, 5),
  /** Links kept per page, and the parse time budget per page. */
  CRAWL_MAX_LINKS_PER_PAGE: int(1, 1_000_000, 5_000),
  CRAWL_PARSE_BUDGET_MS: int(10, 60_000, 2_000),
  /** Pages bigger than this (decoded) are parsed as a stream, never into a DOM (~20x the page in heap). */
  CRAWL_DOM_MAX_BYTES: int(64 * 1024, 16 * 1024 ** 2, 1024 ** 2),
  /** Result bytes (mostly link lists) one crawl may hold; past it no new pages are started. */
  CRAWL_MAX_RESULT_BYTES: int(1_024, 16 * 1024 ** 3, 256 * 1024 ** 2),
  /** Memory of robots.txt rules one crawl holds (a page may link to thousands of origins); past it idle origins' rules are dropped. */
  CRAWL_MAX_ROBOTS_BYTES: int(64 * 1024, 1024 ** 3, 16 * 1024 ** 2),
});

function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

export type AppConfig = z.infer<typeof configSchema>;

/** Parses the environment; throws one message naming every bad variable and its rule. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // An empty variable means "not set", as in most shells and compose files.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}

import { availableParallelism } from 'node:os';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { crawlSettings } from '../crawl/crawl.settings';
import { fibonacciSettings } from '../fibonacci/fibonacci.settings';
import { webhookSettings } from '../webhooks/webhook.settings';
import { int, isCidr, list } from './setting-types';

/**
 * Every setting of the service: its default, its bound and (in `.describe()`) what it does. The one
 * source of truth: docs/settings.md is generated from this schema (`npm run docs:settings`), and
 * boot fails on any value outside it.
 */
const origin = z.string().regex(/^https?:\/\/[^/\s]+$/, { error: 'each origin must look like https://host[:port]' });

export const configSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('`production` logs one JSON object per line (readable text otherwise); `test` also drops the startup warning that the service runs without API keys.'),
  LOG_LEVEL: z
    .enum(['error', 'warn', 'log', 'debug', 'verbose'], { error: 'must be one of error, warn, log, debug, verbose' })
    .default('log')
    .describe('Lowest level logged; `debug` adds a line per job accepted and finished.'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Address the HTTP server listens on.'),
  PORT: int(0, 65535, 3000).describe('Port the HTTP server listens on (0: any free port).'),
  BODY_LIMIT_BYTES: int(1_024, 64 * 1024 * 1024, 1024 * 1024).describe('JSON request bodies larger than this, counted after decompression, get 413.'),

  POOL_SIZE: int(1, 256, availableParallelism()).meta({
    description: 'Worker threads of each of the two pools (CPU: Fibonacci chunks; I/O: crawl fetches); defaults to the cores this process may use.',
    defaultText: 'the cores this process may use',
  }),
  WORKER_MAX_OLD_GEN_MB: int(64, 16_384, 1_024).describe('Heap limit of each worker thread, in MiB; a worker that passes it fails only its tasks and is replaced.'),
  TASK_TIMEOUT_MS: int(1_000, 3_600_000, 120_000).describe(
    'Longest a pool task that reports progress may run (crawl pages, Fibonacci chunks with an n >= 100,000), counted from its start on a worker; then it fails.',
  ),

  JOB_RETENTION_MS: int(1_000, 30 * 24 * 3_600_000, 3_600_000).describe('How long a finished job and its results are kept (the oldest go earlier past JOB_RETENTION_COUNT or JOB_RETENTION_BYTES).'),
  JOB_RETENTION_COUNT: int(1, 1_000_000, 1_000).describe('Most finished jobs kept; past it the oldest are evicted.'),
  JOB_RETENTION_BYTES: int(1_024, 64 * 1024 ** 3, 1536 * 1024 ** 2).describe('Most result bytes the finished jobs kept may hold together; past it the oldest are evicted.'),

  RESULTS_MAX_PAGE_BYTES: int(1_024, 1024 ** 3, 4 * 1024 ** 2).describe(
    'Bytes of JSON one results page may hold: it ends before the item that would pass it (one item always comes), so pages of huge values stay cheap to build and send.',
  ),

  MAX_WAIT_MS: int(0, 600_000, 30_000).describe('Longest `?wait=` a request may ask for.'),
  IDEMPOTENCY_TTL_MS: int(1_000, 30 * 24 * 3_600_000, 24 * 3_600_000).describe(
    'How long an `Idempotency-Key` of a job-creating POST answers with the job it made (per API key, shared by every instance); the same key with another body is 422.',
  ),
  PROGRESS_FLUSH_MS: int(0, 10_000, 50).describe('Task updates of one job are coalesced into one `task.progress` message per this window.'),

  API_KEYS: list(z.string().regex(/^[A-Za-z0-9._~+-]{16,256}$/, { error: 'each key must be 16-256 characters of A-Z a-z 0-9 . _ ~ + -' })).describe(
    "Comma-separated bearer keys, 16-256 characters of A-Z a-z 0-9 . _ ~ + - each. Set: every route but the health probes, the OpenAPI document and the dashboard's files needs one, and a job belongs to the key that created it. Empty: the service is open (and says so at startup).",
  ),
  CORS_ORIGINS: list(origin).describe('Comma-separated browser origins (`https://host[:port]`) allowed by CORS; empty keeps CORS closed.'),
  TRUST_PROXY: list(
    z.string().refine((entry) => ['loopback', 'linklocal', 'uniquelocal'].includes(entry) || isCidr(entry) || ipaddr.isValid(entry), {
      error: 'each entry must be an address, a CIDR, or loopback / linklocal / uniquelocal',
    }),
  ).describe(
    "Comma-separated proxies trusted to name the client in X-Forwarded-For: addresses, CIDRs, or loopback / linklocal / uniquelocal. Set it to the load balancer's own address (only it: a trusted hop that passes on what clients sent lets them pick their address), or every client counts as the balancer in the per-address limits; leave it empty when clients connect directly. A forwarded client address that is not an IP address is refused (400).",
  ),
  RATE_LIMIT_MAX: int(1, 10_000_000, 600).describe('Requests per RATE_LIMIT_WINDOW_MS per API key (or client address when keys are off); more get 429 with Retry-After.'),
  RATE_LIMIT_WINDOW_MS: int(1_000, 3_600_000, 60_000).describe('Window of the rate limit and of the failed-authentication count.'),
  AUTH_FAILURES_MAX: int(1, 1_000_000, 20).describe(
    'Failed authentications (HTTP and WebSocket upgrade) per address per RATE_LIMIT_WINDOW_MS; past it every keyed request from that address gets 429, a correct key included, so guessing stops paying.',
  ),
  METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+-]{16,256}$/, { error: 'must be 16-256 characters of A-Z a-z 0-9 . _ ~ + -' })
    .optional()
    .describe(
      "Bearer token for GET /metrics, 16-256 characters of A-Z a-z 0-9 . _ ~ + -. Set: /metrics needs it. Unset while API_KEYS is set: /metrics answers 403, since metrics show every tenant's totals. Neither set: /metrics is open.",
    ),
  MAX_JOBS_IN_FLIGHT_PER_KEY: int(1, 1_000_000, 100).describe('Unfinished jobs one key (or address) may have at once; more get 429.'),
  MAX_RESULT_BYTES_IN_FLIGHT_PER_KEY: int(1_024, 64 * 1024 ** 3, 1024 ** 3).describe(
    "Result bytes one key's unfinished jobs may reserve together; more get 429 (a job count alone would allow 100 x FIB_MAX_RESULT_BYTES).",
  ),
  MAX_QUEUED_TASKS: int(1, 100_000_000, 2_000_000).describe('Unfinished tasks across all jobs past which new jobs get 503 with Retry-After (backpressure); a crawl counts as its `maxPages`.'),
  SHUTDOWN_GRACE_MS: int(0, 600_000, 8_000).describe(
    'On SIGTERM, running jobs get this long, minus a margin of min(2 s, a quarter of it), to finish before they are cancelled; a hard stop exits 1 at this + 5 s.',
  ),

  WS_MAX_MESSAGE_BYTES: int(64, 1_048_576, 4_096).describe('Largest WebSocket message a client may send; a bigger one closes that socket (1009).'),
  WS_HEARTBEAT_MS: int(1_000, 600_000, 30_000).describe('WebSocket ping interval; a peer that misses a pong for a whole interval is dropped.'),
  WS_ALLOWED_ORIGINS: list(origin).describe(
    "Comma-separated browser origins (`https://host[:port]`) allowed to open the WebSocket feed besides the page's own host; clients without Origin are not browsers and pass (API keys still apply).",
  ),
  WS_MAX_BUFFERED_BYTES: int(65_536, 1024 ** 3, 8 * 1024 ** 2).describe('Bytes queued for one feed client (WebSocket or SSE) before it is judged too slow and closed.'),
  WS_MAX_SUBSCRIPTIONS: int(1, 10_000, 100).describe('Subscriptions one WebSocket connection may hold at once.'),
  WS_MAX_CONNECTIONS_PER_KEY: int(1, 100_000, 20).describe(
    'Open feed connections (WebSocket and SSE together) per API key, across every instance; more are refused with 429 (at the WebSocket upgrade), so one caller cannot hold every socket.',
  ),
  WS_MAX_CONNECTIONS_PER_ADDRESS: int(1, 100_000, 50).describe('Open feed connections (WebSocket and SSE together) per client address, across every instance; more are refused with 429.'),
  WS_MAX_MESSAGES_PER_MINUTE: int(1, 1_000_000, 600).describe(
    'WebSocket messages, ping frames included, one API key (or client address when keys are off) may send per minute over all its connections and instances; past it the connection gets an `error` event and a 1008 close (each message costs a parse and maybe a snapshot).',
  ),

  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, { error: 'must be a redis:// or rediss:// URL' })
    .optional()
    .describe('Cluster mode: the Redis (redis:// or rediss://) that jobs, tasks, results, events and shared limits live in. Unset: embedded mode, everything stays in this process.'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'must be 1-32 characters of A-Z a-z 0-9 _ -' })
    .default('pcs')
    .describe('Prefix of every Redis key and BullMQ queue, so several deployments can share one Redis.'),
  CLUSTER_LEASE_MS: int(1_000, 600_000, 5_000).describe(
    "Cluster mode: how long a dead instance's jobs and pool tasks stay with it before the others take them over (lease and BullMQ lock); shorter recovers faster, but a main thread blocked this long loses its work to another instance.",
  ),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' })
    .optional()
    .describe(
      "This instance's name on the dashboard's pool panel, in GET /pool and in logs (one per instance: two with one id show as one); unset: host name and process id in logs, and on the panel and GET /pool (which every API key reads) `instance-` and 8 hex digits derived from them.",
    ),

  CRAWL_TASKS_PER_WORKER: int(1, 256, 16).describe('Concurrent page fetches one I/O worker thread runs.'),

  // The job kinds' own settings live with them; they are part of this one schema.
  ...fibonacciSettings,
  ...crawlSettings,
  ...webhookSettings,
});

export type AppConfig = z.infer<typeof configSchema>;

/** Settings that were renamed: one still set under its old name would otherwise be ignored without a word. */
const RENAMED: Record<string, string> = {
  CLUSTER_PAGES_PER_TASK: 'CRAWL_PAGES_PER_TASK (it now applies to the embedded mode too)',
};

/** Parses the environment; throws one message naming every bad variable and its rule. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // An empty variable means "not set", as in most shells and compose files.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const renamed = Object.keys(RENAMED)
    .filter((name) => name in given)
    .map((name) => `${name}: renamed, set ${RENAMED[name]} instead`);
  const parsed = configSchema.safeParse(given);
  if (parsed.success && renamed.length === 0) return parsed.data;
  const problems = [...renamed, ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`))];
  throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}

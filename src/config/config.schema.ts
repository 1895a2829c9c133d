import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * Every setting of the service, its default and its bound. The one source of truth: the
 * README's settings table mirrors this file, and boot fails on any value outside it.
 */
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
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
  /** Decimal digits (plus hexadecimal copies for big n) one job may produce. */
  FIB_MAX_RESULT_BYTES: int(1_024, 16 * 1024 ** 3, 512 * 1024 ** 2),

  /** Finished jobs are evicted after this long... */
  JOB_RETENTION_MS: int(1_000, 30 * 24 * 3_600_000, 3_600_000),
  /** ...or when more finished jobs than this are kept... */
  JOB_RETENTION_COUNT: int(1, 1_000_000, 1_000),
  /** ...or when their results together take more than this. */
  JOB_RETENTION_BYTES: int(1_024, 64 * 1024 ** 3, 1536 * 1024 ** 2),

  /** Longest `?wait=` a request may ask for. */
  MAX_WAIT_MS: int(0, 600_000, 30_000),
  /** Task updates of one job are coalesced into one message per this window. */
  PROGRESS_FLUSH_MS: int(0, 10_000, 50),
});

export type AppConfig = z.infer<typeof configSchema>;

/** Parses the environment; throws one message naming every bad variable and its rule. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // An empty variable means "not set", as in most shells and compose files.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = configSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}

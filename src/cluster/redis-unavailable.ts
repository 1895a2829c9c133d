import { RetryableException } from '../common/retryable.exception';

/**
 * What a request gets when a shared counter cannot be read: 503 + Retry-After at once (the
 * command connection fails fast), never a pass without the limit, never a hanging request.
 */
export function redisUnavailable(error: unknown): RetryableException {
  const reason = error instanceof Error ? error.message : String(error);
  return new RetryableException(503, `the cluster's Redis is unavailable, retry shortly (${reason})`, 1);
}

/** Runs a Redis call, turning its failure into 503 + Retry-After. */
export async function orUnavailable<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw redisUnavailable(error);
  }
}

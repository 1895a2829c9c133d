import { RetryableException } from '../common/retryable.exception';
import { StoreUnavailableError } from '../jobs/job.store';

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

/** Messages ioredis rejects with when the connection is down (no offline queue, retries spent, closed). */
const CONNECTION_DOWN = /Stream isn't writeable|Connection is closed|Reached the max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out/;

/** Whether an error means "Redis cannot be reached now" (so the answer is 503, not 500). */
export function isRedisDown(error: unknown): boolean {
  return error instanceof StoreUnavailableError || (error instanceof Error && CONNECTION_DOWN.test(error.message));
}

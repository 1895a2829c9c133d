import { BackendUnavailableError } from '../backend-unavailable';

/** Runs a Redis call, turning a connection failure into the port-level BackendUnavailableError (answered 503). */
export async function orUnavailable<T>(call: Promise<T>, what = "the cluster's Redis"): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw isRedisDown(error) ? new BackendUnavailableError(what, error) : error;
  }
}

/** Messages ioredis rejects with when the connection is down (no offline queue, retries spent, closed). */
const CONNECTION_DOWN = /Stream isn't writeable|Connection is closed|Reached the max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out/;

/** Whether an error means "Redis cannot be reached now" (so the answer is 503, not 500). */
export function isRedisDown(error: unknown): boolean {
  return error instanceof BackendUnavailableError || (error instanceof Error && CONNECTION_DOWN.test(error.message));
}

import { HttpException, type Logger } from '@nestjs/common';
import { BackendUnavailableError } from '../backends/backend-unavailable';
import { UNAVAILABLE_MESSAGE } from '../common/all-exceptions.filter';

/**
 * What a feed client (WebSocket message, SSE stream) is told when serving it failed, as the HTTP
 * error envelope words it: the service's own refusals (404 unknown job) as they are; anything
 * else in generic words with a request id, and the error itself only in the log, under that id.
 * A store's own error (a Redis reply, a key name) never reaches a client.
 */
export function feedFailure(error: unknown, context: { requestId: string; what: string; logger: Logger; isOutage: (error: unknown) => boolean }): { message: string; requestId?: string } {
  const { requestId, what, logger } = context;
  if (error instanceof HttpException) return { message: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof BackendUnavailableError || context.isOutage(error)) {
    logger.warn(`${what}: [${requestId}] ${detail}`);
    return { message: UNAVAILABLE_MESSAGE, requestId };
  }
  logger.error(`${what}: [${requestId}] ${error instanceof Error ? (error.stack ?? detail) : detail}`);
  return { message: 'internal error', requestId };
}

import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BackendUnavailableError } from '../backends/backend-unavailable';
import { errorBody, type ErrorBody } from './error-envelope';
import { requestIdOf } from './request-id';
import { RetryableException } from './retryable.exception';

/** Turns every error thrown by a route into the one error envelope. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  /** `isOutage`: the backend's word on whether an error means it cannot be reached now. */
  constructor(private readonly isOutage: (error: unknown) => boolean = () => false) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    // The backend out of reach: a fast 503 with Retry-After, not a 500.
    const outage = thrown instanceof BackendUnavailableError || this.isOutage(thrown);
    const exception = outage ? UNAVAILABLE : thrown;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const body = toBody(exception);
    body.requestId = requestIdOf(req);
    // What went wrong inside (a store's own error, a connection's address) stays in the log,
    // found by the request id the client got; the client gets the envelope's generic words.
    if (outage) this.logger.warn(`${req.method} ${req.url}: 503 [${body.requestId}] ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    else if (body.statusCode >= 500) {
      // A deliberate 503 (readiness while draining, backpressure) is a warning, not a crash.
      if (exception instanceof HttpException) this.logger.warn(`${req.method} ${req.url}: ${body.statusCode} ${body.message}`);
      else this.logger.error(`${req.method} ${req.url}: [${body.requestId}] ${String((exception as Error)?.stack ?? exception)}`);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (exception instanceof RetryableException) res.setHeader('Retry-After', String(exception.retryAfterSeconds));
    res.status(body.statusCode).json(body);
  }
}

function toBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') return errorBody(status, response);
    // Extra fields (validation issues, health details) ride along inside the envelope.
    const { message, statusCode: _s, error: _e, ...extra } = response as { message?: unknown; statusCode?: number; error?: string };
    const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
    return { ...errorBody(status, text), ...extra };
  }
  return errorBody(500, 'internal error');
}

/** What a request gets when the backend cannot be reached: 503 + Retry-After at once, never a hanging request. */
export const UNAVAILABLE_MESSAGE = "the service's shared state is unavailable, retry shortly";
const UNAVAILABLE = new RetryableException(503, UNAVAILABLE_MESSAGE, 1);

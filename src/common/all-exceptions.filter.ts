import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { errorBody, type ErrorBody } from './error-envelope';
import { requestIdOf } from './request-id';

/** Turns every error thrown by a route into the one error envelope. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const body = toBody(exception);
    body.requestId = requestIdOf(req);
    if (body.statusCode >= 500) this.logger.error(`${req.method} ${req.url}: ${String((exception as Error)?.stack ?? exception)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(body.statusCode).json(body);
  }
}

function toBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') return errorBody(status, response);
    const { message, issues } = response as { message?: unknown; issues?: ErrorBody['issues'] };
    const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
    return errorBody(status, text, issues ? { issues } : {});
  }
  return errorBody(500, 'internal error');
}

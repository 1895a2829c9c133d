import express, { type NextFunction, type Request, type Response } from 'express';
import { errorBody } from './error-envelope';
import { requestIdOf } from './request-id';

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

/**
 * JSON body handling with the service's own errors: a non-JSON body on a JSON route is 415
 * (never silently read as `{}`), bad JSON is 400, and a body past the limit is 413, counted
 * after decompression so a small gzip body cannot inflate past it.
 */
export function jsonBody(limitBytes: number) {
  const parse = express.json({ limit: limitBytes, strict: true, type: (req) => JSON_TYPE.test(req.headers['content-type'] ?? '') });
  const requireJson = (req: Request, res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      res.status(415).json(errorBody(415, 'request body must be application/json', { requestId: requestIdOf(req) }));
      return;
    }
    next();
  };
  const reportErrors = (err: { status?: number; type?: string; message?: string }, req: Request, res: Response, next: NextFunction) => {
    if (!err?.status) return next(err);
    const message =
      err.type === 'entity.too.large'
        ? `request body exceeds BODY_LIMIT_BYTES (${limitBytes} bytes)`
        : err.type === 'entity.parse.failed'
          ? `malformed JSON: ${err.message}`
          : (err.message ?? 'bad request body');
    res.status(err.status).json(errorBody(err.status, message, { requestId: requestIdOf(req) }));
  };
  return [requireJson, parse, reportErrors] as const;
}

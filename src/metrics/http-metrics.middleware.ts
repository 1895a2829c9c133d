import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { MetricsService } from './metrics.service';

/** Scrapes are excluded: they would dominate the request counts and measure only themselves. */
const EXCLUDED_ROUTES = new Set(['/metrics']);

/**
 * Express middleware timing every request into http_request_duration_seconds. Mount it first
 * (app.use, before body parsing) so the time includes everything the request goes through.
 *
 * The route label is the matched pattern (`/jobs/:id`), never the URL: raw URLs carry ids and
 * would make one series per job. What no route handled is 'unmatched', told apart by status:
 * 404s, bodies rejected before routing, CORS preflights, the dashboard's static files.
 */
export function httpMetrics(metrics: MetricsService): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const start = performance.now();
    let recorded = false;
    const record = () => {
      // 'finish' when the response was sent, 'close' also when the client went away first.
      if (recorded) return;
      recorded = true;
      const route = routeOf(req);
      if (EXCLUDED_ROUTES.has(route)) return;
      metrics.recordHttp(req.method, route, res.statusCode, (performance.now() - start) / 1000);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** The route pattern as registered (express sets req.route once a route matches). */
export function routeOf(req: Request): string {
  const path: unknown = req.route?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl}${path}` || '/';
}

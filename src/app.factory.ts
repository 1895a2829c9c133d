import { ConsoleLogger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { BACKEND, type Backend } from './backends/backend';
import { ApiKeys } from './auth/api-keys';
import { AuthFailures } from './auth/auth-failures';
import { forwardedForCheck, trustProxy } from './common/client-address';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { jsonBody } from './common/body-parsing';
import { requestId } from './common/request-id';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { serveDashboard } from './dashboard/static';
import { httpMetrics } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';
import type { Env } from './config/config.module';
import { setupOpenApi } from './openapi/openapi';
import { FeedConnections } from './progress/feed-connections';
import { FeedWsAdapter } from './progress/feed-ws.adapter';

export interface AppOptions {
  /** Replaces process.env (tests). */
  env?: Env;
  logger?: false;
  /** The job kinds' modules; BUILT_IN_KINDS by default (a test adds its own kind). */
  kinds?: Type[];
}

const LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;

function levelsFrom(level = 'log'): (typeof LEVELS)[number][] {
  const upTo = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  return LEVELS.slice(0, upTo < 0 ? LEVELS.indexOf('log') + 1 : upTo + 1);
}

/** Builds the application exactly as it runs in production; tests call it too. */
export async function createApp({ env, logger, kinds }: AppOptions = {}): Promise<NestExpressApplication> {
  const { NODE_ENV: nodeEnv, LOG_LEVEL: level } = env ?? process.env;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(env, kinds), {
    bodyParser: false,
    // One JSON object per line in production; readable text elsewhere. The level is validated
    // with the rest of the settings; an invalid one stops boot before anything is logged.
    logger: logger === false ? false : new ConsoleLogger({ json: nodeEnv === 'production', colors: nodeEnv !== 'production', logLevels: levelsFrom(level) }),
  });
  const config = app.get<AppConfig>(APP_CONFIG);
  app.disable('x-powered-by');
  const trust = trustProxy(config.TRUST_PROXY);
  // req.ip (rate limits, failed-auth counts) from X-Forwarded-For only through trusted proxies.
  app.set('trust proxy', trust);
  // No ETags: hashing a 20 MB results page costs more than it saves, and running jobs' pages change.
  app.set('etag', false);
  // First, so that request time includes the middleware below.
  app.use(httpMetrics(app.get(MetricsService)));
  // No upgrade-insecure-requests: a plain-HTTP deployment (behind a TLS proxy, or on a LAN) must
  // still load its dashboard's scripts and API calls.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  if (config.CORS_ORIGINS.length > 0) app.enableCors({ origin: config.CORS_ORIGINS, exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'] });
  app.use(requestId);
  // A trusted proxy's X-Forwarded-For that is not an IP address: 400, before any limit counts it.
  app.use(forwardedForCheck(trust));
  app.use(...jsonBody(config.BODY_LIMIT_BYTES));
  app.useGlobalFilters(new AllExceptionsFilter(app.get<Backend>(BACKEND).isOutage));
  app.useWebSocketAdapter(
    new FeedWsAdapter(app, {
      keys: app.get(ApiKeys),
      failures: app.get(AuthFailures),
      connections: app.get(FeedConnections),
      allowedOrigins: config.WS_ALLOWED_ORIGINS,
      trust,
      maxPayload: config.WS_MAX_MESSAGE_BYTES,
    }),
  );
  setupOpenApi(app, config);
  serveDashboard(app);
  return app;
}

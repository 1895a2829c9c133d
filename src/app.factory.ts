import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { WsAdapter } from '@nestjs/platform-ws';
import { AppModule } from './app.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { jsonBody } from './common/body-parsing';
import { requestId } from './common/request-id';
import type { AppConfig } from './config/config.schema';

/** Builds the application exactly as it runs in production; tests call it too. */
export async function createApp(config: AppConfig, options: { logger?: false } = {}): Promise<NestExpressApplication> {
  const logger =
    options.logger === false ? false : new ConsoleLogger({ json: config.NODE_ENV === 'production', colors: config.NODE_ENV === 'development' });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bodyParser: false, logger });
  app.use(requestId);
  app.use(...jsonBody(config.BODY_LIMIT_BYTES));
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useWebSocketAdapter(new WsAdapter(app));
  app.enableShutdownHooks();
  return app;
}

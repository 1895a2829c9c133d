import { Logger } from '@nestjs/common';
import { type AppOptions, createApp } from './app.factory';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { loadConfig } from './config/config.schema';
import { MetricsService } from './metrics/metrics.service';

/**
 * Boots the service on the configured host and port and shuts it down cleanly on SIGTERM/SIGINT.
 * `options.kinds` adds job kinds (a deployment's own, or a test's) to the built-in ones.
 */
export async function serve(options: Omit<AppOptions, 'env'> = {}): Promise<void> {
  const app = await (async () => {
    try {
      // The app validates its settings while Nest builds it, whose error would come with Nest's
      // log lines and a stack trace: validate first for a one-line message.
      loadConfig(process.env);
      return await createApp(options);
    } catch (err) {
      // A bad setting stops startup with one message naming the variable and the rule.
      console.error((err as Error).message);
      process.exit(1);
    }
  })();
  const config = app.get<AppConfig>(APP_CONFIG);
  const logger = new Logger('Bootstrap');
  // The last line of defence, not the fix: background work waits out outages and handles its own
  // errors. A rejection that still gets here is a bug; it is logged and counted, and the service
  // keeps serving instead of exiting (Node's default) with every job it holds.
  const metrics = app.get(MetricsService);
  process.on('unhandledRejection', (reason) => {
    metrics.recordUnhandledRejection();
    new Logger('Process').error(`unhandled rejection (a bug; the service carries on): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  await app.listen(config.PORT, config.HOST);
  logger.log(`listening on http://${config.HOST}:${config.PORT} with ${config.POOL_SIZE} worker threads`);

  // Our own signal handling rather than enableShutdownHooks(): Nest re-raises the signal after
  // closing, which would end the process with 143 instead of 0.
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: draining (grace ${config.SHUTDOWN_GRACE_MS} ms)`);
    const hardStop = setTimeout(() => {
      logger.error('shutdown took longer than the grace period; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + 5_000);
    hardStop.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

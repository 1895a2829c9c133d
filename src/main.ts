import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { loadConfig } from './config/config.schema';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const app = await createApp(config);
  await app.listen(config.PORT, config.HOST);
  Logger.log(`listening on http://${config.HOST}:${config.PORT} with ${config.POOL_SIZE} worker threads`, 'Bootstrap');
}

void bootstrap();

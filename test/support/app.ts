import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory';
import { APP_CONFIG } from '../../src/config/app-config';
import type { AppConfig } from '../../src/config/config.schema';
import { TaskScheduler } from '../../src/pool/task-scheduler';

export interface RunningApp {
  app: INestApplication;
  url: string;
  /** ws://host:port */
  wsUrl: string;
  config: AppConfig;
  close(): Promise<void>;
}

/**
 * The real application (real pool, real worker threads) on an ephemeral loopback port. With
 * `waitForThreads`, returned only once its pool threads have loaded their workers, as readiness
 * waits for (tests that read readiness or the pool's status); otherwise the threads load while the
 * test goes on (a task sent meanwhile waits for them), which saves about a second per app here.
 */
export async function startApp(env: Record<string, string> = {}, { waitForThreads = false } = {}): Promise<RunningApp> {
  // No JIT warm-up of crawl threads (it changes timing only, and costs ~0.5 s of CPU per app on a
  // 2-core machine); crawl-warm-up.e2e-spec turns it on, and the built service keeps its default.
  const app = await createApp({ env: { NODE_ENV: 'test', POOL_SIZE: '2', CRAWL_WARM_UP_PASSES: '0', ...env }, logger: false });
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  if (waitForThreads) {
    const scheduler = app.get(TaskScheduler);
    await eventually(async () => scheduler.ready() || undefined, 30_000, 'pool threads to load their workers');
  }
  return { app, url, wsUrl: url.replace(/^http/, 'ws'), config, close: () => app.close() };
}

/** Polls until `check` returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

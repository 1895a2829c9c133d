import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskScheduler } from '../../src/pool/task-scheduler';
import { InstanceRegistry } from '../../src/pool/instance-registry';
import { eventually, type RunningApp, startApp } from './app';
import { Cluster, type Instance } from './cluster';
import { haveRedis, type RedisServer, startRedisServer } from './redis-server';

/**
 * The same scenarios in both modes: one embedded app (`first` and `second` are the same URL), and
 * two instances on one real Redis (`first` is A, `second` B: what A wrote, B must serve).
 */
export function describeBothModes(what: string, env: Record<string, string>, scenarios: (first: () => string, second: () => string) => void): void {
  describe(`${what} in the embedded mode`, () => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startApp(env);
    });
    afterAll(() => running?.close());
    scenarios(
      () => running.url,
      () => running.url,
    );
  });

  describe.skipIf(!haveRedis(`${what} across instances`))(`${what} on two instances of one Redis`, () => {
    let cluster: Cluster;
    let a: Instance;
    let b: Instance;
    beforeAll(async () => {
      cluster = await Cluster.start({ env: { RATE_LIMIT_MAX: '1000000', ...env } });
      a = await cluster.startInstance('a');
      b = await cluster.startInstance('b');
    });
    afterAll(() => cluster?.close());
    scenarios(
      () => a.url,
      () => b.url,
    );
  });
}

/** The apps of one mode: one embedded app, or instances A and B. */
interface ModeApps {
  apps: RunningApp[];
}

/**
 * The service as a scenario of describeBothModesInProcess sees it: read in tests (its own
 * beforeAll may run beside the one starting it, and awaits `ready` first).
 */
export interface ServiceUnderTest {
  /** Where requests go: the embedded app, or instance A. */
  readonly url: string;
  /** Where feeds connect: the embedded app, or instance B (events cross instances). */
  readonly wsUrl: string;
  /** A's settings. */
  readonly config: RunningApp['config'];
  /** Every app of the mode (one, or A and B). */
  readonly apps: RunningApp[];
  readonly ready: Promise<ServiceUnderTest>;
}

/**
 * The same scenarios in both modes, every app in this process (so that a test can watch this
 * process's event loop and memory while the service handles hostile input, whichever instance
 * runs it): one embedded app, or two instances (POOL_SIZE=1 each) on one real Redis, requests sent
 * to A, whose tasks the queue spreads over both; then a check that both ran some (unless told not to).
 */
export function describeBothModesInProcess(
  what: string,
  env: Record<string, string>,
  scenarios: (service: ServiceUnderTest) => void,
  /** false where the scenarios run no pool task (webhooks of tiny jobs, computed on the main thread). */
  { tasksOnBoth = true } = {},
): void {
  describe(`${what} (embedded)`, () => {
    const { service, start } = serviceUnderTest(async () => ({ apps: [await startApp(env)] }));
    beforeAll(start);
    afterAll(() => service.ready.then(({ apps }) => Promise.all(apps.map((app) => app.close()))));
    scenarios(service);
  });

  describe.skipIf(!haveRedis(`${what} on two instances`))(`${what} (two instances of one Redis)`, () => {
    let redis: RedisServer | undefined;
    const { service, start } = serviceUnderTest(async () => {
      redis = await startRedisServer({ appendonly: true });
      const shared = { REDIS_URL: redis.url, REDIS_PREFIX: 'modes', POOL_SIZE: '1', CLUSTER_LEASE_MS: '3000', ...env };
      const a = await startApp({ ...shared, INSTANCE_ID: 'a' }, { waitForThreads: true });
      const b = await startApp({ ...shared, INSTANCE_ID: 'b' }, { waitForThreads: true });
      // Ready as a deployment is: each instance's threads up and announced to the other (a job
      // spreads its tasks by the threads the registry lists).
      const registry = a.app.get(InstanceRegistry);
      await eventually(
        async () => ((await registry.list()).filter((instance) => instance.stats.maxThreads > 0).length === 2 ? true : undefined),
        10_000,
        'both instances registered with their threads',
      );
      return { apps: [a, b] };
    });
    beforeAll(start, 60_000);
    afterAll(async () => {
      await service.ready.then(({ apps }) => Promise.all(apps.map((app) => app.close()))).catch(() => {});
      await redis?.stop();
    });
    scenarios(service);

    // Otherwise the scenarios above could all have run on A, and proved nothing about B.
    if (tasksOnBoth)
      it('ran the scenarios on both instances', () => {
        const completed = service.apps.map((app) => app.app.get(TaskScheduler).stats().completed);
        expect(
          completed.every((count) => count > 0),
          `pool tasks completed by A and B: ${completed.join(', ')}`,
        ).toBe(true);
      });
  });
}

function serviceUnderTest(make: () => Promise<ModeApps>): { service: ServiceUnderTest; start: () => Promise<void> } {
  let current: ModeApps | undefined;
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  started.catch(() => {}); // a failed start fails the beforeAll that made it
  const apps = () => current?.apps ?? expect.fail('the service has not started');
  const service: ServiceUnderTest = {
    get url() {
      return apps()[0].url;
    },
    get wsUrl() {
      return apps().at(-1)!.wsUrl;
    },
    get config() {
      return apps()[0].config;
    },
    get apps() {
      return apps();
    },
    ready: started.then(() => service),
  };
  service.ready.catch(() => {});
  const start = async () => {
    try {
      current = await make();
      settle.resolve();
    } catch (error) {
      settle.reject(error);
      throw error;
    }
  };
  return { service, start };
}

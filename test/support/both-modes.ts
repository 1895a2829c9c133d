import { afterAll, beforeAll, describe } from 'vitest';
import { type RunningApp, startApp } from './app';
import { Cluster, type Instance } from './cluster';
import { haveRedis } from './redis-server';

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

import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Watches this process's event loop (the app's, in e2e tests) while hostile work runs;
 * `stop()` returns the longest delay seen, in milliseconds.
 */
export function watchLoopDelay(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

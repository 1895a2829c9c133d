/**
 * Preloaded into the service by `npm run bench:load -- --cpu-prof` (NODE_OPTIONS=--require; Node 20
 * refuses --cpu-prof there). Does nothing unless LOAD_BENCH_CPU_PROF_DIR is set. Each SIGUSR2
 * toggles the V8 sampling profiler of the main thread; every stop writes
 * <dir>/window-<n>.cpuprofile, n counting from 1. Main thread only: Piscina workers sit in
 * Atomics.wait between tasks and never turn their event loop to hear a stop request; their share
 * of the CPU is read from /proc instead.
 */
'use strict';
const dir = process.env.LOAD_BENCH_CPU_PROF_DIR;
const { isMainThread } = require('node:worker_threads');
if (dir && isMainThread) {
  const { Session } = require('node:inspector');
  const { writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const session = new Session();
  session.connect();
  let running = false;
  let windows = 0;
  process.on('SIGUSR2', () => {
    running = !running;
    if (running) {
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    } else {
      const file = join(dir, `window-${++windows}.cpuprofile`);
      session.post('Profiler.stop', (err, result) => writeFileSync(file, err ? JSON.stringify({ error: String(err) }) : JSON.stringify(result.profile)));
    }
  });
}

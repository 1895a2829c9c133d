/**
 * Preloaded into the service by `npm run bench:crawl -- --cpu-prof` (NODE_OPTIONS=--require, which
 * Node also runs in every worker thread; Node 20 refuses --cpu-prof in NODE_OPTIONS). Does nothing
 * unless CRAWL_BENCH_PROF_DIR is set. The main thread's V8 sampling profiler runs from the first
 * SIGUSR2 to the second; worker threads profile from their start (the I/O pool starts them with
 * the first crawl task) until the main thread's second SIGUSR2 reaches them over a
 * BroadcastChannel. Each thread then writes <dir>/<main|worker-N>.cpuprofile. Piscina workers
 * idle in Atomics.wait and would not hear the channel: the bench sets PISCINA_DISABLE_ATOMICS=1.
 */
'use strict';
const dir = process.env.CRAWL_BENCH_PROF_DIR;
if (dir) {
  const { isMainThread, threadId, BroadcastChannel } = require('node:worker_threads');
  const { Session } = require('node:inspector');
  const { writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const session = new Session();
  session.connect();
  const channel = new BroadcastChannel('crawl-bench-prof');
  channel.unref();
  const name = isMainThread ? 'main' : `worker-${threadId}`;
  let running = false;
  const start = () => {
    if (running) return;
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.start'));
  };
  const stop = () => {
    if (!running) return;
    running = false;
    session.post('Profiler.stop', (err, result) => writeFileSync(join(dir, `${name}.cpuprofile`), err ? JSON.stringify({ error: String(err) }) : JSON.stringify(result.profile)));
  };
  if (isMainThread) {
    process.on('SIGUSR2', () => {
      if (running) {
        channel.postMessage('stop');
        stop();
      } else start();
    });
  } else {
    channel.onmessage = (event) => event.data === 'stop' && stop();
    start();
  }
}

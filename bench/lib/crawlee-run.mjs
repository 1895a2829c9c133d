/**
 * The Crawlee side of bench:crawl, run as its own process (`node crawlee-run.mjs '<json>'`, with an
 * IPC channel) so its CPU time and memory are its own. Plain JavaScript on purpose: no tsx loader
 * in this process. Crawlee is not a dependency of the project: it is loaded from the folder the
 * bench installed it into (see crawlee-install.ts), given as `crawleeDir`.
 *
 * Boot stays out of the timing, as for the service: this process loads Crawlee and builds the
 * crawler, says `ready`, and crawls only when the bench answers `go` (the bench starts its clock
 * and reads this process's CPU time then). When the crawl is over it writes the results to
 * `outFile` and says `done`; the bench stops its clock once it has read them, then says `exit`.
 *
 * With `warm`, a separate crawler (its own in-memory storage) crawls the site once, untimed and
 * its results dropped, before `ready`.
 *
 * Two configurations (`mode`):
 * - `defaults`: a CheerioCrawler as Crawlee ships it (session pool, cookies per session, browser-like
 *   generated headers, 3 retries), except what any fair run needs: in-memory storage never written
 *   to disk, a fixed concurrency (minConcurrency = maxConcurrency, so its autoscaled pool neither
 *   ramps up slowly nor throttles itself), no robots.txt, no request cap, and a navigation timeout
 *   equal to the service's per-fetch timeout.
 * - `tuned`: the same, plus what the service does not do either: no session pool (so no cookie jar
 *   per session), no header generation / fingerprints, and the service's number of retries.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const { startUrl, concurrency, crawleeDir, timeoutSecs, retries, mode, outFile, warm } = JSON.parse(process.argv[2]);
const require = createRequire(join(crawleeDir, 'package.json'));
const { CheerioCrawler, Configuration, log } = require('@crawlee/cheerio');
const { MemoryStorage } = require('@crawlee/memory-storage');
const version = JSON.parse(readFileSync(require.resolve('@crawlee/cheerio/package.json'), 'utf8')).version;

log.setLevel(log.LEVELS.WARNING);
// A storage of its own per crawler: the timed crawl's request queue starts empty after a warm-up crawl.
const freshConfig = () =>
  new Configuration({
    persistStorage: false,
    purgeOnStart: true,
    storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }),
  });

const tuned =
  mode === 'tuned'
    ? {
        useSessionPool: false,
        persistCookiesPerSession: false,
        maxRequestRetries: retries,
        // got-scraping generates browser-like headers (a fingerprint) for every request unless told not to.
        preNavigationHooks: [
          (_context, gotOptions) => {
            gotOptions.useHeaderGenerator = false;
          },
        ],
      }
    : {};

let ok = [];
let failed = [];
let enqueued = 0;
/** A field of /proc/self/status in kB. */
const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const build = () =>
  new CheerioCrawler(
    {
      minConcurrency: concurrency,
      maxConcurrency: concurrency,
      maxRequestsPerCrawl: 10_000_000,
      respectRobotsTxtFile: false,
      navigationTimeoutSecs: timeoutSecs,
      ...tuned,
      async requestHandler({ request, response, enqueueLinks }) {
        // A 4xx page reaches the handler in Crawlee (only 5xx and blocking codes throw): it is
        // not a page fetched successfully.
        if (response.statusCode >= 400) {
          failed.push({ url: request.url, error: `HTTP ${response.statusCode}` });
          return;
        }
        ok.push(request.loadedUrl ?? request.url);
        const { processedRequests } = await enqueueLinks({ strategy: 'same-origin' });
        enqueued += processedRequests.length;
      },
      failedRequestHandler({ request }, error) {
        failed.push({ url: request.url, error: String(error?.message ?? error).slice(0, 200) });
      },
    },
    freshConfig(),
  );

// --warm: one complete untimed crawl by a crawler of its own first (JIT warmed), its results dropped.
if (warm) {
  await build().run([startUrl]);
  ok = [];
  failed = [];
  enqueued = 0;
}
const crawler = build();

const next = (expected) =>
  new Promise((resolve) =>
    process.once('message', (message) => {
      if (message !== expected) throw new Error(`expected '${expected}' from the bench, got ${JSON.stringify(message)}`);
      resolve();
    }),
  );

const rssBeforeKb = kb('VmRSS');
process.send('ready');
await next('go');
const stats = await crawler.run([startUrl]);
writeFileSync(
  outFile,
  JSON.stringify({
    version,
    mode,
    ok,
    failed,
    enqueued,
    rssBeforeKb,
    hwmKb: kb('VmHWM'),
    // retryHistogram[n]: requests that finished after n retries.
    stats: {
      requestsFinished: stats.requestsFinished,
      requestsFailed: stats.requestsFailed,
      retries: stats.retryHistogram.reduce((sum, count, n) => sum + n * (count ?? 0), 0),
      requestsTotal: stats.requestsTotal,
    },
  }),
);
process.send('done');
await next('exit');
// Crawlee keeps timers (snapshotter, statistics) that would hold the process a while longer.
process.exit(0);

/**
 * The Crawlee side of bench:crawl, run as its own process (`node crawlee-run.mjs '<json>'`) so its
 * CPU time and memory are its own. Plain JavaScript on purpose: no tsx loader in this process.
 * Crawlee is not a dependency of the project: it is loaded from the folder the bench installed
 * it into (see crawlee-install.ts), given as `crawleeDir`.
 *
 * A CheerioCrawler with Crawlee's defaults except: in-memory storage that is never written to
 * disk, a fixed concurrency (minConcurrency = maxConcurrency = `concurrency`, so its autoscaled
 * pool neither ramps up slowly nor throttles itself), no robots.txt, no request cap, and a
 * navigation timeout equal to the service's per-fetch timeout. Retries, sessions, header
 * generation and parsing are left as Crawlee ships them.
 *
 * Writes one JSON object to `outFile`: the URLs it fetched successfully and the ones it did not,
 * the crawl's wall time and this process's CPU time over it, and the process's peak RSS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const { startUrl, concurrency, crawleeDir, timeoutSecs, outFile } = JSON.parse(process.argv[2]);
const require = createRequire(join(crawleeDir, 'package.json'));
const { CheerioCrawler, Configuration, log } = require('@crawlee/cheerio');
const { MemoryStorage } = require('@crawlee/memory-storage');
const version = JSON.parse(readFileSync(require.resolve('@crawlee/cheerio/package.json'), 'utf8')).version;

log.setLevel(log.LEVELS.WARNING);
const config = new Configuration({
  persistStorage: false,
  purgeOnStart: true,
  storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }),
});

const ok = [];
const failed = [];
let enqueued = 0;
/** A field of /proc/self/status in kB. */
const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const crawler = new CheerioCrawler(
  {
    minConcurrency: concurrency,
    maxConcurrency: concurrency,
    maxRequestsPerCrawl: 10_000_000,
    respectRobotsTxtFile: false,
    navigationTimeoutSecs: timeoutSecs,
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
  config,
);

const rssBeforeKb = kb('VmRSS');
const cpu = process.cpuUsage();
const start = performance.now();
const stats = await crawler.run([startUrl]);
const ms = performance.now() - start;
const used = process.cpuUsage(cpu);
writeFileSync(
  outFile,
  JSON.stringify({
    version,
    ok,
    failed,
    enqueued,
    ms,
    cpuMs: (used.user + used.system) / 1000,
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
// Crawlee keeps timers (snapshotter, statistics) that would hold the process a while longer.
process.exit(0);

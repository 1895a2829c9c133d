/**
 * bench:crawl's command line: options after `--` (see the header of crawl.bench.ts), validated,
 * with --quick's smaller defaults.
 */
import { SITE_KEYS, type SiteKey } from './crawl-targets';

const QUICK_PAGES = 300;

export interface CrawlArgs {
  runs: number;
  quick: boolean;
  sites: SiteKey[];
  pages: number;
  concurrency: number;
  latencyMs: number;
  seed: number;
  cpuProf: boolean;
  /** Each timed crawl follows one untimed crawl of the same site in the same process (both crawlers). */
  warm: boolean;
  /** Added latency of each scenario on the generated site, in ms: 0 and --latency-ms unless --scenarios says otherwise. */
  scenarios?: number[];
}

const USAGE = 'known: --runs N --quick --sites generated,docs --pages N --concurrency N --latency-ms N --seed N --scenarios MS,MS --cpu-prof --warm';

export function parseCrawlArgs(argv: string[]): CrawlArgs {
  const args: CrawlArgs = { runs: 5, quick: false, sites: [...SITE_KEYS], pages: 3000, concurrency: 32, latencyMs: 50, seed: 1, cpuProf: false, warm: false };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const text = () => inline ?? argv[++i] ?? '';
    const value = () => Number(text());
    given.add(flag);
    if (flag === '--runs') args.runs = value();
    else if (flag === '--quick') args.quick = true;
    else if (flag === '--sites') args.sites = text().split(',') as SiteKey[];
    else if (flag === '--pages') args.pages = value();
    else if (flag === '--concurrency') args.concurrency = value();
    else if (flag === '--latency-ms') args.latencyMs = value();
    else if (flag === '--seed') args.seed = value();
    else if (flag === '--cpu-prof') args.cpuProf = true;
    else if (flag === '--warm') args.warm = true;
    else if (flag === '--scenarios') args.scenarios = text().split(',').map(Number);
    else throw new Error(`unknown option ${argv[i]} (${USAGE})`);
  }
  if (args.quick) {
    if (!given.has('--pages')) args.pages = QUICK_PAGES;
    if (!given.has('--runs')) args.runs = 1;
  }
  for (const [name, n] of Object.entries({ ...args, scenarios: undefined })) if (typeof n === 'number' && !(Number.isInteger(n) && n >= 0)) throw new Error(`--${name} must be a whole number`);
  if (args.scenarios && !args.scenarios.every((n) => Number.isInteger(n) && n >= 0 && n <= 10_000)) throw new Error('--scenarios takes latencies in ms, comma-separated, e.g. 0,50');
  if (args.sites.length === 0 || !args.sites.every((s) => SITE_KEYS.includes(s)) || new Set(args.sites).size !== args.sites.length)
    throw new Error(`--sites takes ${SITE_KEYS.join(' and/or ')}, comma-separated, each once, e.g. --sites docs`);
  if (args.runs < 1 || args.runs > 50) throw new Error('--runs must be 1..50');
  if (args.pages < 100 || args.pages > 100_000) throw new Error('--pages must be 100..100000');
  if (args.concurrency < 1 || args.concurrency > 256) throw new Error('--concurrency must be 1..256');
  return args;
}

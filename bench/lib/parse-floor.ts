/**
 * bench:crawl's one-thread link-parsing floor: what turning every page of a site into a title and
 * links costs on one thread with no fetching, no hand-off and no job state, measured in the bench
 * process in the same run as the crawls. It runs the service's own code as built in dist/ (the
 * PageParser a crawl worker feeds each body to: decode, the streaming parser a links-only page goes through (no DOM), URL normalisation), with
 * the service's default settings, so the floor moves with the parser. A crawl within a small
 * factor of it spends little on everything else.
 *
 * One untimed warm-up pass over the site, then `passes` timed passes, each page timed alone;
 * CPU (process.cpuUsage: this thread and V8's helpers, e.g. the GC's) over each whole pass.
 */
import { join } from 'node:path';
import type { DocTable } from './bench-doc';
import { mib, type CrawlRun } from './crawl-runs';
import { fmtSpread, median } from './stats';
import type { Row } from './table';

const DIST = join(__dirname, '..', '..', 'dist');
/** The target on the documentation site: the crawl within this factor of the floor. */
export const FLOOR_TARGET = 3;

const BUCKETS = [
  { name: '< 8 KB', below: 8_000 },
  { name: '8-32 KB', below: 32_000 },
  { name: '32-128 KB', below: 128_000 },
  { name: '> 128 KB', below: Infinity },
];

export interface FloorPage {
  path: string;
  body: Buffer;
}

export interface Floor {
  pages: number;
  bytes: number;
  medianBytes: number;
  /** Per timed pass: wall time of the whole site, CPU of the process, and each page's time (ms). */
  passes: { totalMs: number; cpuMs: number; pageMs: number[] }[];
  /** Links found in one pass: the parse did its work. */
  links: number;
  sizes: number[];
}

/** Parses every page `passes` times (after one warm-up pass) the way a crawl worker does. */
export async function measureFloor(pages: FloorPage[], { origin, contentType, passes }: { origin: string; contentType: string; passes: number }): Promise<Floor> {
  const { PageParser } = require(join(DIST, 'crawl', 'page-parser.js')) as typeof import('../../src/crawl/page-parser');
  const { loadConfig } = require(join(DIST, 'config', 'config.schema.js')) as typeof import('../../src/config/config.schema');
  const config = loadConfig({});
  // What CrawlKind gives each page by default (no content formats, no near-duplicate fingerprint).
  const options = { maxLinks: config.CRAWL_MAX_LINKS_PER_PAGE, budgetMs: config.CRAWL_PARSE_BUDGET_MS, domMaxBytes: config.CRAWL_DOM_MAX_BYTES, fingerprint: false };
  const parse = async (page: FloorPage) => {
    const parser = new PageParser(origin + page.path, contentType, options);
    await parser.write(page.body);
    return parser.finish().links.length;
  };
  let links = 0;
  for (const page of pages) links += await parse(page);
  const timed: Floor['passes'] = [];
  for (let pass = 0; pass < passes; pass++) {
    const pageMs: number[] = [];
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (const page of pages) {
      const t = performance.now();
      await parse(page);
      pageMs.push(performance.now() - t);
    }
    const totalMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    timed.push({ totalMs, cpuMs: (used.user + used.system) / 1000, pageMs });
  }
  const sizes = pages.map((p) => p.body.length);
  return { pages: pages.length, bytes: sizes.reduce((a, b) => a + b, 0), medianBytes: median(sizes), passes: timed, links, sizes };
}

export function floorLine(label: string, floor: Floor): string {
  const perPage = floor.passes.map((p) => p.totalMs / floor.pages);
  return `${label} floor: ${floor.pages} pages (${mib(floor.bytes / 1024)}, ${floor.links} links) parsed in ${fmtSpread(
    floor.passes.map((p) => p.totalMs),
    ms,
  )} per pass = ${fmtSpread(perPage, ms3)} per page (${floor.passes.length} passes after a warm-up, one thread)`;
}

export interface FloorSite {
  label: string;
  floor: Floor;
  /** The service's no-added-latency runs on this site. */
  service: CrawlRun[];
  /** Whether FLOOR_TARGET applies to this site. */
  target: boolean;
}

/** The service against the floor, per site; then the floor by page size. */
export function floorTables(sites: FloorSite[]): DocTable[] {
  const spreadOf = (n: number) => (n > 1 ? ' (min / median / max)' : '');
  const passes = Math.max(...sites.map((s) => s.floor.passes.length));
  const header: Row = [
    'Site',
    'Pages',
    'Page size (median)',
    `Floor ms per page${spreadOf(passes)}`,
    `Floor, whole site${spreadOf(passes)}`,
    'Floor CPU per page (median)',
    'Service time (median, no added latency)',
    'Service time ÷ floor (medians)',
    `<= ${FLOOR_TARGET}x (docs site)`,
    'CPU per page, service ÷ floor (medians)',
  ];
  const rows = sites.map(({ label, floor, service, target }): Row => {
    const perPage = floor.passes.map((p) => p.totalMs / floor.pages);
    const floorTotal = median(floor.passes.map((p) => p.totalMs));
    const floorCpu = median(floor.passes.map((p) => p.cpuMs / floor.pages));
    const serviceMs = service.length ? median(service.map((r) => r.ms)) : NaN;
    const serviceCpu = service.length ? median(service.map((r) => r.cpuMs / r.ok.size)) : NaN;
    const ratio = serviceMs / floorTotal;
    return [
      label,
      String(floor.pages),
      `${(floor.medianBytes / 1000).toFixed(1)} KB`,
      fmtSpread(perPage, ms3),
      fmtSpread(
        floor.passes.map((p) => p.totalMs),
        ms,
      ),
      ms3(floorCpu),
      service.length ? ms(serviceMs) : '-',
      service.length ? `${ratio.toFixed(2)}x` : '-',
      !target || !service.length ? '-' : ratio <= FLOOR_TARGET ? 'yes' : 'NO',
      service.length ? `${(serviceCpu / floorCpu).toFixed(2)}x` : '-',
    ];
  });
  const bucketHeader: Row = ['Site', 'Page size', 'Pages', 'Mean size', `Floor ms per page${spreadOf(passes)}`];
  const bucketRows: Row[] = [];
  for (const { label, floor } of sites) {
    let from = 0;
    for (const bucket of BUCKETS) {
      const members = floor.sizes.flatMap((size, i) => (size >= from && size < bucket.below ? [i] : []));
      from = bucket.below;
      const mean = members.reduce((sum, i) => sum + floor.sizes[i], 0) / members.length;
      const perPage = floor.passes.map((p) => members.reduce((sum, i) => sum + p.pageMs[i], 0) / members.length);
      bucketRows.push([label, bucket.name, String(members.length), members.length ? `${(mean / 1000).toFixed(1)} KB` : '-', members.length ? fmtSpread(perPage, ms3) : '-']);
    }
  }
  return [
    { caption: 'The service against the one-thread parsing floor', header, rows },
    { caption: 'The floor by page size', header: bucketHeader, rows: bucketRows },
  ];
}

export const FLOOR_NOTES = [
  "Floor: every page of the site turned into its title and links on one thread of the bench process by the service's own PageParser (dist/crawl/page-parser.js: decode, the streaming parser a links-only page goes through (no DOM), URL normalisation) with the default settings; no fetching, no worker hand-off, no job state.",
  'Floor ms per page = a timed pass over the whole site ÷ its pages (one untimed warm-up pass first); Floor CPU per page = process CPU over a pass ÷ pages (this thread and V8 helpers such as the GC).',
  `Service time ÷ floor = the service's median crawl time (request to last result read) ÷ the floor's median time for the whole site; the issue's target (<= ${FLOOR_TARGET}x) is for the documentation site. CPU per page, service ÷ floor = the service's median CPU per page (every thread) ÷ the floor's.`,
];

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`;
}

function ms3(x: number): string {
  return `${x.toFixed(3)} ms`;
}

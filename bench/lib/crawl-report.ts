/**
 * bench:crawl's tables: per crawler and scenario, min / median / max over the runs; then the
 * service against each Crawlee configuration; then the details each figure rests on.
 */
import type { CrawlerName, CrawlRun } from './crawl-runs';
import { mib, sec } from './crawl-runs';
import { fmtSpread, median } from './stats';
import type { DocTable } from './bench-doc';
import { markdownTable, plainTable, type Row } from './table';

export interface Scenario {
  name: string;
  latencyMs: number;
  runs: Map<CrawlerName, CrawlRun[]>;
}

/** What the per-crawler columns mean (printed with each site's tables, written once under them). */
export const CRAWL_LEGEND = [
  'Columns: Time = from the request to the last result read, boot excluded; Pages/s = pages fetched OK ÷ Time;',
  'CPU per page = CPU time of the crawling process tree over Time ÷ pages OK; CPU cores busy = that CPU time ÷ Time;',
  'Peak RSS = the crawling process, sampled every 50 ms or its VmHWM if higher; Failed = pages that did not load (both sites link to some missing paths, which answer 404).',
];

const pagesPerSecond = (run: CrawlRun) => run.ok.size / (run.ms / 1000);
const cpuPerPage = (run: CrawlRun) => run.cpuMs / run.ok.size;

/** Prints the report; returns its tables and the lines that explain them, for docs/benchmarks.md. */
export function printCrawlReport(
  scenarios: Scenario[],
  options: {
    /** The site's name in captions. */
    site: string;
    expected: Set<string>;
    /** The speedup over Crawlee the service is meant to reach on this site. */
    targetSpeedup: number;
    concurrency: number;
    runs: number;
    context: string;
  },
): { tables: DocTable[]; notes: string[] } {
  const { expected, targetSpeedup } = options;
  const spreadOf = `${options.runs > 1 ? ' (min / median / max)' : ''}`;
  const header: Row = [
    'Scenario',
    'Crawler',
    'Pages OK',
    'Failed',
    `Time${spreadOf}`,
    `Pages/s${spreadOf}`,
    `CPU per page${spreadOf}`,
    `CPU cores busy${spreadOf}`,
    `Peak RSS${spreadOf}`,
    'Same pages as the service',
  ];
  const rows: Row[] = [];
  const ratioHeader: Row = [
    'Scenario',
    'Against',
    'Pages/s, service ÷ Crawlee (medians)',
    'Slowest service run ÷ fastest Crawlee run',
    `>= ${targetSpeedup}x`,
    'CPU per page, service ÷ Crawlee (medians)',
    'Peak RSS, service ÷ Crawlee (medians)',
  ];
  const ratios: Row[] = [];
  const details: string[] = [];
  for (const s of scenarios) {
    const service = s.runs.get('service')!;
    const reference = service[0].ok;
    for (const [crawler, runs] of s.runs) {
      const okCounts = runs.map((r) => r.ok.size);
      const missing = Math.max(...runs.map((r) => [...expected].filter((p) => !r.ok.has(p)).length));
      const diffs = runs.map((r) => symmetricDifference(reference, r.ok));
      const worstDiff = Math.max(...diffs.map((d) => d.onlyA.length + d.onlyB.length));
      rows.push([
        s.name,
        crawler,
        `${fmtSpread(okCounts, String)}${missing ? ` (up to ${missing} of the site missing)` : ''}`,
        fmtSpread(
          runs.map((r) => total(r.failed)),
          String,
        ),
        fmtSpread(
          runs.map((r) => r.ms),
          sec,
        ),
        fmtSpread(runs.map(pagesPerSecond), (x) => x.toFixed(0)),
        fmtSpread(runs.map(cpuPerPage), (x) => `${x.toFixed(2)} ms`),
        fmtSpread(
          runs.map((r) => r.cpuMs / r.ms),
          (x) => x.toFixed(2),
        ),
        fmtSpread(
          runs.map((r) => r.peakKb),
          mib,
        ),
        worstDiff === 0 ? 'yes' : `NO: up to ${worstDiff} pages differ`,
      ]);
      details.push(`${options.site}, ${s.name}, ${crawler}:`);
      runs.forEach((run, i) => {
        const failures = [...run.failed].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
        const busy = run.otherCores !== undefined ? `; other processes used ${run.otherCores.toFixed(2)} cores meanwhile` : '';
        // Without added latency each response is written at once, so requests in flight say nothing.
        const inFlight = s.latencyMs > 0 ? `; requests in flight at the site: mean ${run.site.meanInFlight.toFixed(1)}, peak ${run.site.peakInFlight}` : '';
        const served = run.site.note ?? `the site served ${run.site.requests} requests (${run.site.ok} pages, ${run.site.repeats} repeats, ${run.site.notFound} 404s, ${mib(run.site.bytes / 1024)})`;
        details.push(`  run ${i + 1}: ${sec(run.ms)}, CPU ${sec(run.cpuMs)}; failures: ${failures}; ${served}${inFlight}${busy}`);
        if (i === 0) for (const note of run.notes) details.push(`    ${note}`);
        const diff = diffs[i];
        if (diff.onlyA.length + diff.onlyB.length > 0) {
          details.push(`    pages only the service's first run has: ${diff.onlyA.slice(0, 5).join(' ') || '-'}; only this run: ${diff.onlyB.slice(0, 5).join(' ') || '-'}`);
        }
        if (s.latencyMs > 0 && run.site.peakInFlight < options.concurrency / 2) {
          details.push(`    NOTE: never more than ${run.site.peakInFlight} requests in flight at the site, with concurrency ${options.concurrency}`);
        }
      });
    }
    for (const against of ['Crawlee defaults', 'Crawlee tuned'] as const) {
      const other = s.runs.get(against)!;
      const speedup = median(service.map(pagesPerSecond)) / median(other.map(pagesPerSecond));
      const worst = Math.min(...service.map(pagesPerSecond)) / Math.max(...other.map(pagesPerSecond));
      ratios.push([
        s.name,
        against,
        `${speedup.toFixed(2)}x`,
        `${worst.toFixed(2)}x`,
        speedup >= targetSpeedup ? 'yes' : 'NO',
        `${(median(service.map(cpuPerPage)) / median(other.map(cpuPerPage))).toFixed(2)}x`,
        `${(median(service.map((r) => r.peakKb)) / median(other.map((r) => r.peakKb))).toFixed(2)}x`,
      ]);
    }
  }
  const all = scenarios.flatMap((s) => [...s.runs.values()].flat());
  const busiest = Math.max(...all.map((r) => r.otherCores ?? 0));
  console.log(`\n${options.site}:\n\n${plainTable(header, rows)}`);
  console.log(`\n${plainTable(ratioHeader, ratios)}`);
  console.log(`\n${CRAWL_LEGEND.join('\n')}\n\n${options.context}`);
  if (busiest > 0.15) console.log(`\nWARNING: other processes took up to ${busiest.toFixed(2)} cores during a crawl; the figures are low. Rerun on an idle machine.`);
  console.log(`\n${details.join('\n')}`);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${markdownTable(ratioHeader, ratios)}\n\n${options.context}`);
  return {
    tables: [
      { caption: `${options.site}: per crawler`, header, rows },
      { caption: `${options.site}: the service against Crawlee`, header: ratioHeader, rows: ratios },
    ],
    notes: [options.context, ...(busiest > 0.15 ? [`WARNING: other processes took up to ${busiest.toFixed(2)} cores during a crawl; the figures are low.`] : [])],
  };
}

/** What docs/benchmarks.md says above the crawl tables: the sites, the crawlers, how it is measured, the targets. */
export function crawlAbout({
  sites,
  skipped,
  concurrency,
  retries,
  docsConcurrency,
  warm,
}: {
  sites: string[];
  skipped: string[];
  concurrency: number;
  retries: number;
  docsConcurrency: number;
  warm: boolean;
}): string[] {
  return [
    `Sites, each crawled whole from its start page, same-origin, concurrency ${concurrency}:`,
    ...sites.map((site) => `- ${site};`),
    ...skipped.map((line) => `- ${line}`),
    'Three crawlers:',
    '- service: the built service in its own process (`POST /crawl?wait=`, then every results page);',
    "- Crawlee defaults: Crawlee's CheerioCrawler as shipped (session pool with a cookie jar per session, generated browser-like headers, 3 retries);",
    `- Crawlee tuned: the same without the session pool and header generation, with the service's retries (${retries}).`,
    "Crawlee is installed by the benchmark into a temporary folder, not a project dependency; both Crawlee runs use in-memory storage, min = max concurrency, no robots.txt and the service's per-fetch timeout. " +
      'Scenarios on the generated site: no added latency (bound by parsing) and a fixed latency per response (bound by concurrency). Each crawl gets a fresh process and a fresh server of the site; runs go in rounds over the three crawlers. ' +
      (warm
        ? 'These runs are warm (--warm): each timed crawl follows one untimed crawl of the same site in the same process, so JIT warm-up is excluded as for the floor, and the service starts with the host pacing state it learned; the site counts only the timed crawl. '
        : 'These runs are cold: each timed crawl is the first in a fresh process, JIT warm-up included (--warm excludes it). ') +
      'Time runs from the request to the last result read, boot excluded for all; CPU is that of the crawling process tree (every thread, any child process), read from /proc at both ends. ' +
      `Targets (issue 16): on the generated site >= 3x Crawlee's pages/s; on the docs site, at concurrency ${docsConcurrency}, >= 8x Crawlee and within 3x of the one-thread parsing floor measured in the same run.`,
    'The docs site needs `apt-get install -y nginx-light postgresql-doc-15`; without them the bench skips it and says why.',
  ];
}

function total(counts: Map<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

function symmetricDifference(a: Set<string>, b: Set<string>): { onlyA: string[]; onlyB: string[] } {
  return { onlyA: [...a].filter((x) => !b.has(x)), onlyB: [...b].filter((x) => !a.has(x)) };
}

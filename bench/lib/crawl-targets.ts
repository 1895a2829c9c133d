/**
 * The sites bench:crawl crawls (`--sites generated,docs`), each with what the bench needs of it:
 * how to serve a fresh copy for one crawl, the page set a full crawl must find, the pages the
 * parsing floor parses, its latency scenarios and the speedup over Crawlee it is held to.
 * - generated: lib/crawl-site.ts, served by node:http from the bench process, mixed page sizes,
 *   with and without added latency;
 * - docs: Debian's postgresql-doc-15 HTML manual (lib/docs-corpus.ts), served from disk by the
 *   bench's own nginx (lib/nginx-site.ts), small pages, no added latency (nginx cannot add any).
 */
import { mib } from './crawl-runs';
import { type RunningSite, type Site, serveSite } from './crawl-site';
import { type DocsCorpus, DOCS_PACKAGE, DOCS_ROOT, DOCS_START, describeCorpus, docsMissing, fileOf, INSTALL_HINT, loadDocsCorpus } from './docs-corpus';
import { findNginx, serveWithNginx } from './nginx-site';
import type { FloorPage } from './parse-floor';

export const SITE_KEYS = ['generated', 'docs'] as const;
export type SiteKey = (typeof SITE_KEYS)[number];

export interface CrawlTarget {
  key: SiteKey;
  label: string;
  /** Path + query of every page a full crawl must fetch. */
  expected: Set<string>;
  /** Every page, for the parsing floor, and the content type the server sends them with. */
  floorPages: FloorPage[];
  contentType: string;
  /** Added latency (ms) of each scenario. */
  latencies: number[];
  /** The speedup over Crawlee (pages/s, medians) the service is held to on this site. */
  targetSpeedup: number;
  /** A fresh server for one crawl; nginx's processes join `children` until closed. */
  serve(latencyMs: number, children: Set<{ kill(): void }>): Promise<RunningSite>;
  /** What the site is, for the terminal (several lines). */
  description: string;
  /** The same in a sentence, for the report's context and the docs. */
  summary: string;
}

export function generatedTarget(site: Site, { host, seed, latencies, maxDepth, generatedMs }: { host: string; seed: number; latencies: number[]; maxDepth: number; generatedMs: number }): CrawlTarget {
  return {
    key: 'generated',
    label: 'generated site',
    expected: new Set(site.paths),
    floorPages: [...site.bodies].map(([path, body]) => ({ path, body })),
    contentType: 'text/html; charset=utf-8',
    latencies,
    targetSpeedup: 3,
    serve: (latencyMs) => serveSite(site, { host, latencyMs }),
    description: describeGenerated(site, host, seed, maxDepth, generatedMs),
    summary: `${site.paths.length}-page generated site (${mib(site.totalBytes / 1024)}, seed ${seed}; pages of a few KB to about 1 MB, some links to missing pages) served by node:http from the bench process`,
  };
}

/** Why the docs site cannot run here (with how to install what is missing), or undefined. */
export function docsUnavailable(): string | undefined {
  const missing = [...(findNginx() ? [] : [`nginx not found (/usr/sbin/nginx or PATH): ${INSTALL_HINT}`]), ...[docsMissing()].filter((m): m is string => m !== undefined)];
  return missing.length ? missing.join('; ') : undefined;
}

export function docsTarget({ host }: { host: string }): CrawlTarget {
  const corpus: DocsCorpus = loadDocsCorpus(DOCS_ROOT);
  const bin = findNginx()!;
  const reached = [...corpus.reachable];
  return {
    key: 'docs',
    label: `docs site (${DOCS_PACKAGE})`,
    expected: corpus.reachable,
    // The floor parses what a crawl fetches: the reachable pages.
    floorPages: reached.map((path) => ({ path, body: corpus.files.get(fileOf(path))! })),
    contentType: 'text/html',
    latencies: [0],
    targetSpeedup: 8,
    serve: (_latencyMs, children) => serveWithNginx(corpus.root, { host, bin, start: DOCS_START }, children),
    description: describeCorpus(corpus, `http://${host}`),
    summary: `${corpus.reachable.size}-page documentation site (Debian's ${DOCS_PACKAGE}: ${corpus.files.size} HTML files, ${mib(corpus.totalBytes / 1024)}, ${corpus.reachable.size} reachable from ${DOCS_START}) served from disk by nginx (one worker, sendfile, access log off), no added latency`,
  };
}

function describeGenerated(site: Site, host: string, seed: number, maxDepth: number, ms: number): string {
  const sizes = [...site.bodies.values()].map((b) => b.length).sort((a, b) => a - b);
  const q = (f: number) => kb(sizes[Math.floor(f * (sizes.length - 1))]);
  const links = [...site.linkCounts].sort((a, b) => a - b);
  const l = (f: number) => links[Math.floor(f * (links.length - 1))];
  const share = sizes.filter((s) => s >= 10_000 && s <= 60_000).length / sizes.length;
  const externals = site.externalCounts.reduce((a, b) => a + b, 0);
  const anchors = site.linkCounts.reduce((a, b) => a + b, 0);
  return [
    `generated site: ${site.paths.length} pages on http://${host}, seed ${seed} (content hash ${site.hash}), ${mib(site.totalBytes / 1024)} of HTML, generated in ${(ms / 1000).toFixed(1)} s`,
    `  page size: median ${q(0.5)}, p10 ${q(0.1)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${q(1)}; ${(share * 100).toFixed(0)}% within 10-60 KB, ${sizes.filter((s) => s > 150_000).length} pages over 150 KB`,
    `  links per page: median ${l(0.5)}, p10 ${l(0.1)}, p90 ${l(0.9)}, max ${l(1)}; ${((externals / anchors) * 100).toFixed(0)}% off-site (.example hosts, mailto:, tel:, javascript:); ${site.missing.length} linked paths answer 404`,
    `  every page reachable from / within ${Math.max(...site.depths)} links (crawls allow ${maxDepth})`,
  ].join('\n');
}

function kb(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${Math.round(bytes / 1000)} KB`;
}

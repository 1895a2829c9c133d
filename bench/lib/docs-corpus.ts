/**
 * bench:crawl's real documentation site: the HTML manual of Debian's postgresql-doc-15 package
 * (about 1,170 small pages), read from disk and served by nginx (nginx-site.ts).
 *
 * The page set a full crawl should find is worked out here, independently of every crawler: a
 * breadth-first walk over the files from index.html, following `<a href>` / `<area href>` (what
 * the service and Crawlee's enqueueLinks follow), resolved against the page, #fragment dropped,
 * same origin only, kept when a file answers it. Files no link reaches are counted, not expected.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'cheerio';

export const DOCS_PACKAGE = 'postgresql-doc-15';
export const DOCS_ROOT = process.env.CRAWL_BENCH_DOCS || `/usr/share/doc/${DOCS_PACKAGE}/html`;
export const INSTALL_HINT = 'apt-get install -y nginx-light postgresql-doc-15';
/** The page every crawler starts from (nginx would answer `/` with it too, as another URL). */
export const DOCS_START = '/index.html';

export interface DocsCorpus {
  root: string;
  /** Every HTML file by its path on the site ("/sql-select.html"). */
  files: Map<string, Buffer>;
  /** Paths + queries a full crawl from DOCS_START reaches: what every crawler should fetch. */
  reachable: Set<string>;
  totalBytes: number;
  /** Link depth of the deepest reachable page. */
  maxDepth: number;
  /** Same-origin paths linked to that no file answers (404s for every crawler). */
  missing: string[];
  /** <a>/<area> hrefs on reachable pages, and how many point off-site (other hosts, mailto:, ...). */
  anchors: number;
  external: number;
}

/** Why the corpus cannot be used, or undefined when it can. */
export function docsMissing(root = DOCS_ROOT): string | undefined {
  if (!existsSync(join(root, 'index.html'))) return `${root}/index.html not found (the ${DOCS_PACKAGE} package is not installed: ${INSTALL_HINT})`;
  return undefined;
}

export function loadDocsCorpus(root = DOCS_ROOT): DocsCorpus {
  const files = new Map<string, Buffer>();
  let totalBytes = 0;
  for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.html')) continue;
    const body = readFileSync(join(root, name));
    files.set(`/${name.split('\\').join('/')}`, body);
    totalBytes += body.length;
  }
  // Any origin does: links are compared by path + query.
  const origin = 'http://docs.invalid';
  const depth = new Map<string, number>([[DOCS_START, 0]]);
  const queue = [DOCS_START];
  const missing = new Set<string>();
  let anchors = 0;
  let external = 0;
  for (let q = 0; q < queue.length; q++) {
    const page = queue[q];
    const $ = load(files.get(fileOf(page))!.toString('utf8'), { xml: { xmlMode: false } });
    $('a[href], area[href]').each((_, el) => {
      anchors++;
      let url: URL;
      try {
        url = new URL($(el).attr('href')!.trim(), origin + page);
      } catch {
        return; // a malformed href: no crawler can follow it either
      }
      if (url.origin !== origin) {
        external++;
        return;
      }
      const key = url.pathname + url.search;
      if (depth.has(key)) return;
      if (!files.has(fileOf(key))) {
        missing.add(key);
        return;
      }
      depth.set(key, depth.get(page)! + 1);
      queue.push(key);
    });
  }
  return { root, files, reachable: new Set(queue), totalBytes, maxDepth: Math.max(...depth.values()), missing: [...missing], anchors, external };
}

/** The file a path + query is served from: the query is ignored, a directory serves its index.html. */
export function fileOf(key: string): string {
  const path = decodeURIComponent(key.split('?')[0]);
  return path.endsWith('/') ? `${path}index.html` : path;
}

/** Lines that describe the corpus, for the terminal. */
export function describeCorpus(corpus: DocsCorpus, origin: string): string {
  const sizes = [...corpus.files.values()].map((b) => b.length).sort((a, b) => a - b);
  const q = (f: number) => `${(sizes[Math.floor(f * (sizes.length - 1))] / 1000).toFixed(1)} KB`;
  return [
    `docs site: ${corpus.files.size} HTML files of ${DOCS_PACKAGE} (${corpus.root}, ${(corpus.totalBytes / 1024 ** 2).toFixed(0)} MiB) served by nginx on ${origin}, crawled from ${DOCS_START}`,
    `  page size: median ${q(0.5)}, mean ${(corpus.totalBytes / sizes.length / 1000).toFixed(1)} KB, p10 ${q(0.1)}, p90 ${q(0.9)}, max ${q(1)}`,
    `  ${corpus.reachable.size} of the ${corpus.files.size} files are reachable by links from ${DOCS_START} (within ${corpus.maxDepth} links): the page set every crawler should find; ` +
      `${corpus.anchors} <a href> on them, ${((corpus.external / Math.max(1, corpus.anchors)) * 100).toFixed(0)}% off-site; ${corpus.missing.length} linked paths answer 404`,
  ].join('\n');
}

/**
 * What page content costs: CPU per page of the worker's parse (src/crawl/page-parser.ts) with
 * links only (today's crawl) and with each content option, on real documentation pages and on
 * bench:crawl's typical generated page. Run with `npm run bench:content`.
 *
 * Pages: libffi's manual page "The Basics" (10 KB, Texinfo) and Underscore.js's documentation
 * (174 KB, one long page), both from test/fixtures/docs (Debian packages, MIT); the generated
 * site's page nearest 12 KB with the median 66 links. A figure is CPU ms per page (this process's
 * user + system time, one thread: nothing else runs here) over a batch that fills at least
 * SAMPLE_MS, --runs batches per figure (default 5) with the options alternating; min / median / max.
 *
 * Options (after `--`): --runs N (5), --quick (1 run: checks the script).
 * Writes its section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ContentRequest } from '../src/crawl/content/content-options';
import { PageParser } from '../src/crawl/page-parser';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { parseRunsArgs as parseArgs } from './lib/runs-args';
import { busyNote, CpuNeighbours } from './lib/contention';
import { generateSite } from './lib/crawl-site';
import { fmtSpread } from './lib/stats';
import { markdownTable, plainTable, type Row } from './lib/table';

const SAMPLE_MS = 200;
const DOCS = join(__dirname, '..', 'test', 'fixtures', 'docs');
const content = (over: Partial<ContentRequest>): ContentRequest => ({ formats: [], onlyMainContent: false, select: {}, maxChars: 1_000_000, ...over });
const OPTIONS: Record<string, ContentRequest | undefined> = {
  'links (today)': undefined,
  '+ markdown': content({ formats: ['markdown'] }),
  '+ markdown, onlyMainContent': content({ formats: ['markdown'], onlyMainContent: true }),
  '+ text': content({ formats: ['text'] }),
  '+ html': content({ formats: ['html'] }),
  '+ markdown, text, html': content({ formats: ['markdown', 'text', 'html'] }),
  '+ select (3 fields)': content({ select: { title: { css: 'h1, h2, h3' }, links: { css: 'a', attr: 'href', all: true }, code: { css: 'pre', all: true } } }),
};

/** One page through the worker's parser, as a fetch hands it over (16 KB chunks), with this content asked. */
async function parse(body: Buffer, request: ContentRequest | undefined): Promise<void> {
  const parser = new PageParser('https://docs.example/manual/page.html', 'text/html; charset=utf-8', { maxLinks: 5_000, budgetMs: 60_000, domMaxBytes: 1 << 20, content: request });
  for (let offset = 0; offset < body.length; offset += 16_384) await parser.write(body.subarray(offset, offset + 16_384));
  const page = parser.finish();
  if (request && page.content?.cut) throw new Error(`content cut by ${page.content.cut}`);
}

/** CPU ms per page over `count` pages. */
async function cpuPerPage(body: Buffer, request: ContentRequest | undefined, count: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await parse(body, request);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

async function main(): Promise<void> {
  const { runs, quick } = parseArgs(process.argv.slice(2));
  const measured = stamp(runs);
  const neighbours = CpuNeighbours.start([]);
  const site = generateSite({ pages: 3000, seed: 1 });
  const generated = site.paths
    .map((path, i) => ({ path, body: site.bodies.get(path)!, links: site.linkCounts[i] }))
    .filter((page) => page.links === 66)
    .reduce((best, page) => (Math.abs(page.body.length - 12_000) < Math.abs(best.body.length - 12_000) ? page : best));
  const pages = [
    { name: `libffi manual page (${(readFileSync(join(DOCS, 'libffi-the-basics.html')).length / 1000).toFixed(0)} KB)`, body: readFileSync(join(DOCS, 'libffi-the-basics.html')) },
    { name: `generated typical page (${(generated.body.length / 1000).toFixed(0)} KB, 66 links)`, body: generated.body },
    { name: `Underscore.js docs (${(readFileSync(join(DOCS, 'underscore.html')).length / 1000).toFixed(0)} KB)`, body: readFileSync(join(DOCS, 'underscore.html')) },
  ];
  const names = Object.keys(OPTIONS);
  const rows: Row[] = [];
  const figures = new Map<string, number[]>();
  for (const page of pages) {
    // Pages per batch: enough for the slowest option to fill SAMPLE_MS (the doubling is the warm-up).
    let count = 1;
    while (count < 4096 && (await cpuPerPage(page.body, OPTIONS[names.at(-2)!], count)) * count < SAMPLE_MS) count *= 2;
    for (let run = 0; run < runs; run++) {
      for (const name of names) {
        const key = `${page.name}|${name}`;
        figures.set(key, [...(figures.get(key) ?? []), await cpuPerPage(page.body, OPTIONS[name], count)]);
      }
    }
  }
  const fmt = (ms: number) => ms.toFixed(2);
  for (const name of names) rows.push([name, ...pages.map((page) => fmtSpread(figures.get(`${page.name}|${name}`)!, fmt))]);
  const spreadOf = runs > 1 ? ', min / median / max' : '';
  const header: Row = ['Formats asked', ...pages.map((page) => `${page.name}: CPU ms/page${spreadOf}`)];
  const note =
    `CPU ms/page = user + system time of this process (one thread) to parse a page from its bytes (16 KB chunks, as a fetch delivers them) into links, title and the content asked, divided by the pages of a batch; ` +
    `${runs} batch(es) per figure, options alternating, after a warm-up. Node ${process.version}, ${availableParallelism()} cores.${busyNote(neighbours?.otherCores())}`;
  console.log(`\n${plainTable(header, rows)}\n\n${note}`);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${note}`);
  writeBenchSection(
    {
      name: 'content',
      title: 'Page content',
      command: 'npm run bench:content',
      about: [
        "What each content option of POST /crawl costs on the worker thread, against today's links-only parse: markdown (node-html-markdown, in 16 KB pieces), text (html-to-text), cleaned html, main content, select.",
        'Pages: a libffi manual page (Texinfo) and the Underscore.js documentation page (test/fixtures/docs, from Debian packages), and the typical page of bench:crawl’s generated site.',
      ],
      tables: [{ header, rows }],
      notes: [note],
      stamp: measured,
    },
    { quick },
  );
}

void main();

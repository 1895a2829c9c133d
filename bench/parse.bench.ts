/**
 * Link extraction, parser by parser: the comparison behind src/crawl/extract-links.ts. Run with
 * `npm run bench:parse`.
 *
 * Four ways to get a page's title and every <a href> / <area href>, all through cheerio (what the
 * service depends on), each checked to find the same hrefs and title as the first:
 * - parse5 + selectors: cheerio's default `load()`, then `$('a[href], area[href]')`;
 * - htmlparser2 + selectors: `load(html, { xml: { xmlMode: false } })`, the same selectors;
 * - htmlparser2 + plain walk: the same tree walked by hand, no selector engine;
 * - the same without entity decoding during the parse, decoding only the hrefs and title kept.
 * URL resolution and normalisation (the same for all four) are left out.
 *
 * Pages come from bench:crawl's generated site (seed 1): the typical page (the one nearest 12 KB
 * among those with 66 links; 66 is the site's median) and a sample of SAMPLE_PAGES pages drawn
 * evenly from the whole site. A figure is ms per page on one thread: a timed sample parses the
 * page (or every page of the sample) as many times as fill at least SAMPLE_MS and divides. --runs
 * samples per figure (default 5), parsers alternating, after a warm-up; min / median / max printed.
 *
 * Options (after `--`): --runs N (5), --quick (1 run: checks the script).
 * Writes its section of docs/benchmarks.md (lib/bench-doc.ts).
 */
import { availableParallelism } from 'node:os';
import { load } from 'cheerio';
import { decodeHTML } from 'entities';
import { generateSite } from './lib/crawl-site';
import { batchToFill, fmtSpread, median } from './lib/stats';
import { busyNote, CpuNeighbours } from './lib/contention';
import { stamp, writeBenchSection } from './lib/bench-doc';
import { parseRunsArgs as parseArgs } from './lib/runs-args';
import { markdownTable, plainTable, type Row } from './lib/table';
import type { Node } from '../src/crawl/extract-links';

const TYPICAL = { bytes: 12_000, links: 66 };
const SAMPLE_PAGES = 100;
const SAMPLE_MS = 100;

interface Extracted {
  title: string;
  hrefs: string[];
}

function withSelectors($: ReturnType<typeof load>, decode: (s: string) => string): Extracted {
  const hrefs: string[] = [];
  // .each, never .map().get(): the latter is quadratic in the number of matches.
  $('a[href], area[href]').each((_, el) => {
    hrefs.push(decode((el as unknown as Node).attribs!.href));
  });
  return { title: decode($('title').first().text()), hrefs };
}

function withWalk($: ReturnType<typeof load>, decode: (s: string) => string): Extracted {
  const hrefs: string[] = [];
  let title: string | undefined;
  const stack: Node[] = [...(($.root()[0] as unknown as Node).children ?? [])].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type !== 'tag' && node.type !== 'script' && node.type !== 'style') continue;
    if ((node.name === 'a' || node.name === 'area') && node.attribs?.href !== undefined) hrefs.push(decode(node.attribs.href));
    else if (node.name === 'title' && title === undefined) title = decode((node.children ?? []).map((c) => c.data ?? '').join(''));
    const children = node.children;
    if (children) for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return { title: title ?? '', hrefs };
}

const same = (s: string) => s;
const PARSERS: Record<string, (html: string) => Extracted> = {
  'parse5 + selectors': (html) => withSelectors(load(html), same),
  'htmlparser2 + selectors': (html) => withSelectors(load(html, { xml: { xmlMode: false } }), same),
  'htmlparser2 + plain walk': (html) => withWalk(load(html, { xml: { xmlMode: false } }), same),
  'htmlparser2 + plain walk, no entity decoding in the parse': (html) => withWalk(load(html, { xml: { xmlMode: false, decodeEntities: false } }), decodeHTML),
};

/** ms per page: parses every page of `pages` `rounds` times. */
function timeParse(parse: (html: string) => Extracted, pages: readonly string[], rounds: number): number {
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const html of pages) parse(html);
  return (performance.now() - start) / (rounds * pages.length);
}

function main(): void {
  const { runs, quick } = parseArgs(process.argv.slice(2));
  const measured = stamp(runs);
  const neighbours = CpuNeighbours.start([]);
  const site = generateSite({ pages: 3000, seed: 1 });
  const pages = site.paths.map((path, i) => ({ path, html: site.bodies.get(path)!.toString('utf8'), bytes: site.bodies.get(path)!.length, links: site.linkCounts[i] }));
  const linkMedian = median(pages.map((p) => p.links));
  const withTypicalLinks = pages.filter((p) => p.links === TYPICAL.links);
  const typical = (withTypicalLinks.length ? withTypicalLinks : pages).reduce((best, p) => (Math.abs(p.bytes - TYPICAL.bytes) < Math.abs(best.bytes - TYPICAL.bytes) ? p : best));
  const sample = Array.from({ length: SAMPLE_PAGES }, (_, k) => pages[Math.floor((k * pages.length) / SAMPLE_PAGES)]);
  const sampleKb = median(sample.map((p) => p.bytes)) / 1000;
  console.log(
    `typical page: ${typical.path}, ${(typical.bytes / 1000).toFixed(1)} KB, ${typical.links} links (the site's median is ${linkMedian}); sample: ${SAMPLE_PAGES} pages evenly spread over the 3,000, median ${sampleKb.toFixed(0)} KB`,
  );

  // Every parser must find what parse5 + selectors finds, on every page measured.
  const names = Object.keys(PARSERS);
  for (const page of [typical, ...sample]) {
    const expected = JSON.stringify(PARSERS[names[0]](page.html));
    for (const name of names.slice(1)) {
      if (JSON.stringify(PARSERS[name](page.html)) !== expected) throw new Error(`${name} and ${names[0]} disagree on ${page.path}`);
    }
  }

  const rows: Row[] = [];
  const results = new Map(names.map((name) => [name, { typical: [] as number[], sample: [] as number[] }]));
  const typicalHtml = [typical.html];
  const sampleHtml = sample.map((p) => p.html);
  // Warm-up, and how many times to parse so that every parser's sample lasts SAMPLE_MS or more.
  const fill = (batch: string[]) =>
    batchToFill(
      names.map((name) => (rounds: number) => timeParse(PARSERS[name], batch, rounds) * rounds * batch.length),
      SAMPLE_MS,
    );
  const typicalRounds = fill(typicalHtml);
  const sampleRounds = fill(sampleHtml);
  for (let run = 0; run < runs; run++) {
    for (const name of names) {
      results.get(name)!.typical.push(timeParse(PARSERS[name], typicalHtml, typicalRounds));
      results.get(name)!.sample.push(timeParse(PARSERS[name], sampleHtml, sampleRounds));
    }
  }
  const fmt = (ms: number) => ms.toFixed(2);
  for (const name of names) {
    const r = results.get(name)!;
    rows.push([name, fmtSpread(r.typical, fmt), fmtSpread(r.sample, fmt)]);
  }
  const spreadOf = runs > 1 ? ', min / median / max' : '';
  const header: Row = [
    'Parser + link extraction (cheerio)',
    `Typical page (${(typical.bytes / 1000).toFixed(0)} KB, ${typical.links} links), ms/page${spreadOf}`,
    `${SAMPLE_PAGES}-page sample (median ${sampleKb.toFixed(0)} KB), ms/page${spreadOf}`,
  ];
  const note =
    `ms/page = parsing the HTML string into cheerio's tree and collecting the title and every a/area href (decoded), one thread; URL resolution not included; ` +
    `each sample parses the page ${typicalRounds} times (the sample ${sampleRounds} times over) and divides; ${runs} sample(s) per figure, parsers alternating, after a warm-up. ` +
    `Node ${process.version}, ${availableParallelism()} cores.${busyNote(neighbours?.otherCores())}`;
  console.log(`\n${plainTable(header, rows)}\n\n${note}`);
  console.log(`\nMarkdown:\n\n${markdownTable(header, rows)}\n\n${note}`);
  writeBenchSection(
    {
      name: 'parse',
      title: 'Link extraction',
      command: 'npm run bench:parse',
      about: [
        "The comparison behind `src/crawl/extract-links.ts`: four ways to get a page's title and every `<a href>` / `<area href>` through cheerio, each checked to find the same hrefs and title:",
        "- parse5 + selectors: cheerio's default `load()`, then `$('a[href], area[href]')`;",
        "- htmlparser2 + selectors: the same selectors on htmlparser2's tree;",
        '- htmlparser2 + plain walk: the same tree walked by hand, no selector engine;',
        '- the same without entity decoding during the parse, decoding only the hrefs and title kept (what the service uses).',
        `URL resolution is left out. Pages come from bench:crawl's generated site: its typical page (the one nearest ${TYPICAL.bytes / 1000} KB among those with the site's median link count) ` +
          `and ${SAMPLE_PAGES} pages spread over the whole site. ms per page, one thread; a timed sample parses as many times as fill at least ${SAMPLE_MS} ms and divides; parsers alternate, after a warm-up.`,
      ],
      tables: [{ header, rows }],
      notes: [note],
      stamp: measured,
    },
    { quick },
  );
}

try {
  main();
} catch (err: unknown) {
  console.error(`\nBENCHMARK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}

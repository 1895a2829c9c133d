/**
 * The site bench:crawl crawls: a generated, deterministic (seeded) web site of interlinked HTML
 * pages, rendered once into memory and served by node:http on a loopback address.
 *
 * Shape, meant to look like a real content site to a parser and a frontier:
 * - pages under a dozen sections (/docs/..., /blog/2023/..., /shop/...), some listing pages with
 *   ?page=N; lower-case paths, no trailing slash (except /), so that every crawler's URL
 *   normalisation agrees on what is one page;
 * - tens to hundreds of links per page: header navigation, breadcrumbs, links inside the text,
 *   "related" lists, a footer; mostly internal (absolute paths, sibling-relative paths, some with
 *   #fragments, a few to missing pages that 404), some external and out of scope (hosts under the
 *   reserved .example TLD, mailto:, tel:, javascript:), which no crawler here may follow;
 * - sizes skewed like real pages: most 10-60 KB, a few hundred KB to ~1 MB of long text and
 *   tables; inline CSS and scripts, entities and non-ASCII text;
 * - every page reachable from / (a random spanning tree guarantees it) within `maxDepth()`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { prng } from './stats';

export interface SiteOptions {
  pages: number;
  seed: number;
}

export interface Site {
  /** Path + query of every page, by page number; pathOf[0] is "/". */
  paths: string[];
  /** Rendered pages by path + query. */
  bodies: Map<string, Buffer>;
  totalBytes: number;
  /** Link depth of each page from / (BFS over the internal links). */
  depths: number[];
  /** <a href> elements per page, and how many of them point off-site. */
  linkCounts: number[];
  externalCounts: number[];
  /** Paths that are linked to but answer 404. */
  missing: string[];
  /** sha256 of every page in order: the same seed gives the same site. */
  hash: string;
}

const SECTIONS = [
  { name: 'docs', subs: ['getting-started', 'guides', 'reference', 'api', 'tutorials'], weight: 5 },
  { name: 'blog', subs: ['2019', '2020', '2021', '2022', '2023', '2024'], weight: 5 },
  { name: 'shop', subs: ['laptops', 'phones', 'audio', 'cameras', 'accessories', 'outlet'], weight: 4 },
  { name: 'news', subs: ['company', 'industry', 'releases', 'press'], weight: 3 },
  { name: 'help', subs: ['account', 'billing', 'shipping', 'returns'], weight: 2 },
  { name: 'research', subs: ['papers', 'datasets', 'benchmarks'], weight: 1 },
  { name: 'events', subs: ['conferences', 'webinars', 'meetups'], weight: 1 },
  { name: 'community', subs: ['forum', 'showcase', 'contributors'], weight: 2 },
  { name: 'careers', subs: ['engineering', 'sales', 'design'], weight: 1 },
  { name: 'about', subs: ['team', 'history', 'offices'], weight: 1 },
  { name: 'legal', subs: ['terms', 'privacy', 'licenses'], weight: 1 },
  { name: 'changelog', subs: ['v1', 'v2', 'v3'], weight: 1 },
] as const;

const EXTERNAL_HOSTS = [
  'www.social.example',
  'twitter.example',
  'github.example',
  'cdn.partner.example',
  'news.wire.example',
  'shop.reseller.example',
  'docs.vendor.example',
  'maps.example',
  'video.example',
  'analytics.invalid',
];

const WORDS = (
  'the of and to in is that for it as with was on be by this are from at or an have not which but all were can ' +
  'system data page network server client request response cache latency throughput queue worker thread memory ' +
  'product release update feature support customer account billing shipping return order price warranty battery ' +
  'display camera sensor audio driver kernel module library framework component service cluster region storage ' +
  'analysis result method model sample measurement figure table section appendix reference abstract benchmark ' +
  'community event conference talk session workshop meetup speaker schedule venue ticket registration volunteer ' +
  'quickly carefully roughly nearly always often rarely usually simply directly together independently'
).split(' ');
const ACCENTED = ['café', 'naïve', 'Zürich', 'São Paulo', 'façade', 'Ærøskøbing', 'crème brûlée', '東京', 'Łódź', 'résumé', '🚀', '✓'];
const ENTITIES = ['&amp;', '&mdash;', '&nbsp;', '&#8217;', '&quot;', '&lt;tag&gt;', '&copy;', '&hellip;'];

/** Builds the whole site in memory. ~3,000 pages take about a second. */
export function generateSite({ pages, seed }: SiteOptions): Site {
  if (pages < 20) throw new Error('the site needs at least 20 pages');
  const rand = prng(seed);
  const int = (from: number, to: number) => from + Math.floor(rand() * (to - from + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

  // Page numbers: 0 is /, 1..S the section home pages, then the rest.
  const paths: string[] = ['/'];
  const sectionOf: number[] = [-1];
  for (let s = 0; s < SECTIONS.length; s++) {
    paths.push(`/${SECTIONS[s].name}`);
    sectionOf.push(s);
  }
  const weights = SECTIONS.map((s) => s.weight);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const listingPages = new Map<number, number>(); // section -> pages of its listing so far
  for (let i = paths.length; i < pages; i++) {
    let r = rand() * weightSum;
    let s = 0;
    while ((r -= weights[s]) > 0) s++;
    const section = SECTIONS[s];
    sectionOf.push(s);
    if (rand() < 0.03) {
      // A listing page: /blog?page=2, /blog?page=3, ...
      const n = (listingPages.get(s) ?? 1) + 1;
      listingPages.set(s, n);
      paths.push(`/${section.name}?page=${n}`);
    } else {
      const slug = `${pick(WORDS)}-${pick(WORDS)}-${pick(WORDS)}`.replace(/[^a-z-]/g, '');
      paths.push(`/${section.name}/${pick(section.subs)}/${slug}-${i}`);
    }
  }
  const count = paths.length;
  const sectionHome = (s: number) => 1 + s;

  // A random recursive tree: every page hangs under an earlier one, so all are reachable.
  const parent = new Array<number>(count).fill(-1);
  const children: number[][] = Array.from({ length: count }, () => []);
  for (let i = 1; i < count; i++) {
    parent[i] = i <= SECTIONS.length ? 0 : i <= 60 ? int(0, i - 1) : rand() < 0.5 ? pickEarlierInSection(i) : int(1, i - 1);
    children[parent[i]].push(i);
  }
  function pickEarlierInSection(i: number): number {
    for (let tries = 0; tries < 20; tries++) {
      const j = int(1, i - 1);
      if (sectionOf[j] === sectionOf[i]) return j;
    }
    return sectionHome(sectionOf[i]);
  }

  const missing = Array.from({ length: 25 }, (_, k) => `/archive/${pick(WORDS).replace(/[^a-z]/g, 'x')}-${k}`);

  // Reusable text, so that 100+ MB of pages take a second to build, not a minute.
  const sentence = () => {
    const words: string[] = [];
    const n = int(6, 22);
    for (let w = 0; w < n; w++) {
      const roll = rand();
      words.push(roll < 0.02 ? pick(ACCENTED) : roll < 0.04 ? pick(ENTITIES) : roll < 0.06 ? `<strong>${pick(WORDS)}</strong>` : roll < 0.07 ? `<code>${pick(WORDS)}()</code>` : pick(WORDS));
    }
    const text = words.join(' ');
    return `${text.charAt(0).toUpperCase() + text.slice(1)}.`;
  };
  const paragraphs = Array.from({ length: 3000 }, () => Array.from({ length: int(2, 9) }, sentence).join(' '));
  const rows = Array.from({ length: 1500 }, (_, r) => {
    const cells = [`<td>${r + 1}</td>`, `<td>${pick(WORDS)} ${pick(WORDS)}</td>`];
    for (let c = 0; c < 5; c++) cells.push(`<td class="num">${(rand() * 10_000).toFixed(2)}</td>`);
    cells.push(`<td>${sentence()}</td>`);
    return `<tr>${cells.join('')}</tr>`;
  });
  const css = `<style>${Array.from({ length: 60 }, (_, k) => `.c${k}{margin:${k % 7}px;padding:${k % 5}px ${k % 3}px;color:#${((k * 2654435761) >>> 8).toString(16).padStart(6, '0').slice(0, 6)}}`).join('')}</style>`;
  const script = (n: number) => `<script>window.__data=${JSON.stringify(Array.from({ length: n }, (_, k) => ({ id: k, name: WORDS[k % WORDS.length], score: (k * 37) % 101 })))};</script>`;

  const linkCounts: number[] = [];
  const externalCounts: number[] = [];
  const edges: number[][] = [];
  const bodies = new Map<string, Buffer>();
  const hash = createHash('sha256');
  let totalBytes = 0;

  for (let i = 0; i < count; i++) {
    const path = paths[i];
    const dir = path.slice(0, path.lastIndexOf('/') + 1);
    const out: number[] = [];
    let anchors = 0;
    let externals = 0;
    /** An <a> to page j, written the way real pages vary it. */
    const link = (j: number, text: string, cls = ''): string => {
      out.push(j);
      anchors++;
      const target = paths[j];
      const roll = rand();
      let href = target;
      if (roll < 0.15 && target.startsWith(dir) && !target.slice(dir.length).includes('/') && !target.includes('?') && target !== path) href = target.slice(dir.length);
      else if (roll < 0.22 && !target.includes('?')) href = `${target}#${pick(['overview', 'details', 'comments', 'specs', 'faq'])}`;
      return `<a href="${href}"${cls ? ` class="${cls}"` : ''}>${text}</a>`;
    };
    const external = (): string => {
      anchors++;
      externals++;
      const roll = rand();
      const href =
        roll < 0.08
          ? `mailto:${pick(WORDS).replace(/[^a-z]/g, 'x')}@mail.example`
          : roll < 0.12
            ? 'tel:+15550100'
            : roll < 0.15
              ? 'javascript:void(0)'
              : `https://${pick(EXTERNAL_HOSTS)}/${pick(WORDS)}/${int(1, 9999)}`;
      return `<a href="${href}" rel="noopener" target="_blank">${pick(WORDS)} ${pick(WORDS)}</a>`;
    };
    const title =
      i === 0 ? 'Acme — home' : path.includes('?') ? `${SECTIONS[sectionOf[i]].name} — page ${path.split('=')[1]}` : `${path.split('/').pop()!.replace(/-\d+$/, '').replace(/-/g, ' ')} | Acme`;

    // Size: log-normal around 24 KB (most pages 10-60 KB), 2% large (150-500 KB), 0.5% huge (0.5-1 MB).
    const sizeRoll = rand();
    const target = sizeRoll < 0.005 ? int(500_000, 1_000_000) : sizeRoll < 0.025 ? int(150_000, 500_000) : Math.round(Math.min(150_000, Math.max(4_000, 24_000 * Math.exp(0.55 * normal()))));

    const head = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/assets/site.css"><link rel="canonical" href="${path}">${css}${script(int(5, 60))}</head>`;
    const nav = `<header><nav class="top">${link(0, 'Home', 'logo')}${SECTIONS.map((s, k) => link(sectionHome(k), s.name)).join('')}</nav></header>`;
    const crumbs =
      i === 0
        ? ''
        : `<ol class="breadcrumbs"><li>${link(0, 'Home')}</li>${sectionOf[i] >= 0 ? `<li>${link(sectionHome(sectionOf[i]), SECTIONS[sectionOf[i]].name)}</li>` : ''}${parent[i] > 0 ? `<li>${link(parent[i], 'up')}</li>` : ''}</ol>`;

    // Body links: the page's tree children, then a skewed number of others: near pages, popular
    // pages (low numbers), anywhere.
    const bodyLinks: string[] = children[i].map((j) => link(j, `${pick(WORDS)} ${pick(WORDS)}`));
    const extra = Math.round(Math.min(260, Math.max(4, 30 * Math.exp(0.75 * normal()))));
    for (let k = 0; k < extra; k++) {
      const roll = rand();
      const j = roll < 0.5 ? Math.min(count - 1, Math.max(0, i + int(-150, 150))) : roll < 0.8 ? Math.floor(count * rand() ** 3) : int(0, count - 1);
      bodyLinks.push(link(j, `${pick(WORDS)} ${pick(WORDS)}`));
    }
    if (rand() < 0.02) {
      bodyLinks.push(`<a href="${pick(missing)}">old page</a>`);
      anchors++;
    }
    const externalLinks = Array.from({ length: int(2, 16) }, external);

    // Text until the target size, links spread through it; large pages carry a data table.
    const main: string[] = [`<main><article><h1>${title}</h1>`];
    let size = head.length + nav.length + crumbs.length + 1200;
    let b = 0;
    let e = 0;
    let p = int(0, paragraphs.length - 1);
    const tableRows = target > 120_000 ? Math.floor((target * 0.6) / 260) : 0;
    const textBudget = target - tableRows * 260;
    while (size < textBudget || b < bodyLinks.length) {
      if (rand() < 0.12) {
        const h = `<h2 id="s${main.length}">${sentence().slice(0, 60)}</h2>`;
        main.push(h);
        size += h.length;
      }
      let para = paragraphs[p++ % paragraphs.length];
      const inline = Math.min(bodyLinks.length - b, size < textBudget ? int(0, 3) : 8);
      for (let k = 0; k < inline; k++) para += ` ${bodyLinks[b++]}`;
      if (e < externalLinks.length && rand() < 0.1) para += ` (see ${externalLinks[e++]})`;
      const html = `<p class="c${p % 60}">${para}</p>`;
      main.push(html);
      size += html.length;
    }
    if (tableRows > 0) {
      const start = int(0, rows.length - 1);
      const table = [`<table class="data"><thead><tr><th>#</th><th>name</th><th>a</th><th>b</th><th>c</th><th>d</th><th>e</th><th>note</th></tr></thead><tbody>`];
      for (let r = 0; r < tableRows; r++) table.push(rows[(start + r) % rows.length]);
      table.push('</tbody></table>');
      main.push(table.join(''));
    }
    main.push('</article>');
    const related = Array.from({ length: int(3, 10) }, () => link(int(0, count - 1), `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`));
    main.push(`<aside><h3>Related</h3><ul>${related.map((a) => `<li>${a}</li>`).join('')}</ul></aside></main>`);
    const footerLinks = [9, 10, 11, 12].map((s) => link(sectionHome(s - 1), SECTIONS[s - 1].name));
    const footer = `<footer><ul>${footerLinks.map((a) => `<li>${a}</li>`).join('')}${externalLinks
      .slice(e)
      .map((a) => `<li>${a}</li>`)
      .join('')}</ul><p>&copy; 2024 Acme. ${sentence()}</p></footer>`;
    const html = `${head}<body>${nav}${crumbs}${main.join('\n')}${footer}<script src="/assets/app.js" defer></script></body></html>\n`;

    const body = Buffer.from(html, 'utf8');
    bodies.set(path, body);
    hash.update(path).update(body);
    totalBytes += body.length;
    edges.push(out);
    linkCounts.push(anchors);
    externalCounts.push(externals);
  }

  // Depth of every page from / over internal links (what a BFS crawler sees).
  const depths = new Array<number>(count).fill(-1);
  depths[0] = 0;
  const queue = [0];
  for (let q = 0; q < queue.length; q++) {
    for (const j of edges[queue[q]]) {
      if (depths[j] < 0) {
        depths[j] = depths[queue[q]] + 1;
        queue.push(j);
      }
    }
  }
  const unreachable = depths.findIndex((d) => d < 0);
  if (unreachable >= 0) throw new Error(`site generator bug: ${paths[unreachable]} is not reachable from /`);
  return { paths, bodies, totalBytes, depths, linkCounts, externalCounts, missing, hash: hash.digest('hex').slice(0, 16) };
}

export interface SiteStats {
  requests: number;
  ok: number;
  notFound: number;
  bytes: number;
  /** Pages fetched more than once. */
  repeats: number;
  /** Most requests in progress at once (latency included), and the time-weighted mean. */
  peakInFlight: number;
  meanInFlight: number;
  /** What the server could tell instead, when it does not count pages (nginx): shown in place of the counts. */
  note?: string;
}

export interface RunningSite {
  /** http://host:port, no trailing slash. */
  origin: string;
  /** Where every crawler starts. */
  startUrl: string;
  /** Server processes besides the bench's own (nginx): their CPU is the site's, not a neighbour's. */
  pids?: number[];
  stats(): SiteStats | Promise<SiteStats>;
  /** Zeroes the counts (after a warm-up crawl), so stats() covers the timed crawl only. */
  reset(): void | Promise<void>;
  close(): Promise<void>;
}

/** A site served by this process: its counts are at hand. */
export type ServedSite = Omit<RunningSite, 'stats' | 'reset'> & { stats(): SiteStats; reset(): void };

/**
 * Serves the site on `host` (a loopback address), a fresh server and port each call. Every
 * response waits `latencyMs` first (a slow origin or a long round trip), then is sent whole with
 * a Content-Length, keep-alive on.
 */
export function serveSite(site: Site, { host, latencyMs }: { host: string; latencyMs: number }): Promise<ServedSite> {
  const hits = new Map<string, number>();
  const stats: SiteStats = { requests: 0, ok: 0, notFound: 0, bytes: 0, repeats: 0, peakInFlight: 0, meanInFlight: 0 };
  const sockets = new Set<Socket>();
  // In-flight requests integrated over time, from the first request to the last response.
  let inFlight = 0;
  let first = 0;
  let last = 0;
  let area = 0;
  const track = (delta: number) => {
    const now = performance.now();
    if (first === 0) first = last = now;
    area += inFlight * (now - last);
    last = now;
    inFlight += delta;
    if (inFlight > stats.peakInFlight) stats.peakInFlight = inFlight;
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    track(1);
    res.once('close', () => track(-1));
    const path = req.url ?? '/';
    const body = req.method === 'GET' || req.method === 'HEAD' ? site.bodies.get(path) : undefined;
    const send = () => {
      if (!body) {
        stats.notFound++;
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8', 'content-length': 23 });
        res.end('<h1>404 Not Found</h1>\n');
        return;
      }
      const seen = hits.get(path) ?? 0;
      hits.set(path, seen + 1);
      if (seen > 0) stats.repeats++;
      stats.ok++;
      stats.bytes += body.length;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'max-age=60' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (latencyMs > 0) setTimeout(send, latencyMs);
    else send();
  };
  const server: Server = createServer({ keepAlive: true }, handle);
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRNOTAVAIL' ? new Error(`cannot listen on ${host}: this system does not route all of 127.0.0.0/8 to loopback; set CRAWL_BENCH_HOST=127.0.0.1`) : err),
    );
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://${host}:${port}`,
        startUrl: `http://${host}:${port}/`,
        stats: () => ({ ...stats, meanInFlight: last > first ? area / (last - first) : 0 }),
        reset: () => {
          Object.assign(stats, { requests: 0, ok: 0, notFound: 0, bytes: 0, repeats: 0, peakInFlight: inFlight });
          hits.clear();
          first = last = area = 0;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

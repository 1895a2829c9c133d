/**
 * A deterministic, generated web site for crawl tests: node:http on 127.0.0.2 (an ephemeral port),
 * counting hits per path (the raw path as requested, without the query).
 * Map of the site (P = site.url):
 *   /tree/ ...        a small subtree for exact page and link sets (see TREE below)
 *   /links.html       every link-normalisation case (crawl it with maxDepth 0: it links off-site)
 *   /scope/           links to /scope/a, <peer>/scope/b and http://localhost:<canary>/scope/c
 *   /robots.txt       Disallow: /private/ (+ Crawl-delay when options.crawlDelay), or options.robots; /robots-test/
 *   /long/<n>/<len>   links to n pages /leaf/<i>/aaa...a (len characters of a each)
 *   /status/<code>    that status; /flaky/<code>/<token>: <code> with Retry-After: 1 once, then 200;
 *                     /drop/<token>: connection destroyed without a response once, then 200
 *   /redirect/<3xx>   -> /leaf/<3xx>; /redirect/chain/<n> (n hops); /redirect/loop/a <-> b;
 *   /redirect/relative; /redirect/canary; /redirect/metadata; /redirect/to?url=..&code=..
 *   /files/big.pdf, /files/big.json (8 MB each), /text.txt; /xhtml (application/xhtml+xml)
 *   /enc/cp1252.html (charset in Content-Type), /enc/euc-kr.html (<meta charset> only)
 *   /slow/hang (body never finishes), /slow/headers (never answers), /huge.html (50 MB, chunked),
 *   /slow/once/<token> (body never finishes the first time, a plain page afterwards),
 *   /bomb.html (1 MB of gzip inflating to 1 GiB), /many-links.html (30,000 links)
 *   /trap/<n>[/<n+1>...] and /slowtrap/... (100 ms each): an infinite URL space
 *   /leaf/*, /many/*, /scope/*, /pair/*, /public/*, /private/*: plain leaf pages; /pair/ links to /pair/1 and /pair/2
 *   /docs/*, /content/*: pages for the content options (content-pages.ts)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { contentPage } from './content-pages';

export interface FixtureOptions {
  /** Added before every response (for benchmarks). */
  latencyMs?: number;
  /** Port of the canary on 127.0.0.1: target of /redirect/canary and of the other-host links. */
  canaryPort?: number;
  /** Origin of another fixture site (same host, other port), linked from /scope/. */
  peer?: string;
  /** Crawl-delay (seconds) in robots.txt. */
  crawlDelay?: number;
  /** Another robots.txt: this status (default 200) and body, or the connection dropped unanswered. */
  robots?: { status?: number; body?: string; drop?: boolean };
}

/** What the server managed to send of a big streamed body. */
export interface Outcome {
  path: string;
  planned: number;
  written: number;
  finished: boolean;
  closed: boolean;
}

export interface FixtureSite {
  /** http://127.0.0.2:<port>, no trailing slash. */
  url: string;
  port: number;
  hits: Map<string, number>;
  requests: { path: string; at: number; userAgent?: string; authorization?: string }[];
  outcomes: Outcome[];
  /** TCP connections accepted. */
  connections: number;
  /** Most requests open at the same time (since start or reset). */
  peakInFlight: number;
  hit(path: string): number;
  reset(): void;
  close(): Promise<void>;
}

export const TITLES = { cp1252: 'Café – “quoted” €', eucKr: '한국어 페이지', recovered: 'Recovered' };
export const BIG_FILE_BYTES = 8 * 1024 * 1024;
export const HUGE_BYTES = 50 * 1024 * 1024;
export const MANY_LINKS = 30_000;

/** href lists of the /tree/ pages; `<base href>` on b.html, rel=nofollow and <area> on the root. */
export const TREE: Record<string, { head?: string; body: string }> = {
  '/tree/': {
    body: `<a href="a.html">A</a> <a href="/tree/b.html">B</a> <a href="{P}/tree/c.html">C</a> <a href="a.html#top">A#top</a>
<a href="./a.html">A again</a> <a href="HTTP://127.0.0.2:{PORT}/tree/c.html#x">C again</a> <a href="mailto:someone@example.com">mail</a>
<a href="javascript:alert(1)">js</a> <a href="tel:+15550100">tel</a> <a href="data:text/html,<p>x</p>">data</a>
<a href="nofollow.html" rel="nofollow">nofollow</a> <a href="{OTHER}/tree/">other host</a>
<map name="m"><area shape="rect" coords="0,0,9,9" href="area.html" alt="area"></map>`,
  },
  '/tree/a.html': { body: '<a href="./">up</a> <a href="d.html">D</a>' },
  '/tree/b.html': { head: '<base href="/tree/sub/">', body: '<a href="e.html">E</a> <a href="../c.html">C</a>' },
  '/tree/c.html': { body: '<a href="a.html">A</a>' },
  '/tree/area.html': { body: 'area target' },
  '/tree/d.html': { body: '<a href="deep/f.html">F</a>' },
  '/tree/sub/e.html': { body: '<a href="/tree/">root</a> <a href="g.html">G</a>' },
  '/tree/deep/f.html': { body: 'leaf f' },
  '/tree/sub/g.html': { body: 'leaf g' },
  '/tree/nofollow.html': { body: 'must never be fetched' },
};

const LINKS_PAGE = `<a href="tree/a.html">1</a> <a href="./tree/a.html#frag">2</a> <a href="/tree/a.html">3</a> <a href="{P}/tree/a.html">4</a>
<a href="HTTP://127.0.0.2:{PORT}/Tree/B.html#x">upper</a> <a href="http://127.0.0.2:80/default-port">80</a>
<a href="https://127.0.0.2:443/secure">443</a> <a href="/%7euser/">tilde</a> <a href="/caf%c3%a9">hex</a> <a href="/café-raw">raw</a>
<a href="/a%2fb">slash</a> <a href="http://bücher.example/">idn</a> <a href="http://EXAMPLE.com">host case</a>
<a href="  /spaced  ">spaces</a> <a href="/q?x=1#frag">query</a> <a href="//127.0.0.2:{PORT}/protocol-relative">//</a>
<a href="mailto:a@example.com">m</a> <a href="javascript:void(0)">j</a> <a href="tel:123">t</a> <a href="data:,x">d</a>
<a href="ftp://127.0.0.2/file">ftp</a> <a href="/nf-target" rel="nofollow">nf</a> <a href="/nf2" rel="external nofollow">nf2</a>
<map name="m"><area href="/area-target" alt="a"></map>`;

const page = (title: string, body: string, head = '') => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>${body}</body></html>`;

let bomb: Buffer | undefined;
/** A valid single-member gzip of 1 GiB of zeros (~1 MB): 1024 identical full-flushed deflate blocks. */
export function gzipBomb(): Buffer {
  if (bomb) return bomb;
  const mib = Buffer.alloc(1 << 20);
  const block = zlib.deflateRawSync(mib, { finishFlush: zlib.constants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < 1024; i++) crc = zlib.crc32(mib, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(2 ** 30, 4);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  return (bomb = Buffer.concat([header, ...new Array<Buffer>(1024).fill(block), zlib.deflateRawSync(Buffer.alloc(0)), trailer]));
}

/** windows-1252 bytes for the cp1252 title: the 0x80-0x9F range is where it differs from latin1. */
function cp1252(text: string): Buffer {
  const special: Record<string, number> = { '€': 0x80, '“': 0x93, '”': 0x94, '–': 0x96 };
  return Buffer.from([...text].map((ch) => special[ch] ?? ch.charCodeAt(0)));
}

/** EUC-KR bytes, by reverse lookup of the Hangul block (lead bytes 0xB0-0xC8) through TextDecoder. */
function eucKr(text: string): Buffer {
  const decoder = new TextDecoder('euc-kr');
  const table = new Map<string, number[]>();
  for (let lead = 0xb0; lead <= 0xc8; lead++) for (let trail = 0xa1; trail <= 0xfe; trail++) table.set(decoder.decode(Uint8Array.of(lead, trail)), [lead, trail]);
  return Buffer.from([...text].flatMap((ch) => (ch.charCodeAt(0) < 0x80 ? [ch.charCodeAt(0)] : table.get(ch)!)));
}

export async function startFixtureSite(options: FixtureOptions = {}): Promise<FixtureSite> {
  const hits = new Map<string, number>();
  /** /long/ pages, built once (they can be megabytes). */
  const longPages = new Map<string, Buffer>();
  const requests: FixtureSite['requests'] = [];
  const outcomes: Outcome[] = [];
  let connections = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const port = (server.address() as AddressInfo).port;
  const P = `http://127.0.0.2:${port}`;
  const fill = (s: string) =>
    s
      .replaceAll('{P}', P)
      .replaceAll('{PORT}', String(port))
      .replaceAll('{OTHER}', `http://localhost:${options.canaryPort ?? port}`);

  const html = (res: http.ServerResponse, status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
  const redirect = (res: http.ServerResponse, to: string, code = 302) => html(res, code, page('Moved', `<a href="${to}">moved</a>`), { location: to });
  /** Streams `planned` bytes with backpressure, never holding more than one chunk; records what got out. */
  const stream = (res: http.ServerResponse, path: string, planned: number, headers: http.OutgoingHttpHeaders, prefix: string, filler: string) => {
    const outcome: Outcome = { path, planned, written: 0, finished: false, closed: false };
    outcomes.push(outcome);
    res.on('finish', () => (outcome.finished = true));
    res.on('close', () => (outcome.closed = true));
    res.writeHead(200, headers);
    const chunk = Buffer.from(filler.repeat(Math.ceil(65536 / filler.length)));
    const pump = () => {
      while (outcome.written < planned && !res.destroyed) {
        const piece = outcome.written === 0 ? Buffer.from(prefix) : chunk.subarray(0, planned - outcome.written);
        outcome.written += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };

  const tree = (path: string) => TREE[path] && page(`Tree ${path}`, fill(TREE[path].body), TREE[path].head);
  const trap = (path: string, prefix: string) => {
    const n = Number(path.split('/').at(-1));
    return page(`Trap ${path}`, `<a href="/${prefix}/${n + 1}">next</a> <a href="${path}/${n + 1}">deeper</a>`);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = (req.url ?? '/').split('?')[0];
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    hits.set(raw, (hits.get(raw) ?? 0) + 1);
    requests.push({ path: raw, at: Date.now(), userAgent: req.headers['user-agent'], authorization: req.headers.authorization });
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    let path = raw;
    try {
      path = decodeURIComponent(raw);
    } catch {}
    let m: RegExpMatchArray | null;
    if (path === '/') return html(res, 200, page('Fixture site', '<a href="/tree/">tree</a>'));
    const content = contentPage(path);
    if (content !== undefined) return html(res, 200, content);
    if (tree(path)) return html(res, 200, tree(path));
    if (path === '/links.html') return html(res, 200, page('Links', fill(LINKS_PAGE)));
    if (path === '/scope/') {
      const links = `<a href="/scope/a">a</a> <a href="${options.peer ?? P}/scope/b">b</a> <a href="http://localhost:${options.canaryPort ?? port}/scope/c">c</a>`;
      return html(res, 200, page('Scope', links));
    }
    if (path === '/pair/') return html(res, 200, page('Pair', '<a href="/pair/1">1</a> <a href="/pair/2">2</a>'));
    if (path === '/robots-test/') return html(res, 200, page('Robots', '<a href="/private/secret.html">s</a> <a href="/public/page.html">p</a>'));
    if (/^\/(leaf|many|scope|pair|public|private)\/./.test(path)) return html(res, 200, page(`Leaf ${path}`, 'leaf'));
    if (path === '/robots.txt' && options.robots) {
      const { status = 200, body = '', drop } = options.robots;
      if (drop) return void req.socket.destroy();
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    if ((m = path.match(/^\/long\/(\d+)\/(\d+)$/))) {
      const tail = 'a'.repeat(Number(m[2]));
      const build = () => Buffer.from(page('Long', Array.from({ length: Number(m![1]) }, (_, i) => `<a href="/leaf/${i}/${tail}">${i}</a>`).join('\n')));
      return html(res, 200, longPages.get(path) ?? longPages.set(path, build()).get(path)!);
    }
    if (path === '/robots.txt') {
      const delay = options.crawlDelay ? `Crawl-delay: ${options.crawlDelay}\n` : '';
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`User-agent: *\nDisallow: /private/\n${delay}`);
    }
    if ((m = path.match(/^\/status\/(\d{3})$/))) return html(res, Number(m[1]), page(`Status ${m[1]}`, 'status'));
    if ((m = path.match(/^\/flaky\/(\d{3})\/[\w-]+$/))) {
      if (hits.get(raw) === 1) return html(res, Number(m[1]), page('Try later', 'busy'), { 'retry-after': '1' });
      return html(res, 200, page(TITLES.recovered, 'ok'));
    }
    if (/^\/drop\/[\w-]+$/.test(path)) return hits.get(raw) === 1 ? void req.socket.destroy() : html(res, 200, page(TITLES.recovered, 'ok'));
    if ((m = path.match(/^\/redirect\/(301|302|303|307|308)$/))) return redirect(res, `/leaf/${m[1]}`, Number(m[1]));
    if ((m = path.match(/^\/redirect\/chain\/(\d+)$/))) return redirect(res, Number(m[1]) > 1 ? `/redirect/chain/${Number(m[1]) - 1}` : '/leaf/chain', 301);
    if ((m = path.match(/^\/redirect\/loop\/([ab])$/))) return redirect(res, `/redirect/loop/${m[1] === 'a' ? 'b' : 'a'}`);
    if (path === '/redirect/relative') return redirect(res, '../leaf/relative');
    if (path === '/redirect/canary' && options.canaryPort) return redirect(res, `http://127.0.0.1:${options.canaryPort}/`);
    if (path === '/redirect/metadata') return redirect(res, 'http://169.254.169.254/latest/meta-data/');
    if (path === '/redirect/to' && query.get('url')) return redirect(res, query.get('url')!, Number(query.get('code') ?? 302));
    if (path === '/files/big.pdf') return stream(res, path, BIG_FILE_BYTES, { 'content-type': 'application/pdf', 'content-length': BIG_FILE_BYTES }, '%PDF-1.4\n', '0');
    if (path === '/files/big.json') return stream(res, path, BIG_FILE_BYTES, { 'content-type': 'application/json', 'content-length': BIG_FILE_BYTES }, '[', ' ');
    if (path === '/text.txt') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('just text <a href="/leaf/x">x</a>');
    if (path === '/xhtml') {
      const body = `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>XHTML</title></head><body><a href="/leaf/xhtml">x</a></body></html>`;
      return html(res, 200, body, { 'content-type': 'application/xhtml+xml' });
    }
    if (path === '/enc/cp1252.html') return html(res, 200, cp1252(page(TITLES.cp1252, 'x').replace('<meta charset="utf-8">', '')), { 'content-type': 'text/html; charset=windows-1252' });
    if (path === '/enc/euc-kr.html') return html(res, 200, eucKr(page(TITLES.eucKr, 'x').replace('utf-8', 'euc-kr')), { 'content-type': 'text/html' });
    if (path === '/slow/hang') return void res.writeHead(200, { 'content-type': 'text/html' }).write('<html><head><title>Hang');
    if (path === '/slow/headers') return;
    if (/^\/slow\/once\/[\w-]+$/.test(path)) {
      if (hits.get(raw) === 1) return void res.writeHead(200, { 'content-type': 'text/html' }).write('<html><head><title>Once');
      return html(res, 200, page(TITLES.recovered, 'ok'));
    }
    if (path === '/huge.html') return stream(res, path, HUGE_BYTES, { 'content-type': 'text/html' }, '<html><head><title>Huge</title></head><body>', '<p>filler</p>');
    if (path === '/bomb.html') return html(res, 200, gzipBomb(), { 'content-encoding': 'gzip' });
    if (path === '/many-links.html') {
      const links = Array.from({ length: MANY_LINKS }, (_, i) => `<a href="/many/${i}">${i}</a>`).join('\n');
      return html(res, 200, page('Many links', links));
    }
    if ((m = path.match(/^\/(trap|slowtrap)(\/\d+)+$/))) {
      if (m[1] === 'slowtrap') await new Promise((resolve) => setTimeout(resolve, 100));
      return html(res, 200, trap(path, m[1]));
    }
    html(res, 404, page('Not found', 'no such page'));
  }

  server.on('connection', () => connections++);
  server.on('request', (req, res) => {
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    res.on('close', () => inFlight--);
    handle(req, res).catch(() => res.destroy());
  });
  return {
    url: P,
    port,
    hits,
    requests,
    outcomes,
    get connections() {
      return connections;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    hit: (path) => hits.get(path) ?? 0,
    reset() {
      peakInFlight = inFlight;
      hits.clear();
      requests.length = 0;
      outcomes.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

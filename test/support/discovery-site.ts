/**
 * A site for how a crawl finds pages and tells them apart (sitemaps, duplicates, traps):
 * node:http on 127.0.0.2 (an ephemeral port), counting hits per raw path (query included).
 *   /robots.txt            Disallow: /private/, Sitemap: {P}/sitemap-index.xml
 *   /home                  links to /about only (every sitemap page is unreachable by links)
 *   /sitemap.xml           a urlset: /listed/root
 *   /sitemap-index.xml     a sitemapindex: /maps/pages.xml.gz, /maps/bomb.xml.gz, /maps/huge.xml
 *   /maps/pages.xml.gz     gzip (application/gzip): /hidden/1..4, /private/secret, /hidden/excluded, an off-site URL
 *   /maps/bomb.xml.gz      1 MB of gzip that inflates to 1 GiB: /bomb/first, then spaces, then /bomb/last
 *   /maps/huge.xml         HUGE_SITEMAP bytes (streamed as the client reads): /huge/first, a comment, /huge/last
 *   /dup/                  links to /dup/a with tracking parameters (utm_*, fbclid, gclid) in several orders
 *   /canon/                links to /canon/copy (canonical /canon/main), /canon/main, /canon/other (canonical
 *                          /canon/unlinked, links to /canon/from-other, which links to /canon/unlinked)
 *   /near/                 links to /near/1, /near/2 (text differing in one word), /near/3 (other text)
 *   /cal?month=YYYY-MM     an endless calendar: links to the previous and next month; /cal/YYYY/MM/ likewise
 *   /sess/...              every link carries a fresh ;jsessionid= or ?PHPSESSID=
 *   /loop/...              a relative link "a/b/" on every page: /loop/a/b/a/b/...
 *   /wide/                 links to /wide/1..20
 *   anything else          a plain page
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export const HIDDEN = ['/hidden/1', '/hidden/2', '/hidden/3', '/hidden/4'];
export const HUGE_SITEMAP = 32 * 1024 * 1024;
export const TEXT = 'The quick brown fox jumps over the lazy dog while the careful crawler reads every page of the site once and keeps what it finds in order. '.repeat(8);

export interface DiscoverySite {
  url: string;
  hits: Map<string, number>;
  hit(path: string): number;
  /** Bytes written of /maps/huge.xml and whether the response finished. */
  huge: { written: number; finished: boolean };
  close(): Promise<void>;
}

const page = (body: string, head = '') => `<!doctype html><html><head><title>t</title>${head}</head><body>${body}</body></html>`;
const links = (hrefs: string[]) => hrefs.map((href) => `<a href="${href}">${href}</a>`).join(' ');
const urlset = (locs: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${locs.map((loc) => `<url><loc>${loc}</loc></url>`).join('')}</urlset>`;

/** A valid gzip stream of `prefix`, `mib` MiB of spaces, then `suffix` (the trailer's CRC is not checked before the cap stops reading). */
function spacesBomb(prefix: string, mib: number, suffix: string): Buffer {
  const flush = { finishFlush: zlib.constants.Z_FULL_FLUSH };
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20, 0x20), flush);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE((mib * (1 << 20) + prefix.length + suffix.length) >>> 0, 4);
  return Buffer.concat([header, zlib.deflateRawSync(Buffer.from(prefix), flush), ...new Array<Buffer>(mib).fill(block), zlib.deflateRawSync(Buffer.from(suffix)), trailer]);
}

export async function startDiscoverySite(): Promise<DiscoverySite> {
  const hits = new Map<string, number>();
  const huge = { written: 0, finished: false };
  let P = '';
  let bomb: Buffer | undefined;
  const server = http.createServer((req, res) => {
    const raw = req.url ?? '/';
    hits.set(raw, (hits.get(raw) ?? 0) + 1);
    const url = new URL(raw, P);
    const path = url.pathname;
    const html = (body: string, head = '') => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(body, head));
    };
    const xml = (body: string | Buffer, type = 'application/xml') => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };
    if (path === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`User-agent: *\nDisallow: /private/\nSitemap: ${P}/sitemap-index.xml\n`);
    }
    if (path === '/home') return html(links(['/about']));
    if (path === '/sitemap.xml') return xml(urlset([`${P}/listed/root`]));
    if (path === '/sitemap-index.xml') {
      const maps = ['/maps/pages.xml.gz', '/maps/bomb.xml.gz', '/maps/huge.xml'].map((p) => `<sitemap><loc>${P}${p}</loc></sitemap>`).join('');
      return xml(`<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${maps}</sitemapindex>`);
    }
    if (path === '/maps/pages.xml.gz') {
      const locs = [...HIDDEN.map((p) => P + p), `${P}/private/secret`, `${P}/hidden/excluded`, 'http://127.0.0.3:9/elsewhere', `${P}/hidden/1?utm_source=sitemap`];
      return xml(zlib.gzipSync(urlset(locs)), 'application/gzip');
    }
    if (path === '/maps/bomb.xml.gz') {
      bomb ??= spacesBomb(`<?xml version="1.0"?><urlset><url><loc>${P}/bomb/first</loc></url>`, 1024, `<url><loc>${P}/bomb/last</loc></url></urlset>`);
      return xml(bomb, 'application/x-gzip');
    }
    if (path === '/maps/huge.xml') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const head = `<?xml version="1.0"?><urlset><url><loc>${P}/huge/first</loc></url><!--`;
      const tail = `--><url><loc>${P}/huge/last</loc></url></urlset>`;
      const filler = Buffer.alloc(64 * 1024, 0x78);
      const write = (chunk: string | Buffer) => {
        huge.written += Buffer.byteLength(chunk);
        return res.write(chunk);
      };
      write(head);
      let left = HUGE_SITEMAP - head.length - tail.length;
      const pump = () => {
        while (left > 0) {
          const piece = filler.subarray(0, Math.min(filler.length, left));
          left -= piece.length;
          if (!write(piece)) return void res.once('drain', pump);
        }
        write(tail);
        res.end(() => (huge.finished = true));
      };
      res.on('error', () => undefined);
      return pump();
    }
    if (path === '/dup/') return html(links(['a?utm_source=news&id=1', 'a?id=1&fbclid=XYZ', 'a?gclid=1&id=1&utm_medium=mail', 'a?id=1']));
    if (path === '/canon/') return html(links(['copy', 'main', 'other']));
    if (path === '/canon/copy') return html('a copy', `<link rel="canonical" href="/canon/main">`);
    if (path === '/canon/main') return html('the main page', `<link rel="canonical" href="${P}/canon/main">`);
    if (path === '/canon/other') return html(links(['/canon/from-other']), `<link rel="canonical" href="/canon/unlinked">`);
    if (path === '/canon/from-other') return html(links(['/canon/unlinked']));
    if (path === '/near/') return html(links(['1', '2', '3']));
    if (path === '/near/1') return html(`<p>${TEXT} apples</p>`);
    if (path === '/near/2') return html(`<p>${TEXT} pears</p>`);
    if (path === '/near/3') return html(`<p>${'Entirely different words about sitemaps, gzip bombs and calendars appear on this third page. '.repeat(8)}</p>`);
    if (path === '/cal') {
      const [y, m] = (url.searchParams.get('month') ?? '2024-01').split('-').map(Number);
      const month = (delta: number) => {
        const d = new Date(Date.UTC(y, m - 1 + delta, 1));
        return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
      };
      return html(links([`/cal?month=${month(-1)}`, `/cal?month=${month(1)}`]));
    }
    const calPath = /^\/cal\/(\d{4})\/(\d{2})\/$/.exec(path);
    if (calPath) {
      const d = (delta: number) => new Date(Date.UTC(Number(calPath[1]), Number(calPath[2]) - 1 + delta, 1));
      const href = (x: Date) => `/cal/${x.getUTCFullYear()}/${String(x.getUTCMonth() + 1).padStart(2, '0')}/`;
      return html(links([href(d(-1)), href(d(1))]));
    }
    if (path.startsWith('/sess/')) {
      const id = Math.random().toString(36).slice(2);
      return html(links([`/sess/page;jsessionid=${id}`, `/sess/other?PHPSESSID=${id}`, `/sess/list?sid=${id}&p=1`]));
    }
    if (path.startsWith('/loop/')) return html(links(['a/b/']));
    if (path === '/wide/') return html(links(Array.from({ length: 20 }, (_, i) => `/wide/${i + 1}`)));
    return html(`plain page ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  P = `http://127.0.0.2:${port}`;
  return {
    url: P,
    hits,
    hit: (path) => hits.get(path) ?? 0,
    huge,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

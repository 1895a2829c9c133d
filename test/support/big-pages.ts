/**
 * A loopback server (127.0.0.2) of big pages generated on the fly, never held in memory: a page
 * is 1 MiB of shared blocks written again and again, with backpressure.
 *   /big/<k>/?bytes=<n>   an HTML page of exactly n bytes, title `Big <k>`: 512 distinct links
 *                         (`/big/<k>/b<block>/<i>`, each repeated throughout the page), then a last
 *                         link `/big/<k>/end` in its final bytes (found only if the page is read whole)
 *   /dense/?links=<n>     a page of n links and nothing else (`/dense/d/<i>`), 25 bytes each
 *   /small/<i>            a small page (title `Small <i>`, links /small/<i>/a and /b); it is held
 *                         back until `releaseSmall()`
 *   anything else         404 (robots.txt included: no rules)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const BIG_BLOCKS = 16;
export const LINKS_PER_BLOCK = 32;
const BLOCK_BYTES = 64 * 1024;

export interface BigResponse {
  path: string;
  planned: number;
  written: number;
  finished: boolean;
  closed: boolean;
}

export interface BigPagesSite {
  url: string;
  responses: BigResponse[];
  /** Lets the held small pages answer. */
  releaseSmall(): void;
  close(): Promise<void>;
}

const text = (length: number) => 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(length / 56)).slice(0, length);

/** Block b: its links, then filler text up to exactly 64 KiB. */
function block(b: number): Buffer {
  const links = Array.from({ length: LINKS_PER_BLOCK }, (_, i) => `<li><a href="b${b}/${i}">block ${b} link ${i}</a></li>`).join('');
  const head = `<div class="block"><ul>${links}</ul><p>`;
  const tail = '</p></div>\n';
  return Buffer.from(head + text(BLOCK_BYTES - head.length - tail.length) + tail);
}

export async function startBigPages(): Promise<BigPagesSite> {
  const blocks = Array.from({ length: BIG_BLOCKS }, (_, b) => block(b));
  // What is left before the end link when less than a block: plain text, so no tag is cut.
  const filler = Buffer.from(text(BLOCK_BYTES));
  const responses: BigResponse[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  const big = (res: http.ServerResponse, path: string, k: string, planned: number) => {
    const start = Buffer.from(`<!doctype html><html><head><meta charset="utf-8"><title>Big ${k}</title></head><body>\n`);
    const end = Buffer.from(`<a href="end">end</a></body></html>`);
    const response: BigResponse = { path, planned, written: 0, finished: false, closed: false };
    responses.push(response);
    res.on('finish', () => (response.finished = true));
    res.on('close', () => (response.closed = true));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': planned });
    let next = 0;
    const pump = () => {
      while (response.written < planned && !res.destroyed) {
        const left = planned - response.written;
        let piece: Buffer;
        if (response.written === 0) piece = start;
        else if (left <= end.length) piece = end.subarray(end.length - left);
        else if (left - end.length < BLOCK_BYTES) piece = filler.subarray(0, left - end.length);
        else piece = blocks[next++ % BIG_BLOCKS];
        response.written += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };

  const dense = (res: http.ServerResponse, count: number) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<!doctype html><html><head><title>Dense</title></head><body>\n');
    let i = 0;
    const pump = () => {
      while (i < count && !res.destroyed) {
        const batch: string[] = [];
        for (const end = Math.min(count, i + 1_000); i < end; i++) batch.push(`<a href="d/${i}">${i}</a>\n`);
        if (!res.write(batch.join(''))) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('</body></html>');
    };
    pump();
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let m: RegExpMatchArray | null;
    if (url.pathname === '/dense/') return dense(res, Number(url.searchParams.get('links')));
    if ((m = url.pathname.match(/^\/big\/(\d+)\/$/))) return big(res, url.pathname, m[1], Number(url.searchParams.get('bytes')));
    if ((m = url.pathname.match(/^\/small\/(\d+)$/))) {
      const body = `<!doctype html><html><head><title>Small ${m[1]}</title></head><body><a href="${m[1]}/a">a</a> <a href="${m[1]}/b">b</a></body></html>`;
      return void released.then(() => res.writeHead(200, { 'content-type': 'text/html' }).end(body));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const url = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
  return {
    url,
    responses,
    releaseSmall: () => release(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

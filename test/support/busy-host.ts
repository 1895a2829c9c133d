import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BusyHostOptions {
  /** Page requests answered fast (ms each) before the errors. */
  fast: number;
  fastMs: number;
  /** Then this many page requests answered 429 (Retry-After: 1) and 503 (none) in turn. */
  errors: number;
  /** Then every page request answered after slowMs. */
  slowMs: number;
  /** Pages /p/1 .. /p/pages, all linked from /. */
  pages: number;
}

/** One page request as the host saw it. */
export interface Hit {
  path: string;
  phase: 'fast' | 'error' | 'slow';
  startedAt: number;
  /** Page requests in flight when it started, itself included. */
  concurrent: number;
}

export interface BusyHost {
  url: string;
  hits: Hit[];
  /** When the last error answer went out (0: none yet). */
  lastErrorAt(): number;
  close(): Promise<void>;
}

/**
 * A host that counts the page requests it serves at once: fast at first, then 429/503 answers,
 * then slow. robots.txt (a 404, not counted) is read once per crawl outside the page budget.
 */
export async function startBusyHost(options: BusyHostOptions): Promise<BusyHost> {
  const hits: Hit[] = [];
  let inFlight = 0;
  let served = 0;
  let lastErrorAt = 0;
  const links = Array.from({ length: options.pages }, (_, i) => `<a href="/p/${i + 1}">${i + 1}</a>`).join('');
  const server = http.createServer((req, res) => {
    if (req.url === '/robots.txt') return void res.writeHead(404).end();
    inFlight++;
    const n = served++;
    const phase = n < options.fast ? 'fast' : n < options.fast + options.errors ? 'error' : 'slow';
    hits.push({ path: req.url ?? '', phase, startedAt: Date.now(), concurrent: inFlight });
    const end = (status: number, headers: Record<string, string>, body: string) => {
      inFlight--;
      if (status !== 200) lastErrorAt = Date.now();
      res.writeHead(status, headers).end(body);
    };
    if (phase === 'error') return void end(n % 2 ? 503 : 429, n % 2 ? {} : { 'retry-after': '1' }, 'busy');
    const body = `<html><head><title>${req.url}</title></head><body>${req.url === '/' ? links : 'leaf'}</body></html>`;
    setTimeout(() => end(200, { 'content-type': 'text/html' }, body), phase === 'fast' ? options.fastMs : options.slowMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.2:${port}`,
    hits,
    lastErrorAt: () => lastErrorAt,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

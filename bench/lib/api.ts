/** The client side of the end-to-end runs: submit, wait, read every result page. */
import { Agent, request } from 'node:http';
import { since } from './stats';

/** The most a results page may hold (MAX_PAGE in the service). */
export const PAGE = 10_000;
/** How long a submission may be held; the service is started with MAX_WAIT_MS at least this. */
export const WAIT_MS = 60_000;

export interface ResultItem {
  index: number;
  n: number;
  state: string;
  value?: string;
  digits?: number;
  ms?: number;
  error?: string;
}

export interface ApiRun {
  /** Everything the client waited for: request body, POST with ?wait, every further page, JSON parsing. */
  ms: number;
  /** The POST: submission, computing (held by ?wait) and the first page. */
  postMs: number;
  /** The GETs of the remaining pages. */
  pagesMs: number;
  /** The job's own durationMs: started to finished, as the service measured it. */
  jobMs: number;
  pages: number;
  /** Every result, in input order. */
  items: ResultItem[];
}

/**
 * One end-to-end run as a client would do it: POST the numbers with ?wait so the answer holds
 * the finished job and its first page (limit=PAGE), then GET /jobs/:id/results for the rest.
 */
export async function computeViaApi(baseUrl: string, numbers: readonly number[]): Promise<ApiRun> {
  // One client per run, keep-alive within it. A connection kept across runs can be closed by
  // the server's keep-alive timeout while this thread is busy computing the in-process side,
  // and the next POST then fails on the dead socket.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const start = performance.now();
    const { status, body } = await call<{ id: string; status: string; total: number; durationMs: number; results?: { items: ResultItem[]; nextOffset?: number | null } }>(
      agent,
      'POST',
      `${baseUrl}/fibonacci?wait=${WAIT_MS}&limit=${PAGE}`,
      JSON.stringify({ numbers }),
    );
    if (status !== 200 || !body.results) {
      throw new Error(`POST /fibonacci answered ${status} (job status ${body.status}), expected 200 with results: ${JSON.stringify(body).slice(0, 500)}`);
    }
    if (body.status !== 'completed') throw new Error(`job ${body.id} ended ${body.status}`);
    const postMs = since(start);

    const items = body.results.items;
    let pages = 1;
    // Pages may stop early (results are paged by bytes) and then say where the next one starts;
    // without nextOffset a page ends where its items do.
    let next = nextOffset(body.results, 0);
    while (next < body.total) {
      const url = `${baseUrl}/jobs/${body.id}/results?offset=${next}&limit=${PAGE}&format=decimal`;
      const page = await call<{ items: ResultItem[]; nextOffset?: number | null }>(agent, 'GET', url);
      if (page.status !== 200) throw new Error(`GET ${url} answered ${page.status}: ${JSON.stringify(page.body).slice(0, 500)}`);
      const after = nextOffset(page.body, next);
      if (after <= next) throw new Error(`job ${body.id}: the results page at offset ${next} of ${body.total} does not move on`);
      for (const item of page.body.items) items.push(item);
      next = after;
      pages++;
    }
    const ms = since(start);
    return { ms, postMs, pagesMs: ms - postMs, jobMs: body.durationMs, pages, items };
  } finally {
    agent.destroy();
  }
}

/** One HTTP exchange with a JSON answer, read whole and parsed, as any client would. */
function call<T>(agent: Agent, method: 'GET' | 'POST', url: string, json?: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const headers = json === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) };
    const req = request(url, { agent, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
        } catch (err) {
          reject(new Error(`${method} ${url}: answer is not JSON (${(err as Error).message})`));
        }
      });
    });
    req.on('error', reject);
    req.end(json);
  });
}

/**
 * Checks API results against values computed here, by index: every item completed, the right n,
 * and the exact same digits. Throws on the first difference.
 */
export function assertSameResults(what: string, numbers: readonly number[], items: readonly ResultItem[], expected: readonly string[]): void {
  if (items.length !== numbers.length) throw new Error(`${what}: API returned ${items.length} results for ${numbers.length} numbers`);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const problem =
      item.index !== i
        ? `index ${item.index} at position ${i}`
        : item.n !== numbers[i]
          ? `n=${item.n}, submitted ${numbers[i]}`
          : item.state !== 'completed'
            ? `state ${item.state}${item.error ? ` (${item.error})` : ''}`
            : item.value !== expected[i]
              ? `value differs: API ${describe(item.value)} vs in-process ${describe(expected[i])}`
              : item.digits !== expected[i].length
                ? `digits=${item.digits}, value has ${expected[i].length}`
                : undefined;
    if (problem) throw new Error(`${what}: result ${i} (n=${numbers[i]}): ${problem}`);
  }
}

function describe(value: string | undefined): string {
  if (value === undefined) return 'no value';
  return value.length <= 40 ? value : `${value.length} digits ${value.slice(0, 12)}...${value.slice(-12)}`;
}

/** Where the page after `page` (read at `offset`) starts. */
function nextOffset(page: { items: readonly unknown[]; nextOffset?: number | null }, offset: number): number {
  return typeof page.nextOffset === 'number' ? page.nextOffset : offset + page.items.length;
}

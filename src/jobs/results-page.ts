import type { JobHeader, TaskRecord } from './job-data';
import type { JobKind, PoolRunner, ResultFormat } from './job-kind';
import type { JobStatus } from './job.model';
import type { JobStore } from './job.store';

export interface ResultsPage {
  jobId: string;
  status: JobStatus;
  total: number;
  offset: number;
  /** Items asked for, or fewer when the byte bound ended the page first (then `items.length`). */
  limit: number;
  /** Where the next page starts; null when this page reaches the last result known so far. */
  nextOffset: number | null;
  format: ResultFormat;
  items: Record<string, unknown>[];
}

export interface PageRequest {
  offset: number;
  limit: number;
  format: ResultFormat;
  /** Values longer than this become a preview of their first and last characters. */
  maxChars?: number;
  /** RESULTS_MAX_PAGE_BYTES: the page's JSON stays within it (bar a single oversized item). */
  maxBytes: number;
  /** Where the kind's presentation work runs (JobKind.prepare), off the main thread. */
  pool: PoolRunner;
}

/** Room kept for the page's own fields around `items` (ids, counts, status: under 200 bytes). */
const ENVELOPE_BYTES = 256;
/** Tasks read from the store at once: few while their size is unknown, more once it is known to be small. */
const FIRST_READ = 8;
const MAX_READ = 512;

/** How a page ended: `limit` and `nextOffset` as ResultsPage has them. */
export interface PageEnd {
  limit: number;
  nextOffset: number | null;
}

export type PageItems = AsyncGenerator<{ item: Record<string, unknown>; json: string }, PageEnd>;

/** A page being walked: the fields known before its items, and the walk that yields them. */
export interface PageWalk {
  head: Pick<ResultsPage, 'jobId' | 'status' | 'total' | 'offset' | 'format'>;
  items: PageItems;
}

/**
 * Walks a page of a job's results in input order, bounded by item count and by bytes: it ends
 * before the item that would pass `maxBytes` (always yielding at least one, so paging advances)
 * and returns where the next page starts. An item is charged what it costs in full, before any
 * `maxChars` shortening: the bytes of its whole JSON, or what its kind says presenting it costs
 * (JobKind.presentCost: bytes read and converted), whichever is more. So forty 2 MB values never
 * make an 84 MB page, and a page of previews reads and converts no more than a page of whole values
 * would. Tasks are read from the store in batches sized by what the page has left, and only those
 * that fit are prepared (converted on a worker), as presentation work of the job's caller.
 */
export function startPage(store: JobStore, job: JobHeader, kind: JobKind<any, any>, request: PageRequest): PageWalk {
  return { head: { jobId: job.id, status: job.status, total: job.total, offset: request.offset, format: request.format }, items: walkPage(store, job, kind, request) };
}

async function* walkPage(store: JobStore, job: JobHeader, kind: JobKind<any, any>, request: PageRequest): PageItems {
  const { offset, limit, format, maxChars } = request;
  const budget = Math.max(0, request.maxBytes - ENVELOPE_BYTES);
  const end = Math.min(job.total, offset + limit);
  // Every pool task a kind runs for a page is its job caller's presentation work (taking turns).
  const pool: PoolRunner = { run: (worker, payload, options) => request.pool.run(worker, payload, { ...options, presentFor: job.callerId }) };
  const notes = { readNotes: (prefix: string) => store.readNotes(job.id, prefix) };
  let spent = 0;
  let count = 0;
  let index = offset;
  let read = FIRST_READ;
  while (index < end) {
    const records = await store.tasks(job.id, index, Math.min(read, end - index));
    if (records.length === 0) break;
    // What each costs, known before any work is done for it: the page prepares only what fits.
    const costs = records.map(({ result }) => (result !== undefined ? (kind.presentCost?.(result, format) ?? 0) : 0));
    let fit = 0;
    for (let planned = spent; fit < records.length && (count + fit === 0 || planned + costs[fit] <= budget); fit++) planned += costs[fit];
    const batch = fit < records.length ? records.slice(0, fit) : records;
    await kind.prepare?.(batch, format, pool, notes);
    for (const [i, record] of batch.entries()) {
      const { item, cutBytes } = presentItem(record, kind, format, maxChars, job.params);
      const json = JSON.stringify(item);
      // +1 for the comma between items; UTF-8 bytes, as they go out, or would have uncut.
      const cost = Math.max(costs[i], Buffer.byteLength(json) + cutBytes + 1);
      if (count > 0 && spent + cost > budget) return pageEnd(job, limit, end, count, index);
      spent += cost;
      count++;
      index++;
      yield { item, json };
    }
    if (batch.length < records.length) break;
    read = Math.max(1, Math.min(MAX_READ, Math.floor((budget - spent) / Math.max(1, spent / count))));
  }
  return pageEnd(job, limit, end, count, index);
}

function pageEnd(job: JobHeader, limit: number, end: number, count: number, index: number): PageEnd {
  return { limit: index < end ? count : limit, nextOffset: index < job.total ? index : null };
}

/** A whole page as an object (the first page a `?wait` submission answers with). */
export async function pageOfResults(store: JobStore, job: JobHeader, kind: JobKind<any, any>, request: PageRequest): Promise<ResultsPage> {
  const { head, items: walk } = startPage(store, job, kind, request);
  const items: Record<string, unknown>[] = [];
  let step = await walk.next();
  for (; !step.done; step = await walk.next()) items.push(step.value.item);
  return { ...head, ...step.value, items };
}

/**
 * A finished task as its kind presents it (result or error), else what is known of its input;
 * `cutBytes`: what `maxChars` took out of its value.
 */
function presentItem(
  { index, input, state, result, error }: TaskRecord,
  kind: JobKind<any, any>,
  format: ResultFormat,
  maxChars?: number,
  params?: unknown,
): { item: Record<string, unknown>; cutBytes: number } {
  const item: Record<string, unknown> = { index, state };
  if (result !== undefined) Object.assign(item, kind.present(input, result, format, params));
  else Object.assign(item, kind.summarize(input, undefined), error !== undefined ? kind.presentError(input, error) : {});
  // A kind may present its own structured error with the result (a crawl's {code, message}).
  if (error !== undefined && item.error === undefined) item.error = error;
  let cutBytes = 0;
  if (maxChars !== undefined && typeof item.value === 'string' && item.value.length > maxChars) {
    const half = Math.floor((maxChars - 1) / 2);
    const whole = item.value;
    item.value = `${whole.slice(0, half)}…${whole.slice(-half)}`;
    item.shortened = true;
    cutBytes = Buffer.byteLength(whole) - Buffer.byteLength(item.value as string);
  }
  return { item, cutBytes };
}

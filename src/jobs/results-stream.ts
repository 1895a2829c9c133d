import type { Response } from 'express';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PageWalk } from './results-page';

/** Bytes of JSON written per turn of the event loop: a few milliseconds of work at most. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes a results page as it is built, a chunk per event-loop turn (waiting for the socket to
 * drain when the client reads slowly), so a page of megabytes never holds the main thread the
 * way one JSON.stringify + ETag pass over it did. `limit` and `nextOffset` are only known at the
 * end, so they come after `items` (JSON objects have no order).
 */
export async function writeResultsPage(res: Response, { head, items }: PageWalk): Promise<void> {
  res.status(200).type('application/json');
  let chunk = `${JSON.stringify(head).slice(0, -1)},"items":[`;
  let first = true;
  let step = await items.next();
  for (; !step.done; step = await items.next()) {
    chunk += first ? step.value.json : `,${step.value.json}`;
    first = false;
    if (chunk.length < CHUNK_CHARS) continue;
    const flushed = res.write(chunk);
    chunk = '';
    if (flushed || res.destroyed) await nextTurn();
    else await drainedOrClosed(res);
    if (res.destroyed) return; // the client went away: stop building the page
  }
  res.end(`${chunk}],"limit":${step.value.limit},"nextOffset":${step.value.nextOffset}}`);
}

async function drainedOrClosed(res: Response): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: stop.signal }), once(res, 'close', { signal: stop.signal })]);
  } finally {
    stop.abort(); // removes the listener of the event that did not come
  }
}

import type { Message } from './ws-client';

/**
 * Reading the progress feed of a job served by another instance than the one running it: every
 * wire message carries the job's `seq` after the change it reports (top level, next to `event`
 * and `data`). A snapshot holds every change up to its seq, so a later message counts only if its
 * seq is past the snapshot's: that way the snapshot plus the later updates account for every task
 * exactly once, whichever instance made the updates and whichever serves the subscriber.
 */
export const FINAL_EVENTS = ['job.completed', 'job.failed', 'job.cancelled'];
const FINISHED = ['completed', 'failed', 'cancelled'];

export type WireMessage = Message & { seq?: number };

export const jobIdOf = (m: WireMessage): string | undefined => m.data?.jobId ?? m.data?.id;
export const isFinalFor = (jobId: string) => (m: WireMessage) => FINAL_EVENTS.includes(m.event) && jobIdOf(m) === jobId;

export interface Tally {
  /** How many times each task was seen finished (snapshot letters c/f/x, then updates past the snapshot). */
  counts: number[];
  finals: number;
  /** Readable reasons the feed is wrong (a missing seq, a message after the final event). One write's updates may come in several messages of the same seq. */
  problems: string[];
}

/** Tallies one job's messages (in arrival order) as a client following the seq rule would. */
export function tallyTasks(messages: readonly WireMessage[], jobId: string, total: number): Tally {
  const counts = new Array<number>(total).fill(0);
  const problems: string[] = [];
  const mine = messages.filter((m) => jobIdOf(m) === jobId);
  const snapshot = mine.find((m) => m.event === 'job.snapshot');
  const created = mine.find((m) => m.event === 'job.created');
  let base = -Infinity;
  if (snapshot) {
    if (typeof snapshot.seq !== 'number') problems.push('the snapshot has no top-level seq');
    base = snapshot.seq ?? -Infinity;
    [...(snapshot.data.tasks as string)].forEach((code, i) => 'cfx'.includes(code) && counts[i]++);
  } else if (created && typeof created.seq === 'number') {
    base = created.seq;
  }
  let finals = 0;
  for (const m of mine) {
    if (FINAL_EVENTS.includes(m.event)) finals++;
    else if (finals > 0) problems.push(`${m.event} (seq ${m.seq}) after the final event`);
    if (m.event !== 'task.progress') continue;
    if (typeof m.seq !== 'number') {
      problems.push('a task.progress without a top-level seq');
      continue;
    }
    if (m.seq <= base) continue;
    for (const u of m.data.updates) if (FINISHED.includes(u.state)) counts[u.index]++;
  }
  return { counts, finals, problems };
}

/** Indexes whose count is not exactly one, for a readable failure. */
export function notOnce(counts: readonly number[]): string {
  const wrong = counts.map((c, i) => [i, c]).filter(([, c]) => c !== 1);
  return wrong.length === 0
    ? 'none'
    : `${wrong.length} task(s), e.g. ${wrong
        .slice(0, 10)
        .map(([i, c]) => `#${i}: ${c}x`)
        .join(', ')}`;
}

export interface SseEvent {
  event: string;
  data: any;
  /** The `id:` line, if the server sends the seq there. */
  id?: string;
}

/** The events of an SSE response, as they arrive. */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = parseFrame(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
    }
  }
}

/** Reads GET /jobs/:id/events until the job's final event (or `ms`), then closes the stream. */
export async function readSse(url: string, ms = 30_000): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    for await (const event of sseEvents(res)) {
      events.push(event);
      if (FINAL_EVENTS.includes(event.event) || event.event === 'error') return events;
    }
    return events;
  } catch (err) {
    if (abort.signal.aborted) throw new Error(`SSE ${url}: no final event within ${ms} ms; got ${events.map((e) => e.event).join(', ')}`);
    throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function parseFrame(frame: string): SseEvent | undefined {
  let event = 'message';
  let data = '';
  let id: string | undefined;
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue; // keepalive comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data += data ? `\n${value}` : value;
    else if (field === 'id') id = value;
  }
  if (!data) return undefined;
  return { event, data: JSON.parse(data), ...(id !== undefined ? { id } : {}) };
}

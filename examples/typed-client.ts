/**
 * A typed client of the service, its types generated from the OpenAPI document the service serves:
 *
 *   npm run client:types                      # examples/generated/api.d.ts from http://127.0.0.1:3000/docs-json
 *   npx tsx examples/typed-client.ts http://127.0.0.1:3000 <api key> 10 20 90
 *
 * It submits a Fibonacci job with an API key and an Idempotency-Key (a retry of the same POST gets the
 * same job back), watches the job's Server-Sent Events until the final one, then exports every result
 * as NDJSON in one streamed request. test/typed-client.e2e-spec.ts type-checks it against freshly
 * generated types and runs it against the real service.
 */
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/api';

export type Job = components['schemas']['Job'];
export type ResultItem = components['schemas']['ResultItem'];
export interface FeedEvent {
  event: string;
  id?: string;
  data: unknown;
}

export interface Outcome {
  job: Job;
  /** Whether the second, retried POST was answered from the first (header Idempotent-Replayed). */
  replayed: boolean;
  events: FeedEvent[];
  results: ResultItem[];
}

const FINAL = ['job.completed', 'job.failed', 'job.cancelled'];

export async function computeFibonacci(baseUrl: string, apiKey: string, numbers: number[]): Promise<Outcome> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

  // Submit; retrying with the same key (say, after a network error) cannot make a second job.
  const idempotencyKey = randomUUID();
  const submit = () => api.POST('/fibonacci', { params: { header: { 'Idempotency-Key': idempotencyKey } }, body: { numbers, name: 'typed client example' } });
  const first = await submit();
  if (!first.data) throw new Error(`POST /fibonacci answered ${first.response.status}: ${first.error?.message}`);
  const retry = await submit();
  if (retry.data?.id !== first.data.id) throw new Error('the retried POST made another job');

  // Watch the feed: a snapshot first, then progress, then one final event.
  const feed = await api.GET('/jobs/{id}/events', { params: { path: { id: first.data.id } }, parseAs: 'stream' });
  if (!feed.data) throw new Error(`GET /jobs/{id}/events answered ${feed.response.status}`);
  const events: FeedEvent[] = [];
  for await (const event of sseEvents(feed.data)) {
    events.push(event);
    if (FINAL.includes(event.event)) break;
  }

  // Export every result, one JSON object per line, without paging.
  const exported = await api.GET('/jobs/{id}/results', {
    params: { path: { id: first.data.id } },
    headers: { Accept: 'application/x-ndjson' },
    parseAs: 'stream',
  });
  if (!exported.data) throw new Error(`GET /jobs/{id}/results answered ${exported.response.status}`);
  const results: ResultItem[] = [];
  for await (const line of lines(exported.data)) results.push(JSON.parse(line) as ResultItem);

  const job = await api.GET('/jobs/{id}', { params: { path: { id: first.data.id } } });
  if (!job.data) throw new Error(`GET /jobs/{id} answered ${job.response.status}`);
  return { job: job.data, replayed: retry.response.headers.get('Idempotent-Replayed') === 'true', events, results };
}

/** Server-Sent Events frames (`event:`, `id:`, `data:` lines, a blank line between frames). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<FeedEvent> {
  for await (const frame of chunks(body, '\n\n')) {
    const fields = new Map(frame.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
    if (fields.has('event')) yield { event: fields.get('event')!, id: fields.get('id'), data: JSON.parse(fields.get('data') ?? 'null') };
  }
}

function lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  return chunks(body, '\n');
}

/** The stream's text cut at `separator`, piece by piece as it arrives; stops reading when the caller stops. */
async function* chunks(body: ReadableStream<Uint8Array>, separator: string): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf(separator)) >= 0) {
        const piece = buffer.slice(0, end);
        buffer = buffer.slice(end + separator.length);
        if (piece.trim()) yield piece;
      }
    }
    if (buffer.trim()) yield buffer;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

if (typeof require !== 'undefined' && require.main === module) {
  const [baseUrl = 'http://127.0.0.1:3000', apiKey = '', ...ns] = process.argv.slice(2);
  computeFibonacci(baseUrl, apiKey, ns.length ? ns.map(Number) : [10, 20, 90]).then(
    ({ job, replayed, events, results }) => {
      console.log(`job ${job.id} ${job.status}; retry replayed: ${replayed}; ${events.length} feed events`);
      for (const item of results) console.log(JSON.stringify(item));
    },
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}

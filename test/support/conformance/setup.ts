import { createRequire } from 'node:module';
import { afterAll, afterEach } from 'vitest';
import type { CompiledDocument } from './openapi-document';
import { check, documentOf, type SeenResponse, unwrappedFetch, type Verdict } from './response-check';

/**
 * Every response a test receives from the service (in-process app or child process, through
 * fetch or supertest) is checked against the OpenAPI document that service serves at /docs-json:
 * a documented status for the route, a documented content type, and the body (or each NDJSON
 * line) against the schema. A mismatch fails the test that made the request, in afterEach.
 * The service is told apart from fixture sites and webhook receivers by its X-Request-Id header,
 * which it sets on every response.
 */
const failures: string[] = [];
const pending = new Set<Promise<unknown>>();
/**
 * Checks run once the test is over: parsing and validating a 20 MB page must not stall the event
 * loop that an in-process app shares with the test, nor the test's own timings.
 */
const deferred: (() => Promise<unknown>)[] = [];
const unreadable = new Map<string, string>();

function track(work: Promise<unknown>): void {
  pending.add(work);
  void work.finally(() => pending.delete(work));
}

/** Checks one response; a failure against a cached document is re-checked against a fresh one. */
async function judge(seen: SeenResponse, loading: Promise<CompiledDocument | Error>): Promise<Verdict | undefined> {
  const origin = new URL(seen.url).origin;
  let doc = await loading;
  if (doc instanceof Error) return void unreadable.set(origin, doc.message);
  let verdict = check(doc, seen);
  if (verdict.problems.length > 0) {
    doc = await documentOf(origin, true);
    if (!(doc instanceof Error)) verdict = check(doc, seen);
  }
  failures.push(...verdict.problems);
  return verdict;
}

/** The document now (the service is surely up), the check once the test is over (see `deferred`). */
function later(seen: SeenResponse): void {
  const loading = documentOf(new URL(seen.url).origin);
  deferred.push(() => judge(seen, loading));
}

/** A stream's lines are checked as they pass, so its verdict (and document) is needed now. */
function now(seen: SeenResponse): Promise<Verdict | undefined> {
  return judge(seen, documentOf(new URL(seen.url).origin));
}

const originalFetch = unwrappedFetch();

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const res = await originalFetch(input, init);
  if (!res.headers.has('x-request-id')) return res;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const seen: SeenResponse = { method, url: res.url || String(input instanceof Request ? input.url : input), status: res.status, contentType: res.headers.get('content-type') ?? undefined };
  const media = seen.contentType?.split(';')[0].trim();
  if (media === 'application/x-ndjson' && res.body) return checkedStream(res, now(seen));
  if (media === 'application/json' && res.body) {
    // Only the chunks are kept now; decoding and parsing them waits for the check (see `deferred`).
    const chunks: Uint8Array[] = [];
    const collect = async () => {
      for await (const chunk of res.clone().body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
      later({ ...seen, text: () => Buffer.concat(chunks).toString('utf8') });
    };
    track(collect().catch(() => undefined));
  } else later(seen);
  return res;
};

/** The response with its body passed through a line checker; cancelling it still reaches the server. */
function checkedStream(res: Response, verdict: Promise<Verdict | undefined>): Response {
  const decoder = new TextDecoder();
  let rest = '';
  const checkLines = async (text: string, last: boolean) => {
    const line = (await verdict)?.line;
    rest += text;
    const lines = rest.split('\n');
    rest = last ? '' : (lines.pop() ?? '');
    for (const l of lines) {
      const problem = l.trim() && line?.(l);
      if (problem) failures.push(problem);
    }
  };
  const body = res.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        controller.enqueue(chunk);
        await checkLines(decoder.decode(chunk, { stream: true }), false);
      },
      flush: () => checkLines(decoder.decode(), true),
    }),
  );
  const checked = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  Object.defineProperty(checked, 'url', { value: res.url });
  return checked;
}

// supertest: every Test settles through assert(error, res, fn), with or without .expect().
interface AgentResponse {
  status: number;
  headers: Record<string, string>;
  text?: string;
  request: { method: string; url: string };
}
const Test = createRequire(__filename)('supertest/lib/test.js') as { prototype: { assert(err: unknown, res: AgentResponse | undefined, fn: unknown): void } };
// Patched once per process; each run of this file (one per test file) takes the hook over.
const HOOK = Symbol.for('conformance.supertest');
const hooks = globalThis as typeof globalThis & { [HOOK]?: (res: AgentResponse) => void };
if (!hooks[HOOK]) {
  const assert = Test.prototype.assert;
  Test.prototype.assert = function (this: unknown, err, res, fn) {
    if (res?.headers?.['x-request-id'] && res.request) hooks[HOOK]?.(res);
    return assert.call(this, err, res, fn);
  };
}
hooks[HOOK] = (res) => {
  const text = typeof res.text === 'string' ? res.text : undefined;
  const seen = { method: res.request.method, url: res.request.url, status: res.status, contentType: res.headers['content-type'], text };
  if (!seen.contentType?.startsWith('application/x-ndjson')) return later(seen);
  track(
    now(seen).then((verdict) => {
      for (const l of text?.split('\n') ?? []) {
        const problem = l.trim() && verdict?.line?.(l);
        if (problem) failures.push(problem);
      }
    }),
  );
};

/** Runs every check still due and hands over what they found (the wiring's own test reads it). */
export async function drainProblems(): Promise<string[]> {
  await Promise.all([...pending]);
  for (const run of deferred.splice(0)) await run();
  return [...new Set(failures.splice(0))];
}

async function settle(): Promise<void> {
  const found = await drainProblems();
  if (found.length === 0) return;
  throw new Error(
    `${found.length} response(s) from the service do not match its OpenAPI document (/docs-json):\n- ${found.join('\n- ')}\n` +
      "Fix the document (src/openapi/, the kind's *.openapi.ts, the zod schemas) or the code; the check is in test/support/conformance/.",
  );
}

afterEach(settle);
afterAll(async () => {
  await settle();
  if (unreadable.size > 0) console.warn(`OpenAPI conformance: responses of ${[...unreadable.keys()].join(', ')} were not checked: ${[...unreadable.values()].join('; ')}`);
});

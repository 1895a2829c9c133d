import { type CompiledDocument, compile, describeErrors, pointerTo } from './openapi-document';
import { NOT_API } from './not-api';

/** What the check needs of one response, whichever client received it. */
export interface SeenResponse {
  method: string;
  url: string;
  status: number;
  /** The Content-Type header, if any. */
  contentType: string | undefined;
  /** The body's text when the client read it whole (JSON), or how to get it; undefined for streams. */
  text?: string | (() => string);
}

/** How a JSON body is checked: the validator at `pointer`, and which route and status it belongs to. */
export interface Verdict {
  /** Why the response is wrong, or nothing. */
  problems: string[];
  /** For a NDJSON stream: checks one line (returns a problem or nothing). */
  line?: (line: string) => string | undefined;
}

const ORIGINAL_FETCH = Symbol.for('conformance.originalFetch');

/** fetch as Node has it, before the setup file wrapped it (kept across re-runs of the setup in one process). */
export function unwrappedFetch(): typeof fetch {
  const scope = globalThis as typeof globalThis & { [ORIGINAL_FETCH]?: typeof fetch };
  scope[ORIGINAL_FETCH] ??= globalThis.fetch;
  return scope[ORIGINAL_FETCH];
}
const documents = new Map<string, Promise<CompiledDocument | Error>>();

/**
 * The service's own OpenAPI document, read once per origin from its /docs-json (with the original
 * fetch, so this read is not itself checked). `fresh` reloads it: another service may have taken
 * the port of one that stopped.
 */
export function documentOf(origin: string, fresh = false): Promise<CompiledDocument | Error> {
  let doc = documents.get(origin);
  if (!doc || fresh) {
    doc = unwrappedFetch()(`${origin}/docs-json`, { signal: AbortSignal.timeout(30_000) })
      .then(async (res) => (res.ok ? compile(await res.text()) : new Error(`GET ${origin}/docs-json answered ${res.status}`)))
      .catch((err: Error) => new Error(`GET ${origin}/docs-json failed: ${err.message}`));
    documents.set(origin, doc);
  }
  return doc;
}

/** Checks a response against its route's documentation: documented status, content type, body schema. */
export function check(doc: CompiledDocument, seenResponse: SeenResponse): Verdict {
  const seen = typeof seenResponse.text === 'function' ? { ...seenResponse, text: seenResponse.text() } : { ...seenResponse, text: seenResponse.text };
  const { pathname } = new URL(seen.url);
  const method = seen.method.toUpperCase();
  if (NOT_API.some((rule) => rule.matches(method, pathname))) return { problems: [] };
  const route = doc.route(pathname);
  const what = `${method} ${pathname}`;
  if (!route) {
    // Unknown paths get the envelope's 404; there is no route to document.
    if (seen.status === 404) return checkBody(doc, seen, what, pointerTo('components', 'schemas', 'Error'));
    return { problems: [`${what} answered ${seen.status}, but no route of the OpenAPI document matches the path (document it in src/openapi/ or the kind's *.openapi.ts)`] };
  }
  const operation = route.methods[method.toLowerCase()];
  const at = `${method} ${route.template}`;
  if (!operation) return { problems: [`${at} answered ${seen.status}, but the document has no ${method} for ${route.template}`] };
  const response = operation.responses[String(seen.status)];
  if (!response) {
    return { problems: [`${at} answered ${seen.status}, an undocumented status (documented: ${Object.keys(operation.responses).join(', ')})`] };
  }
  const media = seen.contentType?.split(';')[0].trim().toLowerCase();
  const content = response.content;
  if (!content) {
    return media && seen.text !== '' ? { problems: [`${at} ${seen.status} has a ${media} body, but the document says it has none`] } : { problems: [] };
  }
  if (!media || !content[media]) {
    return { problems: [`${at} ${seen.status} answered Content-Type ${media ?? '(none)'}, but the document lists ${Object.keys(content).join(', ')}`] };
  }
  const base = pointerTo('paths', route.template, method.toLowerCase(), 'responses', String(seen.status), 'content', media, 'schema');
  const isJson = media === 'application/json' || media.endsWith('+json');
  if (!content[media].schema) {
    return isJson || media === 'application/x-ndjson' ? { problems: [`${at} ${seen.status} ${media}: the document gives no schema for the body`] } : { problems: [] };
  }
  if (media === 'application/x-ndjson') return { problems: [], line: lineChecker(doc, base, `${at} ${seen.status} ${media}`) };
  return isJson ? checkBody(doc, seen, `${at} ${seen.status}`, base) : { problems: [] };
}

function checkBody(doc: CompiledDocument, seen: SeenResponse, what: string, pointer: string): Verdict {
  if (seen.text === undefined) return { problems: [] };
  let body: unknown;
  try {
    body = JSON.parse(seen.text);
  } catch {
    return { problems: [`${what}: the body is not JSON: ${seen.text.slice(0, 120)}`] };
  }
  const validate = compiled(doc, pointer);
  if (typeof validate === 'string') return { problems: [`${what}: ${validate}`] };
  return validate(body) ? { problems: [] } : { problems: [`${what}: the body does not match the document's schema: ${describeErrors(validate.errors)}`] };
}

function lineChecker(doc: CompiledDocument, pointer: string, what: string) {
  const validate = compiled(doc, pointer);
  let n = 0;
  return (line: string): string | undefined => {
    n++;
    if (typeof validate === 'string') return n === 1 ? `${what}: ${validate}` : undefined;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch {
      return `${what}: line ${n} is not JSON: ${line.slice(0, 120)}`;
    }
    return validate(item) ? undefined : `${what}: line ${n} does not match the document's item schema: ${describeErrors(validate.errors)}`;
  };
}

/** The validator, or why the document's schema does not compile (a broken $ref, say). */
function compiled(doc: CompiledDocument, pointer: string) {
  try {
    return doc.validator(pointer);
  } catch (err) {
    return `the document's schema at ${pointer} does not compile: ${(err as Error).message}`;
  }
}

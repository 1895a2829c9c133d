/**
 * htmlparser2's Parser keeps the open elements in an array it unshifts and shifts at the front, so
 * every tag costs as much as the nesting depth: a page of nested elements parses in quadratic time
 * (measured on one thread, 2026-12-06: 80,000 nested <div>s 1.5 s, 160,000 — a 1.7 MB page — 20 s),
 * and the DOM path parses a page in one call, before any budget check can run. Browsers cap the
 * tree's depth (Blink: 512) by closing the innermost element before opening a deeper one; this
 * parser does the same, which keeps every tag's cost bounded and the parse linear. Links, text and
 * titles deeper down are all still seen, as siblings instead of descendants.
 */
import { DomHandler } from 'domhandler';
import { type Handler, Parser, type ParserOptions } from 'htmlparser2';

export const MAX_DEPTH = 512;

/** The Parser's own fields this class reads (private in its typings, stable in its code). */
interface ParserInternals {
  stack: string[];
  cbs: Partial<Handler>;
}

export class ShallowParser extends Parser {
  override onopentagname(start: number, endIndex: number): void {
    const internals = this as unknown as ParserInternals;
    if (internals.stack.length >= MAX_DEPTH) {
      const innermost = internals.stack.shift() as string;
      internals.cbs.onclosetag?.(innermost, true);
    }
    super.onopentagname(start, endIndex);
  }
}

/** A DOM (domhandler's, as cheerio and htmlparser2's parseDocument build it) at most MAX_DEPTH deep. */
export function parseShallowDom(html: string, options: ParserOptions) {
  const handler = new DomHandler(undefined, options);
  new ShallowParser(handler, options).end(html);
  return handler.root;
}

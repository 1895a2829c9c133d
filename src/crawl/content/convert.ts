/**
 * HTML pieces (chunks.ts) to markdown and to text, with maintained converters, under the parse
 * deadline and a character cap. Measured on this machine (scratch micro-bench, medians of 30,
 * busy 2-core host): a 174 KB documentation page (Underscore.js docs) took node-html-markdown
 * 4,133 ms in one call and html-to-text 106 ms; an 88 KB Sphinx page 80 ms and 21 ms; a 10 KB
 * Texinfo page 1.4 ms and 0.65 ms. node-html-markdown is kept for markdown (headings, lists,
 * fenced code, links, tables; html-to-text has no markdown output) and fed 16 KB pieces, which
 * keeps it linear; html-to-text makes the text.
 */
import { compile } from 'html-to-text';
import { NodeHtmlMarkdown } from 'node-html-markdown';
import type { ContentCut } from './content-options';

const markdown = new NodeHtmlMarkdown({ maxConsecutiveNewlines: 2, useLinkReferenceDefinitions: false });
const text = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

export const CONVERTERS = { markdown: (html: string) => markdown.translate(html), text: (html: string) => text(html) };

export interface Converted {
  value: string;
  cut?: ContentCut;
}

/** Converts piece by piece until the pieces end, the deadline passes or `maxChars` are made. */
export function convertChunks(chunks: string[], convert: (html: string) => string, maxChars: number, deadline: number): Converted {
  const parts: string[] = [];
  let chars = 0;
  for (const chunk of chunks) {
    if (performance.now() > deadline) return { value: parts.join('\n\n'), cut: 'parseBudget' };
    const part = convert(chunk).trim();
    if (!part) continue;
    parts.push(part);
    chars += part.length + 2;
    if (chars > maxChars) return { value: cutAt(parts.join('\n\n'), maxChars), cut: 'contentChars' };
  }
  return { value: parts.join('\n\n') };
}

/** The first `max` characters, never half of a surrogate pair. */
export function cutAt(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

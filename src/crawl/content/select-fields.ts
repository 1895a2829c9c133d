/**
 * `select`: named fields read with cheerio selectors from the page (the bounded tree: prune.ts),
 * before anything is removed for content. A field is the text of its first match (whitespace
 * collapsed), or an attribute's value with `attr`, or with `all` the list of every match's (at
 * most SELECT_MAX_VALUES); null when nothing matches. Each value keeps SELECT_MAX_VALUE_CHARS.
 */
import { type CheerioAPI, load } from 'cheerio';
import { decodeHTML } from 'entities';
import { type ContentCut, SELECT_MAX_VALUE_CHARS, SELECT_MAX_VALUES, type SelectSpec } from './content-options';
import { cutAt } from './convert';
import { type DomNode, textUnder } from './dom';

export type FieldValue = string | string[] | null;

/** Why a selector is refused at submit, or undefined when it compiles (cheerio's css-select, on an empty document). */
export function selectorError(css: string): string | undefined {
  // Nested :has() costs the subtree of the subtree of every element; one level is linear in the bounded tree.
  if ((css.match(/:has\(/gi) ?? []).length > 1) return 'at most one :has() per selector';
  try {
    emptyDocument ??= load('');
    emptyDocument.root().find(css);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

let emptyDocument: CheerioAPI | undefined;

export function selectFields($: CheerioAPI, select: Record<string, SelectSpec>, deadline: number): { fields: Record<string, FieldValue>; cut?: ContentCut } {
  const fields: Record<string, FieldValue> = {};
  let cut: ContentCut | undefined;
  for (const [name, spec] of Object.entries(select)) {
    if (performance.now() > deadline) {
      fields[name] = null;
      cut = 'parseBudget';
      continue;
    }
    const matches = $.root().find(spec.css).toArray() as unknown as DomNode[];
    const values: string[] = [];
    for (const match of matches) {
      const value = fieldValue(match, spec.attr);
      if (value !== undefined) values.push(value);
      if (values.length >= (spec.all ? SELECT_MAX_VALUES : 1)) break;
    }
    fields[name] = spec.all ? values : (values[0] ?? null);
  }
  return cut ? { fields, cut } : { fields };
}

function fieldValue(node: DomNode, attr: string | undefined): string | undefined {
  if (attr !== undefined) {
    const raw = node.attribs?.[attr.toLowerCase()];
    return raw === undefined ? undefined : cutAt(decodeHTML(raw), SELECT_MAX_VALUE_CHARS);
  }
  return cutAt(
    decodeHTML(textUnder(node, SELECT_MAX_VALUE_CHARS * 4))
      .replace(/\s+/g, ' ')
      .trim(),
    SELECT_MAX_VALUE_CHARS,
  );
}

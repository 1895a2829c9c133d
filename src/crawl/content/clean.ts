/**
 * The tree as content (after `select` has read it): elements that are not content go (scripts,
 * styles, forms' machinery, embedded objects, the head), attributes are reduced to the ones
 * converters use, and link and image addresses become absolute (relative links mean nothing once
 * the markdown leaves the page).
 */
import { decodeHTML } from 'entities';
import { type DomNode, isElement, setChildren } from './dom';

const DROP = new Set(['script', 'style', 'noscript', 'template', 'head', 'iframe', 'object', 'embed', 'svg', 'math', 'canvas', 'select', 'button', 'input', 'textarea', 'link', 'meta']);
const KEEP_ATTRIBUTES = new Set(['href', 'src', 'alt', 'title', 'colspan', 'rowspan', 'start', 'lang']);
const URL_ATTRIBUTES = new Set(['href', 'src']);

export function cleanTree(root: DomNode, baseUrl: string): void {
  const stack: DomNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.attribs) cleanAttributes(node, baseUrl);
    const children = node.children;
    if (!children) continue;
    if (node.name === 'pre') {
      // HTML drops a newline right after <pre>; the converter would keep it as a blank first line.
      const first = children[0];
      if (first?.type === 'text' && first.data) first.data = first.data.replace(/^\r?\n/, '');
      if (!children.some((child) => child.name === 'code')) wrapInCode(node);
    }
    const kept = children.filter((child) => !(isElement(child) && DROP.has(child.name ?? '')) && child.type !== 'directive');
    if (kept.length !== children.length) setChildren(node, kept);
    for (const child of kept) stack.push(child);
  }
}

/** A `<pre>` of bare text becomes `<pre><code>`: the markdown converter fences only code blocks. */
function wrapInCode(pre: DomNode): void {
  const code: DomNode = { type: 'tag', name: 'code', attribs: {}, parent: null, prev: null, next: null };
  setChildren(code, pre.children!);
  setChildren(pre, [code]);
}

function cleanAttributes(node: DomNode, baseUrl: string): void {
  const attribs = node.attribs!;
  for (const name of Object.keys(attribs)) {
    // A code block's language (class="language-js") is the one class a converter reads.
    if (name === 'class' && (node.name === 'code' || node.name === 'pre')) continue;
    if (!KEEP_ATTRIBUTES.has(name)) delete attribs[name];
    else if (URL_ATTRIBUTES.has(name)) {
      const absolute = absoluteUrl(attribs[name], baseUrl);
      if (absolute === undefined) delete attribs[name];
      else attribs[name] = absolute;
    }
  }
}

/** The address resolved against the page, re-escaped for the raw tree; undefined for script and data URLs. */
function absoluteUrl(raw: string, baseUrl: string): string | undefined {
  const value = decodeHTML(raw).trim();
  if (value.startsWith('#')) return raw;
  let url: URL;
  try {
    url = new URL(value, baseUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'mailto:') return undefined;
  return url.href.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
}

/**
 * `onlyMainContent`: a documented heuristic, not a readability model. The content root is the
 * first `<main>` or `[role=main]` with text, else the `<article>` with the most text, else
 * `<body>`. Inside it, boilerplate is removed: `<nav>`, `<aside>`, navigation, search and
 * complementary landmarks, and blocks whose id or class names a sidebar, menu, breadcrumb, table
 * of contents, cookie notice and the like; when the root is the whole body, its `<header>` and
 * `<footer>` (and banner/contentinfo landmarks) go too — inside a main or an article they hold the
 * article's own title and notes, and stay.
 */
import { type DomNode, isElement, setChildren, textUnder } from './dom';

const ALWAYS = new Set(['nav', 'aside', 'menu', 'dialog']);
const BODY_ONLY = new Set(['header', 'footer']);
const ROLES_ALWAYS = new Set(['navigation', 'search', 'complementary', 'menu', 'menubar', 'dialog', 'alertdialog']);
const ROLES_BODY_ONLY = new Set(['banner', 'contentinfo']);
/** id/class words of boilerplate blocks, matched as whole words (`-`, `_` and spaces separate them). */
const BOILERPLATE = /(?:^|[\s_-])(?:sidebar|sphinxsidebar|navbar|nav|navigation|menu|breadcrumbs?|toc|cookies?|consent|skip|share|social|related|masthead)(?:$|[\s_-])/i;
/** The page's own header and footer blocks, removed only when the root is the whole body. */
const PAGE_FRAME = /(?:^|[\s_-])(?:header|footer)(?:$|[\s_-])/i;
/** Elements the id/class rule applies to: blocks, not inline text such as `<b class="header">`. */
const BLOCKS = new Set(['div', 'section', 'ul', 'ol', 'table', 'form', 'header', 'footer']);
const TEXT_PROBE = 200;

/** The content root of the document, with its boilerplate removed (in place). */
export function mainContent(document: DomNode): DomNode {
  const found = findRoot(document);
  removeBoilerplate(found.root, found.isBody);
  return found.root;
}

function findRoot(document: DomNode): { root: DomNode; isBody: boolean } {
  let main: DomNode | undefined;
  let body: DomNode | undefined;
  let best: { node: DomNode; chars: number } | undefined;
  const stack: DomNode[] = [document];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type === 'tag') {
      if (!main && (node.name === 'main' || node.attribs?.role === 'main') && textUnder(node, TEXT_PROBE).trim()) main = node;
      if (node.name === 'body') body ??= node;
      if (node.name === 'article') {
        const chars = textUnder(node, 1_000_000).length;
        if (!best || chars > best.chars) best = { node, chars };
      }
    }
    const children = node.children;
    if (children) for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  if (main) return { root: main, isBody: false };
  if (best) return { root: best.node, isBody: false };
  return { root: body ?? document, isBody: true };
}

function isBoilerplate(node: DomNode, isBody: boolean): boolean {
  const name = node.name ?? '';
  if (ALWAYS.has(name) || (isBody && BODY_ONLY.has(name))) return true;
  const role = node.attribs?.role;
  if (role && (ROLES_ALWAYS.has(role) || (isBody && ROLES_BODY_ONLY.has(role)))) return true;
  if (!BLOCKS.has(name)) return false;
  const words = `${node.attribs?.id ?? ''} ${node.attribs?.class ?? ''}`;
  return BOILERPLATE.test(words) || (isBody && PAGE_FRAME.test(words));
}

function removeBoilerplate(root: DomNode, isBody: boolean): void {
  const stack: DomNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = node.children;
    if (!children) continue;
    const kept = children.filter((child) => !(isElement(child) && isBoilerplate(child, isBody)));
    if (kept.length !== children.length) setChildren(node, kept);
    for (const child of kept) stack.push(child);
  }
}

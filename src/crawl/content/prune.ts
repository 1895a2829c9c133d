/**
 * Bounds the tree that content is made from, in place and in one pass without recursion, before
 * any selector or converter sees it: a hostile page (400,000 elements, nesting 100,000 deep,
 * megabyte attributes) becomes a tree that the converters (recursive, synchronous, not
 * interruptible) handle in bounded time and stack. Elements past CONTENT_MAX_ELEMENTS and
 * children past CONTENT_MAX_CHILDREN are dropped (`contentElements`), subtrees deeper than
 * CONTENT_MAX_DEPTH become their text, attribute values longer than CONTENT_MAX_ATTR_CHARS are
 * dropped, comments go. The deadline is checked every 1,024 nodes (`parseBudget`).
 */
import { CONTENT_MAX_ATTR_CHARS, CONTENT_MAX_CHILDREN, CONTENT_MAX_DEPTH, CONTENT_MAX_ELEMENTS, type ContentCut } from './content-options';
import { type DomNode, isElement, setChildren, textNode, textUnder } from './dom';

export interface PruneLimits {
  maxElements: number;
  maxDepth: number;
  maxChildren: number;
  maxAttrChars: number;
}

export const PRUNE_LIMITS: PruneLimits = { maxElements: CONTENT_MAX_ELEMENTS, maxDepth: CONTENT_MAX_DEPTH, maxChildren: CONTENT_MAX_CHILDREN, maxAttrChars: CONTENT_MAX_ATTR_CHARS };

/** Text kept of a subtree flattened at the depth limit. */
const FLATTENED_CHARS = 20_000;

export function pruneTree(root: DomNode, deadline: number, limits: PruneLimits = PRUNE_LIMITS): ContentCut | undefined {
  let cut: ContentCut | undefined;
  let elements = 0;
  let visited = 0;
  const stack: { node: DomNode; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    if ((++visited & 1023) === 0 && performance.now() > deadline) {
      cut = 'parseBudget';
      break;
    }
    const { node, depth } = stack.pop()!;
    if (node !== root && isElement(node) && ++elements > limits.maxElements) {
      cut = 'contentElements';
      stack.push({ node, depth }); // dropped with the rest below
      break;
    }
    const attribs = node.attribs;
    if (attribs) for (const name in attribs) if (attribs[name].length > limits.maxAttrChars) delete attribs[name];
    const children = node.children;
    if (!children || children.length === 0) continue;
    if (depth >= limits.maxDepth) {
      setChildren(node, [textNode(textUnder(node, FLATTENED_CHARS))]);
      continue;
    }
    let kept = children.filter((child) => child.type !== 'comment');
    if (kept.length > limits.maxChildren) {
      kept = kept.slice(0, limits.maxChildren);
      cut ??= 'contentElements';
    }
    if (kept.length !== children.length) setChildren(node, kept);
    for (let i = kept.length - 1; i >= 0; i--) stack.push({ node: kept[i], depth: depth + 1 });
  }
  if (stack.length > 0) dropAll(stack.map((entry) => entry.node));
  return cut;
}

/** Removes nodes not visited yet (all after the stopping point in document order) from their parents. */
function dropAll(nodes: DomNode[]): void {
  const dropped = new Set(nodes);
  const parents = new Set<DomNode>();
  for (const node of nodes) if (node.parent) parents.add(node.parent);
  for (const parent of parents)
    setChildren(
      parent,
      parent.children!.filter((child) => !dropped.has(child)),
    );
}

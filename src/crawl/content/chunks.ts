/**
 * A content tree as HTML pieces of about CHUNK_CHARS each, split between block children (a big
 * container's children are grouped, each group wrapped in the container's own tags). The
 * converters are given one piece at a time: node-html-markdown takes time that grows faster than
 * its input (measured: 4 s for a 174 KB documentation page in one call; pieces of 16 KB are linear),
 * and between pieces the parse deadline is checked. Sizes are estimated in one pass first, so
 * nothing is serialised twice.
 */
import { type DomNode, isElement } from './dom';

export const CHUNK_CHARS = 16 * 1024;

export type Serialize = (nodes: DomNode[]) => string;

export function htmlChunks(root: DomNode, serialize: Serialize, chunkChars = CHUNK_CHARS): string[] {
  const sizes = estimateSizes(root);
  const out: string[] = [];
  // Nesting is bounded by prune.ts (CONTENT_MAX_DEPTH), so this recursion is too.
  const split = (nodes: DomNode[], open: string, close: string) => {
    let group: DomNode[] = [];
    let groupChars = 0;
    const flush = () => {
      if (group.length > 0) out.push(open + serialize(group) + close);
      group = [];
      groupChars = 0;
    };
    for (const node of nodes) {
      const size = sizes.get(node) ?? 0;
      if (size > chunkChars && isElement(node) && node.children && node.children.length > 0) {
        flush();
        split(node.children, `${open}${openTag(node)}`, `</${node.name}>${close}`);
        continue;
      }
      if (groupChars + size > chunkChars) flush();
      group.push(node);
      groupChars += size;
    }
    flush();
  };
  split(root.children ?? [], '', '');
  return out;
}

function openTag(node: DomNode): string {
  let tag = `<${node.name}`;
  for (const [name, value] of Object.entries(node.attribs ?? {})) tag += ` ${name}="${value.replaceAll('"', '&quot;')}"`;
  return `${tag}>`;
}

/** Serialised size of every node, about: text and attribute lengths plus tag overhead; post-order, no recursion. */
function estimateSizes(root: DomNode): Map<DomNode, number> {
  const sizes = new Map<DomNode, number>();
  const stack: { node: DomNode; done: boolean }[] = [{ node: root, done: false }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const { node } = entry;
    if (!entry.done && node.children && node.children.length > 0) {
      entry.done = true;
      stack.push(entry);
      for (const child of node.children) stack.push({ node: child, done: false });
      continue;
    }
    let size = (node.data?.length ?? 0) + (node.name ? node.name.length * 2 + 5 : 0);
    for (const name in node.attribs ?? {}) size += name.length + node.attribs![name].length + 4;
    for (const child of node.children ?? []) size += sizes.get(child) ?? 0;
    sizes.set(node, size);
  }
  return sizes;
}

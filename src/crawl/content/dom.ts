/**
 * The parts of domhandler's nodes (cheerio's tree) that the content passes read and rewrite.
 * They rewrite the tree in place, so the sibling and parent links that cheerio's selectors
 * follow are kept consistent by `setChildren`.
 */
export interface DomNode {
  type: string;
  name?: string;
  attribs?: Record<string, string>;
  data?: string;
  children?: DomNode[];
  parent?: DomNode | null;
  prev?: DomNode | null;
  next?: DomNode | null;
}

export const isElement = (node: DomNode): boolean => node.type === 'tag' || node.type === 'script' || node.type === 'style';

export function setChildren(parent: DomNode, children: DomNode[]): void {
  parent.children = children;
  for (let i = 0; i < children.length; i++) {
    const child = children[i];
    child.parent = parent;
    child.prev = children[i - 1] ?? null;
    child.next = children[i + 1] ?? null;
  }
}

/** A text node (raw: the tree keeps entities undecoded, as it was parsed). */
export function textNode(data: string): DomNode {
  return { type: 'text', data, parent: null, prev: null, next: null };
}

/** The raw text under a node, without recursion (nesting may be deep), at most `max` characters. */
export function textUnder(node: DomNode, max: number): string {
  let text = '';
  const stack: DomNode[] = [...(node.children ?? [])].reverse();
  while (stack.length > 0 && text.length < max) {
    const next = stack.pop()!;
    if (next.type === 'text') text += next.data ?? '';
    else if (next.type === 'tag' && next.children) for (let i = next.children.length - 1; i >= 0; i--) stack.push(next.children[i]);
  }
  return text.slice(0, max);
}

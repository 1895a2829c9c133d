import { parseDocument as plainDom } from 'htmlparser2';
import { load } from 'cheerio';
import { describe, expect, it } from 'vitest';
import { extractLinks } from './extract-links';
import { MAX_DEPTH, parseShallowDom } from './shallow-parser';
import { LinkStream } from './stream-links';

const OPTIONS = { xmlMode: false, decodeEntities: false };

interface TreeNode {
  children?: TreeNode[];
}

function depthOf(node: TreeNode): number {
  let deepest = 0;
  const stack: [TreeNode, number][] = [[node, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    for (const child of current.children ?? []) stack.push([child, depth + 1]);
  }
  return deepest;
}

const nested = (levels: number) => `<html><body><a href="/first">f</a>${'<div>'.repeat(levels)}<a href="/deep">d</a>${'</div>'.repeat(levels)}<a href="/after">a</a></body></html>`;

describe('ShallowParser: a depth-capped htmlparser2 (quadratic nesting made linear)', () => {
  it('builds the same tree as htmlparser2 for an ordinary page', () => {
    const page = '<html><head><title>T</title></head><body><nav><ul><li><a href="/a">a</a><li><a href="/b">b</a></ul></nav><p>one<p>two<table><tr><td>x</table></body></html>';
    const render = (root: Parameters<typeof load>[0]) => load(root, { xml: OPTIONS }).html();
    expect(render(parseShallowDom(page, OPTIONS))).toBe(render(plainDom(page, OPTIONS)));
  });

  it(`keeps a hostile page's tree at most ${MAX_DEPTH} deep and still sees every link, in the DOM and the streaming parser`, () => {
    const html = nested(100_000);
    expect(depthOf(parseShallowDom(html, OPTIONS) as TreeNode)).toBeLessThanOrEqual(MAX_DEPTH + 1);
    const links = (page: { links: string[] }) => page.links;
    expect(links(extractLinks(html, 'http://site.test/', { maxLinks: 100, budgetMs: 60_000 }))).toEqual(['http://site.test/first', 'http://site.test/deep', 'http://site.test/after']);
    const stream = new LinkStream('http://site.test/', { maxLinks: 100, budgetMs: 60_000 });
    stream.write(html);
    expect(links(stream.end())).toEqual(['http://site.test/first', 'http://site.test/deep', 'http://site.test/after']);
  });
});

import { describe, expect, it } from 'vitest';
import { warmUpCrawling } from './warm-up';

const handles = (kind: string) => process.getActiveResourcesInfo().filter((name) => name === kind).length;

describe('crawl warm-up', () => {
  it('crawls every pass through a real loopback exchange, finds links on each page, and leaves no server or socket open', async () => {
    const servers = handles('TCPServerWrap');
    const sockets = handles('TCPSocketWrap');
    const done = await warmUpCrawling(60);
    expect(done.pages).toBe(60);
    // The smallest sample page carries the 40 links of its table of contents and more.
    expect(done.links).toBeGreaterThan(60 * 40);
    // Handles leave the list once libuv has closed them, a few turns of the loop later.
    for (let turn = 0; turn < 200 && (handles('TCPServerWrap') > servers || handles('TCPSocketWrap') > sockets); turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handles('TCPServerWrap')).toBe(servers);
    expect(handles('TCPSocketWrap')).toBe(sockets);
  });

  it('does nothing at 0 passes', async () => {
    const servers = handles('TCPServerWrap');
    const pending = warmUpCrawling(0);
    expect(handles('TCPServerWrap')).toBe(servers);
    await expect(pending).resolves.toEqual({ pages: 0, links: 0 });
  });
});

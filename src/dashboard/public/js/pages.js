// A crawl's pages as they finish, newest first, from task.progress updates ({index, url, depth,
// state, status, links, errorCode}). Only the newest LIVE_CAP rows stay in the DOM; updates are
// queued and turned into rows at most once per frame, so thousands of pages stay cheap.

export const LIVE_CAP = 200;
const FINISHED = new Set(['completed', 'failed']);

export class LivePages {
  constructor(table, note) {
    this.body = table.tBodies[0];
    this.note = note;
    this.reset();
  }

  reset() {
    /** Task indexes already listed (or dropped past the cap): a page is listed once. */
    this.seen = new Set();
    this.pending = [];
    this.body.replaceChildren();
    this.note.textContent = '';
    this.noteKey = '';
  }

  /** Queues the finished pages among `updates`; true when there is something to draw. */
  add(updates) {
    const batch = [];
    for (const u of updates) {
      if (!FINISHED.has(u.state) || u.url === undefined || this.seen.has(u.index)) continue;
      this.seen.add(u.index);
      batch.push(u);
    }
    // One coalesced batch has no order of its own: within it, crawl order (highest on top).
    if (batch.length > 1) batch.sort((a, b) => a.index - b.index);
    this.pending.push(...batch.slice(-LIVE_CAP));
    // A hidden tab draws no frames: keep only what could still be shown.
    if (this.pending.length > 2 * LIVE_CAP) this.pending.splice(0, this.pending.length - LIVE_CAP);
    return this.pending.length > 0;
  }

  /**
   * Pages that finished while this view did not listen, from the results (crawl order): above
   * the rows already listed (`top`, after a reconnect), or below them (on opening the job).
   */
  addResults(items, top) {
    const rows = [];
    for (const item of items) {
      if (!FINISHED.has(item.state) || this.seen.has(item.index)) continue;
      this.seen.add(item.index);
      rows.push(row({ index: item.index, url: item.url, depth: item.depth, state: item.state, status: item.status, links: item.links?.length, errorCode: item.error?.code }));
    }
    rows.reverse();
    if (top) this.body.prepend(...rows);
    else this.body.append(...rows.slice(0, Math.max(0, LIVE_CAP - this.body.rows.length)));
    this.trim();
  }

  /** Draws the queued pages; `finished` is how many pages the job has finished in all. */
  render(finished) {
    if (this.pending.length) {
      const fresh = this.pending.length > LIVE_CAP ? this.pending.slice(-LIVE_CAP) : this.pending;
      this.pending = [];
      const fragment = document.createDocumentFragment();
      for (let i = fresh.length - 1; i >= 0; i--) fragment.append(row(fresh[i]));
      this.body.prepend(fragment);
      this.trim();
    }
    const shown = this.body.rows.length;
    const key = `${shown}/${finished}`;
    if (key === this.noteKey) return;
    this.noteKey = key;
    this.note.textContent =
      finished > shown
        ? `Showing the newest ${shown.toLocaleString('en')} of ${finished.toLocaleString('en')} pages fetched; every page is in Results below.`
        : shown
          ? `${shown.toLocaleString('en')} page${shown === 1 ? '' : 's'} fetched.`
          : 'No page fetched yet.';
    this.body.parentElement.dataset.shown = String(shown);
  }

  trim() {
    while (this.body.rows.length > LIVE_CAP) this.body.lastElementChild.remove();
  }
}

function row(page) {
  const tr = document.createElement('tr');
  tr.dataset.index = String(page.index);
  tr.dataset.state = page.state;
  const failed = page.state === 'failed';
  if (failed) tr.className = 'failed';
  const code = page.errorCode ?? (failed ? 'failed' : '');
  if (page.errorCode) tr.dataset.errorCode = page.errorCode;
  const cells = [
    String(page.index),
    page.depth === undefined ? '' : String(page.depth),
    page.status == null ? '–' : String(page.status),
    page.links === undefined ? '' : page.links.toLocaleString('en'),
    page.url,
    code,
  ];
  for (const text of cells) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
  const [, , status, , url, error] = tr.cells;
  status.className = 'num';
  if (page.status >= 400) status.classList.add('bad');
  url.className = 'url';
  url.title = page.url;
  if (code) error.className = 'err';
  return tr;
}

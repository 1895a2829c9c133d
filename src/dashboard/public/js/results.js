// The results table. Known kinds have fixed columns (the same on every page, sized to fit the
// box); any other kind's columns come from the items themselves, so it renders without changes here.

import { formatBytes } from './format.js';

/** Columns of known kinds and their widths (none: shares what is left). */
const KIND_COLUMNS = {
  fibonacci: [['index', 64], ['n', 88], ['state', 104], ['value'], ['digits', 72], ['ms', 64], ['error', 120]],
  crawl: [['index', 56], ['url'], ['status', 60], ['title'], ['links', 120], ['bytes', 84], ['ms', 60], ['error', 140]],
};

const ORDER = ['index', 'n', 'url', 'state', 'status', 'error', 'depth', 'value', 'digits', 'title', 'links', 'bytes', 'ms', 'contentType', 'finalUrl', 'parent', 'nofollow', 'truncated'];
const LONG = 48;
/** Characters of a cell's text in its tooltip. */
const TOOLTIP = 2000;
const EDGE = 20;
/** Items of a list shown in its cell (a crawled page's links): the rest is one Copy away. */
const HEAD = 2;

/** Flags about a value rather than columns of their own. */
const HIDDEN = new Set(['shortened']);

export function columnsOf(items) {
  const seen = new Set();
  for (const item of items) for (const key of Object.keys(item)) if (!HIDDEN.has(key)) seen.add(key);
  const known = ORDER.filter((key) => seen.has(key));
  return [...known, ...[...seen].filter((key) => !ORDER.includes(key))];
}

/** A kind's fixed columns, or those of the items (an unknown kind): `[[key, width?], ...]`. */
export function columnsFor(kind, items) {
  return KIND_COLUMNS[kind] ?? columnsOf(items).map((key) => [key]);
}

/** `first 20…last 20` for long text. */
export function shorten(text) {
  return text.length > LONG ? `${text.slice(0, EDGE)}…${text.slice(-EDGE)}` : text;
}

export async function copyText(text) {
  if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text);
  // Plain-HTTP deployments have no async clipboard: fall back to a selected textarea.
  const area = Object.assign(document.createElement('textarea'), { value: text, readOnly: true });
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy failed');
}

/** Shows a link on the page's own origin as its path (the Copy button still gives it whole). */
function pathOf(base) {
  let origin;
  try {
    origin = new URL(base).origin;
  } catch {
    return (link) => link;
  }
  return (link) => (link.startsWith(`${origin}/`) ? link.slice(origin.length) : link);
}

const isList = (value) => Array.isArray(value) && value.every((v) => typeof v !== 'object');
const isError = (value) => typeof value === 'object' && typeof value?.code === 'string' && typeof value.message === 'string';

function cell(item, key, note, loadFull) {
  const td = document.createElement('td');
  const value = item[key];
  if (value === undefined || value === null) return td;
  if (key === 'state') {
    const badge = Object.assign(document.createElement('span'), { className: 'badge', textContent: value });
    badge.dataset.status = value;
    td.append(badge);
    return td;
  }
  if (key === 'bytes' && typeof value === 'number') {
    Object.assign(td, { textContent: formatBytes(value), title: `${value.toLocaleString('en')} bytes` });
    return td;
  }
  if (key === 'finalUrl' && value === item.url) {
    // No redirect: saying so is shorter than repeating the URL.
    Object.assign(td, { className: 'muted', textContent: 'same', title: value });
    return td;
  }
  if (key === 'error' || isError(value)) td.className = 'err';
  if (key === 'status' && value >= 400) td.className = 'err';
  let text, full, short, label;
  if (isList(value)) {
    // `count: first, second, …`: long link lists stay one short line; Copy gives all of them.
    full = value.join('\n');
    text = value.length ? `${value.length}: ${value.join(', ')}` : '0';
    const near = pathOf(item.finalUrl ?? item.url);
    short = value.length
      ? `${value.length}: ${value
          .slice(0, HEAD)
          .map((v) => shorten(near(String(v))))
          .join(', ')}${value.length > HEAD ? ', …' : ''}`
      : '0';
    label = `${value.length.toLocaleString('en')} items, one per line`;
    td.dataset.count = String(value.length);
  } else {
    if (typeof value === 'number') text = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1);
    else if (typeof value === 'string') text = value;
    else if (isError(value)) text = `${value.code}: ${value.message}`;
    else text = JSON.stringify(value);
    full = typeof value === 'string' || isError(value) ? text : JSON.stringify(value, null, 2);
    // A value's first and last digits both matter; other text (titles, URLs) ends in an ellipsis.
    short = key === 'value' ? shorten(text) : text;
    label = `${full.length.toLocaleString('en')} characters`;
  }
  // The server sent a preview (?maxChars): Copy fetches the whole value first.
  const preview = key === 'value' && item.shortened === true && loadFull;
  const wrap = Object.assign(document.createElement('div'), { className: 'cell' });
  const shown = Object.assign(document.createElement('span'), { className: 'txt', textContent: short });
  shown.title = text.length > TOOLTIP ? `${text.slice(0, TOOLTIP)}…` : text;
  wrap.append(shown);
  td.append(wrap);
  if (short !== text || preview || text.length > LONG) {
    const all = isList(value);
    const idle = all ? 'Copy all' : 'Copy';
    const button = Object.assign(document.createElement('button'), { type: 'button', className: 'copy', textContent: idle });
    const what = `${key} of result ${item.index ?? ''}`.trim();
    button.setAttribute('aria-label', `Copy ${all ? 'all' : 'full'} ${what} (${label})`);
    button.dataset.copy = key;
    button.addEventListener('click', async () => {
      try {
        if (preview) {
          button.textContent = 'Fetching…';
          full = await loadFull(item);
          label = `${full.length.toLocaleString('en')} characters`;
        }
        await copyText(full);
        button.textContent = 'Copied';
        note.textContent = `Copied the ${all ? 'whole list of' : 'full'} ${what}: ${label}.`;
      } catch (err) {
        note.textContent = `Could not copy: ${err.message}`;
      }
      setTimeout(() => (button.textContent = idle), 1500);
    });
    wrap.append(button);
  }
  return td;
}

/**
 * Fills `table` with a page of items; `note` is the live region for copy feedback, and
 * `loadFull(item)` fetches a value the server shortened.
 */
export function renderResults(table, kind, items, note, loadFull) {
  const columns = columnsFor(kind, items);
  const head = document.createElement('tr');
  for (const [key, width] of columns) {
    const th = Object.assign(document.createElement('th'), { scope: 'col', textContent: key, title: key });
    if (width) th.style.width = `${width}px`;
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  table.dataset.kind = kind;
  // Known kinds fit the box; others keep their natural widths (and scroll).
  table.style.tableLayout = KIND_COLUMNS[kind] ? 'fixed' : 'auto';
  const rows = items.map((item) => {
    const tr = document.createElement('tr');
    for (const [key] of columns) tr.append(cell(item, key, note, loadFull));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
}

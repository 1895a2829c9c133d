// The results table. Columns come from the items themselves (Fibonacci: index, n, state, value,
// digits, ms; crawls: url, status, links...), so any job kind renders without changes here.

const ORDER = ['index', 'n', 'url', 'state', 'status', 'value', 'digits', 'title', 'links', 'bytes', 'ms', 'error'];
const LONG = 48;
const EDGE = 20;

export function columnsOf(items) {
  const seen = new Set();
  for (const item of items) for (const key of Object.keys(item)) seen.add(key);
  const known = ORDER.filter((key) => seen.has(key));
  return [...known, ...[...seen].filter((key) => !ORDER.includes(key))];
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

function cell(item, key, note) {
  const td = document.createElement('td');
  const value = item[key];
  if (value === undefined || value === null) {
    td.textContent = '';
    return td;
  }
  if (key === 'state') {
    const badge = Object.assign(document.createElement('span'), { className: 'badge', textContent: value });
    badge.dataset.status = value;
    td.append(badge);
    return td;
  }
  if (key === 'error') td.className = 'err';
  let text;
  if (typeof value === 'number') text = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1);
  else if (typeof value === 'string') text = value;
  else if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) text = value.length ? `${value.length}: ${value.join(', ')}` : '0';
  else text = JSON.stringify(value);
  const full = typeof value === 'string' ? value : Array.isArray(value) && value.every((v) => typeof v !== 'object') ? value.join('\n') : JSON.stringify(value, null, 2);
  const short = shorten(text);
  td.append(short);
  if (short !== text) {
    const button = Object.assign(document.createElement('button'), { type: 'button', className: 'copy', textContent: 'Copy' });
    const what = `${key} of result ${item.index ?? ''}`.trim();
    button.setAttribute('aria-label', `Copy full ${what} (${full.length.toLocaleString('en')} characters)`);
    button.dataset.copy = key;
    button.addEventListener('click', async () => {
      try {
        await copyText(full);
        button.textContent = 'Copied';
        note.textContent = `Copied the full ${what}: ${full.length.toLocaleString('en')} characters.`;
      } catch (err) {
        note.textContent = `Could not copy: ${err.message}`;
      }
      setTimeout(() => (button.textContent = 'Copy'), 1500);
    });
    td.append(button);
  }
  return td;
}

/** Fills `table` with a page of items; `note` is the live region for copy feedback. */
export function renderResults(table, items, note) {
  const columns = columnsOf(items);
  const head = document.createElement('tr');
  for (const key of columns) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: key }));
  table.tHead.replaceChildren(head);
  const rows = items.map((item) => {
    const tr = document.createElement('tr');
    for (const key of columns) tr.append(cell(item, key, note));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
}

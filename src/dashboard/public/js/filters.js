// The job list's filter bar (status, kind, label key:value, free text) and the labels typed in the
// submit forms. The same filter is asked of GET /jobs and applied to jobs the feed announces.

/** `team:a, env:dev` -> `{team: 'a', env: 'dev'}`; undefined when empty; an entry without a colon is an error. */
export function parseLabels(text) {
  const entries = text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter(Boolean);
  if (!entries.length) return { labels: undefined };
  const labels = {};
  for (const entry of entries) {
    const at = entry.indexOf(':');
    if (at <= 0) return { error: `"${entry}" is not key:value` };
    labels[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return { labels };
}

/** What the filter bar asks for: `{status, kind, label, q}`, empty ones left out. */
export function readFilter(form) {
  const filter = {};
  for (const name of ['status', 'kind', 'label', 'q']) {
    const value = form.elements[name].value.trim();
    if (value) filter[name] = value;
  }
  return filter;
}

export const isFiltered = (filter) => Object.keys(filter).length > 0;

/** `GET /jobs` with the filter, a page size, and where to go on from (the API's cursor, or an offset before it had one). */
export function listPath(filter, limit, from) {
  const query = new URLSearchParams({ ...filter, limit: String(limit) });
  if (from?.cursor) query.set('cursor', from.cursor);
  else if (from?.offset) query.set('offset', String(from.offset));
  return `/jobs?${query}`;
}

/** Whether a job the feed announced belongs in the filtered list (as the API would judge it). */
export function matches(view, filter) {
  if (filter.status && view.status !== filter.status) return false;
  if (filter.kind && view.kind !== filter.kind) return false;
  if (filter.label) {
    const at = filter.label.indexOf(':');
    const [key, value] = at < 0 ? [filter.label, undefined] : [filter.label.slice(0, at), filter.label.slice(at + 1)];
    if (!view.labels || !(key in view.labels) || (value !== undefined && view.labels[key] !== value)) return false;
  }
  if (filter.q) {
    const q = filter.q.toLowerCase();
    if (!view.id.startsWith(q) && !(view.name ?? '').toLowerCase().includes(q)) return false;
  }
  return true;
}

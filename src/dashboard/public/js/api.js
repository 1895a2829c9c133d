// REST client: JSON in and out, the API key (kept in sessionStorage for this tab) on every call.

const KEY = 'dashboard.apiKey';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** Called with the error when a request answers 401 (the page then asks for the key). */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = { message: text.slice(0, 200) };
  }
  if (!res.ok) {
    const error = new ApiError(res.status, json);
    if (res.status === 401) onUnauthorized(error);
    throw error;
  }
  return json;
}

/**
 * Saves every result of a job as a file: the streamed export (`Accept: application/x-ndjson` or
 * `text/csv`), fetched with the API key (a plain link could not send it) and handed to the browser.
 */
export async function downloadResults(jobId, as, format = 'decimal') {
  const type = as === 'csv' ? 'text/csv' : 'application/x-ndjson';
  const headers = { Accept: type };
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`/jobs/${encodeURIComponent(jobId)}/results?format=${format}`, { headers, cache: 'no-store' });
  if (!res.ok) {
    const body = await res.json().catch(() => undefined);
    throw new ApiError(res.status, body);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: `${jobId}.${as === 'csv' ? 'csv' : 'ndjson'}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

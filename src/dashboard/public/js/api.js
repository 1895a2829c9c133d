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

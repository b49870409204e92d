// fetch wrappers for the JSON API of docs/view.md.
//
// When the page was opened with ?token=T (a server on another --host), every API and
// EventSource URL carries it too: the cookie set by the server usually suffices, but the
// parameter keeps working where cookies are blocked.

const TOKEN = new URLSearchParams(location.search).get('token');

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.field = body ? body.field : undefined; // "where" or "sort" for a query error
    this.at = body ? body.at : undefined;       // 1-based column of the query error
  }
}

/** '/api/runs' + {where: 'x', tag: ['a', 'b']} → '/api/runs?where=x&tag=a&tag=b' (+ token). */
export function apiUrl(path, params = {}) {
  const parts = [];
  const add = (key, value) => parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  for (const [key, value] of Object.entries(params || {})) {
    if (value == null || value === '') continue;
    if (Array.isArray(value)) value.forEach((item) => add(key, item));
    else add(key, value);
  }
  if (TOKEN) add('token', TOKEN);
  return parts.length ? `${path}?${parts.join('&')}` : path;
}

/** The path of a run: ids, names and indexes are all escaped as one segment. */
export function runPath(id, ...rest) {
  return ['/api/runs', encodeURIComponent(id), ...rest].join('/');
}

/** A file path inside a run, each segment escaped, the slashes kept. */
export function encodePath(path) {
  return String(path).split('/').map(encodeURIComponent).join('/');
}

export function fileUrl(runId, path) {
  return apiUrl(runPath(runId, 'file', encodePath(path)));
}

async function readError(response) {
  try {
    return new ApiError(response.status, await response.json());
  } catch {
    return new ApiError(response.status, null);
  }
}

async function request(url, options) {
  const response = await fetch(url, { credentials: 'same-origin', ...options });
  if (!response.ok) throw await readError(response);
  return response;
}

export async function getJSON(path, params, signal) {
  const response = await request(apiUrl(path, params), { headers: { Accept: 'application/json' }, signal });
  return response.json();
}

export async function getText(path, params, signal) {
  const response = await request(apiUrl(path, params), { signal });
  return response.text();
}

let infoPromise = null;

/** /api/info, fetched once: version, runs_dir, csrf, total. */
export function info(refresh = false) {
  if (!infoPromise || refresh) {
    infoPromise = getJSON('/api/info').catch((error) => {
      infoPromise = null;
      throw error;
    });
  }
  return infoPromise;
}

/** POST with a JSON body and the CSRF header; retried once with a fresh value after a 403
 * (the server may have been restarted, which changes it). */
export async function postJSON(path, body = {}) {
  for (let attempt = 0; ; attempt++) {
    const { csrf } = await info(attempt > 0);
    try {
      const response = await request(apiUrl(path), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Tally-CSRF': csrf, Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      return response.json();
    } catch (error) {
      if (attempt > 0 || !(error instanceof ApiError) || error.status !== 403) throw error;
    }
  }
}

// The routes of docs/view.md, named.
export const api = {
  columns: () => getJSON('/api/columns'),
  runs: (params, signal) => getJSON('/api/runs', params, signal),
  run: (id, signal) => getJSON(runPath(id), null, signal),
  scalars: (id, params, signal) => getJSON(runPath(id, 'scalars'), params, signal),
  output: (id, params, signal) => getJSON(runPath(id, 'output'), params, signal),
  files: (id, signal) => getJSON(runPath(id, 'files'), null, signal),
  fileText: (id, path, signal) => getText(runPath(id, 'file', encodePath(path)), null, signal),
  sources: (id, signal) => getJSON(runPath(id, 'sources'), null, signal),
  sourceText: (id, path, signal) => getText(runPath(id, 'source', encodePath(path)), null, signal),
  diff: (a, b, what, signal) => getJSON('/api/diff', { a, b, what }, signal),
  sweeps: (signal) => getJSON('/api/sweeps', null, signal),
  sweep: (id, signal) => getJSON(`/api/sweeps/${encodeURIComponent(id)}`, null, signal),
  label: (id, label) => postJSON(runPath(id, 'label'), { label }),
  tags: (id, add, remove) => postJSON(runPath(id, 'tags'), { add, remove }),
  mark: (id, marked) => postJSON(runPath(id, 'mark'), { marked }),
  comment: (id, text) => postJSON(runPath(id, 'comment'), { text }),
  archive: (id) => postJSON(runPath(id, 'archive')),
  restore: (id) => postJSON(runPath(id, 'restore')),
};

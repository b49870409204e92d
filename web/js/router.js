// Hash routes of docs/view.md: #/runs?where=Q&sort=S, #/run/ID, #/compare/ID,ID,…,
// #/sweeps, #/sweep/ID.
//
// A view is a function (container, args, query) that renders into container and returns a
// cleanup function (or nothing); the cleanup runs when the route changes, and closes the
// view's event streams and timers.

const routes = [];
let container = null;
let cleanup = null;
let onChange = () => {};

/** Registers a view for a path pattern; the pattern's groups become its args. */
export function route(pattern, view, name) {
  routes.push({ pattern, view, name });
}

/** '#/runs?where=a' → {path: '/runs', query: URLSearchParams}. */
export function parseHash(hash = location.hash) {
  const text = hash.replace(/^#/, '') || '/runs';
  const mark = text.indexOf('?');
  const path = mark < 0 ? text : text.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : text.slice(mark + 1));
  return { path, query };
}

/** Builds '#/path?key=value' from an object, leaving out empty values. */
export function buildHash(path, params = {}) {
  const parts = Object.entries(params)
    .filter(([, value]) => value != null && value !== '' && value !== false)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return `#${path}${parts.length ? '?' + parts.join('&') : ''}`;
}

/** Changes the URL without re-rendering (a view recording its own state). */
export function replaceHash(hash) {
  if (hash !== location.hash) history.replaceState(null, '', hash);
}

export function go(hash) {
  location.hash = hash;
}

function decodeSafely(part = '') {
  try { return decodeURIComponent(part); } catch { return part; }
}

function render() {
  const { path, query } = parseHash();
  if (cleanup) {
    try { cleanup(); } catch (error) { console.error(error); }
    cleanup = null;
  }
  container.replaceChildren();
  container.className = 'view';
  for (const { pattern, view, name } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    const args = match.slice(1).map(decodeSafely);
    onChange(name);
    const result = view(container, args, query);
    cleanup = typeof result === 'function' ? result : null;
    window.scrollTo(0, 0);
    return;
  }
  go('#/runs');
}

/** Starts routing into container; changed(name) is told the active view's name. */
export function start(target, changed) {
  container = target;
  if (changed) onChange = changed;
  window.addEventListener('hashchange', render);
  render();
}

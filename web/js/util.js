// DOM building and formatting helpers shared by every view.
//
// Everything that comes from a run (labels, flags, output, file names…) reaches the page
// through el()/text(): children are appended as text nodes and attributes are set with
// setAttribute, so run data is never parsed as HTML.

/** Creates an element: el('a', {href, class, onclick: fn, dataset: {...}}, 'text', child…). */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) {
      // Only functions: a string here would become an inline handler.
      if (typeof value === 'function') node.addEventListener(key.slice(2), value);
    } else if (typeof value !== 'string' && typeof value !== 'number' && key in node) node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

/** Appends children: strings and numbers as text nodes, arrays flattened, null skipped. */
export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** A section with a heading, for the stacked parts of a page. */
export function section(title, props, ...children) {
  return el('section', { class: 'panel', ...props }, el('h2', null, title), ...children);
}

/** Wraps a table so that it scrolls sideways on narrow screens. */
export function scrollBox(table) {
  return el('div', { class: 'table-wrap' }, table);
}

export function statusBadge(status) {
  return el('span', { class: `status ${String(status || '').replace(/[^a-z]/g, '')}` }, status || '?');
}

/** The random part of a run id (what `tally runs` shows), or the whole id. */
export function shortId(id) {
  const match = /-([0-9a-z]{6})$/.exec(id || '');
  return match ? match[1] : String(id ?? '');
}

export function runLink(id, text) {
  return el('a', { href: `#/run/${encodeURIComponent(id)}`, title: id }, text ?? shortId(id));
}

/** Scalar values may be the strings "nan", "inf", "-inf" (see docs/run-format.md). */
export function toNumber(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value === 'inf') return Infinity;
  if (value === '-inf') return -Infinity;
  return null;
}

export function fmtNumber(value) {
  if (value == null) return '';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e12) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(5)));
}

/** A flag or other JSON value as one line of text. */
export function fmtValue(value) {
  if (value == null) return '';
  if (typeof value === 'number') return fmtNumber(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function fmtDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const pad = (n) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** An ISO time or epoch ms as local "YYYY-MM-DD HH:MM:SS". */
export function fmtTime(value, withSeconds = true) {
  if (value == null || value === '') return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const two = (n) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const time = `${two(date.getHours())}:${two(date.getMinutes())}`;
  return `${day} ${time}${withSeconds ? ':' + two(date.getSeconds()) : ''}`;
}

export function fmtBytes(size) {
  if (size == null) return '';
  if (size < 1024) return `${size} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** localStorage with JSON, tolerant of private mode and damaged values. */
export const store = {
  get(key, fallback) {
    try {
      const raw = localStorage.getItem(`tally.${key}`);
      return raw == null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try { localStorage.setItem(`tally.${key}`, JSON.stringify(value)); } catch { /* ignore */ }
  },
};

/** The series colours of web/report.css (the tab10 palette). */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Shows a message in the bar under the header (errors of actions). */
export function notify(message, kind = 'error') {
  const bar = document.getElementById('notice');
  if (!bar) return;
  bar.className = `notice ${kind}`;
  clear(bar).append(document.createTextNode(message), el('button', {
    type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => { bar.hidden = true; },
  }, '×'));
  bar.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { bar.hidden = true; }, kind === 'error' ? 10000 : 3000);
}

/** A paragraph saying that loading failed, for a view's body. */
export function errorBox(error) {
  return el('p', { class: 'error-box' }, String(error && error.message ? error.message : error));
}

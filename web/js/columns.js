// The columns of the runs table: which ones (the chooser, remembered in localStorage), how
// each is titled, sorted (the sort string of the query language) and drawn.
//
// A column is {kind: 'attr' | 'flag' | 'scalar', name, agg}; scalar columns show one of the
// aggregates every row already carries (last by default, or min/max/first/avg/count).

import { el, fmtDuration, fmtNumber, fmtTime, fmtValue, runLink, statusBadge, store } from './util.js';

export const AGGREGATES = ['last', 'min', 'max', 'first', 'avg', 'count'];
const DEFAULT_ATTRIBUTES = ['status', 'started', 'duration', 'label'];
const MAX_DEFAULT_FLAGS = 5;
const MAX_DEFAULT_SCALARS = 5;
// Attributes the table always shows on the left, so the chooser does not offer them.
const FIXED = new Set(['id']);

export function columnKey(column) {
  return column.kind === 'scalar' ? `scalar:${column.name}:${column.agg || 'last'}` : `${column.kind}:${column.name}`;
}

export function columnTitle(column) {
  if (column.kind === 'scalar' && column.agg && column.agg !== 'last') return `${column.agg}(${column.name})`;
  return column.name;
}

/** The name of the column in --sort; attr./flag./scalar. make sure a flag and a scalar
 * of the same name are told apart. */
export function sortName(column) {
  if (column.kind === 'attr') return column.name;
  if (column.kind === 'flag') return `flag.${column.name}`;
  const agg = column.agg || 'last';
  return agg === 'last' ? `scalar.${column.name}` : `${agg}(${column.name})`;
}

export function columnWidth(column) {
  const widths = { status: 104, started: 152, stopped: 152, duration: 84, label: 170, tags: 150,
    script: 130, marked: 64, exit_status: 76, comments: 88, host: 120, name: 120, sweep: 80 };
  if (column.kind === 'attr') return widths[column.name] || 110;
  return Math.max(84, Math.min(180, 18 + columnTitle(column).length * 8));
}

function sweepText(sweep, part) {
  if (sweep == null) return '';
  if (typeof sweep !== 'object') return part === 'trial' ? '' : String(sweep);
  return part === 'trial' ? fmtValue(sweep.trial) : fmtValue(sweep.id);
}

/** The content of one cell: a node or text, and whether it is numeric (right-aligned). */
export function cellContent(column, run) {
  const { kind, name } = column;
  if (kind === 'flag') {
    const value = run.flags ? run.flags[name] : undefined;
    return { content: fmtValue(value) };
  }
  if (kind === 'scalar') {
    const stats = run.scalars ? run.scalars[name] : undefined;
    const value = stats ? stats[column.agg || 'last'] : undefined;
    return { content: fmtNumber(value), numeric: true };
  }
  switch (name) {
    case 'id': return { content: runLink(run.id) };
    case 'status': return { content: statusBadge(run.status) };
    case 'started': case 'stopped': return { content: fmtTime(run[name], false) };
    case 'duration': return { content: fmtDuration(run.duration_ms), numeric: true };
    case 'tags': return { content: (run.tags || []).join(', ') };
    case 'marked': return { content: run.marked ? '★' : '' };
    case 'sweep': return { content: sweepText(run.sweep, 'id') };
    case 'trial': return { content: run.trial != null ? fmtValue(run.trial) : sweepText(run.sweep, 'trial') };
    default: {
      const value = run[name];
      return { content: fmtValue(value), numeric: typeof value === 'number' };
    }
  }
}

function defaultColumns(available) {
  const attributes = DEFAULT_ATTRIBUTES.filter((name) => !available.attributes.length || available.attributes.includes(name));
  return [
    ...attributes.map((name) => ({ kind: 'attr', name })),
    ...available.flags.slice(0, MAX_DEFAULT_FLAGS).map((name) => ({ kind: 'flag', name })),
    ...available.scalars.slice(0, MAX_DEFAULT_SCALARS).map((name) => ({ kind: 'scalar', name, agg: 'last' })),
  ];
}

/** The remembered choice, or the defaults when there is none. */
export function loadColumns(available) {
  const saved = store.get('columns', null);
  if (!Array.isArray(saved)) return defaultColumns(available);
  return saved.filter((c) => c && ['attr', 'flag', 'scalar'].includes(c.kind) && typeof c.name === 'string');
}

export function saveColumns(columns) {
  store.set('columns', columns);
}

export function forgetColumns(available) {
  store.set('columns', null);
  return defaultColumns(available);
}

/**
 * The column chooser: a <details> listing attributes, flags and scalars with checkboxes
 * (scalars with an aggregate select). changed(columns) gets the new list.
 */
export function columnChooser(available, getColumns, changed) {
  const chosen = () => new Map(getColumns().map((c) => [`${c.kind}:${c.name}`, c]));

  const item = (kind, name) => {
    const current = chosen().get(`${kind}:${name}`);
    const box = el('input', { type: 'checkbox', checked: Boolean(current), dataset: { kind, name } });
    const agg = kind === 'scalar' ? el('select', { 'aria-label': `aggregate of ${name}` },
      AGGREGATES.map((a) => el('option', { value: a }, a))) : null;
    if (agg) agg.value = current ? current.agg || 'last' : 'last';
    const update = () => {
      const columns = getColumns().filter((c) => !(c.kind === kind && c.name === name));
      if (box.checked) {
        const column = { kind, name, ...(agg ? { agg: agg.value } : {}) };
        const old = getColumns().findIndex((c) => c.kind === kind && c.name === name);
        columns.splice(old >= 0 ? old : columns.length, 0, column);
      }
      changed(columns);
    };
    box.addEventListener('change', update);
    if (agg) agg.addEventListener('change', () => { box.checked = true; update(); });
    return el('li', null, el('label', null, box, ' ', name), agg ? [' ', agg] : null);
  };

  const group = (title, kind, names) => names.length ? el('div', { class: 'chooser-group' },
    el('h3', null, title), el('ul', null, names.map((name) => item(kind, name)))) : null;

  const panel = el('div', { class: 'chooser-panel' });
  const fill = () => panel.replaceChildren(
    group('Attributes', 'attr', available.attributes.filter((name) => !FIXED.has(name))),
    group('Flags', 'flag', available.flags),
    group('Scalars', 'scalar', available.scalars),
    el('button', { type: 'button', class: 'link', onclick: () => { changed(forgetColumns(available)); fill(); } },
      'Reset to defaults'));
  fill();
  const details = el('details', { class: 'chooser', dataset: { testid: 'column-chooser' } },
    el('summary', { class: 'button' }, 'Columns'), panel);
  // Refresh the checkboxes when opened: the columns may have changed meanwhile.
  details.addEventListener('toggle', () => { if (details.open) fill(); });
  return details;
}

// #/runs?where=Q&sort=S: every run in a virtualised table, with the query box, shorthand
// filters, a column chooser, selection for compare/archive/restore, and live refresh when
// the index's generation changes.

import { api } from './api.js';
import { columnChooser, cellContent, columnTitle, columnWidth, loadColumns, saveColumns, sortName } from './columns.js';
import { follow } from './live.js';
import { buildHash, go, replaceHash } from './router.js';
import { el, notify } from './util.js';
import { VirtualTable } from './vtable.js';

const STATUSES = ['running', 'completed', 'error', 'terminated', 'pruned'];
const SELECT_WIDTH = 34;
const ID_WIDTH = 86;

/** The filter state kept in the URL. */
function stateFromQuery(query) {
  return {
    where: query.get('where') || '', sort: query.get('sort') || '', status: query.get('status') || '',
    tag: query.get('tag') || '', sweep: query.get('sweep') || '', archived: query.get('archived') === '1',
  };
}

/** The query-error box: the message, then the query with a caret under the failing column. */
function showQueryError(box, error, state) {
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const text = error.field === 'sort' ? state.sort : state.where;
  const parts = [el('div', { class: 'message' }, error.message)];
  if (error.at != null && error.field) {
    const caret = `${' '.repeat(Math.max(0, error.at - 1))}^`;
    parts.push(el('pre', { class: 'caret' }, `${text}\n${caret}`));
  }
  box.replaceChildren(...parts);
  box.hidden = false;
}

export function runsView(container, args, query) {
  container.classList.add('fill');
  const state = stateFromQuery(query);
  const selected = new Set();
  const knownTags = new Set();
  let columns = [];
  let table = null;
  let generation = null;
  let closed = false;

  const syncHash = () => replaceHash(buildHash('/runs', { ...state, archived: state.archived ? '1' : '' }));

  // --- toolbar -------------------------------------------------------------------------
  const queryInput = el('input', {
    type: 'search', value: state.where, class: 'query-input', spellcheck: 'false', autocomplete: 'off',
    placeholder: "where…  e.g. val_loss < 0.3 and lr = 0.01", 'aria-label': 'Query',
    dataset: { testid: 'query-input' },
  });
  const queryError = el('div', { class: 'query-error', hidden: true, role: 'alert', dataset: { testid: 'query-error' } });
  const queryForm = el('form', { class: 'query', onsubmit: (event) => {
    event.preventDefault();
    state.where = queryInput.value.trim();
    apply();
  } }, queryInput, el('button', { type: 'submit' }, 'Search'));

  const statusChips = STATUSES.map((status) => el('button', {
    type: 'button', class: `chip ${status}`, 'aria-pressed': String(state.status === status), dataset: { status },
    onclick: () => {
      state.status = state.status === status ? '' : status;
      statusChips.forEach((chip) => chip.setAttribute('aria-pressed', String(chip.dataset.status === state.status)));
      apply();
    },
  }, status));

  const tagList = el('datalist', { id: 'known-tags' });
  const tagInput = el('input', { type: 'search', value: state.tag, list: 'known-tags', placeholder: 'tag',
    class: 'tag-filter', 'aria-label': 'Tag', onchange: () => { state.tag = tagInput.value.trim(); apply(); } });
  const sweepSelect = el('select', { 'aria-label': 'Sweep', onchange: () => { state.sweep = sweepSelect.value; apply(); } },
    el('option', { value: '' }, 'any sweep'));
  const archivedBox = el('input', { type: 'checkbox', checked: state.archived, onchange: () => {
    state.archived = archivedBox.checked;
    selected.clear();
    apply();
  } });

  const countText = el('span', { class: 'count' });
  const warnings = el('span', { class: 'warnings' });
  const compareButton = el('button', { type: 'button', disabled: true, onclick: () => {
    go(`#/compare/${[...selected].map(encodeURIComponent).join(',')}`);
  } }, 'Compare');
  const moveButton = el('button', { type: 'button', disabled: true, onclick: () => moveSelected() });
  // Annotations of every selected run at once (the run page edits one).
  const annotate = {
    label: el('button', { type: 'button', disabled: true, onclick: () => {
      const label = window.prompt('Label for the selected runs (empty clears it):', '');
      if (label !== null) applyToSelected('labelled', (id) => api.label(id, label));
    } }, 'Label…'),
    tag: el('button', { type: 'button', disabled: true, onclick: () => {
      const text = window.prompt('Tags to add (comma separated; -TAG removes one):', '');
      if (text === null) return;
      const words = text.split(',').map((w) => w.trim()).filter(Boolean);
      const add = words.filter((w) => !w.startsWith('-'));
      const remove = words.filter((w) => w.startsWith('-')).map((w) => w.slice(1)).filter(Boolean);
      if (add.length || remove.length) applyToSelected('tagged', (id) => api.tags(id, add, remove));
    } }, 'Tag…'),
    mark: el('button', { type: 'button', disabled: true, onclick: () => applyToSelected('marked', (id) => api.mark(id, true)) }, 'Mark'),
    unmark: el('button', { type: 'button', disabled: true, onclick: () => applyToSelected('unmarked', (id) => api.mark(id, false)) }, 'Unmark'),
    comment: el('button', { type: 'button', disabled: true, onclick: () => {
      const text = window.prompt('Comment on the selected runs:', '');
      if (text && text.trim()) applyToSelected('commented', (id) => api.comment(id, text.trim()));
    } }, 'Comment…'),
  };
  const chooserSlot = el('span');

  const updateActions = () => {
    compareButton.disabled = selected.size < 1;
    compareButton.textContent = selected.size ? `Compare (${selected.size})` : 'Compare';
    moveButton.disabled = selected.size < 1;
    moveButton.textContent = state.archived ? 'Restore' : 'Archive';
    for (const button of Object.values(annotate)) {
      button.disabled = selected.size < 1 || state.archived;
    }
  };

  const tableSlot = el('div', { class: 'table-slot' });
  container.append(
    el('div', { class: 'toolbar' },
      queryForm,
      el('div', { class: 'filters' },
        el('span', { class: 'chips', role: 'group', 'aria-label': 'Status' }, statusChips),
        tagInput, tagList, sweepSelect,
        el('label', { class: 'check' }, archivedBox, ' archived')),
      queryError,
      el('div', { class: 'actions' }, countText, warnings, el('span', { class: 'spacer' }),
        ...Object.values(annotate), compareButton, moveButton, chooserSlot)),
    tableSlot);
  updateActions();

  // --- the table -------------------------------------------------------------------------
  const params = () => ({
    where: state.where, sort: state.sort, status: state.status, tag: state.tag, sweep: state.sweep,
    archived: state.archived ? '1' : '',
  });

  const toggleRow = (id, on) => {
    if (on) selected.add(id); else selected.delete(id);
    updateActions();
  };

  const buildRow = (run) => {
    const box = el('input', { type: 'checkbox', checked: selected.has(run.id), 'aria-label': `select ${run.id}`,
      onchange: () => toggleRow(run.id, box.checked) });
    const cells = [
      el('div', { class: 'vt-cell select', role: 'cell' }, box),
      el('div', { class: 'vt-cell id', role: 'cell' }, cellContent({ kind: 'attr', name: 'id' }, run).content),
    ];
    for (const column of columns) {
      const { content, numeric } = cellContent(column, run);
      const cell = el('div', { class: `vt-cell${numeric ? ' num' : ''}`, role: 'cell' }, content);
      if (typeof content === 'string' && content) cell.title = content;
      cells.push(cell);
    }
    return el('div', {
      class: `vt-row${run.marked ? ' marked' : ''}${selected.has(run.id) ? ' selected' : ''}`, role: 'row',
      dataset: { testid: 'run-row', id: run.id },
      onclick: (event) => {
        // A click on the row (not its checkbox or link) opens the run.
        if (!event.target.closest('input, a, button, select')) go(`#/run/${encodeURIComponent(run.id)}`);
      },
    }, cells);
  };

  const placeholder = () => el('div', { class: 'vt-row loading', role: 'row' },
    el('div', { class: 'vt-cell select' }), el('div', { class: 'vt-cell' }, '…'));

  const sortIndicator = (key) => {
    const first = state.sort.split(',')[0];
    if (first === key) return ' ▲';
    if (first === `-${key}`) return ' ▼';
    return '';
  };

  const sortBy = (key) => {
    state.sort = state.sort === key ? `-${key}` : key;
    apply();
  };

  const buildHeader = () => {
    const allBox = el('input', { type: 'checkbox', 'aria-label': 'select the rows shown', onchange: () => {
      for (const node of table.body.querySelectorAll('.vt-row[data-id]')) toggleRow(node.dataset.id, allBox.checked);
      table.rerender();
    } });
    const headerCell = (title, key, extraClass = '') => el('div', {
      class: `vt-cell head sortable ${extraClass}`, role: 'columnheader', tabindex: '0', title: `sort by ${key}`,
      onclick: () => sortBy(key), onkeydown: (event) => { if (event.key === 'Enter') sortBy(key); },
    }, title, sortIndicator(key));
    return el('div', { class: 'vt-head', role: 'row' },
      el('div', { class: 'vt-cell head select' }, allBox),
      headerCell('id', 'id', 'id'),
      columns.map((column) => headerCell(columnTitle(column), sortName(column),
        column.kind === 'scalar' || column.name === 'duration' ? 'num' : '')));
  };

  const layoutColumns = () => {
    const widths = [SELECT_WIDTH, ID_WIDTH, ...columns.map(columnWidth)];
    table.setColumns(widths.map((w) => `${w}px`).join(' '), widths.reduce((a, b) => a + b, 0));
  };

  const rebuildTable = () => {
    const header = buildHeader();
    table.header.replaceWith(header);
    table.header = header;
    layoutColumns();
    table.rerender();
  };

  const loaded = (answer) => {
    if (closed) return;
    if (answer.error) {
      if (answer.error.field) showQueryError(queryError, answer.error, state);
      else notify(`Loading runs failed: ${answer.error.message}`);
      countText.textContent = '';
      table.total = 0;
      table.render();
      return;
    }
    showQueryError(queryError, null, state);
    generation = answer.generation;
    countText.textContent = `${answer.total.toLocaleString()} run${answer.total === 1 ? '' : 's'}${state.archived ? ' archived' : ''}`;
    warnings.textContent = (answer.warnings || []).join(' · ');
    for (const run of answer.rows) for (const tag of run.tags || []) {
      if (!knownTags.has(tag) && knownTags.size < 500) {
        knownTags.add(tag);
        tagList.append(el('option', { value: tag }));
      }
    }
  };

  const loadPage = (offset, limit) => api.runs({ ...params(), offset, limit })
    .then((answer) => ({ ...answer, rows: answer.runs || [] }));

  function apply() {
    syncHash();
    updateActions();
    if (!table) return;
    rebuildTable();
    table.reset();
  }

  // `action(id)` for each selected run, one at a time; `done` says what happened, for the notice.
  async function applyToSelected(done, action, { deselect = false } = {}) {
    const ids = [...selected];
    let failures = 0;
    for (const id of ids) {
      try {
        await action(id);
        if (deselect) selected.delete(id);
      } catch (error) {
        failures++;
        notify(`${id}: ${error.message}`);
      }
    }
    if (!failures) notify(`${ids.length} run${ids.length === 1 ? '' : 's'} ${done}`, 'info');
    updateActions();
    table.refresh();
  }

  function moveSelected() {
    moveButton.disabled = true;
    return state.archived
      ? applyToSelected('restored', api.restore, { deselect: true })
      : applyToSelected('archived', api.archive, { deselect: true });
  }

  table = new VirtualTable({ header: el('div'), buildRow, placeholder, loadPage, loaded, testid: 'runs-table' });
  tableSlot.append(table.node);

  const setColumns = (next) => {
    columns = next;
    saveColumns(columns);
    rebuildTable();
  };

  Promise.all([api.columns().catch(() => ({ attributes: [], flags: [], scalars: [] })), api.sweeps().catch(() => [])])
    .then(([available, sweeps]) => {
      if (closed) return;
      available = { attributes: available.attributes || [], flags: available.flags || [], scalars: available.scalars || [] };
      columns = loadColumns(available);
      chooserSlot.replaceWith(columnChooser(available, () => columns, setColumns));
      const list = Array.isArray(sweeps) ? sweeps : sweeps.sweeps || [];
      for (const sweep of list) sweepSelect.append(el('option', { value: sweep.id }, `sweep ${sweep.id}`));
      if (state.sweep && !list.some((s) => s.id === state.sweep)) sweepSelect.append(el('option', { value: state.sweep }, state.sweep));
      sweepSelect.value = state.sweep;
      rebuildTable(); // the rows the table already fetched hold every column: drawn again, not fetched again
    });

  // New runs, finished runs, edits: the server says the index's generation changed.
  const events = follow(() => ({}), {
    runs: (data) => { if (data.generation !== generation) table.refresh(); },
    reconnected: () => table.refresh(),
  });

  return () => {
    closed = true;
    events.close();
    table.destroy();
  };
}

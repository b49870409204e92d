// #/compare/ID,ID,…: runs side by side (rows that differ marked), every scalar overlaid
// (one chart per tag, one line per run), parallel coordinates of flags and an objective,
// a flag-vs-metric scatter, and source and output diffs against the first run.

import { api } from './api.js';
import { ScalarChart, chartControls } from './chart.js';
import { parallelCoordinates, scatterPlot } from './plots.js';
import { diffView } from './source.js';
import {
  PALETTE, el, errorBox, fmtDuration, fmtNumber, fmtTime, fmtValue, runLink, scrollBox, section, shortId,
  statusBadge, toNumber,
} from './util.js';

const union = (lists) => [...new Set(lists.flat())];

function lastValue(detail, tag) {
  const stats = (detail.summary.scalars || {})[tag];
  return stats ? toNumber(stats.last) : null;
}

/** The rows of the side-by-side table: [group, name, cells of text or nodes, texts]. */
function compareRows(details, flagNames, scalarNames) {
  const rows = [];
  const add = (group, name, values, render = (v) => v) => rows.push({ group, name, values, cells: values.map(render) });
  add('run', 'status', details.map((d) => d.run.status), statusBadge);
  add('run', 'label', details.map((d) => d.run.label || ''));
  add('run', 'started', details.map((d) => fmtTime(d.run.started)));
  add('run', 'duration', details.map((d) => fmtDuration(d.summary.duration_ms)));
  add('run', 'script', details.map((d) => d.run.script || ''));
  add('run', 'tags', details.map((d) => (d.run.tags || []).join(', ')));
  for (const name of flagNames) add('flag', name, details.map((d) => fmtValue((d.run.flags || {})[name])));
  for (const tag of scalarNames) add('scalar', tag, details.map((d) => fmtNumber(lastValue(d, tag))));
  return rows;
}

function compareTable(details, flagNames, scalarNames) {
  // The started time always differs, so it is not marked.
  const marks = (row) => row.name !== 'started' && new Set(row.values.map(String)).size > 1;
  return scrollBox(el('table', { class: 'compare', dataset: { testid: 'compare-table' } },
    el('thead', null, el('tr', null, el('th', null, ''), details.map((d, i) => el('th', null,
      el('span', { class: 'swatch', dataset: { colour: String(i % PALETTE.length) } }), runLink(d.run.id))))),
    el('tbody', null, compareRows(details, flagNames, scalarNames).map((row) => el('tr', {
      class: `${row.group}${marks(row) ? ' differs' : ''}` },
    el('th', null, row.group === 'run' ? row.name : `${row.name}`, row.group !== 'run' ? el('span', { class: 'kind' }, ` ${row.group}`) : null),
    row.cells.map((cell) => el('td', null, cell)))))));
}

/** Loads every run's series and draws one chart per tag. */
async function overlaidCharts(details, target, signal, charts) {
  const controls = chartControls((options) => charts.forEach((chart) => chart.setOptions(options)));
  const grid = el('div', { class: 'charts' });
  target.replaceChildren(controls.node, grid);
  const answers = await Promise.all(details.map((d) => api.scalars(d.run.id, {}, signal).catch(() => ({ series: [] }))));
  const tags = union(answers.map((a) => (a.series || []).map((s) => s.tag)));
  if (!tags.length) grid.append(el('p', { class: 'note' }, 'No scalars.'));
  for (const tag of tags) {
    const series = [];
    answers.forEach((answer, i) => {
      const s = (answer.series || []).find((item) => item.tag === tag);
      if (s) series.push({ label: shortId(details[i].run.id), steps: s.step, times: s.time, values: s.value, colour: PALETTE[i % PALETTE.length] });
    });
    const chart = new ScalarChart(tag, series, controls.options());
    charts.push(chart);
    grid.append(chart.node);
  }
}

function valueOf(detail, key) {
  const [kind, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (kind === 'flag') {
    const value = (detail.run.flags || {})[name];
    return value === undefined ? null : value;
  }
  return lastValue(detail, name);
}

function keySelect(keys, chosen, changed, label) {
  const select = el('select', { 'aria-label': label, onchange: () => changed(select.value) },
    keys.map((key) => el('option', { value: key }, key.replace(':', ' '))));
  select.value = chosen;
  return select;
}

/** Parallel coordinates of the flags that vary and an objective, and the scatter. */
function relationPlots(details, flagNames, scalarNames, plots) {
  const varying = flagNames.filter((name) => new Set(details.map((d) => JSON.stringify((d.run.flags || {})[name]))).size > 1);
  const axesFlags = varying.length ? varying : flagNames;
  let objective = ['val_loss', 'loss', 'val_acc'].find((t) => scalarNames.includes(t)) || scalarNames[0] || '';
  const keys = [...flagNames.map((n) => `flag:${n}`), ...scalarNames.map((n) => `scalar:${n}`)];
  let xKey = axesFlags.length ? `flag:${axesFlags[0]}` : keys[0];
  let yKey = objective ? `scalar:${objective}` : keys[1] || keys[0];

  const parallel = parallelCoordinates(details.length, () => [
    ...axesFlags.map((name) => ({ name, values: details.map((d) => valueOf(d, `flag:${name}`)) })),
    ...(objective ? [{ name: objective, values: details.map((d) => lastValue(d, objective)) }] : []),
  ]);
  const scatter = scatterPlot(() => ({
    xName: xKey.replace(':', ' '), yName: yKey.replace(':', ' '),
    list: details.map((d, i) => ({ x: valueOf(d, xKey), y: valueOf(d, yKey), label: shortId(d.run.id), colour: PALETTE[i % PALETTE.length] })),
  }));
  plots.push(parallel, scatter);

  const objectiveSelect = el('select', { 'aria-label': 'Objective', onchange: () => { objective = objectiveSelect.value; parallel.paint(); } },
    scalarNames.map((n) => el('option', { value: n }, n)));
  objectiveSelect.value = objective;
  const legend = el('div', { class: 'legend' }, details.map((d, i) => el('span', null,
    el('span', { class: 'swatch', dataset: { colour: String(i % PALETTE.length) } }), shortId(d.run.id))));
  return el('div', { class: 'relations' },
    el('div', null, el('h3', null, 'Parallel coordinates'),
      el('label', null, 'objective ', objectiveSelect), parallel.node, legend),
    el('div', null, el('h3', null, 'Scatter'),
      el('label', null, 'x ', keySelect(keys, xKey, (k) => { xKey = k; scatter.paint(); }, 'x')), ' ',
      el('label', null, 'y ', keySelect(keys, yKey, (k) => { yKey = k; scatter.paint(); }, 'y')),
      scatter.node));
}

/** Source and output diffs of each run against the first, loaded when opened. */
function diffs(details) {
  const [first, ...others] = details;
  if (!others.length) return el('p', { class: 'note' }, 'Add runs to compare their sources and output.');
  return el('div', null, others.flatMap((d) => ['sources', 'output'].map((what) => {
    const body = el('div', null, el('p', { class: 'note' }, 'Loading…'));
    const details_ = el('details', null,
      el('summary', null, `${what}: ${shortId(first.run.id)} → ${shortId(d.run.id)}`), body);
    details_.addEventListener('toggle', () => {
      if (!details_.open || details_.dataset.loaded) return;
      details_.dataset.loaded = '1';
      api.diff(first.run.id, d.run.id, what).then((answer) => body.replaceChildren(diffView(answer)),
        (error) => body.replaceChildren(errorBox(error)));
    });
    return details_;
  })));
}

export function compareView(container, [list]) {
  const ids = list.split(',').map((s) => s.trim()).filter(Boolean);
  const abort = new AbortController();
  const charts = [];
  const plots = [];
  container.append(el('p', { class: 'note' }, 'Loading…'));

  Promise.all(ids.map((id) => api.run(id, abort.signal))).then((details) => {
    const flagNames = union(details.map((d) => Object.keys(d.run.flags || {})));
    const scalarNames = union(details.map((d) => Object.keys(d.summary.scalars || {})));
    const chartBox = el('div');
    container.replaceChildren(
      el('h1', null, `Comparing ${details.length} run${details.length === 1 ? '' : 's'}`),
      section('Side by side', null, compareTable(details, flagNames, scalarNames)),
      section('Scalars', null, chartBox),
      section('Flags and objective', null, relationPlots(details, flagNames, scalarNames, plots)),
      section('Diffs', null, diffs(details)));
    overlaidCharts(details, chartBox, abort.signal, charts).catch((error) => {
      if (error.name !== 'AbortError') chartBox.replaceChildren(errorBox(error));
    });
  }).catch((error) => {
    if (error.name !== 'AbortError') container.replaceChildren(errorBox(error));
  });

  return () => {
    abort.abort();
    charts.forEach((chart) => chart.destroy());
    plots.forEach((plot) => plot.destroy());
  };
}

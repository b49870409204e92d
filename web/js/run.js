// #/run/ID: one run — summary, annotations (label, tags, mark, comments), flags, scalar
// charts, console output, files, source snapshot. A running run is followed live through
// /api/events: points go to the charts, output to the pane, a status change to the summary.

import { api } from './api.js';
import { ScalarChart, chartControls } from './chart.js';
import { filesPane } from './files.js';
import { follow } from './live.js';
import { OutputPane } from './output.js';
import { sourcesPane } from './source.js';
import {
  el, errorBox, fmtDuration, fmtTime, fmtValue, notify, scrollBox, section, shortId, statusBadge,
} from './util.js';

/** The chart a tag belongs to: val_X is drawn over X when the run has X. */
function chartTagOf(tag, tags) {
  return tag.startsWith('val_') && tags.has(tag.slice(4)) ? tag.slice(4) : tag;
}

function keyValueTable(rows, testid) {
  return scrollBox(el('table', { class: 'kv', dataset: { testid } },
    el('tbody', null, rows.filter(([, value]) => value != null && value !== '')
      .map(([key, value]) => el('tr', null, el('th', null, key), el('td', null, value))))));
}

function summaryRows(detail) {
  const { run, summary = {} } = detail;
  const git = run.git ? `${run.git.commit || ''}${run.git.branch ? ` (${run.git.branch})` : ''}${run.git.dirty ? ' dirty' : ''}` : '';
  const ended = [run.exit_status != null ? `exit status ${run.exit_status}` : '',
    run.signal ? `signal ${run.signal}` : '', run.stop_reason || '', run.error_message || ''].filter(Boolean).join(', ');
  const sweep = run.sweep ? el('a', { href: `#/sweep/${encodeURIComponent(run.sweep.id)}` },
    `${run.sweep.id} trial ${run.sweep.trial}`) : '';
  return [
    ['id', run.id], ['name', run.name], ['label', run.label],
    ['status', el('span', null, statusBadge(run.status), ended ? ` ${ended}` : '')],
    ['started', fmtTime(run.started)], ['stopped', fmtTime(run.stopped)],
    ['duration', fmtDuration(summary.duration_ms ?? (run.stopped_ms && run.started_ms ? run.stopped_ms - run.started_ms : null))],
    ['script', run.script], ['command', Array.isArray(run.command) ? run.command.join(' ') : run.command],
    ['host', [run.user, run.host].filter(Boolean).join('@')], ['git', git], ['sweep', sweep],
    ['tags', (run.tags || []).join(', ')], ['reproduces', run.reproduces], ['directory', detail.dir],
    ['tally', run.tally_version],
  ];
}

function flagsTable(run) {
  const flags = Object.entries(run.flags || {});
  if (!flags.length) return el('p', { class: 'note', dataset: { testid: 'run-flags' } }, 'No flags.');
  return scrollBox(el('table', { dataset: { testid: 'run-flags' } },
    el('thead', null, el('tr', null, el('th', null, 'flag'), el('th', null, 'value'), el('th', null, 'type'), el('th', null, 'from'))),
    el('tbody', null, flags.map(([name, value]) => el('tr', null,
      el('th', null, name), el('td', { class: typeof value === 'number' ? 'num' : '' }, fmtValue(value)),
      el('td', { class: 'note' }, (run.flag_types || {})[name] || ''),
      el('td', { class: 'note' }, (run.flag_sources || {})[name] || ''))))));
}

function commentsList(run) {
  const comments = run.comments || [];
  if (!comments.length) return el('p', { class: 'note' }, 'No comments yet.');
  return el('ul', { class: 'comments' }, comments.map((c) => el('li', null,
    el('div', { class: 'note' }, [c.user, c.host].filter(Boolean).join('@'), ' · ', fmtTime(c.time)),
    el('div', { class: 'comment-text' }, c.text))));
}

/** Label, tags, mark and comment controls; each POST answers the run's new state. */
function annotations(runId, getDetail, updated) {
  const save = (promise) => promise.then(updated).catch((error) => notify(error.message));
  const { run } = getDetail();
  const labelInput = el('input', { type: 'text', value: run.label || '', placeholder: 'label', 'aria-label': 'Label' });
  const tagInput = el('input', { type: 'text', placeholder: 'add tags (comma separated)', 'aria-label': 'Add tags' });
  const commentInput = el('textarea', { rows: '2', placeholder: 'comment', 'aria-label': 'Comment' });
  const tagChips = el('span', { class: 'tag-chips' }, (run.tags || []).map((tag) => el('span', { class: 'tag' }, tag,
    el('button', { type: 'button', class: 'remove', 'aria-label': `remove tag ${tag}`,
      onclick: () => save(api.tags(runId, [], [tag])) }, '×'))));
  return el('div', { class: 'annotations' },
    el('form', { class: 'inline-form', onsubmit: (event) => {
      event.preventDefault();
      save(api.label(runId, labelInput.value));
    } }, el('label', null, 'Label ', labelInput), el('button', { type: 'submit' }, 'Save')),
    el('form', { class: 'inline-form', onsubmit: (event) => {
      event.preventDefault();
      const add = tagInput.value.split(',').map((t) => t.trim()).filter(Boolean);
      if (add.length) save(api.tags(runId, add, []));
    } }, el('span', null, 'Tags '), tagChips, tagInput, el('button', { type: 'submit' }, 'Add')),
    el('form', { class: 'inline-form', onsubmit: (event) => {
      event.preventDefault();
      if (commentInput.value.trim()) save(api.comment(runId, commentInput.value));
    } }, commentInput, el('button', { type: 'submit' }, 'Comment')));
}

/** The charts section: one chart per tag (val_X over X) and the shared controls. */
class RunCharts {
  constructor(runId) {
    this.runId = runId;
    this.charts = new Map(); // chart tag → ScalarChart
    this.tags = new Set();
    this.controls = chartControls((options) => this.charts.forEach((chart) => chart.setOptions(options)));
    this.grid = el('div', { class: 'charts' });
    this.node = el('div', null, this.controls.node, this.grid);
  }

  /** Loads every series; resolves to the `records` to follow live points from. */
  async load(signal) {
    try {
      const answer = await api.scalars(this.runId, {}, signal);
      const series = answer.series || [];
      series.forEach((s) => this.tags.add(s.tag));
      if (!series.length) this.grid.append(el('p', { class: 'note' }, 'No scalars recorded yet.'));
      const groups = new Map();
      for (const s of series) {
        const chartTag = chartTagOf(s.tag, this.tags);
        if (!groups.has(chartTag)) groups.set(chartTag, []);
        groups.get(chartTag).push(this.seriesOf(s.tag, chartTag, s));
      }
      for (const [chartTag, list] of groups) this.addChart(chartTag, list);
      return answer.records || 0;
    } catch (error) {
      if (error.name !== 'AbortError') this.grid.append(errorBox(error));
      return 0;
    }
  }

  seriesOf(tag, chartTag, data = {}) {
    return { label: tag, steps: data.step || [], times: data.time || [], values: data.value || [], dashed: tag !== chartTag };
  }

  addChart(chartTag, series) {
    this.grid.querySelector(':scope > p.note')?.remove();
    const chart = new ScalarChart(chartTag, series, this.controls.options());
    this.charts.set(chartTag, chart);
    this.grid.append(chart.node);
    return chart;
  }

  /** Live points [{tag, step, value, time}]: to their chart, making new ones as needed. */
  addPoints(points) {
    const byTag = new Map();
    for (const point of points) {
      if (!byTag.has(point.tag)) byTag.set(point.tag, []);
      byTag.get(point.tag).push(point);
    }
    for (const [tag, list] of byTag) {
      this.tags.add(tag);
      const chartTag = chartTagOf(tag, this.tags);
      let chart = this.charts.get(chartTag);
      if (!chart) chart = this.addChart(chartTag, [this.seriesOf(tag, chartTag)]);
      else if (!chart.hasSeries(tag)) chart.addSeries(this.seriesOf(tag, chartTag));
      chart.addPoints(tag, list);
    }
  }

  destroy() {
    this.charts.forEach((chart) => chart.destroy());
  }
}

export function runView(container, [ref]) {
  const abort = new AbortController();
  let events = null;
  let charts = null;
  container.append(el('p', { class: 'note' }, 'Loading…'));

  (async () => {
    let detail;
    try {
      detail = await api.run(ref, abort.signal);
    } catch (error) {
      if (error.name !== 'AbortError') container.replaceChildren(errorBox(error));
      return;
    }
    // Later requests use the full id: an index like "1" would move as new runs start.
    const runId = detail.run.id;
    const header = el('div', { class: 'run-header' });
    const summaryBox = el('div', { dataset: { testid: 'run-summary' }, class: 'run-summary' });
    const annotationBox = el('div');
    const commentsBox = el('div');

    const render = () => {
      const { run } = detail;
      const title = run.label || run.name || shortId(run.id);
      const star = el('button', { type: 'button', class: `star${run.marked ? ' on' : ''}`, 'aria-pressed': String(Boolean(run.marked)),
        title: run.marked ? 'Unmark' : 'Mark', onclick: () => api.mark(runId, !run.marked).then(updated, (e) => notify(e.message)) },
      run.marked ? '★' : '☆');
      header.replaceChildren(el('h1', null, star, ' ', title, ' ', statusBadge(run.status),
        detail.live ? el('span', { class: 'live-dot', title: 'live' }, ' live') : null),
      el('p', { class: 'sub' }, run.id, ' · ', run.script || '', ' · ',
        el('a', { href: `#/compare/${encodeURIComponent(runId)}` }, 'compare…')));
      summaryBox.replaceChildren(keyValueTable(summaryRows(detail), 'summary-table'));
      annotationBox.replaceChildren(annotations(runId, () => detail, updated));
      commentsBox.replaceChildren(commentsList(run));
    };
    const updated = async (answer) => {
      detail = answer && answer.run ? answer : await api.run(runId);
      render();
    };
    render();

    charts = new RunCharts(runId);
    const output = new OutputPane(runId);
    const parts = [
      ['Summary', el('div', null, summaryBox, annotationBox)],
      ['Flags', flagsTable(detail.run)],
      ['Scalars', charts.node],
      ['Output', output.node],
      ['Files', filesPane(runId)],
      ['Source', sourcesPane(runId, detail.run.script)],
      ['Comments', commentsBox],
    ];
    const sections = parts.map(([title, body]) => section(title, { id: `section-${title.toLowerCase()}` }, body));
    const jump = el('nav', { class: 'section-nav' }, parts.map(([title], i) => el('button', {
      type: 'button', class: 'link', onclick: () => sections[i].scrollIntoView({ behavior: 'smooth' }),
    }, title)));
    container.replaceChildren(header, jump, ...sections);

    const [records, outputNext] = await Promise.all([charts.load(abort.signal), output.load(abort.signal)]);
    if (!detail.live || abort.signal.aborted) return;

    let scalarsFrom = records;
    events = follow(() => ({ run: runId, scalars_from: scalarsFrom, output_from: output.next || outputNext }), {
      scalars: (data) => {
        const points = data.points || [];
        scalarsFrom += points.length;
        charts.addPoints(points);
      },
      output: (data) => output.appendChunks(data.chunks || [], data.next),
      status: async (data) => {
        detail.run.status = data.status;
        if (data.exit_status !== undefined) detail.run.exit_status = data.exit_status;
        try { detail = await api.run(runId); } catch { /* keep what the event said */ }
        if (data.status !== 'running') {
          detail.live = false;
          events.close();
        }
        render();
      },
    });
  })();

  return () => {
    abort.abort();
    if (events) events.close();
    if (charts) charts.destroy();
  };
}

// Scalar charts: a thin wrapper around uPlot (web/vendor, loaded as the global `uPlot`).
//
// A chart draws series of {label, steps, times, values}: the run page gives a tag and its
// val_ twin, the compare page one series per run. Dragging zooms (uPlot's x selection),
// double-click resets, and the shared controls set smoothing, log scale and the x axis.
// The container's data-points attribute counts the points plotted (for tests), live points
// included.

import { el, PALETTE, cssVar, store, toNumber } from './util.js';

const HEIGHT = 230;
const REDRAW_MS = 250; // live points are drawn at most this often

export const DEFAULT_CHART_OPTIONS = { smoothing: 0, log: false, x: 'step' };

/** TensorBoard's smoothing: an exponential moving average, debiased for the first points. */
export function smooth(values, weight) {
  let average = 0;
  let count = 0;
  return values.map((value) => {
    if (value == null || !Number.isFinite(value)) return value;
    average = average * weight + (1 - weight) * value;
    count++;
    return average / (1 - weight ** count);
  });
}

function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The lines to draw for the series: each one, or with smoothing its faint raw values and
 * the smoothed curve. */
function linesOf(series, options) {
  const lines = [];
  series.forEach((s, i) => {
    const colour = s.colour || PALETTE[i % PALETTE.length];
    const xs = options.x === 'time' ? s.times.map((t) => t / 1000) : s.steps;
    const dash = s.dashed ? [6, 4] : undefined;
    if (options.smoothing > 0) {
      lines.push({ label: `${s.label} (raw)`, xs, ys: s.values, stroke: withAlpha(colour, 0.25), width: 1, dash, faint: true });
      lines.push({ label: s.label, xs, ys: smooth(s.values, options.smoothing), stroke: colour, width: 1.6, dash });
    } else {
      lines.push({ label: s.label, xs, ys: s.values, stroke: colour, width: 1.6, dash });
    }
  });
  return lines;
}

/** uPlot wants one shared x array: the union of every line's x, with nulls where a line
 * has no point (drawn across with spanGaps). */
function alignedData(lines, log) {
  const xSet = new Set();
  for (const line of lines) for (const x of line.xs) if (x != null) xSet.add(x);
  const xs = Float64Array.from(xSet).sort();
  const position = new Map();
  xs.forEach((x, i) => position.set(x, i));
  const columns = lines.map((line) => {
    const column = new Array(xs.length).fill(null);
    line.xs.forEach((x, j) => {
      const y = line.ys[j];
      const usable = y != null && Number.isFinite(y) && (!log || y > 0);
      column[position.get(x)] = usable ? y : null;
    });
    return column;
  });
  return [Array.from(xs), ...columns];
}

function isZoomed(plot) {
  const xs = plot.data[0];
  if (!xs || xs.length < 2) return false;
  const { min, max } = plot.scales.x;
  return min > xs[0] || max < xs[xs.length - 1];
}

export class ScalarChart {
  /** series: [{label, steps, times, values, dashed?, colour?}] */
  constructor(title, series, options = DEFAULT_CHART_OPTIONS) {
    this.series = series.map((s) => ({ ...s, values: s.values.map(toNumber) }));
    this.options = { ...options };
    this.plotBox = el('div', { class: 'chart-plot' });
    this.node = el('figure', { class: 'chart', dataset: { testid: 'scalar-chart', tag: title } },
      el('figcaption', null, title), this.plotBox);
    this.plot = null;
    this.timer = null;
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.plotBox);
    this.onTheme = () => this.build();
    window.addEventListener('tally-theme', this.onTheme);
    // Built once the node is in the document and has a width.
    requestAnimationFrame(() => this.fit());
    this.countPoints();
  }

  countPoints() {
    this.node.dataset.points = String(this.series.reduce((sum, s) => sum + s.values.length, 0));
  }

  build() {
    if (this.plot) this.plot.destroy();
    this.plot = null;
    if (this.destroyed) return;
    const width = this.plotBox.clientWidth;
    if (!width || typeof uPlot === 'undefined') return;
    const lines = linesOf(this.series, this.options);
    const axisColour = cssVar('--muted') || '#5b6575';
    const gridColour = cssVar('--grid') || '#eceff3';
    const axis = { stroke: axisColour, grid: { stroke: gridColour, width: 1 }, ticks: { stroke: gridColour, width: 1 } };
    const opts = {
      width,
      height: HEIGHT,
      scales: { x: { time: this.options.x === 'time' }, y: this.options.log ? { distr: 3, log: 10 } : {} },
      series: [
        { label: this.options.x },
        ...lines.map((line) => ({
          label: line.label, stroke: line.stroke, width: line.width, dash: line.dash,
          spanGaps: true, points: line.faint ? { show: false } : {},
        })),
      ],
      axes: [{ ...axis }, { ...axis, size: 64 }],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    };
    // eslint-disable-next-line no-undef
    this.plot = new uPlot(opts, alignedData(lines, this.options.log), this.plotBox);
  }

  fit() {
    const width = this.plotBox.clientWidth;
    if (!width || this.destroyed) return;
    if (!this.plot) this.build();
    else if (Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: HEIGHT });
  }

  /** Redraws with the current series, keeping a zoom the user made. */
  redraw() {
    this.timer = null;
    this.countPoints();
    if (!this.plot) return this.build();
    const zoomed = isZoomed(this.plot);
    this.plot.setData(alignedData(linesOf(this.series, this.options), this.options.log), !zoomed);
  }

  scheduleRedraw() {
    this.countPoints();
    if (!this.timer) this.timer = setTimeout(() => this.redraw(), REDRAW_MS);
  }

  hasSeries(label) {
    return this.series.some((s) => s.label === label);
  }

  /** Adds a line (a new tag seen live); uPlot needs a rebuild for a new series. */
  addSeries(series) {
    this.series.push({ ...series, values: series.values.map(toNumber) });
    this.countPoints();
    this.build();
  }

  /** Appends live points [{step, time, value}] to the series with that label. */
  addPoints(label, points) {
    const series = this.series.find((s) => s.label === label);
    if (!series) return;
    for (const point of points) {
      series.steps.push(point.step);
      series.times.push(point.time);
      series.values.push(toNumber(point.value));
    }
    this.scheduleRedraw();
  }

  setOptions(options) {
    const rebuild = options.log !== this.options.log || options.x !== this.options.x
      || (options.smoothing > 0) !== (this.options.smoothing > 0);
    this.options = { ...options };
    if (rebuild) this.build();
    else if (this.plot) this.plot.setData(alignedData(linesOf(this.series, this.options), this.options.log), !isZoomed(this.plot));
  }

  destroy() {
    this.destroyed = true;
    clearTimeout(this.timer);
    this.resize.disconnect();
    window.removeEventListener('tally-theme', this.onTheme);
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}

/** The smoothing slider, log-scale toggle and x-axis select shared by a page's charts;
 * changed(options) is called on every change, and the choice is remembered. */
export function chartControls(changed) {
  const options = { ...DEFAULT_CHART_OPTIONS, ...store.get('chart', {}) };
  const readout = el('output', { class: 'readout' }, options.smoothing.toFixed(2));
  const update = (patch) => {
    Object.assign(options, patch);
    store.set('chart', options);
    changed({ ...options });
  };
  const slider = el('input', {
    type: 'range', min: '0', max: '0.99', step: '0.01', value: String(options.smoothing),
    'aria-label': 'Smoothing', dataset: { testid: 'smoothing' },
    oninput: () => {
      readout.textContent = Number(slider.value).toFixed(2);
      update({ smoothing: Number(slider.value) });
    },
  });
  const log = el('input', { type: 'checkbox', checked: options.log, dataset: { testid: 'log-scale' },
    onchange: () => update({ log: log.checked }) });
  const xSelect = el('select', { 'aria-label': 'X axis', dataset: { testid: 'x-axis' },
    onchange: () => update({ x: xSelect.value }) },
  el('option', { value: 'step' }, 'step'), el('option', { value: 'time' }, 'time'));
  xSelect.value = options.x;
  const node = el('div', { class: 'chart-controls' },
    el('label', null, 'Smoothing ', slider, readout),
    el('label', null, log, ' log scale'),
    el('label', null, 'x: ', xSelect),
    el('span', { class: 'hint' }, 'drag to zoom, double-click to reset'));
  return { node, options: () => ({ ...options }) };
}

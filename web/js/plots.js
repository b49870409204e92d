// Canvas plots of the compare page: parallel coordinates (flags and an objective, one line
// per run) and a scatter of one value against another. Each run keeps its palette colour,
// as in the overlaid scalar charts. Text is drawn with fillText, never as HTML.

import { el, PALETTE, cssVar, fmtNumber } from './util.js';

const FONT = '12px system-ui, sans-serif';

/** An axis over some values: numbers on a linear scale, anything else as categories.
 * position(value) is 0 (bottom/left) … 1 (top/right), or null for a missing value. */
export function makeAxis(name, values, margin = 0) {
  const present = values.filter((v) => v != null && v !== '');
  const numeric = present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (numeric) {
    let min = Math.min(...present);
    let max = Math.max(...present);
    if (min === max) { min -= Math.abs(min) * 0.1 || 1; max += Math.abs(max) * 0.1 || 1; }
    const room = (max - min) * margin;
    min -= room;
    max += room;
    return {
      name, numeric,
      position: (v) => (typeof v === 'number' && Number.isFinite(v) ? (v - min) / (max - min) : null),
      ticks: [0, 0.25, 0.5, 0.75, 1].map((p) => ({ at: p, text: fmtNumber(min + p * (max - min)) })),
    };
  }
  const categories = [...new Set(present.map(String))].sort();
  const at = (i) => (categories.length === 1 ? 0.5 : i / (categories.length - 1));
  return {
    name, numeric,
    position: (v) => (v == null || v === '' ? null : at(categories.indexOf(String(v)))),
    ticks: categories.map((text, i) => ({ at: at(i), text })),
  };
}

/** A canvas that fills its box's width, drawn by draw(ctx, width, height) on resize and
 * theme changes. */
function canvasPlot(height, draw, testid) {
  const canvas = el('canvas', { class: 'plot-canvas', dataset: { testid } });
  const box = el('div', { class: 'plot-box' }, canvas);
  const paint = () => {
    const width = box.clientWidth;
    if (!width) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    draw(ctx, width, height, { fg: cssVar('--fg') || '#222', muted: cssVar('--muted') || '#666', line: cssVar('--line') || '#ccc' });
  };
  const observer = new ResizeObserver(paint);
  observer.observe(box);
  window.addEventListener('tally-theme', paint);
  return {
    node: box,
    paint,
    destroy() {
      observer.disconnect();
      window.removeEventListener('tally-theme', paint);
    },
  };
}

function clipText(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(`${cut}…`).width > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * Parallel coordinates: columns() → [{name, values: [one per run]}], the last one usually
 * the objective; one polyline per run, broken where a value is missing.
 */
export function parallelCoordinates(runCount, columns) {
  const plot = canvasPlot(320, (ctx, width, height, colours) => {
    const axes = columns().map((c) => ({ ...makeAxis(c.name, c.values), values: c.values }));
    if (axes.length < 2) {
      ctx.fillStyle = colours.muted;
      ctx.fillText('Needs at least one flag and an objective.', 10, 20);
      return;
    }
    const pad = { top: 34, bottom: 16, left: 40, right: 60 };
    const step = (width - pad.left - pad.right) / (axes.length - 1);
    const x = (i) => pad.left + i * step;
    const y = (p) => pad.top + (1 - p) * (height - pad.top - pad.bottom);
    for (let run = 0; run < runCount; run++) {
      // A run without some flag skips that axis: its line joins the values it has.
      const points = axes.map((axis, i) => [i, axis.position(axis.values[run])]).filter(([, p]) => p != null);
      ctx.strokeStyle = ctx.fillStyle = PALETTE[run % PALETTE.length];
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach(([i, p], n) => (n ? ctx.lineTo(x(i), y(p)) : ctx.moveTo(x(i), y(p))));
      ctx.stroke();
      for (const [i, p] of points) {
        ctx.beginPath();
        ctx.arc(x(i), y(p), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    axes.forEach((axis, i) => {
      ctx.strokeStyle = colours.muted;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x(i), y(1));
      ctx.lineTo(x(i), y(0));
      ctx.stroke();
      ctx.fillStyle = colours.fg;
      ctx.textAlign = 'center';
      ctx.fillText(clipText(ctx, axis.name, Math.max(40, step - 6)), x(i), 16);
      ctx.fillStyle = colours.muted;
      ctx.textAlign = 'left';
      const ticks = axis.ticks.length > 8 ? [axis.ticks[0], axis.ticks[axis.ticks.length - 1]] : axis.ticks;
      for (const tick of ticks) ctx.fillText(clipText(ctx, tick.text, Math.max(30, step - 10)), x(i) + 4, y(tick.at) + 4);
    });
  }, 'parallel-coordinates');
  return plot;
}

/** A scatter of points [{x, y, label, colour}] with axes named xName and yName. */
export function scatterPlot(points) {
  return canvasPlot(320, (ctx, width, height, colours) => {
    const { xName, yName, list } = points();
    // A margin keeps the extreme points (and their labels) off the frame.
    const xAxis = makeAxis(xName, list.map((p) => p.x), 0.06);
    const yAxis = makeAxis(yName, list.map((p) => p.y), 0.08);
    const pad = { top: 16, bottom: 40, left: 70, right: 24 };
    const x = (p) => pad.left + p * (width - pad.left - pad.right);
    const y = (p) => pad.top + (1 - p) * (height - pad.top - pad.bottom);
    ctx.strokeStyle = colours.line;
    ctx.fillStyle = colours.muted;
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    for (const tick of xAxis.ticks.slice(0, 12)) {
      ctx.beginPath(); ctx.moveTo(x(tick.at), y(0)); ctx.lineTo(x(tick.at), y(1)); ctx.stroke();
      ctx.fillText(clipText(ctx, tick.text, 80), x(tick.at), height - pad.bottom + 16);
    }
    ctx.textAlign = 'right';
    for (const tick of yAxis.ticks.slice(0, 12)) {
      ctx.beginPath(); ctx.moveTo(x(0), y(tick.at)); ctx.lineTo(x(1), y(tick.at)); ctx.stroke();
      ctx.fillText(clipText(ctx, tick.text, pad.left - 8), pad.left - 6, y(tick.at) + 4);
    }
    ctx.fillStyle = colours.fg;
    ctx.textAlign = 'center';
    ctx.fillText(xName, x(0.5), height - 6);
    for (const point of list) {
      const px = xAxis.position(point.x);
      const py = yAxis.position(point.y);
      if (px == null || py == null) continue;
      ctx.fillStyle = point.colour;
      ctx.beginPath();
      ctx.arc(x(px), y(py), 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = colours.muted;
      const nearRight = x(px) > width - 80;
      ctx.textAlign = nearRight ? 'right' : 'left';
      ctx.fillText(point.label, x(px) + (nearRight ? -7 : 7), y(py) - 6);
    }
  }, 'scatter');
}

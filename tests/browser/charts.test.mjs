// A run's scalar charts (#/run/ID) and the compare page's overlaid ones: every recorded
// point is plotted, and the canvas is really drawn on.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TEST_TIMEOUT_MS, env, launch, tally, until, withPage } from './helpers.mjs';

const BASE = env('TALLY_MAIN_URL');
const DIR = env('TALLY_MAIN_DIR');
// The run "curve" logged 120 points of loss and of val_loss (test-browser.sh).
const POINTS = 120;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Waits until the canvas has a size and some painted pixels; returns its size. */
function untilDrawn(page, selector) {
  return until(page, `a drawn canvas ${selector}`, (css) => {
    const canvas = document.querySelector(css);
    if (!canvas || !canvas.width || !canvas.height) return false;
    const box = canvas.getBoundingClientRect();
    if (!box.width || !box.height) return false;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
    return painted > 500 && { width: box.width, height: box.height, painted };
  }, selector);
}

test('charts: the run page plots every point recorded, val_loss over loss', { timeout: TEST_TIMEOUT_MS }, async () => {
  // What tally recorded, from the command line.
  const { stdout } = await tally(DIR, 'show', 'curve', '--format', 'json');
  const scalars = JSON.parse(stdout).scalars;
  assert.equal(scalars.loss.count, POINTS);
  assert.equal(scalars.val_loss.count, POINTS);

  await withPage(browser, 'charts-run', {}, async (page) => {
    await page.goto(`${BASE}#/run/curve`);
    const chart = page.locator('[data-testid=scalar-chart][data-tag=loss]');
    await chart.waitFor();
    // One chart holds both series: loss and its val_ twin, dashed.
    await until(page, `${2 * POINTS} points in the loss chart`, (n) => document
      .querySelector('[data-testid=scalar-chart][data-tag=loss]')?.dataset.points === String(n), 2 * POINTS);
    assert.equal(await page.locator('[data-testid=scalar-chart][data-tag=val_loss]').count(), 0);
    assert.equal(await page.locator('[data-testid=scalar-chart]').count(), 1);
    const drawn = await untilDrawn(page, '[data-testid=scalar-chart][data-tag=loss] canvas');
    assert.ok(drawn.width > 200 && drawn.height > 100, `canvas size ${JSON.stringify(drawn)}`);
    // uPlot's legend names both series.
    const legend = await chart.locator('.u-legend').textContent();
    assert.ok(legend.includes('loss') && legend.includes('val_loss'), `legend: ${legend}`);
    // The server sends each series whole (under its 2000-point limit).
    const answer = await (await page.request.get(`${BASE}api/runs/curve/scalars`)).json();
    assert.deepEqual(answer.series.map((s) => [s.tag, s.value.length]).sort(), [['loss', POINTS], ['val_loss', POINTS]]);
  });
});

test('charts: the compare page overlays the runs, one series each', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stdout } = await tally(DIR, 'runs', '--where', 'lr > 0.7', '--format', 'json');
  const runs = JSON.parse(stdout);
  assert.equal(runs.length, 2);
  await withPage(browser, 'charts-compare', {}, async (page) => {
    await page.goto(`${BASE}#/compare/curve,${runs.map((run) => run.id).join(',')}`);
    await page.getByTestId('compare-table').waitFor();
    // curve: 120 points; each lr run: 3.
    await until(page, 'the overlaid loss chart', (n) => document
      .querySelector('[data-testid=scalar-chart][data-tag=loss]')?.dataset.points === String(n), POINTS + 2 * 3);
    await untilDrawn(page, '[data-testid=scalar-chart][data-tag=val_loss] canvas');
    await untilDrawn(page, 'canvas[data-testid=parallel-coordinates]');
    await untilDrawn(page, 'canvas[data-testid=scatter]');
  });
});

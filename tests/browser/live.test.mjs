// Live updates through /api/events: a new run's row appears in the open table, and a
// running run's page gets its new points, output lines (stderr marked) and its end
// without a reload. Also the annotations a run page sends back (label, tag, comment).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TEST_TIMEOUT_MS, env, launch, rowIds, tally, until, untilRows, withPage } from './helpers.mjs';

const BASE = env('TALLY_LIVE_URL');
const DIR = env('TALLY_LIVE_DIR');

let browser;
const waiting = []; // run directories whose slow.sh may still wait for its go file
before(async () => { browser = await launch(); });
after(async () => {
  for (const dir of waiting) if (!existsSync(join(dir, 'go'))) writeFileSync(join(dir, 'go'), '');
  await browser?.close();
});

/** Marks the page so that a reload (which would lose the mark) can be told apart. */
function markPage(page) {
  return page.evaluate(() => { window.__notReloaded = true; });
}

async function assertNotReloaded(page) {
  assert.equal(await page.evaluate(() => window.__notReloaded === true), true, 'the page was reloaded');
}

async function runCount() {
  return JSON.parse((await tally(DIR, 'runs', '--format', 'json')).stdout).length;
}

test('live: a run started while the table is open appears in it', { timeout: TEST_TIMEOUT_MS }, async () => {
  const count = await runCount();
  await withPage(browser, 'live-table', {}, async (page) => {
    await page.goto(BASE);
    await untilRows(page, count);
    await markPage(page);
    const idFile = join(DIR, 'new-run.id');
    await tally(DIR, 'run', '-q', '--no-system-metrics', '--id-file', idFile, 'quick.sh');
    const id = readFileSync(idFile, 'utf8').trim();
    await page.locator(`[data-testid=run-row][data-id="${id}"]`).waitFor();
    await untilRows(page, count + 1);
    assert.equal((await rowIds(page))[0], id, 'the new run comes first');
    await until(page, 'the new row to say completed', (runId) => document
      .querySelector(`[data-testid=run-row][data-id="${runId}"] .status.completed`) !== null, id);
    await assertNotReloaded(page);
  });
});

test('live: a running run\'s page follows its points, output and end', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stdout } = await tally(DIR, 'run', '-b', '-q', '--no-system-metrics', 'slow.sh');
  const id = /Run (\S+) started/.exec(stdout)?.[1];
  assert.ok(id, `tally run -b printed its id: ${stdout}`);
  const runDir = join(DIR, 'runs', id);
  waiting.push(runDir);

  await withPage(browser, 'live-run', {}, async (page) => {
    await page.goto(`${BASE}#/run/${id}`);
    await page.getByTestId('run-summary').waitFor();
    const points = (n) => until(page, `${n} points in the loss chart`, (want) => document
      .querySelector('[data-testid=scalar-chart][data-tag=loss]')?.dataset.points === String(want), n, {
      describe: () => document.querySelector('[data-testid=scalar-chart][data-tag=loss]')?.dataset.points,
    });
    // The ten points printed before the script waits, whether loaded or followed live.
    await points(10);
    await page.getByTestId('output').filter({ hasText: 'loss: 91 (step 9)' }).waitFor();
    assert.equal(await page.locator('[data-testid=run-summary] .status.running').count(), 1, 'the run is running');
    await markPage(page);

    writeFileSync(join(runDir, 'go'), '');
    await points(30);
    const output = page.getByTestId('output');
    await output.filter({ hasText: 'loss: 71 (step 29)' }).waitFor();
    const late = output.locator('.stderr', { hasText: 'late line on stderr' });
    await late.waitFor();
    assert.equal(await output.locator('.stdout', { hasText: 'late line on stderr' }).count(), 0);
    assert.equal(await output.locator('.stderr', { hasText: 'loss:' }).count(), 0, 'stdout lines are not marked');
    // The lines in order, each once.
    const text = await output.textContent();
    const steps = [...text.matchAll(/\(step (\d+)\)/g)].map((match) => Number(match[1]));
    assert.deepEqual(steps, [...Array(30).keys()]);
    await page.locator('[data-testid=run-summary] .status.completed').waitFor();
    await until(page, 'the header to say completed, not live', () => document.querySelector('.run-header .status.completed')
      && !document.querySelector('.run-header .live-dot'));
    await assertNotReloaded(page);
  });
  const { stdout: shown } = await tally(DIR, 'show', id, '--format', 'json');
  assert.equal(JSON.parse(shown).status, 'completed');
});

test('live: label, tag and comment made on a run page reach the run', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'live-annotate', {}, async (page) => {
    await page.goto(`${BASE}#/run/1`);
    const summary = page.getByTestId('run-summary');
    await summary.waitFor();
    const id = (await tally(DIR, 'show', '1', '--format', 'json').then(({ stdout }) => JSON.parse(stdout))).id;
    await page.getByLabel('Label', { exact: true }).fill('relabelled in a browser');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await summary.filter({ hasText: 'relabelled in a browser' }).waitFor();
    await page.getByLabel('Add tags').fill('browser-tag');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('.tag-chips .tag', { hasText: 'browser-tag' }).waitFor();
    await page.getByLabel('Comment', { exact: true }).fill('a comment from the browser');
    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    await page.locator('.comments .comment-text', { hasText: 'a comment from the browser' }).waitFor();
    const run = JSON.parse((await tally(DIR, 'show', id, '--format', 'json')).stdout);
    assert.equal(run.label, 'relabelled in a browser');
    assert.deepEqual(run.tags, ['browser-tag']);
    assert.deepEqual(run.comments.map((c) => c.text), ['a comment from the browser']);
  });
});

// Sweeps (#/sweeps, #/sweep/ID): the list with progress and the best so far, one sweep's
// trials with its best marked, a sweep started while the list is open appearing in it, and
// a sweep's pruned trials with its optimizer and pruner.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TEST_TIMEOUT_MS, env, launch, tally, until, withPage } from './helpers.mjs';

const BASE = env('TALLY_SWEEPS_URL');
const DIR = env('TALLY_SWEEPS_DIR');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function sweeps() {
  return JSON.parse((await tally(DIR, 'sweeps', '--format', 'json')).stdout);
}

test('sweeps: the list, one sweep\'s trials and its best', { timeout: TEST_TIMEOUT_MS }, async () => {
  const [sweep] = await sweeps(); // test-browser.sh: lr=[0.3,0.1,0.2], loss = lr
  await withPage(browser, 'sweeps', {}, async (page) => {
    await page.goto(`${BASE}#/sweeps`);
    const row = page.locator(`[data-testid=sweeps-table] tr[data-id="${sweep.id}"]`);
    await row.waitFor();
    const text = await row.textContent();
    assert.ok(text.includes('3/3') && text.includes('loss 0.1'), `the sweep's row: ${text}`);
    assert.equal(await row.locator(`a[title="${sweep.best_run}"]`).count(), 1, 'a link to the best run');
    await row.getByRole('link', { name: sweep.id, exact: true }).click();
    await page.waitForURL((url) => url.hash === `#/sweep/${sweep.id}`);
    const trials = page.getByTestId('sweep-trials');
    await trials.waitFor();
    assert.equal(await trials.locator('tbody tr').count(), 3);
    const best = trials.locator('tbody tr.best');
    assert.equal(await best.count(), 1);
    assert.deepEqual((await best.locator('td').allTextContents()).slice(0, 4), ['2', 'completed', '0.1', '0.1']);
    await page.locator('.best-so-far', { hasText: 'Best so far: trial 2' }).waitFor();
    // The trials side by side.
    await page.getByRole('link', { name: 'Compare the trials' }).click();
    const table = page.getByTestId('compare-table');
    await table.waitFor();
    assert.equal(await table.locator('thead a').count(), 3);
  });
});

test('sweeps: a sweep started while the list is open appears in it', { timeout: TEST_TIMEOUT_MS }, async () => {
  const known = new Set((await sweeps()).map((s) => s.id));
  await withPage(browser, 'sweeps-live', {}, async (page) => {
    await page.goto(`${BASE}#/sweeps`);
    await page.locator('[data-testid=sweeps-table] tr[data-id]').first().waitFor();
    await tally(DIR, 'tune', '-q', '--no-system-metrics', 'train.sh', 'lr=[0.5,0.4]');
    const added = (await sweeps()).find((s) => !known.has(s.id));
    assert.ok(added, 'tally tune made a sweep');
    await page.locator(`[data-testid=sweeps-table] tr[data-id="${added.id}"]`, { hasText: '2/2' }).waitFor();
    await until(page, 'both sweeps listed', () => document.querySelectorAll('[data-testid=sweeps-table] tr[data-id]').length === 2);
  });
});

/** Rewrite a JSON file through `change`. */
function editJson(path, change) {
  const value = JSON.parse(readFileSync(path, 'utf8'));
  change(value);
  writeFileSync(path, JSON.stringify(value));
}

test('sweeps: pruned trials are counted apart from failed ones; the optimizer and pruner shown',
  { timeout: TEST_TIMEOUT_MS }, async () => {
    const known = new Set((await sweeps()).map((s) => s.id));
    await tally(DIR, 'tune', '-q', '--no-system-metrics', 'train.sh', 'lr=[0.7,0.6]');
    const sweep = (await sweeps()).find((s) => !known.has(s.id));
    assert.ok(sweep, 'tally tune made a sweep');
    // Trial 1 stopped early, as a pruner records it; the record as a TPE sweep with a pruner writes it.
    const runs = JSON.parse((await tally(DIR, 'runs', '--sweep', sweep.id, '--format', 'json')).stdout);
    const first = runs.find((r) => r.flags.lr === 0.7);
    editJson(join(first.dir, '.tally', 'run.json'), (m) => Object.assign(m, {
      status: 'pruned', exit_status: null, signal: 15, stop_reason: 'pruned by the median rule at step 1',
    }));
    editJson(join(DIR, 'runs', '.sweeps', sweep.id, 'sweep.json'), (d) => Object.assign(d, {
      strategy: 'tpe',
      optimizer: { name: 'tpe', startup_trials: 10, candidates: 24, multivariate: false, constant_liar: true },
      pruner: { name: 'asha', min_step: null, reduction_factor: 3, grace_seconds: 10 },
    }));
    await tally(DIR, 'reindex');
    await withPage(browser, 'sweeps-pruned', {}, async (page) => {
      await page.goto(`${BASE}#/sweep/${sweep.id}`);
      const trials = page.getByTestId('sweep-trials');
      await trials.waitFor();
      const row = trials.locator('tbody tr').first();
      assert.deepEqual((await row.locator('td').allTextContents()).slice(0, 4), ['1', 'pruned', '0.7', '0.7']);
      assert.equal(await row.locator('.status.pruned').count(), 1);
      await page.locator('.progress-line', { hasText: '2/2, 1 pruned' }).waitFor();
      const sub = await page.locator('.sub').textContent();
      assert.ok(sub.includes('tpe (10 random start-up trials, 24 candidates, univariate, constant liar)'), sub);
      assert.ok(sub.includes('pruner asha (rungs from step auto, reduction factor 3; SIGKILL 10 s after SIGTERM)'), sub);
      assert.ok(!sub.includes('failed'), sub);
    });
  });

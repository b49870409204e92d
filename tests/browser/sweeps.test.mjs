// Sweeps (#/sweeps, #/sweep/ID): the list with progress and the best so far, one sweep's
// trials with its best marked, and a sweep started while the list is open appearing in it.

import assert from 'node:assert/strict';
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

// The runs table (#/runs): rows, the query box and its errors, sorting by a column, the
// column chooser, and selecting runs to compare.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  TEST_TIMEOUT_MS, env, launch, rowIds, tally, until, untilRows, untilTable, withPage,
} from './helpers.mjs';

const BASE = env('TALLY_MAIN_URL');
const DIR = env('TALLY_MAIN_DIR');
// test-browser.sh made 30 runs with lr = i/40 and units, plus the runs "curve" and "files".
const TOTAL = 32;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The texts of a column's cells, top to bottom, found by its header's title. */
function columnTexts(page, title) {
  return page.evaluate((name) => {
    const heads = [...document.querySelectorAll('.vt-head > .vt-cell')];
    const index = heads.findIndex((cell) => cell.textContent.replace(/ [▲▼]$/, '') === name);
    if (index < 0) return null;
    return [...document.querySelectorAll('[data-testid=run-row]')]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((row) => row.children[index].textContent);
  }, title);
}

function headerTitles(page) {
  return page.evaluate(() => [...document.querySelectorAll('.vt-head > .vt-cell')].map((cell) => cell.textContent));
}

async function idsWhere(query) {
  const { stdout } = await tally(DIR, 'runs', '--where', query, '--format', 'json');
  return JSON.parse(stdout).map((run) => run.id);
}

test('runs table: rows render with flag and scalar columns', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'runs-render', {}, async (page) => {
    await page.goto(BASE);
    await untilTable(page);
    assert.ok(await page.locator('[data-testid=runs-table] [data-testid=run-row]').count() > 0);
    await until(page, 'the count of 32 runs', (n) => document.querySelector('.count')?.textContent === `${n} runs`, TOTAL);
    const titles = await headerTitles(page);
    for (const name of ['id', 'status', 'label', 'lr', 'units', 'loss', 'val_loss']) {
      assert.ok(titles.includes(name), `a column ${name} among ${JSON.stringify(titles)}`);
    }
    // Newest first: the first row is the last run made ("files").
    const ids = await rowIds(page);
    assert.ok(ids.length >= 10, `at least 10 rows in the DOM, got ${ids.length}`);
    const newest = JSON.parse((await tally(DIR, 'runs', '--format', 'json')).stdout).map((run) => run.id);
    assert.deepEqual(ids, newest.slice(0, ids.length));
  });
});

test('runs table: a query narrows the rows to the matching runs', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'runs-query', {}, async (page) => {
    await page.goto(BASE);
    await untilTable(page);
    const input = page.getByTestId('query-input');
    await input.fill('lr > 0.5');
    await input.press('Enter');
    await untilRows(page, 10);
    const expected = await idsWhere('lr > 0.5');
    assert.equal(expected.length, 10);
    assert.deepEqual(new Set(await rowIds(page)), new Set(expected));
    const lrs = (await columnTexts(page, 'lr')).map(Number);
    assert.ok(lrs.every((lr) => lr > 0.5 && lr <= 0.75), `lr values ${lrs}`);
    assert.match(page.url(), /#\/runs\?where=lr%20%3E%200\.5$/);
    // The query survives a reload: it is in the URL.
    await page.reload();
    await untilRows(page, 10);
    assert.equal(await page.getByTestId('query-input').inputValue(), 'lr > 0.5');
  });
});

test('runs table: a bad query shows the error at its column', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'runs-bad-query', {}, async (page) => {
    await page.goto(BASE);
    await untilTable(page);
    const input = page.getByTestId('query-input');
    await input.fill('lr >> 2');
    await input.press('Enter');
    const box = page.getByTestId('query-error');
    await box.waitFor({ state: 'visible' });
    const message = await box.locator('.message').textContent();
    assert.match(message, /^expected a name or a value/);
    // The query with a caret under column 5, where it fails.
    assert.equal(await box.locator('pre.caret').textContent(), 'lr >> 2\n    ^');
    await until(page, 'no rows after the error', () => document.querySelectorAll('[data-testid=run-row]').length === 0);
    // Fixing the query clears the error and brings the rows back.
    await input.fill('units = 64');
    await input.press('Enter');
    await box.waitFor({ state: 'hidden' });
    const expected = await idsWhere('units = 64');
    await untilRows(page, expected.length);
    assert.deepEqual(new Set(await rowIds(page)), new Set(expected));
  });
});

test('runs table: clicking a column header sorts by it, again the other way', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'runs-sort', {}, async (page) => {
    await page.goto(`${BASE}#/runs?where=${encodeURIComponent('lr > 0.5')}`);
    await untilRows(page, 10);
    const header = page.locator('.vt-head > .vt-cell', { hasText: /^lr( [▲▼])?$/ });
    const sortedBy = async (direction) => {
      await until(page, `the lr header to show ${direction}`, (mark) => [...document.querySelectorAll('.vt-head > .vt-cell')]
        .some((cell) => cell.textContent === `lr ${mark}`), direction);
      // Rows are replaced when the new page arrives: wait for them in order.
      const want = direction === '▲' ? [...Array(10).keys()].map((i) => (21 + i) / 40) : [...Array(10).keys()].map((i) => (30 - i) / 40);
      await until(page, `rows sorted by lr ${direction}`, (values) => {
        const heads = [...document.querySelectorAll('.vt-head > .vt-cell')];
        const index = heads.findIndex((cell) => cell.textContent.startsWith('lr'));
        const rows = [...document.querySelectorAll('[data-testid=run-row]')]
          .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
        return rows.length === values.length && rows.every((row, i) => Number(row.children[index].textContent) === values[i]);
      }, want, { describe: () => [...document.querySelectorAll('[data-testid=run-row]')].map((row) => row.textContent) });
    };
    await header.click();
    await sortedBy('▲');
    assert.match(page.url(), /sort=flag\.lr(&|$)/);
    await header.click();
    await sortedBy('▼');
    assert.match(page.url(), /sort=-flag\.lr(&|$)/);
  });
});

test('runs table: the column chooser hides and shows a column', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'runs-columns', {}, async (page) => {
    await page.goto(BASE);
    await untilTable(page);
    const chooser = page.getByTestId('column-chooser');
    await chooser.locator('summary').click();
    const units = chooser.locator('input[type=checkbox][data-kind=flag][data-name=units]');
    assert.equal(await units.isChecked(), true);
    await units.uncheck();
    await until(page, 'the units column to go', () => ![...document.querySelectorAll('.vt-head > .vt-cell')]
      .some((cell) => cell.textContent === 'units'));
    // Remembered: still gone after a reload.
    await page.reload();
    await untilTable(page);
    assert.ok(!(await headerTitles(page)).includes('units'));
    await page.getByTestId('column-chooser').locator('summary').click();
    await page.getByTestId('column-chooser').locator('input[data-kind=flag][data-name=units]').check();
    await until(page, 'the units column to come back', () => [...document.querySelectorAll('.vt-head > .vt-cell')]
      .some((cell) => cell.textContent === 'units'));
  });
});

test('runs table: selecting two runs and Compare shows them side by side', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'runs-compare', {}, async (page) => {
    await page.goto(`${BASE}#/runs?where=${encodeURIComponent('lr > 0.5')}`);
    await untilRows(page, 10);
    const [first, second] = (await rowIds(page)).slice(0, 2);
    for (const id of [first, second]) {
      await page.locator(`[data-testid=run-row][data-id="${id}"] input[type=checkbox]`).check();
    }
    await page.getByRole('button', { name: 'Compare (2)' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/compare/'));
    assert.deepEqual(decodeURIComponent(new URL(page.url()).hash.slice('#/compare/'.length)).split(',').sort(),
      [first, second].sort());
    const table = page.getByTestId('compare-table');
    await table.waitFor();
    for (const id of [first, second]) {
      assert.equal(await table.locator(`thead a[title="${id}"]`).count(), 1, `a column for ${id}`);
    }
    // The lr row holds both runs' values, and differs.
    const lrRow = table.locator('tbody tr', { has: page.locator('th', { hasText: /^lr flag$/ }) });
    assert.equal(await lrRow.count(), 1);
    assert.match(await lrRow.getAttribute('class'), /differs/);
    const shown = (await lrRow.locator('td').allTextContents()).map(Number).sort();
    const { stdout } = await tally(DIR, 'runs', '--where', 'lr > 0.5', '--format', 'json');
    const want = JSON.parse(stdout).filter((run) => run.id === first || run.id === second).map((run) => run.flags.lr).sort();
    assert.deepEqual(shown, want);
  });
});

// Screenshots of the runs table and a run page on a desktop (1280×800) and a phone
// (390×844), saved under $TALLY_SCREENSHOTS for a person to look at; each must exist and
// have some content. On both, the page itself must not scroll sideways (wide tables scroll
// in their own boxes).

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TEST_TIMEOUT_MS, env, launch, until, untilTable, withPage } from './helpers.mjs';

const BASE = env('TALLY_MAIN_URL');
const DIR = env('TALLY_SCREENSHOTS');
const MIN_BYTES = 8 * 1024;

const SIZES = [
  { name: '1280x800', options: { viewport: { width: 1280, height: 800 } } },
  { name: '390x844', options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
];

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function shoot(page, file, fullPage) {
  const path = join(DIR, file);
  await page.screenshot({ path, fullPage });
  const { size } = statSync(path);
  assert.ok(size > MIN_BYTES, `${path}: ${size} bytes`);
}

function pageWidth(page) {
  return page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
}

for (const { name, options } of SIZES) {
  test(`screenshots: the runs table at ${name}`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await withPage(browser, `screenshot-runs-${name}`, options, async (page) => {
      await page.goto(BASE);
      await untilTable(page);
      await page.locator('.count', { hasText: '32 runs' }).waitFor();
      await until(page, 'at least 10 rows', () => document.querySelectorAll('[data-testid=run-row]').length >= 10);
      await shoot(page, `runs-${name}.png`, false);
      const width = await pageWidth(page);
      assert.ok(width.scroll <= width.view, `the page scrolls sideways: ${JSON.stringify(width)}`);
    });
  });

  test(`screenshots: a run page at ${name}`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await withPage(browser, `screenshot-run-${name}`, options, async (page) => {
      await page.goto(`${BASE}#/run/curve`);
      await page.locator('[data-testid=scalar-chart][data-tag=loss][data-points="240"] canvas').waitFor();
      await page.locator('[data-testid=output]', { hasText: 'loss: 0.0166667 (step 119)' }).waitFor();
      await page.locator('[data-testid=sources] pre.code', { hasText: 'awk' }).waitFor();
      await shoot(page, `run-${name}.png`, true);
      const width = await pageWidth(page);
      assert.ok(width.scroll <= width.view, `the page scrolls sideways: ${JSON.stringify(width)}`);
    });
  });
}

test('theme: the toggle switches to dark and back, remembered, charts redrawn', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'theme', { colorScheme: 'light' }, async (page) => {
    await page.goto(`${BASE}#/run/curve`);
    const canvas = page.locator('[data-testid=scalar-chart][data-tag=loss][data-points="240"] canvas');
    await canvas.waitFor();
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    const light = await background();
    const toggle = page.getByTestId('theme-toggle');
    await toggle.click();
    await until(page, 'the dark theme', () => document.documentElement.dataset.theme === 'dark');
    assert.notEqual(await background(), light);
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    // The chart is rebuilt with the theme's colours: still one canvas, every point.
    await canvas.waitFor();
    assert.equal(await page.locator('[data-testid=scalar-chart][data-tag=loss] canvas').count(), 1);
    await shoot(page, 'run-dark-1280x800.png', true);
    await page.reload();
    await canvas.waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the choice is remembered');
    await page.getByTestId('theme-toggle').click();
    await until(page, 'the light theme again', () => document.documentElement.dataset.theme === 'light');
    assert.equal(await background(), light);
  });
});

// Run data that looks like HTML stays text: a label, a flag value, tags, a comment, a
// scalar's name, output lines (stdout and stderr), the script's source, file names and
// file contents carry <img onerror> and <script> payloads (test-browser.sh). Every view
// that shows them must show them as text, and none may run or become markup.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TEST_TIMEOUT_MS, assertNoInjection, env, launch, tally, until, withPage } from './helpers.mjs';

const BASE = env('TALLY_XSS_URL');
const DIR = env('TALLY_XSS_DIR');
const IMG = '<img src=x onerror=window.__xss=1>';
const SCRIPT = '<script>window.__xss=1</script>';

let browser;
let evil; // the run with payloads (the latest)
let plain; // the one without
before(async () => {
  browser = await launch();
  const runs = JSON.parse((await tally(DIR, 'runs', '--format', 'json')).stdout);
  evil = runs.find((run) => run.label === IMG);
  plain = runs.find((run) => run.label !== IMG);
  assert.ok(evil && plain, 'test-browser.sh made both runs');
});
after(async () => { await browser?.close(); });

/** Waits until an element matching selector has exactly this text (as text). */
function untilText(page, selector, text) {
  return until(page, `${selector} to hold the text ${JSON.stringify(text)}`, ([css, want]) => [...document.querySelectorAll(css)]
    .some((node) => node.textContent === want), [selector, text], {
    describe: ([css]) => [...document.querySelectorAll(css)].map((node) => node.textContent).slice(0, 20),
  });
}

/** Waits until an element matching selector has a text that includes this line. */
function untilLine(page, selector, line) {
  return until(page, `${selector} to hold the line ${JSON.stringify(line)}`, ([css, want]) => [...document.querySelectorAll(css)]
    .some((node) => node.textContent.split('\n').includes(want)), [selector, line], {
    describe: ([css]) => [...document.querySelectorAll(css)].map((node) => node.textContent).slice(0, 20),
  });
}

test('xss: the runs table shows payloads as text', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'xss-runs', {}, async (page) => {
    await page.goto(BASE);
    const row = page.locator(`[data-testid=run-row][data-id="${evil.id}"]`);
    await row.waitFor();
    // label, the note flag, and the scalar named with a payload (a column of its own)
    await untilText(page, `[data-testid=run-row][data-id="${evil.id}"] .vt-cell`, IMG);
    const cells = await row.locator('.vt-cell').allTextContents();
    assert.ok(cells.filter((text) => text === IMG).length >= 2, `label and flag cells: ${JSON.stringify(cells)}`);
    await untilText(page, '.vt-head > .vt-cell', IMG);
    // The column chooser lists the scalar's name as text.
    await page.getByTestId('column-chooser').locator('summary').click();
    await untilText(page, '[data-testid=column-chooser] label', ` ${IMG}`);
    await assertNoInjection(page, 'runs table');
  });
});

test('xss: the run page shows payloads as text in every section', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'xss-run', {}, async (page) => {
    await page.goto(`${BASE}#/run/${evil.id}`);
    const summary = page.getByTestId('run-summary');
    await summary.waitFor();
    await untilText(page, '.run-header h1', `☆ ${IMG} completed`);
    await untilText(page, '[data-testid=run-summary] td', IMG); // label
    await untilText(page, '[data-testid=run-summary] td', `${IMG}, ${SCRIPT}`); // tags
    await untilText(page, '.tag-chips .tag', `${IMG}×`);
    assert.equal(await page.getByLabel('Label', { exact: true }).inputValue(), IMG);
    await untilText(page, '[data-testid=run-flags] td', IMG);
    await untilText(page, '.comments .comment-text', `${IMG} ${SCRIPT}`);
    // output: stdout and stderr lines
    await untilLine(page, '[data-testid=output] .stdout', SCRIPT);
    await untilLine(page, '[data-testid=output] .stdout', `the note was ${IMG}`);
    await untilLine(page, '[data-testid=output] .stderr', `${IMG} on stderr`);
    // the chart of the scalar named with a payload: caption and legend
    await untilText(page, '[data-testid=scalar-chart] figcaption', IMG);
    await until(page, 'the payload chart drawn with 2 points', (tag) => [...document.querySelectorAll('[data-testid=scalar-chart]')]
      .some((chart) => chart.dataset.tag === tag && chart.dataset.points === '2' && chart.querySelector('canvas')), IMG);
    await untilText(page, '[data-testid=scalar-chart] .u-legend .u-label', IMG);
    // source: the script, coloured, with its payload comment and strings
    await until(page, 'the source shown', (img) => document.querySelector('[data-testid=sources] pre.code')?.textContent.includes(img), IMG);
    const code = await page.locator('[data-testid=sources] pre.code').textContent();
    assert.ok(code.includes(`# ${IMG} in a comment`) && code.includes(`"${SCRIPT}"`), code);
    // files: names, then the text and CSV previews of the payload-named files
    const files = page.getByTestId('files');
    await untilText(page, '[data-testid=files] button', `${IMG}.txt`);
    await untilText(page, '[data-testid=files] button', `${IMG}.csv`);
    await files.getByRole('button', { name: `${IMG}.txt`, exact: true }).click();
    await untilText(page, '[data-testid=files] .preview-title strong', `${IMG}.txt`);
    await untilText(page, '[data-testid=files] pre.file-text', `${SCRIPT}\n`);
    await assertNoInjection(page, 'run page, text preview');
    await files.getByRole('button', { name: `${IMG}.csv`, exact: true }).click();
    await untilText(page, '[data-testid=files] table.csv td', IMG);
    await untilText(page, '[data-testid=files] table.csv td', SCRIPT);
    // An HTML file has no preview; its download link is a link, nothing is framed.
    await files.getByRole('button', { name: 'page.html', exact: true }).click();
    await untilText(page, '[data-testid=files] .preview-title strong', 'page.html');
    assert.equal(await page.locator('iframe, object, embed').count(), 0);
    await assertNoInjection(page, 'run page');
  });
});

test('xss: a payload file served by the API is sandboxed text, HTML a download', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'xss-files', {}, async (page) => {
    await page.goto(BASE);
    const text = await page.request.get(`${BASE}api/runs/${evil.id}/file/${encodeURIComponent(`${IMG}.txt`)}`);
    assert.equal(text.status(), 200);
    assert.match(text.headers()['content-type'], /^text\/plain/);
    assert.match(text.headers()['content-security-policy'], /^sandbox/);
    const html = await page.request.get(`${BASE}api/runs/${evil.id}/file/page.html`);
    assert.equal(html.status(), 200);
    assert.equal(html.headers()['content-type'], 'application/octet-stream');
    assert.match(html.headers()['content-disposition'], /^attachment/);
    // Opened in the browser it downloads; it is never rendered in the app's origin.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.evaluate((href) => {
        const link = document.createElement('a');
        link.href = href;
        document.body.append(link);
        link.click();
        link.remove();
      }, `/api/runs/${evil.id}/file/page.html`),
    ]);
    assert.equal(download.suggestedFilename(), 'page.html');
    await download.cancel();
    await assertNoInjection(page, 'after the download');
  });
});

test('xss: the compare page and its diffs show payloads as text', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'xss-compare', {}, async (page) => {
    await page.goto(`${BASE}#/compare/${plain.id},${evil.id}`);
    const table = page.getByTestId('compare-table');
    await table.waitFor();
    await untilText(page, '[data-testid=compare-table] td', IMG); // label and note flag
    const cells = await table.locator('td').allTextContents();
    assert.ok(cells.filter((cell) => cell === IMG).length >= 2, JSON.stringify(cells));
    await untilText(page, '[data-testid=compare-table] td', `${IMG}, ${SCRIPT}`); // tags
    await untilText(page, '[data-testid=compare-table] th', `${IMG} scalar`);
    await untilText(page, '[data-testid=scalar-chart] figcaption', IMG);
    // The output diff: the payload lines, as text.
    await page.locator('details > summary', { hasText: /^output: / }).click();
    await until(page, 'the output diff', ([img, script]) => {
      const diff = document.querySelector('pre.diff');
      return diff && diff.textContent.split('\n').includes(` ${script}`)
        && [...diff.querySelectorAll('span.add')].some((line) => line.textContent === `+the note was ${img}`);
    }, [IMG, SCRIPT], { describe: () => document.querySelector('pre.diff')?.textContent });
    await page.locator('details > summary', { hasText: /^sources: / }).click();
    await until(page, 'the sources diff', () => [...document.querySelectorAll('details')]
      .some((node) => node.querySelector('summary')?.textContent.startsWith('sources:') && node.querySelector('.note, .diff-files')));
    await assertNoInjection(page, 'compare page');
  });
});

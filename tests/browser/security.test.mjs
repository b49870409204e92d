// What a browser can reach: no file outside a run's directory, whatever the spelling of
// the path; and behind --token, nothing without the token, everything with it (as
// ?token= once, then by the cookie that sets).

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { TEST_TIMEOUT_MS, env, launch, untilTable, withPage } from './helpers.mjs';

const BASE = env('TALLY_MAIN_URL');
const TOKEN_URL = env('TALLY_TOKEN_URL'); // the same runs, behind --token (no ?token= on it)
const TOKEN = env('TALLY_TOKEN');
const SECRET = env('TALLY_SECRET'); // in secret.txt beside runs/ and in runs/secret.txt
const TOTAL = 32;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** GET with the path sent exactly as written (no URL normalisation of .. or %2e). */
function rawGet(base, path) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'GET', headers: { Host: `${hostname}:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: no answer in 30 s`)));
    req.end();
  });
}

// Ways out of the run "files" (runs/ID/) to ../../secret.txt, ../secret.txt and /etc/passwd.
const ESCAPES = [
  '../../secret.txt',
  '%2e%2e/%2e%2e/secret.txt',
  '%2E%2E/%2E%2E/secret.txt',
  '..%2f..%2fsecret.txt',
  '%2e%2e%2f%2e%2e%2fsecret.txt',
  '..%2F..%2Fsecret.txt',
  'plots/../../../secret.txt',
  'plots%2f..%2f..%2f..%2fsecret.txt',
  '../secret.txt',
  '..%2fsecret.txt',
  '.%2e/.%2e/secret.txt',
  '..%5c..%5csecret.txt',
  '%252e%252e/%252e%252e/secret.txt',
  '/etc/passwd',
  '%2fetc%2fpasswd',
  'leak.txt', // a symbolic link to ../../secret.txt
  '.tally/run.json',
];

test('security: a run\'s files cannot lead out of its directory (browser requests)', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'security-traversal', {}, async (page) => {
    await page.goto(BASE);
    await untilTable(page);
    // The route works: a file of the run is there.
    const fine = await page.request.get(`${BASE}api/runs/files/file/notes.txt`);
    assert.equal(fine.status(), 200);
    assert.equal(await fine.text(), 'hello\n');
    for (const escape of ESCAPES) {
      const answer = await page.request.get(`${BASE}api/runs/files/file/${escape}`);
      const body = await answer.text();
      assert.ok([403, 404].includes(answer.status()), `${escape}: status ${answer.status()}`);
      assert.ok(!body.includes(SECRET) && !body.includes('root:'), `${escape}: the answer leaks: ${body.slice(0, 200)}`);
    }
    // The same from the page's own scripts (fetch from the app's origin).
    const fromPage = await page.evaluate(async (escapes) => Promise.all(escapes.map(async (escape) => {
      const response = await fetch(`/api/runs/files/file/${escape}`);
      return { escape, status: response.status, body: await response.text() };
    })), ESCAPES);
    for (const { escape, status, body } of fromPage) {
      assert.ok([403, 404].includes(status), `fetch ${escape}: status ${status}`);
      assert.ok(!body.includes(SECRET) && !body.includes('root:'), `fetch ${escape}: the answer leaks`);
    }
  });
});

test('security: a run\'s files cannot lead out of its directory (paths sent as written)', { timeout: TEST_TIMEOUT_MS }, async () => {
  // Browsers resolve ../ and %2e%2e/ before sending; a client need not.
  for (const escape of ESCAPES) {
    const { status, body } = await rawGet(BASE, `/api/runs/files/file/${escape}`);
    assert.ok([403, 404].includes(status), `${escape}: status ${status}`);
    assert.ok(!body.includes(SECRET) && !body.includes('root:'), `${escape}: the answer leaks: ${body.slice(0, 200)}`);
  }
  for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt',
    '/api/runs/../../secret.txt', '/api/runs/files/source/../../secret.txt', '/api/runs/files/source/..%2f..%2fsecret.txt']) {
    const { status, body } = await rawGet(BASE, path);
    assert.ok(status >= 400, `${path}: status ${status}`);
    assert.ok(!body.includes(SECRET), `${path}: the answer leaks: ${body.slice(0, 200)}`);
  }
});

test('security: behind a token, nothing is shown or served without it', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'security-no-token', {}, async (page) => {
    const response = await page.goto(TOKEN_URL);
    assert.equal(response.status(), 403);
    assert.equal(await page.locator('[data-testid=runs-table]').count(), 0);
    assert.equal(await page.locator('[data-testid=run-row]').count(), 0);
    const text = await page.locator('body').textContent();
    assert.ok(!text.includes('curve') && !text.includes('lr='), `the page shows run data: ${text.slice(0, 200)}`);
    for (const path of ['api/info', 'api/runs', 'api/columns', 'api/runs/curve', 'api/runs/curve/scalars',
      'api/runs/files/file/notes.txt', 'api/events', 'assets/js/main.js', `api/runs?token=${TOKEN}x`]) {
      const answer = await page.request.get(`${TOKEN_URL}${path}`, { timeout: 30_000 });
      assert.equal(answer.status(), 403, `${path}: status ${answer.status()}`);
      const body = await answer.text();
      assert.ok(!body.includes('curve') && !body.includes('"runs"'), `${path}: the answer has run data`);
    }
    // A wrong token is no better.
    assert.equal((await page.goto(`${TOKEN_URL}?token=wrong-token-x`)).status(), 403);
    assert.equal((await page.context().cookies()).length, 0, 'no cookie was set');
  });
});

test('security: with ?token= the app works, and then by its cookie alone', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withPage(browser, 'security-token', {}, async (page) => {
    await page.goto(`${TOKEN_URL}?token=${TOKEN}`);
    await untilAllRuns(page);
    const cookies = await page.context().cookies();
    const cookie = cookies.find((c) => c.name === 'tally_token');
    assert.ok(cookie, `the tally_token cookie is set: ${JSON.stringify(cookies)}`);
    assert.equal(cookie.value, TOKEN);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    // The cookie is not readable by the page's scripts.
    assert.equal(await page.evaluate(() => document.cookie), '');
    // A plain URL now works by the cookie: the table and a run page with its chart.
    await page.goto('about:blank');
    await page.goto(TOKEN_URL);
    await untilAllRuns(page);
    await page.goto(`${TOKEN_URL}#/run/curve`);
    await page.locator('[data-testid=scalar-chart][data-tag=loss][data-points="240"]').waitFor();
    assert.equal((await page.request.get(`${TOKEN_URL}api/runs`)).status(), 200);
  });
});

/** Waits for the settled table of all the runs. */
async function untilAllRuns(page) {
  await untilTable(page);
  await page.locator('.count', { hasText: `${TOTAL} runs` }).waitFor();
}

// Shared by the *.test.mjs files: the browser (Debian's chromium, never a downloaded
// one), the environment test-browser.sh sets, waiting for conditions in a page, and the
// checks that run data stayed text.

import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);

// Every wait is for a condition, never for a fixed time; the limits are generous because
// the machine may be slow or loaded.
export const WAIT_MS = 30_000;
export const TEST_TIMEOUT_MS = 120_000;

/** An environment variable that test-browser.sh must have set. */
export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/browser/test-browser.sh`);
  return value;
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.TALLY_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 60_000,
  });
}

/** `tally ARGS…` in directory cwd; resolves to {stdout, stderr}. */
export function tally(cwd, ...args) {
  return run(env('TALLY_BIN'), args, { cwd, timeout: 60_000 });
}

/**
 * A page in a fresh context that records what a test may want to know afterwards:
 * uncaught exceptions (errors), dialogs (alert/confirm/prompt) and Content-Security-Policy
 * violations (an injected inline handler or script would cause one).
 */
export async function openPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample || ''}`);
    });
  });
  const page = await context.newPage();
  page.errors = [];
  page.dialogs = [];
  page.on('pageerror', (error) => page.errors.push(String(error && error.stack ? error.stack : error)));
  page.on('dialog', (dialog) => {
    page.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return page;
}

/** Closes the page's context; on failure, saves a screenshot of it first (for diagnosis). */
export async function closePage(page, failedName) {
  if (!page) return;
  if (failedName && process.env.TALLY_SCREENSHOTS) {
    try {
      mkdirSync(process.env.TALLY_SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(process.env.TALLY_SCREENSHOTS, `failed-${failedName}.png`), fullPage: true });
    } catch { /* the page may be gone */ }
  }
  await page.context().close().catch(() => {});
}

/**
 * Runs body(page) with a fresh page, closing it afterwards; a failure's message gets the
 * page's URL and uncaught errors appended. Uncaught errors in the page fail the test too.
 */
export async function withPage(browser, name, contextOptions, body) {
  const page = await openPage(browser, contextOptions);
  let failed = true;
  try {
    await body(page);
    assert(page.errors.length === 0, `uncaught errors in the page:\n${page.errors.join('\n')}`);
    failed = false;
  } catch (error) {
    error.message += `\n  page: ${page.url()}${page.errors.length ? `\n  page errors:\n    ${page.errors.join('\n    ')}` : ''}`;
    throw error;
  } finally {
    await closePage(page, failed ? name : null);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * Waits until fn(arg) is truthy in the page (polled every 100 ms) and returns its value;
 * on timeout the error says what was awaited and what describe(arg) saw last.
 */
export async function until(page, what, fn, arg, { timeout = WAIT_MS, describe } = {}) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await handle.jsonValue();
  } catch (error) {
    let seen = '';
    if (describe) {
      try { seen = `; last seen: ${JSON.stringify(await page.evaluate(describe, arg))}`; } catch { /* page gone */ }
    }
    throw new Error(`timed out after ${timeout} ms waiting for ${what}${seen}\n${error.message.split('\n')[0]}`);
  }
}

/** The ids of the run rows in the DOM, top to bottom. */
export function rowIds(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-testid=run-row]')]
    .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
    .map((row) => row.dataset.id));
}

// The runs table draws rows as soon as they load, and again (placeholders first) once
// /api/columns has answered and the column chooser is in place: only then is it settled.
const TABLE_STATE = () => ({
  chooser: Boolean(document.querySelector('[data-testid=column-chooser]')),
  count: document.querySelector('.count')?.textContent,
  rows: document.querySelectorAll('[data-testid=run-row]').length,
  loading: document.querySelectorAll('.vt-row.loading').length,
  error: document.querySelector('[data-testid=query-error]')?.textContent,
});

/** Waits until the runs table has its columns and shows loaded rows (no placeholders). */
export function untilTable(page) {
  return until(page, 'the runs table with its columns and rows', () => Boolean(
    document.querySelector('[data-testid=column-chooser]')
    && document.querySelector('[data-testid=run-row]') && !document.querySelector('.vt-row.loading'),
  ), null, { describe: TABLE_STATE });
}

/** Waits until the settled runs table says "N runs" and shows n rows (all of them when they fit). */
export function untilRows(page, total, shown = total) {
  return until(page, `the runs table to show ${shown} of ${total} runs`, ([t, n]) => {
    const count = document.querySelector('.count');
    return Boolean(document.querySelector('[data-testid=column-chooser]'))
      && count && count.textContent === `${t} run${t === 1 ? '' : 's'}`
      && document.querySelectorAll('[data-testid=run-row]').length === n
      && !document.querySelector('.vt-row.loading');
  }, [total, shown], { describe: TABLE_STATE });
}

/**
 * What must hold on every page that showed run data carrying payloads: no payload ran (no
 * window.__xss, no dialog, no CSP violation), and none became markup (no img[src=x], no
 * element with an inline handler, no script but the app's own).
 */
export async function assertNoInjection(page, where) {
  const seen = await page.evaluate(() => ({
    xss: typeof window.__xss === 'undefined' ? 'undefined' : String(window.__xss),
    images: document.querySelectorAll('img[src="x"]').length,
    handlers: [...document.querySelectorAll('*')].filter((node) => [...node.attributes]
      .some((attribute) => attribute.name.startsWith('on'))).map((node) => node.outerHTML.slice(0, 120)),
    scripts: [...document.querySelectorAll('script')].filter((script) => !script.src
      || !new URL(script.src).pathname.startsWith('/assets/')).map((script) => script.outerHTML.slice(0, 120)),
    csp: window.__cspViolations || [],
  }));
  const problems = [];
  if (seen.xss !== 'undefined') problems.push(`window.__xss = ${seen.xss}`);
  if (seen.images) problems.push(`${seen.images} img[src="x"] element(s)`);
  if (seen.handlers.length) problems.push(`inline handlers: ${seen.handlers.join(' | ')}`);
  if (seen.scripts.length) problems.push(`foreign scripts: ${seen.scripts.join(' | ')}`);
  if (seen.csp.length) problems.push(`CSP violations: ${seen.csp.join(' | ')}`);
  if (page.dialogs.length) problems.push(`dialogs: ${page.dialogs.join(' | ')}`);
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
}

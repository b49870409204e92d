// How soon the runs page is usable in headless Chromium: from navigation to
// the first rows of the table, and the frames of a fast scroll through the
// virtualised table.  Medians of fresh page loads.
//
// usage: node bench/view-browser.mjs URL [LOADS]
// (playwright-core from tests/browser/node_modules: tests/browser/test-browser.sh installs it)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/browser/package.json'));
const { chromium } = require('playwright-core');

const url = process.argv[2];
const loads = Number(process.argv[3] || 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const times = [];
let frames = [];
for (let i = 0; i < loads; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const start = Date.now();
  await page.goto(`${url}#/runs`);
  await page.waitForSelector('[data-testid=run-row]', { timeout: 30000 });
  times.push(Date.now() - start);
  if (i === loads - 1) { // scroll from top to bottom in 40 steps, timing the frames
    frames = await page.evaluate(async () => {
      const scroller = document.querySelector('[data-testid=runs-table] .vt-scroll')
        || document.querySelector('[data-testid=runs-table]');
      const gaps = [];
      let last = performance.now();
      for (let step = 1; step <= 40; step++) {
        scroller.scrollTop = (scroller.scrollHeight * step) / 40;
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const now = performance.now();
        gaps.push(now - last);
        last = now;
      }
      return gaps;
    });
  }
  await context.close();
}
await browser.close();
console.log(`runs page, navigation to first rows: median ${median(times)} ms (of ${loads}: ${times.join(', ')})`);
console.log(`fast scroll, 40 jumps: frame median ${median(frames).toFixed(1)} ms, worst ${Math.max(...frames).toFixed(1)} ms`);

// The entry point: theme, navigation, server info, and the routes of docs/view.md.

import { info } from './api.js';
import { compareView } from './compare.js';
import { route, start } from './router.js';
import { runView } from './run.js';
import { runsView } from './runs.js';
import { sweepView, sweepsView } from './sweeps.js';
import { initTheme } from './theme.js';

function closeNav() {
  document.getElementById('nav').classList.remove('open');
  document.querySelector('.nav-toggle').setAttribute('aria-expanded', 'false');
}

function initNav() {
  const toggle = document.querySelector('.nav-toggle');
  const nav = document.getElementById('nav');
  toggle.addEventListener('click', () => {
    const open = nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
}

/** Marks the current view's link; on a phone the menu closes once a view is chosen. */
function markCurrent(name) {
  closeNav();
  const section = name === 'sweep' ? 'sweeps' : name === 'run' || name === 'compare' ? 'runs' : name;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function showServerInfo() {
  info().then((data) => {
    const box = document.getElementById('server-info');
    box.textContent = data.runs_dir || '';
    box.title = `tally ${data.version || ''} · ${data.runs_dir || ''}`;
  }).catch(() => { /* the views report errors themselves */ });
}

initTheme();
initNav();
showServerInfo();
route(/^\/?$/, runsView, 'runs');
route(/^\/runs\/?$/, runsView, 'runs');
route(/^\/run\/(.+)$/, runView, 'run');
route(/^\/compare\/(.+)$/, compareView, 'compare');
route(/^\/sweeps\/?$/, sweepsView, 'sweeps');
route(/^\/sweep\/(.+)$/, sweepView, 'sweep');
start(document.getElementById('view'), markCurrent);

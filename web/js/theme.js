// Light and dark themes: the system's choice (prefers-color-scheme) until the toggle button
// picks one, which is then remembered. Charts redraw on the `tally-theme` window event,
// because uPlot's axis colours are set when a chart is built.

import { store } from './util.js';

const media = window.matchMedia('(prefers-color-scheme: dark)');

function current() {
  const chosen = store.get('theme', null);
  if (chosen === 'dark' || chosen === 'light') return chosen;
  return media.matches ? 'dark' : 'light';
}

function apply(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.querySelector('[data-testid="theme-toggle"]');
  if (button) {
    button.setAttribute('aria-pressed', String(theme === 'dark'));
    button.title = theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme';
  }
  window.dispatchEvent(new Event('tally-theme'));
}

export function initTheme() {
  apply(current());
  media.addEventListener('change', () => apply(current()));
  const button = document.querySelector('[data-testid="theme-toggle"]');
  if (button) {
    button.addEventListener('click', () => {
      const next = current() === 'dark' ? 'light' : 'dark';
      store.set('theme', next);
      apply(next);
    });
  }
}

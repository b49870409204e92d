// #/sweeps and #/sweep/ID: the sweeps of `tally tune` with their progress and best so far,
// and one sweep's trials; both reload when the index changes (a trial started or ended).

import { api } from './api.js';
import { follow } from './live.js';
import {
  debounce, el, errorBox, fmtDuration, fmtNumber, fmtTime, fmtValue, runLink, scrollBox, statusBadge,
} from './util.js';

const RELOAD_DELAY_MS = 300;

/** Completed, pruned (stopped early: ended, not failed) and failed trials of `total`. */
function progressBar(done, pruned, failed, total) {
  const ended = done + pruned;
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0',
    'aria-valuemax': String(total || 0), 'aria-valuenow': String(ended) });
  const fraction = (n) => `${total ? Math.min(100, (100 * n) / total) : 0}%`;
  const doneBar = el('div', { class: 'done' });
  const prunedBar = el('div', { class: 'pruned' });
  const failedBar = el('div', { class: 'failed' });
  doneBar.style.width = fraction(done);
  prunedBar.style.width = fraction(pruned);
  failedBar.style.width = fraction(failed);
  bar.append(doneBar, prunedBar, failedBar);
  return el('div', { class: 'progress-line' }, bar,
    el('span', { class: 'note' },
      `${ended}/${total ?? '?'}${pruned ? `, ${pruned} pruned` : ''}${failed ? `, ${failed} failed` : ''}`));
}

/** Settings as "10 startup trials, 24 candidates": the record's object less its name. */
function settingsText(settings, known) {
  if (!settings || typeof settings !== 'object') return '';
  const parts = known.map(([key, text]) => (key in settings ? text(settings[key]) : '')).filter(Boolean);
  const knownKeys = new Set(['name', ...known.map(([key]) => key)]);
  for (const [key, value] of Object.entries(settings)) {
    if (!knownKeys.has(key)) parts.push(`${key.replace(/_/g, ' ')} ${fmtValue(value)}`);
  }
  return parts.join(', ');
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** "tpe (10 random start-up trials, 24 candidates, univariate)"; the strategy alone for older records. */
export function optimizerText(sweep) {
  const opt = sweep.optimizer;
  const name = (opt && typeof opt.name === 'string' && opt.name) || sweep.strategy || '';
  const known = name === 'tpe' ? [
    ['startup_trials', (v) => plural(v, 'random start-up trial', 'random start-up trials')],
    ['candidates', (v) => plural(v, 'candidate', 'candidates')],
    ['multivariate', (v) => (typeof v === 'boolean' ? (v ? 'multivariate' : 'univariate') : '')],
    ['constant_liar', (v) => (v === true ? 'constant liar' : '')],
  ] : [];
  const settings = settingsText(opt, known);
  return settings ? `${name} (${settings})` : name;
}

/** "median (after 5 completed trials, from step 0; SIGKILL 10 s after SIGTERM)", "none", or null (older records). */
export function prunerText(sweep) {
  if (!('pruner' in sweep)) return null;
  const p = sweep.pruner;
  if (typeof p === 'string') return p;
  if (!p || typeof p !== 'object') return 'none';
  const known = {
    median: [
      ['startup_trials', (v) => `after ${plural(v, 'completed trial', 'completed trials')}`],
      ['warmup_steps', (v) => `from step ${v}`],
    ],
    asha: [
      ['min_step', (v) => `rungs from step ${v == null ? 'auto' : v}`],
      ['reduction_factor', (v) => `reduction factor ${v}`],
    ],
  }[p.name] || [];
  let settings = settingsText(p, [...known, ['grace_seconds', () => '']]);
  if (typeof p.grace_seconds === 'number') {
    settings += `${settings ? '; ' : ''}SIGKILL ${p.grace_seconds} s after SIGTERM`;
  }
  return `${p.name || '?'}${settings ? ` (${settings})` : ''}`;
}

/** Reloads with load() now and whenever a `runs` event arrives; returns the cleanup. */
function followRuns(load) {
  const reload = debounce(load, RELOAD_DELAY_MS);
  const events = follow(() => ({}), { runs: reload, reconnected: reload });
  load();
  return () => {
    reload.cancel();
    events.close();
  };
}

export function sweepsView(container) {
  container.append(el('h1', null, 'Sweeps'));
  const body = el('div');
  container.append(body);
  return followRuns(async () => {
    try {
      const answer = await api.sweeps();
      const sweeps = Array.isArray(answer) ? answer : answer.sweeps || [];
      if (!sweeps.length) {
        body.replaceChildren(el('p', { class: 'note', dataset: { testid: 'sweeps-table' } },
          'No sweeps yet: `tally tune train.py lr=[0.1,0.01]` starts one.'));
        return;
      }
      body.replaceChildren(scrollBox(el('table', { dataset: { testid: 'sweeps-table' } },
        el('thead', null, el('tr', null, ['sweep', 'status', 'script', 'description', 'created', 'progress', 'best']
          .map((h) => el('th', null, h)))),
        el('tbody', null, sweeps.map((s) => el('tr', { dataset: { id: s.id } },
          el('td', null, el('a', { href: `#/sweep/${encodeURIComponent(s.id)}` }, s.id)),
          el('td', null, statusBadge(s.status)),
          el('td', null, s.script || ''),
          el('td', null, s.description || ''),
          el('td', null, fmtTime(s.created, false)),
          el('td', null, progressBar(s.completed || 0, s.pruned || 0, s.failed || 0, s.trials)),
          el('td', null, s.best_run ? [`${s.objective || ''} ${fmtNumber(s.best_value)} `, runLink(s.best_run)] : '')))))));
    } catch (error) {
      body.replaceChildren(errorBox(error));
    }
  });
}

/** The best trial: the server's `best` is the trial's number (sweep.json's best_trial). */
function bestTrial(answer) {
  const { best, trials = [] } = answer;
  if (best == null) return null;
  return trials.find((t) => t.trial === best) || null;
}

function trialsTable(answer) {
  const trials = answer.trials || [];
  const best = bestTrial(answer);
  const flagNames = [...new Set(trials.flatMap((t) => Object.keys(t.flags || {})))];
  return scrollBox(el('table', { dataset: { testid: 'sweep-trials' } },
    el('thead', null, el('tr', null, el('th', null, 'trial'), el('th', null, 'status'),
      flagNames.map((name) => el('th', null, name)), el('th', null, answer.objective || 'objective'),
      el('th', null, 'time'), el('th', null, 'run'))),
    el('tbody', null, trials.map((t) => el('tr', { class: t === best ? 'best' : '' },
      el('td', { class: 'num' }, String(t.trial)),
      el('td', null, t.status ? statusBadge(t.status) : el('span', { class: 'note' }, 'planned')),
      flagNames.map((name) => el('td', null, fmtValue((t.flags || {})[name]))),
      el('td', { class: `num${t === best ? ' best' : ''}` }, fmtNumber(t.objective)),
      el('td', { class: 'num' }, fmtDuration(t.duration_ms)),
      el('td', null, t.run_id ? runLink(t.run_id) : ''))))));
}

export function sweepView(container, [id]) {
  const head = el('div');
  const body = el('div');
  container.append(head, body);
  return followRuns(async () => {
    try {
      const answer = await api.sweep(id);
      const sweep = answer.sweep || {};
      const trials = answer.trials || [];
      const planned = Math.max((sweep.trials || []).length, sweep.max_trials || 0, trials.length);
      const done = trials.filter((t) => t.status === 'completed').length;
      const pruned = trials.filter((t) => t.status === 'pruned').length;
      const failed = trials.filter((t) => t.status === 'error' || t.status === 'terminated').length;
      const pruner = prunerText(sweep);
      const best = bestTrial(answer);
      const goal = answer.maximize ? 'maximized' : 'minimized';
      head.replaceChildren(
        el('h1', null, `Sweep ${sweep.id || id} `, statusBadge(sweep.status)),
        el('p', { class: 'sub' }, [sweep.description, sweep.script || (Array.isArray(sweep.command) ? sweep.command.join(' ') : sweep.command),
          optimizerText(sweep), pruner ? `pruner ${pruner}` : '',
          sweep.created ? `created ${fmtTime(sweep.created, false)}` : ''].filter(Boolean).join(' · ')),
        progressBar(done, pruned, failed, planned),
        el('p', { class: 'best-so-far' }, best
          ? ['Best so far: trial ', String(best.trial), ', ', answer.objective || '', ' ', fmtNumber(best.objective),
            ` (${goal}) `, best.run_id ? runLink(best.run_id) : '']
          : `No best yet${answer.objective ? ` (${answer.objective}, ${goal})` : ''}.`),
        trials.length > 1 ? el('p', null, el('a', {
          href: `#/compare/${trials.filter((t) => t.run_id).map((t) => encodeURIComponent(t.run_id)).join(',')}`,
        }, 'Compare the trials')) : null);
      body.replaceChildren(trialsTable(answer));
    } catch (error) {
      body.replaceChildren(errorBox(error));
    }
  });
}

/*
 * Pruners: whether a running trial is hopeless, from the objective it has
 * logged so far (step by step) against the other trials'.  The rules are
 * Optuna's defaults:
 *
 *  - median: stop a trial whose best value so far is worse than the median
 *    of the completed trials' values at the same step — once `startup`
 *    trials have completed, and from step `warmup` on;
 *  - asha (asynchronous successive halving): rungs at steps
 *    min_step · factor^k; a trial reaching a rung goes on only if its value
 *    there is in the best 1/factor of every trial's value at that rung (the
 *    first ones: if it is the best).  min_step is 1/100 of the longest
 *    completed trial's last step (at least 1) unless given, estimated once
 *    when the first trial completes and kept; before that, nothing is pruned.
 *
 * Two adaptations for trials that run side by side: a trial that has come
 * as far as the longest completed one is not stopped (it is ending: that
 * would save nothing and lose its result), and ASHA records but does not
 * judge the rungs a trial passed before the first rung was known.
 *
 * Values are oriented: smaller is better (a maximized objective arrives
 * negated).  As in Optuna, a trial whose values are all NaN (median), or
 * whose value at a rung is NaN (ASHA), is hopeless, and NaN values of other
 * trials are not compared with.
 */
#include "lib/sweep/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

typedef struct {
	int64_t *steps;
	double *values;      /* the value at each step (a step logged again: the latest) */
	size_t n, cap;
	bool completed;
	double *rungs;       /* asha: the value recorded at each rung reached */
	size_t n_rungs;
	int64_t unjudged_to; /* asha: rungs up to this step were passed before any rung was known */
} curve;

struct tally_pruner {
	tally_pruner_kind kind;
	long startup, warmup;       /* median */
	long min_step, factor;      /* asha; min_step 0: from the completed trials, once, then kept */
	curve *trials;
	size_t n_trials;
	size_t n_completed;
	int64_t longest_completed;  /* the last step of the longest completed trial */
	char objective[128];
	bool maximize;
};

static long setting(const json_t *settings, const char *key, long fallback)
{
	json_t *v = json_object_get(settings, key);
	return json_is_integer(v) ? (long)json_integer_value(v) : fallback;
}

int tally__pruner_new(tally_pruner **out, const json_t *settings, const char *objective, bool maximize)
{
	*out = NULL;
	const char *name = json_string_value(json_object_get(settings, "name"));
	tally_pruner *p = calloc(1, sizeof *p);
	if (!p)
		return tally__error_oom();
	if (name && !strcmp(name, "median")) {
		p->kind = TALLY_PRUNE_MEDIAN;
		p->startup = setting(settings, "startup_trials", TALLY_PRUNE_STARTUP);
		p->warmup = setting(settings, "warmup_steps", 0);
	} else if (name && !strcmp(name, "asha")) {
		p->kind = TALLY_PRUNE_ASHA;
		p->min_step = setting(settings, "min_step", 0);
		if (p->min_step <= 0) /* estimated earlier (a resumed sweep): kept as it was */
			p->min_step = setting(settings, "min_step_estimated", 0);
		p->factor = setting(settings, "reduction_factor", TALLY_PRUNE_FACTOR);
		if (p->factor < 2)
			p->factor = 2;
	} else {
		free(p);
		return tally__error(TALLY_EINVALID, "no pruner '%s' — use median or asha", name ? name : "");
	}
	snprintf(p->objective, sizeof p->objective, "%s", objective ? objective : "");
	p->maximize = maximize;
	*out = p;
	return 0;
}

void tally__pruner_free(tally_pruner *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_trials; i++) {
		free(p->trials[i].steps);
		free(p->trials[i].values);
		free(p->trials[i].rungs);
	}
	free(p->trials);
	free(p);
}

static curve *trial_curve(tally_pruner *p, size_t trial)
{
	if (trial >= p->n_trials) {
		size_t n = trial + 1 > 2 * p->n_trials ? trial + 1 : 2 * p->n_trials;
		curve *grown = realloc(p->trials, n * sizeof *grown);
		if (!grown)
			return NULL;
		memset(grown + p->n_trials, 0, (n - p->n_trials) * sizeof *grown);
		p->trials = grown;
		p->n_trials = n;
	}
	return &p->trials[trial];
}

int tally__pruner_report(tally_pruner *p, size_t trial, int64_t step, double value)
{
	curve *c = trial_curve(p, trial);
	if (!c)
		return tally__error_oom();
	if (c->n && c->steps[c->n - 1] == step) {
		c->values[c->n - 1] = value;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		int64_t *steps = realloc(c->steps, cap * sizeof *steps);
		if (steps)
			c->steps = steps;
		double *values = realloc(c->values, cap * sizeof *values);
		if (values)
			c->values = values;
		if (!steps || !values)
			return tally__error_oom();
		c->cap = cap;
	}
	c->steps[c->n] = step;
	c->values[c->n++] = value;
	return 0;
}

void tally__pruner_completed(tally_pruner *p, size_t trial)
{
	curve *c = trial_curve(p, trial);
	if (!c || c->completed)
		return;
	c->completed = true;
	p->n_completed++;
	if (c->n && c->steps[c->n - 1] > p->longest_completed)
		p->longest_completed = c->steps[c->n - 1];
}

/* The value a curve logged at `step` exactly (steps may come in any order). */
static bool value_at(const curve *c, int64_t step, double *value)
{
	for (size_t i = c->n; i-- > 0;)
		if (c->steps[i] == step) {
			*value = c->values[i];
			return true;
		}
	return false;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The objective's value as the user sees it (a maximized one un-negated). */
static double shown(const tally_pruner *p, double v)
{
	return p->maximize ? -v : v;
}

static bool median_rule(tally_pruner *p, const curve *c, char *why, size_t size)
{
	if (p->n_completed < (size_t)(p->startup > 0 ? p->startup : 0) || !c->n)
		return false;
	int64_t step = c->steps[c->n - 1];
	if (step < p->warmup)
		return false;
	double best = HUGE_VAL;
	bool all_nan = true;
	for (size_t i = 0; i < c->n; i++) {
		all_nan &= isnan(c->values[i]);
		if (c->values[i] < best) /* false for NaN: the best of the numbers */
			best = c->values[i];
	}
	double *others = malloc((p->n_completed ? p->n_completed : 1) * sizeof *others);
	size_t n = 0;
	for (size_t t = 0; others && t < p->n_trials; t++)
		if (p->trials[t].completed && &p->trials[t] != c && value_at(&p->trials[t], step, &others[n]) &&
		    !isnan(others[n]))
			n++;
	bool prune = false;
	if (all_nan) {
		snprintf(why, size, "%s is NaN at every step up to %lld", p->objective, (long long)step);
		prune = true;
	} else if (n) {
		qsort(others, n, sizeof *others, by_value);
		double median = n % 2 ? others[n / 2] : 0.5 * (others[n / 2 - 1] + others[n / 2]);
		if (best > median) {
			snprintf(why, size, "its best %s by step %lld, %.6g, is worse than the median %.6g of %zu completed "
			         "trial%s at that step", p->objective, (long long)step, shown(p, best), shown(p, median), n,
			         n == 1 ? "" : "s");
			prune = true;
		}
	}
	free(others);
	return prune;
}

/* ASHA's first rung; 0 until it is known.  Optuna's "auto": 1/100 of the
 * longest completed trial when the first completes, then kept, so that every
 * trial's rung k is at the same step. */
int64_t tally__pruner_min_step(tally_pruner *p)
{
	if (p->min_step <= 0 && p->n_completed) {
		p->min_step = p->longest_completed / 100 > 1 ? p->longest_completed / 100 : 1;
		/* Trials running now passed their first rungs before there were any:
		 * those are recorded (they count for the others) but not judged, as
		 * the first trials of a sequential sweep run unjudged. */
		for (size_t t = 0; t < p->n_trials; t++)
			if (!p->trials[t].completed && p->trials[t].n)
				p->trials[t].unjudged_to = p->trials[t].steps[p->trials[t].n - 1];
	}
	return p->min_step > 0 ? p->min_step : 0;
}

/* Whether the trial has come as far as the longest completed one: it is
 * ending, and stopping it would save nothing but lose its result. */
static bool at_the_end(const tally_pruner *p, const curve *c)
{
	return p->n_completed && c->n && c->steps[c->n - 1] >= p->longest_completed;
}

/* A trial is judged at each rung it reached by its latest value, as Optuna
 * judges it when it reports (a trial that ran on before any completed, with
 * the first rung still unknown, keeps the result it reached meanwhile:
 * judging it by its value back at the rung measured worse, bench/prune.sh). */
static bool asha_rule(tally_pruner *p, curve *c, char *why, size_t size)
{
	int64_t min_step = tally__pruner_min_step(p);
	if (!min_step || !c->n)
		return false;
	int64_t step = c->steps[c->n - 1];
	double value = c->values[c->n - 1];
	for (;;) {
		double rung_step = (double)min_step * pow((double)p->factor, (double)c->n_rungs);
		if ((double)step < rung_step)
			return false;
		if (isnan(value)) {
			snprintf(why, size, "%s is NaN at step %lld", p->objective, (long long)step);
			return true;
		}
		double *rungs = realloc(c->rungs, (c->n_rungs + 1) * sizeof *rungs);
		if (!rungs)
			return false;
		c->rungs = rungs;
		size_t rung = c->n_rungs;
		if (c->unjudged_to > 0 && rung_step <= (double)c->unjudged_to) { /* passed before rungs existed */
			size_t i;
			for (i = 0; i < c->n && (double)c->steps[i] < rung_step; i++)
				;
			c->rungs[c->n_rungs++] = i < c->n ? c->values[i] : value;
			continue;
		}
		c->rungs[c->n_rungs++] = value;
		/* every trial's value at this rung, its own included */
		double *competing = malloc(p->n_trials * sizeof *competing);
		if (!competing)
			return false;
		size_t n = 0;
		for (size_t t = 0; t < p->n_trials; t++)
			if (p->trials[t].n_rungs > rung && !isnan(p->trials[t].rungs[rung]))
				competing[n++] = p->trials[t].rungs[rung];
		qsort(competing, n, sizeof *competing, by_value);
		size_t k = n / (size_t)p->factor;
		double bar = competing[k ? k - 1 : 0];
		free(competing);
		if (value > bar) {
			snprintf(why, size, "%s %.6g at step %lld is not in the best 1/%ld of the %zu trials that reached rung %zu "
			         "(step %.0f)", p->objective, shown(p, value), (long long)step, p->factor, n, rung + 1, rung_step);
			return true;
		}
	}
}

bool tally__pruner_check(tally_pruner *p, size_t trial, char *why, size_t size)
{
	curve *c = trial_curve(p, trial);
	if (!c || c->completed || at_the_end(p, c))
		return false;
	return p->kind == TALLY_PRUNE_MEDIAN ? median_rule(p, c, why, size) : asha_rule(p, c, why, size);
}

void tally__pruner_replay(tally_pruner *p, size_t trial)
{
	curve *c = trial_curve(p, trial);
	if (!c || p->kind != TALLY_PRUNE_ASHA || !c->n)
		return;
	/* a trial that ran before (a resumed sweep) or ended between two looks: its values at the rungs it reached */
	int64_t min_step = tally__pruner_min_step(p);
	if (!min_step)
		return;
	for (size_t rung = 0;; rung++) {
		double rung_step = (double)min_step * pow((double)p->factor, (double)rung);
		size_t first = c->n;
		for (size_t i = 0; i < c->n; i++)
			if ((double)c->steps[i] >= rung_step && (first == c->n || c->steps[i] < c->steps[first]))
				first = i;
		if (first == c->n || isnan(c->values[first])) /* a NaN there: it would have stopped */
			return;
		double *rungs = realloc(c->rungs, (rung + 1) * sizeof *rungs);
		if (!rungs)
			return;
		c->rungs = rungs;
		c->rungs[rung] = c->values[first];
		c->n_rungs = rung + 1;
	}
}

/* TPE (src/lib/sweep/tpe.c) and the pruners (prune.c) on fixed inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sweep/sweep.h"

/* ---- a space and a history of trials ---- */

static void make_space(tally_space *space, const char *const *specs)
{
	memset(space, 0, sizeof *space);
	for (const char *const *s = specs; *s; s += 2) {
		tally_dim d;
		assert_int_equal(tally__dim_parse(&d, s[0], s[1]), 0);
		assert_int_equal(tally__space_add(space, &d), 0);
	}
}

typedef struct {
	tally_trial_result *r;
	size_t n;
} history;

static void add_trial(history *h, json_t *flags, tally_trial_outcome outcome, double objective)
{
	h->r = realloc(h->r, (h->n + 1) * sizeof *h->r);
	assert_non_null(h->r);
	h->r[h->n++] = (tally_trial_result){flags, outcome, outcome != TALLY_TRIAL_FAILED && outcome != TALLY_TRIAL_RUNNING,
	                                    objective, 0};
}

static void history_release(history *h)
{
	for (size_t i = 0; i < h->n; i++)
		json_decref(h->r[i].flags);
	free(h->r);
	h->r = NULL;
	h->n = 0;
}

static void *start_tpe(const tally_space *space, uint64_t seed, bool multivariate)
{
	json_t *settings = json_pack("{s:b}", "multivariate", multivariate);
	void *state = NULL;
	assert_int_equal(tally__tpe_strategy.start(&state, space, 100, seed, settings), 0);
	json_decref(settings);
	return state;
}

static json_t *propose(void *state, const history *h)
{
	json_t *values = NULL;
	assert_int_equal(tally__tpe_strategy.next(state, h->r, h->n, &values), 0);
	assert_non_null(values);
	return values;
}

static double num(json_t *values, const char *flag)
{
	json_t *v = json_object_get(values, flag);
	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* ---- TPE ---- */

static void tpe_sweep(const tally_space *space, uint64_t seed, bool multivariate, size_t n, double (*f)(json_t *),
                      history *h)
{
	void *st = start_tpe(space, seed, multivariate);
	for (size_t i = 0; i < n; i++) {
		json_t *v = propose(st, h);
		add_trial(h, v, TALLY_TRIAL_COMPLETED, f(v));
	}
	tally__tpe_strategy.stop(st);
}

static double bowl(json_t *v)
{
	double x = num(v, "x"), y = num(v, "y");
	return (x - 2) * (x - 2) + (y + 1) * (y + 1);
}

static double best_of(const history *h, size_t from, size_t to)
{
	double best = HUGE_VAL;
	for (size_t i = from; i < to && i < h->n; i++)
		best = fmin(best, h->r[i].objective);
	return best;
}

static void startup_trials_are_random_draws_within_bounds(void **state)
{
	(void)state;
	tally_space space;
	make_space(&space, (const char *const[]){"x", "uniform[-10:10]", "y", "uniform[-10:10]", NULL});
	history a = {0}, b = {0};
	tpe_sweep(&space, 5, false, 10, bowl, &a);
	tpe_sweep(&space, 5, false, 10, bowl, &b);
	for (size_t i = 0; i < 10; i++) {
		assert_true(json_equal(a.r[i].flags, b.r[i].flags)); /* the seed decides */
		assert_true(num(a.r[i].flags, "x") >= -10 && num(a.r[i].flags, "x") <= 10);
	}
	history c = {0};
	tpe_sweep(&space, 6, false, 10, bowl, &c);
	assert_false(json_equal(a.r[0].flags, c.r[0].flags));
	history_release(&a);
	history_release(&b);
	history_release(&c);
	tally__space_release(&space);
}

/* After the random start, TPE's trials gather near the optimum: over 5 seeds,
 * its trials 31-60 find a far better point than random search's. */
static void tpe_concentrates_near_the_optimum(void **state)
{
	(void)state;
	tally_space space;
	make_space(&space, (const char *const[]){"x", "uniform[-10:10]", "y", "uniform[-10:10]", NULL});
	for (int multivariate = 0; multivariate < 2; multivariate++) {
		size_t near = 0, total = 0, good = 0;
		for (uint64_t seed = 1; seed <= 5; seed++) {
			history h = {0};
			tpe_sweep(&space, seed, multivariate, 60, bowl, &h);
			for (size_t i = 30; i < 60; i++, total++)
				near += h.r[i].objective < 4; /* a disc of radius 2: 3 % of the square */
			good += best_of(&h, 0, 60) < 0.5; /* random search: a 0.4 % chance per trial */
			history_release(&h);
		}
		assert_true(good >= 3);
		assert_true(near * 4 > total); /* random search: ~3 % */
	}
	tally__space_release(&space);
}

/* The same history and seed give the same proposal: a resumed sweep goes on as if it never stopped. */
static void proposals_are_a_function_of_the_history(void **state)
{
	(void)state;
	tally_space space;
	make_space(&space, (const char *const[]){"x", "uniform[-10:10]", "y", "uniform[-10:10]", NULL});
	history h = {0};
	tpe_sweep(&space, 9, false, 25, bowl, &h);
	void *a = start_tpe(&space, 9, false), *b = start_tpe(&space, 9, false);
	json_t *pa = propose(a, &h), *pb = propose(b, &h);
	assert_true(json_equal(pa, pb));
	json_decref(pa);
	json_decref(pb);
	tally__tpe_strategy.stop(a);
	tally__tpe_strategy.stop(b);
	history_release(&h);
	tally__space_release(&space);
}

static double pick_c(json_t *v)
{
	const char *act = json_string_value(json_object_get(v, "act"));
	double n = num(v, "n");
	return (strcmp(act, "c") ? 1.0 : 0.0) + fabs(n - 40) / 100;
}

/* Categories by their index; integers (log scale) whole and in bounds. */
static void categories_and_log_integers(void **state)
{
	(void)state;
	tally_space space;
	make_space(&space, (const char *const[]){"act", "[a,b,c,d,e]", "n", "lograndint[1:1000]", NULL});
	history h = {0};
	tpe_sweep(&space, 3, false, 50, pick_c, &h);
	size_t c = 0;
	for (size_t i = 0; i < h.n; i++) {
		json_t *n = json_object_get(h.r[i].flags, "n");
		assert_true(json_is_integer(n) && json_integer_value(n) >= 1 && json_integer_value(n) <= 1000);
		c += i >= 20 && !strcmp(json_string_value(json_object_get(h.r[i].flags, "act")), "c");
	}
	assert_true(c >= 15); /* of the last 30: random picks would give 6 ± 2 */
	history_release(&h);
	tally__space_release(&space);
}

/* Running trials count as the worst (constant liar), and no point is proposed twice;
 * a finite space whose every point was tried has nothing more to propose. */
static void no_duplicates_and_a_finite_space_ends(void **state)
{
	(void)state;
	tally_space space;
	make_space(&space, (const char *const[]){"a", "[1,2,3]", "b", "range[-2:0]", NULL});
	history h = {0};
	void *st = start_tpe(&space, 4, false);
	for (size_t i = 0; i < 9; i++) {
		json_t *v = propose(st, &h);
		for (size_t j = 0; j < h.n; j++)
			assert_false(json_equal(v, h.r[j].flags));
		/* every other one still running: proposals must spread regardless */
		add_trial(&h, v, i % 2 ? TALLY_TRIAL_RUNNING : TALLY_TRIAL_COMPLETED,
		          num(v, "a") + num(v, "b"));
	}
	json_t *none = NULL;
	assert_int_equal(tally__tpe_strategy.next(st, h.r, h.n, &none), 1);
	assert_null(none);
	tally__tpe_strategy.stop(st);
	history_release(&h);
	/* the same once the model proposes (indexes that round to -0 are 0) */
	json_t *settings = json_pack("{s:i}", "startup_trials", 1);
	assert_int_equal(tally__tpe_strategy.start(&st, &space, 100, 8, settings), 0);
	json_decref(settings);
	for (size_t i = 0; i < 9; i++) {
		json_t *v = propose(st, &h);
		for (size_t j = 0; j < h.n; j++)
			assert_false(json_equal(v, h.r[j].flags));
		add_trial(&h, v, i % 3 == 2 ? TALLY_TRIAL_RUNNING : TALLY_TRIAL_COMPLETED, num(v, "a") + num(v, "b"));
	}
	tally__tpe_strategy.stop(st);
	history_release(&h);
	tally__space_release(&space);
}

/* Failed trials rank below every completed one: TPE moves away from flags that crash. */
static void failed_trials_count_as_bad(void **state)
{
	(void)state;
	tally_space space;
	make_space(&space, (const char *const[]){"x", "uniform[0:10]", NULL});
	history h = {0};
	tally_rng rng;
	tally_rng_seed(&rng, 1);
	for (int i = 0; i < 40; i++) { /* x < 5 crashes; above, the higher the better */
		double x = 10 * tally_rng_unit(&rng);
		json_t *v = json_pack("{s:f}", "x", x);
		if (x < 5)
			add_trial(&h, v, TALLY_TRIAL_FAILED, 0);
		else
			add_trial(&h, v, TALLY_TRIAL_COMPLETED, 10 - x);
	}
	size_t high = 0;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		void *st = start_tpe(&space, seed, false);
		json_t *v = propose(st, &h);
		high += num(v, "x") >= 5;
		json_decref(v);
		tally__tpe_strategy.stop(st);
	}
	assert_true(high >= 9);
	history_release(&h);
	tally__space_release(&space);
}

/* ---- pruners ---- */

static tally_pruner *pruner(const char *json)
{
	json_t *settings = json_loads(json, 0, NULL);
	assert_non_null(settings);
	tally_pruner *p = NULL;
	assert_int_equal(tally__pruner_new(&p, settings, "val_loss", false), 0);
	json_decref(settings);
	return p;
}

/* Trial `t` logs `values` at steps 0, 1, … */
static void curve(tally_pruner *p, size_t t, const double *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tally__pruner_report(p, t, (int64_t)i, values[i]), 0);
}

static void median_rule(void **state)
{
	(void)state;
	char why[512];
	tally_pruner *p = pruner("{\"name\": \"median\", \"startup_trials\": 3, \"warmup_steps\": 2}");
	const double done[3][5] = {{1.0, 0.8, 0.6, 0.5, 0.4}, {1.0, 0.7, 0.5, 0.4, 0.3}, {1.0, 0.9, 0.8, 0.7, 0.6}};
	curve(p, 0, done[0], 5);
	tally__pruner_completed(p, 0);
	curve(p, 1, done[1], 5);
	tally__pruner_completed(p, 1);
	const double bad[] = {1.0, 1.0, 1.0};
	curve(p, 3, bad, 3);
	assert_false(tally__pruner_check(p, 3, why, sizeof why)); /* 2 completed: still starting up */
	curve(p, 2, done[2], 5);
	tally__pruner_completed(p, 2);
	curve(p, 4, bad, 2);
	assert_false(tally__pruner_check(p, 4, why, sizeof why)); /* step 1 < warm-up 2 */
	assert_true(tally__pruner_check(p, 3, why, sizeof why)); /* 1.0 > median 0.6 at step 2 */
	assert_non_null(strstr(why, "median 0.6 of 3 completed trials"));
	const double good[] = {1.0, 0.8, 0.6};
	curve(p, 5, good, 3);
	assert_false(tally__pruner_check(p, 5, why, sizeof why)); /* equal to the median: goes on */
	const double late[] = {1.0, 0.9, 0.7, 0.4};
	curve(p, 6, late, 4); /* its best by step 3 is 0.4; the median there 0.5 */
	assert_false(tally__pruner_check(p, 6, why, sizeof why));
	const double some_nan[] = {1.0, (double)NAN, 0.3};
	curve(p, 7, some_nan, 3); /* its best number, 0.3, beats the median 0.6: a NaN on the way is no reason */
	assert_false(tally__pruner_check(p, 7, why, sizeof why));
	const double all_nan[] = {(double)NAN, (double)NAN, (double)NAN};
	curve(p, 8, all_nan, 3);
	assert_true(tally__pruner_check(p, 8, why, sizeof why));
	assert_non_null(strstr(why, "val_loss is NaN at every step up to 2"));
	tally__pruner_free(p);
}

/* Maximized objectives arrive negated; the reason shows them as logged. */
static void median_rule_words_a_maximized_objective(void **state)
{
	(void)state;
	char why[512];
	json_t *settings = json_pack("{s:s, s:i}", "name", "median", "startup_trials", 1);
	tally_pruner *p = NULL;
	assert_int_equal(tally__pruner_new(&p, settings, "val_acc", true), 0);
	json_decref(settings);
	const double done[] = {-0.5, -0.9, -0.95}, bad[] = {-0.4, -0.6};
	curve(p, 0, done, 3);
	tally__pruner_completed(p, 0);
	curve(p, 1, bad, 2);
	assert_true(tally__pruner_check(p, 1, why, sizeof why));
	assert_non_null(strstr(why, "val_acc by step 1, 0.6, is worse than the median 0.9"));
	tally__pruner_free(p);
}

static void asha_rungs(void **state)
{
	(void)state;
	char why[512];
	tally_pruner *p = pruner("{\"name\": \"asha\", \"min_step\": 1, \"reduction_factor\": 3}");
	/* rungs at steps 1, 3, 9: the first trial to reach a rung goes on if it is the best there */
	tally__pruner_report(p, 0, 0, 5.0);
	tally__pruner_report(p, 0, 1, 4.0);
	assert_false(tally__pruner_check(p, 0, why, sizeof why));
	tally__pruner_report(p, 1, 1, 6.0);
	assert_true(tally__pruner_check(p, 1, why, sizeof why)); /* 2 at rung 1: only the best goes on */
	assert_non_null(strstr(why, "best 1/3 of the 2 trials that reached rung 1 (step 1)"));
	tally__pruner_report(p, 2, 1, 3.0);
	assert_false(tally__pruner_check(p, 2, why, sizeof why)); /* the new best */
	for (size_t t = 3; t < 6; t++) { /* 6 trials at rung 1: the best 2 go on */
		tally__pruner_report(p, t, 1, 4.5 - 0.1 * (double)t);
		bool pruned = tally__pruner_check(p, t, why, sizeof why);
		assert_int_equal(pruned, t != 5 ? (t == 3 || t == 4) : false);
	}
	tally__pruner_report(p, 0, 3, 2.0); /* trial 0 at rung 2 (step 3): alone, the best */
	assert_false(tally__pruner_check(p, 0, why, sizeof why));
	tally__pruner_free(p);
}

/* Without min_step, rungs wait for a completed trial: 1/100 of its length, at least 1. */
static void asha_min_step_from_completed_trials(void **state)
{
	(void)state;
	char why[512];
	tally_pruner *p = pruner("{\"name\": \"asha\", \"min_step\": null}");
	tally__pruner_report(p, 0, 0, 5.0);
	tally__pruner_report(p, 0, 500, 1.0);
	tally__pruner_report(p, 1, 5, 9.0);
	assert_false(tally__pruner_check(p, 1, why, sizeof why)); /* nothing completed yet */
	tally__pruner_completed(p, 0);
	tally__pruner_replay(p, 0); /* trial 0 reached rungs 5, 15, 45, 135, 405 */
	/* trial 1 passed step 5 before there were rungs: recorded, not judged */
	assert_false(tally__pruner_check(p, 1, why, sizeof why));
	tally__pruner_report(p, 1, 15, 9.0);
	assert_true(tally__pruner_check(p, 1, why, sizeof why)); /* at rung step 15: 9 against 1 */
	assert_non_null(strstr(why, "(step 15)"));
	tally__pruner_report(p, 2, 10, 9.0);
	tally__pruner_report(p, 2, 500, 9.0); /* as long as the longest completed trial: it is ending */
	assert_false(tally__pruner_check(p, 2, why, sizeof why));
	tally__pruner_free(p);
}

/* A NaN at a rung prunes the trial that logged it and is no bar for the others. */
static void asha_nan(void **state)
{
	(void)state;
	char why[512];
	tally_pruner *p = pruner("{\"name\": \"asha\", \"min_step\": 1}");
	const double broken[] = {5.0, (double)NAN, 0.1};
	curve(p, 0, broken, 3);
	tally__pruner_completed(p, 0);
	tally__pruner_replay(p, 0); /* stops at its NaN rung */
	tally__pruner_report(p, 1, 1, 9.0);
	assert_false(tally__pruner_check(p, 1, why, sizeof why)); /* alone with a number at rung 1 */
	tally__pruner_report(p, 2, 1, (double)NAN);
	assert_true(tally__pruner_check(p, 2, why, sizeof why));
	assert_non_null(strstr(why, "NaN at step 1"));
	tally__pruner_free(p);
}

/* The estimated first rung is kept once known, whatever completes later. */
static void asha_min_step_is_kept(void **state)
{
	(void)state;
	tally_pruner *p = pruner("{\"name\": \"asha\", \"min_step\": null}");
	assert_int_equal(tally__pruner_min_step(p), 0);
	tally__pruner_report(p, 0, 300, 1.0);
	tally__pruner_completed(p, 0);
	assert_int_equal(tally__pruner_min_step(p), 3);
	tally__pruner_report(p, 1, 900, 1.0);
	tally__pruner_completed(p, 1);
	assert_int_equal(tally__pruner_min_step(p), 3);
	tally__pruner_free(p);
	p = pruner("{\"name\": \"asha\", \"min_step\": null, \"min_step_estimated\": 7}"); /* resumed */
	assert_int_equal(tally__pruner_min_step(p), 7);
	tally__pruner_free(p);
}

static void bad_pruner_settings(void **state)
{
	(void)state;
	json_t *settings = json_pack("{s:s}", "name", "hyperband");
	tally_pruner *p = NULL;
	assert_int_equal(tally__pruner_new(&p, settings, "loss", false), TALLY_EINVALID);
	assert_null(p);
	json_decref(settings);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(startup_trials_are_random_draws_within_bounds),
		cmocka_unit_test(tpe_concentrates_near_the_optimum),
		cmocka_unit_test(proposals_are_a_function_of_the_history),
		cmocka_unit_test(categories_and_log_integers),
		cmocka_unit_test(no_duplicates_and_a_finite_space_ends),
		cmocka_unit_test(failed_trials_count_as_bad),
		cmocka_unit_test(median_rule),
		cmocka_unit_test(median_rule_words_a_maximized_objective),
		cmocka_unit_test(asha_rungs),
		cmocka_unit_test(asha_min_step_from_completed_trials),
		cmocka_unit_test(asha_nan),
		cmocka_unit_test(asha_min_step_is_kept),
		cmocka_unit_test(bad_pruner_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

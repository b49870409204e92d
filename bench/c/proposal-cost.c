/*
 * What one TPE proposal costs at N finished trials: the strategy's next()
 * on a history of N completed trials of Hartmann-6's space (6 uniform
 * flags), univariate and multivariate; and, as a baseline measured in the
 * same run, a random draw from the same space.  Medians of R calls.
 *
 * usage: proposal-cost [N …]   (default 100 1000 5000; env R=21)
 * Built with the tests (build/tests/proposal-cost); bench/tpe.sh runs it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/sweep/sweep.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void make_space(tally_space *space)
{
	memset(space, 0, sizeof *space);
	for (int i = 1; i <= 6; i++) {
		char name[8];
		snprintf(name, sizeof name, "x%d", i);
		tally_dim d;
		if (tally__dim_parse(&d, name, "uniform[0:1]") || tally__space_add(space, &d))
			exit(1);
	}
}

/* N completed trials at random points, the objective a smooth function of them. */
static tally_trial_result *history(const tally_space *space, size_t n)
{
	tally_trial_result *r = calloc(n, sizeof *r);
	tally_rng rng;
	tally_rng_seed(&rng, 42);
	for (size_t i = 0; i < n; i++) {
		r[i].flags = tally__space_random_point(space, &rng);
		double sum = 0;
		const char *k;
		json_t *v;
		json_object_foreach(r[i].flags, k, v) sum += (json_number_value(v) - 0.3) * (json_number_value(v) - 0.3);
		r[i].outcome = TALLY_TRIAL_COMPLETED;
		r[i].has_objective = true;
		r[i].objective = sum;
	}
	return r;
}

/* Median milliseconds of one proposal. */
static double time_next(const tally_strategy *st, const json_t *settings, const tally_space *space,
                        const tally_trial_result *r, size_t n, int rounds)
{
	double *t = malloc((size_t)rounds * sizeof *t);
	for (int k = 0; k < rounds; k++) {
		void *state = NULL;
		if (st->start(&state, space, 0, (uint64_t)k + 1, settings))
			exit(1);
		json_t *values = NULL;
		double t0 = now_ms();
		int rc = st->next(state, r, n, &values);
		t[k] = now_ms() - t0;
		if (rc < 0)
			exit(1);
		json_decref(values);
		st->stop(state);
	}
	qsort(t, (size_t)rounds, sizeof *t, by_double);
	double m = t[rounds / 2];
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = {"100", "1000", "5000"};
	int rounds = getenv("R") ? atoi(getenv("R")) : 21;
	if (rounds < 1)
		rounds = 1;
	tally_space space;
	make_space(&space);
	json_t *uni = json_pack("{s:b}", "multivariate", 0), *multi = json_pack("{s:b}", "multivariate", 1);
	const tally_strategy *random = tally__strategy_find("random");
	printf("%-8s %12s %12s %12s\n", "trials", "random ms", "tpe ms", "tpe-mv ms");
	int n_args = argc > 1 ? argc - 1 : 3;
	for (int a = 0; a < n_args; a++) {
		size_t n = (size_t)strtoul(argc > 1 ? argv[a + 1] : defaults[a], NULL, 10);
		tally_trial_result *r = history(&space, n);
		/* random's whole plan is drawn in start(): time it through a budget of 1 */
		double base = time_next(random, NULL, &space, r, n, rounds);
		printf("%-8zu %12.4f %12.4f %12.4f\n", n, base, time_next(&tally__tpe_strategy, uni, &space, r, n, rounds),
		       time_next(&tally__tpe_strategy, multi, &space, r, n, rounds));
		for (size_t i = 0; i < n; i++)
			json_decref(r[i].flags);
		free(r);
	}
	json_decref(uni);
	json_decref(multi);
	tally__space_release(&space);
	return 0;
}

/*
 * train_c.c — a C training program that tracks itself with libtally.
 *
 * Fits y = w*x + b to points drawn from y = 3x + 2 + noise by full-batch
 * gradient descent, logging the loss at every step and the fitted w and b
 * at the end.  Nothing is parsed from stdout: the flags and scalars go to
 * the run store through the library.
 *
 *   build/examples/train_c [RUNS_DIR]
 *
 * Without RUNS_DIR the store is found the usual way ($TALLY_RUNS_DIR,
 * `runs-dir:` in ./tally.yml, then ./runs).  Prints the new run's id.
 */
#include <stdint.h>
#include <stdio.h>

#include "tally.h"

#define N_POINTS 100

static const double learning_rate = 0.1;
static const int64_t steps = 100;

/* A small deterministic linear congruential generator (Numerical Recipes
 * constants); returns a double uniformly distributed in [0, 1). */
static double lcg_uniform(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return (double)(*state >> 8) / 16777216.0;
}

static void make_data(double *x, double *y, size_t n)
{
	uint32_t state = 42u;
	for (size_t i = 0; i < n; i++) {
		x[i] = 2.0 * lcg_uniform(&state) - 1.0;          /* [-1, 1) */
		double noise = 0.2 * lcg_uniform(&state) - 0.1;  /* [-0.1, 0.1) */
		y[i] = 3.0 * x[i] + 2.0 + noise;
	}
}

/* Mean squared error of (w, b) and its gradient. */
static double mse(const double *x, const double *y, size_t n, double w, double b,
                  double *grad_w, double *grad_b)
{
	double loss = 0.0, gw = 0.0, gb = 0.0;
	for (size_t i = 0; i < n; i++) {
		double err = w * x[i] + b - y[i];
		loss += err * err;
		gw += 2.0 * err * x[i];
		gb += 2.0 * err;
	}
	*grad_w = gw / (double)n;
	*grad_b = gb / (double)n;
	return loss / (double)n;
}

static int fail(const char *what)
{
	const char *msg = tally_error_last();
	fprintf(stderr, "train_c: %s failed: %s\n", what, msg && *msg ? msg : "unknown error");
	return 1;
}

int main(int argc, char **argv)
{
	tally_store *store = NULL;
	tally_run *run = NULL;
	tally_run_options opts = TALLY_RUN_OPTIONS_INIT;
	int status = 1;
	char value[64];
	double x[N_POINTS], y[N_POINTS];
	double w = 0.0, b = 0.0;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [RUNS_DIR]\n", argv[0]);
		return 2;
	}

	if (tally_store_open(&store, argc > 1 ? argv[1] : NULL) < 0) {
		status = fail("opening the run store");
		goto out;
	}

	opts.script = "train_c";
	opts.argv = (const char *const *)argv;
	if (tally_run_create(&run, store, &opts) < 0) {
		status = fail("creating the run");
		goto out;
	}

	snprintf(value, sizeof value, "%g", learning_rate);
	if (tally_run_set_flag(run, "lr", value) < 0) {
		status = fail("recording flag lr");
		goto finish;
	}
	snprintf(value, sizeof value, "%lld", (long long)steps);
	if (tally_run_set_flag(run, "steps", value) < 0) {
		status = fail("recording flag steps");
		goto finish;
	}

	make_data(x, y, N_POINTS);
	for (int64_t step = 1; step <= steps; step++) {
		double grad_w, grad_b;
		double loss = mse(x, y, N_POINTS, w, b, &grad_w, &grad_b);
		if (tally_log_scalar(run, "loss", loss, step) < 0) {
			status = fail("logging loss");
			goto finish;
		}
		w -= learning_rate * grad_w;
		b -= learning_rate * grad_b;
	}

	if (tally_log_scalar(run, "w", w, steps) < 0) {
		status = fail("logging w");
		goto finish;
	}
	if (tally_log_scalar(run, "b", b, steps) < 0) {
		status = fail("logging b");
		goto finish;
	}
	status = 0;

finish:
	/* Record the outcome truthfully even when something above failed. */
	if (tally_run_finish(run, status) < 0) {
		status = fail("finishing the run");
		goto out;
	}
	if (status == 0)
		printf("%s\n", tally_run_id(run));

out:
	tally_run_free(run);
	tally_store_free(store);
	return status;
}

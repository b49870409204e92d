/*
 * TPE: the Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio and
 * Kégl, "Algorithms for Hyper-Parameter Optimization", 2011), with the
 * defaults Optuna's TPESampler made the field's reference:
 *
 *  - random draws until `startup_trials` trials (10) have a result;
 *  - then the trials so far are ranked and split: the best γ(n) =
 *    min(⌈n/10⌉, 25) are "good", the rest "bad";
 *  - each group becomes a density over the space, l(x) for the good ones and
 *    g(x) for the bad ones: a mixture with one kernel per trial plus a prior
 *    kernel (weight 1) over the whole range.  Numbers get truncated normal
 *    kernels (on the logarithm for log scales; integers as the mass of their
 *    unit bin; like Optuna 3.1, a kernel's density is not divided by its
 *    width), with widths from the neighbouring trials' distances clipped
 *    to [range / min(100, 1 + kernels), range]; lists of values given by hand
 *    are categories (each kernel favours its trial's value); generated lists
 *    (range[], linspace[], logspace[]) are ordered, like integers, by index.
 *    Older trials weigh less once there are more than 25 of them;
 *  - `candidates` (24) points are drawn from l, and the one with the largest
 *    l(x) / g(x) is proposed.
 *
 * Univariate (the default) models and picks each flag on its own;
 * multivariate models them jointly: a kernel is a trial's whole point, with
 * the width of Scott's rule (0.2 · n^(-1/(d+4)) · range).
 *
 * What is not a finished result still counts: a failed trial (or one that
 * never logged the objective) ranks below every completed one, a pruned one
 * between the two (the later it was stopped, the better), and trials still
 * running rank as the worst — Optuna's "constant liar" — so that parallel
 * workers spread out instead of proposing the same point.  A proposal equal
 * to an existing trial is replaced by the best candidate that is new, then
 * by a random new point; a finite space whose every point ran ends the
 * search.
 *
 * Nothing is kept between proposals: each one is computed from the trials
 * the sweep holds, with a random generator seeded from the sweep's seed and
 * the trial's number.  The same seed and results give the same trials, and a
 * resumed sweep continues from its record as if it had never stopped.
 */
#include "lib/sweep/sweep.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRIOR_WEIGHT 1.0
#define MAX_GOOD 25          /* γ(n)'s cap, and how many recent trials weigh fully */
#define SIGMA0 0.2           /* multivariate kernels' width factor */
#define RANDOM_TRIES 200     /* random draws to find a point not yet tried */

/* One flag as TPE models it. */
typedef struct {
	const tally_dim *dim;
	bool categorical;   /* a list given by hand: an index, no order */
	bool integer;       /* randint, lograndint, generated lists: unit bins */
	bool logarithmic;
	size_t n_choices;   /* lists */
	double low, high;   /* the modelled range: logarithms on log scales, ±0.5 around integers */
} tpe_dim;

typedef struct {
	const tally_space *space;
	tpe_dim *dims;
	size_t n_dims;
	uint64_t seed;
	size_t startup, candidates;
	bool multivariate;
} tpe_state;

/* A trial as a point of the modelled space, and where it ranks. */
typedef struct {
	size_t trial;
	int rank_class;     /* 0 completed, 1 pruned, 2 failed or running */
	double key1, key2;
	double *x;          /* n_dims values */
} observation;

/* One group's density: kernels 0..n-2 its trials (in trial order), n-1 the prior. */
typedef struct {
	size_t n;
	double *log_w;      /* n */
	double *mu, *sigma, *log_z;  /* n × n_dims, numeric dims */
	double *inv_sigma, *log_norm; /* 1/σ and -log √(2π) - log Z, for continuous densities (see below) */
	double *cat;        /* n × n_dims: a kernel's category (-1 for the prior) */
	double cat_a;       /* a kernel's share for every category: prior weight / kernels */
} mixture;

/* ---- the space ---- */

static void model_dim(tpe_dim *t, const tally_dim *d)
{
	memset(t, 0, sizeof *t);
	t->dim = d;
	switch (d->kind) {
	case TALLY_DIM_VALUES:
		t->n_choices = json_array_size(d->values);
		t->categorical = !d->sequence;
		t->integer = d->sequence;
		t->low = -0.5;
		t->high = (double)t->n_choices - 0.5;
		break;
	case TALLY_DIM_UNIFORM:
		t->low = d->lo;
		t->high = d->hi;
		break;
	case TALLY_DIM_LOGUNIFORM:
		t->logarithmic = true;
		t->low = log(d->lo);
		t->high = log(d->hi);
		break;
	case TALLY_DIM_RANDINT:
		t->integer = true;
		t->low = d->lo - 0.5;
		t->high = d->hi + 0.5;
		break;
	case TALLY_DIM_LOGRANDINT:
		t->integer = t->logarithmic = true;
		t->low = log(d->lo - 0.5);
		t->high = log(d->hi + 0.5);
		break;
	}
}

/* A trial's value of the flag as a modelled number; false when it has none that fits. */
static bool to_model(const tpe_dim *t, json_t *v, double *x)
{
	if (t->dim->kind == TALLY_DIM_VALUES) {
		size_t i;
		json_t *c;
		json_array_foreach(t->dim->values, i, c) if (json_equal(c, v)) {
			*x = (double)i;
			return true;
		}
		return false;
	}
	if (!json_is_number(v))
		return false;
	double n = json_number_value(v);
	if (t->logarithmic)
		n = n > 0 ? log(n) : (double)NAN;
	*x = n;
	return isfinite(n);
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Modelled number `x` moved to the nearest value the flag can take (6
 * significant digits for reals, whole numbers, list indexes), in modelled units. */
static double snap(const tpe_dim *t, double x)
{
	const tally_dim *d = t->dim;
	switch (d->kind) {
	case TALLY_DIM_VALUES: return clamp(round(x), 0, (double)t->n_choices - 1) + 0.0; /* + 0.0: never -0 */
	case TALLY_DIM_UNIFORM: return clamp(tally__round_sig(x, 6), d->lo, d->hi);
	case TALLY_DIM_LOGUNIFORM: return log(clamp(tally__round_sig(exp(x), 6), d->lo, d->hi));
	case TALLY_DIM_RANDINT: return clamp(round(x), d->lo, d->hi) + 0.0;
	case TALLY_DIM_LOGRANDINT: return log(clamp(round(exp(x)), d->lo, d->hi));
	}
	return x;
}

/* The flag's value for a snapped number. */
static json_t *to_value(const tpe_dim *t, double x)
{
	switch (t->dim->kind) {
	case TALLY_DIM_VALUES: return json_incref(json_array_get(t->dim->values, (size_t)x));
	case TALLY_DIM_UNIFORM: return json_real(x);
	case TALLY_DIM_LOGUNIFORM: return json_real(tally__round_sig(exp(x), 6)); /* exactly the value snapped to */
	case TALLY_DIM_RANDINT: return json_integer((json_int_t)x);
	case TALLY_DIM_LOGRANDINT: return json_integer((json_int_t)llround(exp(x)));
	}
	return json_null();
}

/* ---- the normal distribution ---- */

/* P(a < Z < b) for a standard normal Z, accurate in both tails. */
static double normal_mass(double a, double b)
{
	if (a > 0) /* both in the upper tail: 1 - Φ loses nothing there */
		return 0.5 * (erfc(a / M_SQRT2) - erfc(b / M_SQRT2));
	return 0.5 * (erfc(-b / M_SQRT2) - erfc(-a / M_SQRT2));
}

static double log_mass(double a, double b)
{
	double m = normal_mass(a, b);
	return log(m > DBL_MIN ? m : DBL_MIN);
}

static double standard_normal(tally_rng *rng)
{
	double u = tally_rng_unit(rng), v = tally_rng_unit(rng);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* ---- one group's density ---- */

/* Optuna's weights: the latest 25 trials weigh 1, older ones ramp up from 1/n. */
static double trial_weight(size_t i, size_t n)
{
	if (n <= MAX_GOOD || i >= n - MAX_GOOD)
		return 1.0;
	size_t ramp = n - MAX_GOOD;
	return ramp == 1 ? 1.0 / (double)n : 1.0 / (double)n + (1.0 - 1.0 / (double)n) * (double)i / (double)(ramp - 1);
}

static void mixture_release(mixture *m)
{
	free(m->log_w);
	free(m->mu);
	free(m->sigma);
	free(m->log_z);
	free(m->inv_sigma);
	free(m->log_norm);
	free(m->cat);
	memset(m, 0, sizeof *m);
}

typedef struct {
	double mu;
	size_t kernel;
} sorted_mu;

static int by_mu(const void *a, const void *b)
{
	double x = ((const sorted_mu *)a)->mu, y = ((const sorted_mu *)b)->mu;
	return x < y ? -1 : x > y;
}

/* Univariate widths: the larger distance to a neighbour (the range's ends
 * count as neighbours, except that the outermost kernels look inwards). */
static void neighbour_widths(const tpe_dim *t, size_t n, const double *mu, double *sigma, sorted_mu *order)
{
	for (size_t k = 0; k < n; k++)
		order[k] = (sorted_mu){mu[k], k};
	qsort(order, n, sizeof *order, by_mu);
	for (size_t i = 0; i < n; i++) {
		double left = i ? order[i - 1].mu : t->low, right = i + 1 < n ? order[i + 1].mu : t->high;
		double s = fmax(order[i].mu - left, right - order[i].mu);
		if (n >= 2 && i == 0)
			s = order[1].mu - order[0].mu;
		else if (n >= 2 && i == n - 1)
			s = order[n - 1].mu - order[n - 2].mu;
		sigma[order[i].kernel] = s;
	}
}

/* The density of the trials `group` (observations, in trial order). */
static int mixture_build(mixture *m, const tpe_state *st, observation *const *group, size_t n_obs)
{
	size_t n = n_obs + 1, d = st->n_dims;
	m->n = n;
	m->log_w = malloc(n * sizeof *m->log_w);
	m->mu = malloc(n * d * sizeof *m->mu);
	m->sigma = malloc(n * d * sizeof *m->sigma);
	m->log_z = malloc(n * d * sizeof *m->log_z);
	m->inv_sigma = malloc(n * d * sizeof *m->inv_sigma);
	m->log_norm = malloc(n * d * sizeof *m->log_norm);
	m->cat = malloc(n * d * sizeof *m->cat);
	sorted_mu *order = malloc(n * sizeof *order);
	double *mus = malloc(n * sizeof *mus), *sigmas = malloc(n * sizeof *sigmas);
	if (!m->log_w || !m->mu || !m->sigma || !m->log_z || !m->inv_sigma || !m->log_norm || !m->cat || !order || !mus ||
	    !sigmas) {
		free(order);
		free(mus);
		free(sigmas);
		mixture_release(m);
		return tally__error_oom();
	}
	double total = PRIOR_WEIGHT;
	for (size_t k = 0; k < n_obs; k++)
		total += trial_weight(k, n_obs);
	for (size_t k = 0; k < n; k++)
		m->log_w[k] = log((k < n_obs ? trial_weight(k, n_obs) : PRIOR_WEIGHT) / total);
	m->cat_a = PRIOR_WEIGHT / (double)n;
	for (size_t j = 0; j < d; j++) {
		const tpe_dim *t = &st->dims[j];
		double range = t->high - t->low;
		for (size_t k = 0; k < n; k++) {
			mus[k] = k < n_obs ? group[k]->x[j] : 0.5 * (t->low + t->high);
			m->cat[k * d + j] = k < n_obs ? group[k]->x[j] : -1;
		}
		if (t->categorical)
			continue;
		if (st->multivariate)
			for (size_t k = 0; k < n; k++)
				sigmas[k] = SIGMA0 * pow(fmax((double)n_obs, 1.0), -1.0 / ((double)d + 4.0)) * range;
		else
			neighbour_widths(t, n, mus, sigmas, order);
		double min_sigma = range / fmin(100.0, 1.0 + (double)n);
		for (size_t k = 0; k < n; k++) {
			double s = k == n - 1 ? range : clamp(sigmas[k], min_sigma, range);
			m->mu[k * d + j] = mus[k];
			m->sigma[k * d + j] = s;
			m->log_z[k * d + j] = log_mass((t->low - mus[k]) / s, (t->high - mus[k]) / s);
			m->inv_sigma[k * d + j] = 1.0 / s;
			/* No -log σ: Optuna 3.1 scores kernels without it (its truncnorm.logpdf
			 * leaves the scale out), its defaults were tuned that way, and so
			 * measured, it finds better points (bench/tpe.sh; Hartmann-6: -3.09
			 * against -2.99 with the normalised density, medians of 200 seeds). */
			m->log_norm[k * d + j] = -0.5 * log(2.0 * M_PI) - m->log_z[k * d + j];
		}
	}
	free(order);
	free(mus);
	free(sigmas);
	return 0;
}

/* log p(x_j) under kernel k. */
static double kernel_log_density(const mixture *m, const tpe_state *st, size_t k, size_t j, double x)
{
	const tpe_dim *t = &st->dims[j];
	size_t d = st->n_dims;
	if (t->categorical) {
		double c = m->cat[k * d + j];
		if (c < 0)
			return -log((double)t->n_choices);
		return log(m->cat_a + (c == x ? 1.0 : 0.0)) - log(m->cat_a * (double)t->n_choices + 1.0);
	}
	double mu = m->mu[k * d + j], s = m->sigma[k * d + j];
	if (t->integer) { /* the mass of the value's unit bin */
		double lo = x - 0.5, hi = x + 0.5;
		if (t->logarithmic) {
			double v = round(exp(x));
			lo = log(v - 0.5);
			hi = log(v + 0.5);
		}
		return log_mass((lo - mu) / s, (hi - mu) / s) - m->log_z[k * d + j];
	}
	double z = (x - mu) * m->inv_sigma[k * d + j];
	return -0.5 * z * z + m->log_norm[k * d + j];
}

/* log of the sum of exp(v[i]), given their maximum; terms below e^-40 of it add nothing a double holds. */
static double log_sum_exp(const double *v, size_t n, double top)
{
	if (!isfinite(top))
		return top;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] - top > -40.0)
			sum += exp(v[i] - top);
	return top + log(sum);
}

/* log density of flag j alone (univariate), or of the whole point (j = SIZE_MAX). */
static double mixture_log_density(const mixture *m, const tpe_state *st, size_t j, const double *x, double *scratch)
{
	double top = -HUGE_VAL;
	for (size_t k = 0; k < m->n; k++) {
		double v = m->log_w[k];
		if (j != SIZE_MAX)
			v += kernel_log_density(m, st, k, j, x[j]);
		else
			for (size_t i = 0; i < st->n_dims; i++)
				v += kernel_log_density(m, st, k, i, x[i]);
		scratch[k] = v;
		top = v > top ? v : top;
	}
	return log_sum_exp(scratch, m->n, top);
}

static size_t pick_kernel(const mixture *m, tally_rng *rng)
{
	double u = tally_rng_unit(rng), acc = 0;
	for (size_t k = 0; k < m->n; k++) {
		acc += exp(m->log_w[k]);
		if (u < acc)
			return k;
	}
	return m->n - 1;
}

/* A draw of flag j from kernel k (modelled units, before snapping). */
static double kernel_draw(const mixture *m, const tpe_state *st, size_t k, size_t j, tally_rng *rng)
{
	const tpe_dim *t = &st->dims[j];
	size_t d = st->n_dims;
	if (t->categorical) {
		double c = m->cat[k * d + j];
		/* the kernel's own category with probability 1 / (a·choices + 1), else any uniformly */
		if (c >= 0 && tally_rng_unit(rng) * (m->cat_a * (double)t->n_choices + 1.0) < 1.0)
			return c;
		return (double)tally_rng_below(rng, t->n_choices);
	}
	double mu = m->mu[k * d + j], s = m->sigma[k * d + j];
	for (int tries = 0; tries < 100; tries++) { /* truncated by rejection: a kernel's centre lies in range */
		double x = mu + s * standard_normal(rng);
		if (x >= t->low && x <= t->high)
			return x;
	}
	return clamp(mu, t->low, t->high);
}

/* ---- points already tried ---- */

typedef struct {
	const double **slots;
	size_t mask, d;
} point_set;

static uint64_t point_hash(const double *x, size_t d)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < d; i++) {
		double v = x[i] == 0 ? 0 : x[i]; /* -0 is 0 */
		uint64_t bits;
		memcpy(&bits, &v, sizeof bits);
		h = (h ^ bits) * 1099511628211ULL;
		h ^= h >> 29;
	}
	return h;
}

static bool same_point(const double *a, const double *b, size_t d)
{
	for (size_t i = 0; i < d; i++)
		if (a[i] != b[i]) /* == also holds for 0 and -0, which round() gives for small negatives */
			return false;
	return true;
}

static bool point_set_has(const point_set *set, const double *x)
{
	for (size_t h = point_hash(x, set->d) & set->mask; set->slots[h]; h = (h + 1) & set->mask)
		if (same_point(set->slots[h], x, set->d))
			return true;
	return false;
}

static void point_set_add(point_set *set, const double *x)
{
	size_t h = point_hash(x, set->d) & set->mask;
	while (set->slots[h])
		h = (h + 1) & set->mask;
	set->slots[h] = x;
}

/* ---- the trials so far ---- */

static int by_rank(const void *a, const void *b)
{
	const observation *x = a, *y = b;
	if (x->rank_class != y->rank_class)
		return x->rank_class < y->rank_class ? -1 : 1;
	if (x->key1 != y->key1)
		return x->key1 < y->key1 ? -1 : 1;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? -1 : 1;
	return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static int by_trial(const void *a, const void *b)
{
	size_t x = (*(observation *const *)a)->trial, y = (*(observation *const *)b)->trial;
	return x < y ? -1 : x > y;
}

/* Every trial whose flags fit the space, as a ranked observation; *n_valued counts those with a result. */
static observation *observe(const tpe_state *st, const tally_trial_result *trials, size_t n_trials, double *values,
                            size_t *n_obs, size_t *n_valued)
{
	observation *obs = malloc((n_trials ? n_trials : 1) * sizeof *obs);
	*n_obs = *n_valued = 0;
	for (size_t i = 0; obs && i < n_trials; i++) {
		observation *o = &obs[*n_obs];
		o->x = values + *n_obs * st->n_dims;
		bool fits = true;
		for (size_t j = 0; fits && j < st->n_dims; j++)
			fits = to_model(&st->dims[j], json_object_get(trials[i].flags, st->dims[j].dim->name), &o->x[j]);
		if (!fits)
			continue;
		const tally_trial_result *r = &trials[i];
		bool valued = r->has_objective && !isnan(r->objective);
		o->trial = i;
		o->key1 = o->key2 = 0;
		if (r->outcome == TALLY_TRIAL_COMPLETED && valued) {
			o->rank_class = 0;
			o->key1 = r->objective;
		} else if (r->outcome == TALLY_TRIAL_PRUNED && valued) {
			o->rank_class = 1; /* stopped later is better, then the lower value */
			o->key1 = -(double)r->step;
			o->key2 = r->objective;
		} else {
			o->rank_class = 2;
		}
		*n_valued += o->rank_class < 2;
		(*n_obs)++;
	}
	if (obs)
		qsort(obs, *n_obs, sizeof *obs, by_rank);
	return obs;
}

/* ---- proposing ---- */

typedef struct {
	const tpe_state *st;
	mixture good, bad;
	double *scratch;     /* one per kernel */
	double *cand;        /* candidates × n_dims, snapped */
	double *score;       /* candidates × n_dims (univariate) or candidates (multivariate) */
	tally_rng *rng;
} proposal;

/* Draw the candidates from the good density and score them by log l(x) - log g(x). */
static void draw_candidates(proposal *p)
{
	const tpe_state *st = p->st;
	size_t d = st->n_dims;
	for (size_t c = 0; c < st->candidates; c++) {
		double *x = &p->cand[c * d];
		size_t shared = pick_kernel(&p->good, p->rng);
		for (size_t j = 0; j < d; j++) {
			size_t k = st->multivariate ? shared : pick_kernel(&p->good, p->rng);
			x[j] = snap(&st->dims[j], kernel_draw(&p->good, st, k, j, p->rng));
		}
		if (st->multivariate) {
			p->score[c] = mixture_log_density(&p->good, st, SIZE_MAX, x, p->scratch) -
			              mixture_log_density(&p->bad, st, SIZE_MAX, x, p->scratch);
		} else {
			for (size_t j = 0; j < d; j++)
				p->score[c * d + j] = mixture_log_density(&p->good, st, j, x, p->scratch) -
				                      mixture_log_density(&p->bad, st, j, x, p->scratch);
		}
	}
}

/* A candidate's total score (univariate: the sum over the flags). */
static double candidate_score(const proposal *p, size_t c)
{
	if (p->st->multivariate)
		return p->score[c];
	double sum = 0;
	for (size_t j = 0; j < p->st->n_dims; j++)
		sum += p->score[c * p->st->n_dims + j];
	return sum;
}

/* The best point: per flag (univariate) or the best candidate (multivariate); into `x`. */
static void best_point(const proposal *p, double *x)
{
	size_t d = p->st->n_dims, n = p->st->candidates;
	if (p->st->multivariate) {
		size_t best = 0;
		for (size_t c = 1; c < n; c++)
			if (p->score[c] > p->score[best])
				best = c;
		memcpy(x, &p->cand[best * d], d * sizeof *x);
		return;
	}
	for (size_t j = 0; j < d; j++) {
		size_t best = 0;
		for (size_t c = 1; c < n; c++)
			if (p->score[c * d + j] > p->score[best * d + j])
				best = c;
		x[j] = p->cand[best * d + j];
	}
}

/* The best whole candidate not tried yet, into `x`; false when every one was. */
static bool best_new_candidate(const proposal *p, const point_set *tried, double *x)
{
	size_t d = p->st->n_dims;
	long best = -1;
	for (size_t c = 0; c < p->st->candidates; c++)
		if (!point_set_has(tried, &p->cand[c * d]) && (best < 0 || candidate_score(p, c) > candidate_score(p, (size_t)best)))
			best = (long)c;
	if (best < 0)
		return false;
	memcpy(x, &p->cand[(size_t)best * d], d * sizeof *x);
	return true;
}

/* A random point of the space, snapped, into `x`. */
static void random_model_point(const tpe_state *st, tally_rng *rng, double *x)
{
	json_t *point = tally__space_random_point(st->space, rng);
	for (size_t j = 0; j < st->n_dims; j++)
		if (!to_model(&st->dims[j], json_object_get(point, st->dims[j].dim->name), &x[j]))
			x[j] = 0.5 * (st->dims[j].low + st->dims[j].high);
	json_decref(point);
}

/* A new point by chance, else the first new one of a finite grid; false when there is none. */
static bool random_new_point(const tpe_state *st, tally_rng *rng, const point_set *tried, double *x)
{
	for (int i = 0; i < RANDOM_TRIES; i++) {
		random_model_point(st, rng, x);
		if (!point_set_has(tried, x))
			return true;
	}
	uint64_t size = tally__space_is_finite(st->space) ? tally__space_grid_size(st->space) : 0;
	if (!size || size > TALLY_SWEEP_MAX_TRIALS)
		return !size; /* continuous: a repeat is as good as anything */
	for (uint64_t g = 0; g < size; g++) {
		json_t *point = tally__space_grid_point(st->space, g);
		for (size_t j = 0; j < st->n_dims; j++)
			to_model(&st->dims[j], json_object_get(point, st->dims[j].dim->name), &x[j]);
		json_decref(point);
		if (!point_set_has(tried, x))
			return true;
	}
	return false;
}

static json_t *point_json(const tpe_state *st, const double *x)
{
	json_t *values = json_object();
	for (size_t j = 0; j < st->n_dims; j++)
		json_object_set_new(values, st->dims[j].dim->name, to_value(&st->dims[j], x[j]));
	return values;
}

/* Fit both densities and pick the next point into `x`; the good ones are
 * among the `n_valued` trials with a result (ranked first). */
static int model_point(proposal *p, observation *obs, size_t n_obs, size_t n_valued, double *x)
{
	size_t n_good = (n_obs + 9) / 10;
	if (n_good > MAX_GOOD)
		n_good = MAX_GOOD;
	if (n_good > n_valued)
		n_good = n_valued;
	observation **order = malloc(n_obs * sizeof *order);
	if (!order)
		return tally__error_oom();
	for (size_t i = 0; i < n_obs; i++)
		order[i] = &obs[i];
	/* each group back in trial order: the weights favour recent trials */
	qsort(order, n_good, sizeof *order, by_trial);
	qsort(order + n_good, n_obs - n_good, sizeof *order, by_trial);
	int rc = mixture_build(&p->good, p->st, order, n_good);
	if (!rc)
		rc = mixture_build(&p->bad, p->st, order + n_good, n_obs - n_good);
	free(order);
	if (rc)
		return rc;
	draw_candidates(p);
	best_point(p, x);
	return 0;
}

static int tpe_next(void *state, const tally_trial_result *trials, size_t n_trials, json_t **values)
{
	tpe_state *st = state;
	size_t d = st->n_dims, n_obs, n_valued;
	tally_rng rng;
	tally_rng_seed(&rng, st->seed ^ (0x9E3779B97F4A7C15ULL * ((uint64_t)n_trials + 1)));
	double *obs_x = malloc(((n_trials ? n_trials : 1) * d + d) * sizeof *obs_x);
	observation *obs = obs_x ? observe(st, trials, n_trials, obs_x, &n_obs, &n_valued) : NULL;
	size_t cap = 16;
	while (obs && cap < 2 * n_obs + 2)
		cap <<= 1;
	point_set tried = {obs ? calloc(cap, sizeof *tried.slots) : NULL, cap - 1, d};
	proposal p = {.st = st, .rng = &rng};
	p.cand = malloc(st->candidates * d * sizeof *p.cand);
	p.score = malloc(st->candidates * d * sizeof *p.score);
	p.scratch = malloc((n_trials + 2) * sizeof *p.scratch);
	double *x = obs_x ? obs_x + (n_trials ? n_trials : 1) * d : NULL;
	int rc = !obs || !tried.slots || !p.cand || !p.score || !p.scratch ? tally__error_oom() : 0;
	for (size_t i = 0; !rc && i < n_obs; i++)
		if (!point_set_has(&tried, obs[i].x))
			point_set_add(&tried, obs[i].x);
	if (!rc && (n_valued < st->startup || !n_valued)) { /* as Optuna: until `startup` trials have a result */
		random_model_point(st, &rng, x);
	} else if (!rc) {
		rc = model_point(&p, obs, n_obs, n_valued, x);
		if (!rc && point_set_has(&tried, x) && !best_new_candidate(&p, &tried, x))
			rc = 2; /* look further, below */
	}
	if ((rc == 0 && point_set_has(&tried, x)) || rc == 2)
		rc = random_new_point(st, &rng, &tried, x) ? 0 : 1;
	if (!rc && !(*values = point_json(st, x)))
		rc = tally__error_oom();
	mixture_release(&p.good);
	mixture_release(&p.bad);
	free(p.cand);
	free(p.score);
	free(p.scratch);
	free(tried.slots);
	free(obs);
	free(obs_x);
	return rc;
}

static size_t setting(const json_t *settings, const char *key, size_t fallback)
{
	json_t *v = json_object_get(settings, key);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (size_t)json_integer_value(v) : fallback;
}

static int tpe_start(void **state, const tally_space *space, uint64_t budget, uint64_t seed, const json_t *settings)
{
	(void)budget;
	tpe_state *st = calloc(1, sizeof *st);
	if (!st || !(st->dims = calloc(space->n ? space->n : 1, sizeof *st->dims))) {
		free(st);
		return tally__error_oom();
	}
	st->space = space;
	st->n_dims = space->n;
	st->seed = seed;
	st->startup = setting(settings, "startup_trials", TALLY_TPE_STARTUP);
	st->candidates = setting(settings, "candidates", TALLY_TPE_CANDIDATES);
	if (!st->candidates || st->candidates > TALLY_TPE_MAX_CANDIDATES) /* a record edited by hand */
		st->candidates = TALLY_TPE_CANDIDATES;
	st->multivariate = json_is_true(json_object_get(settings, "multivariate"));
	for (size_t j = 0; j < space->n; j++)
		model_dim(&st->dims[j], &space->dims[j]);
	*state = st;
	return 0;
}

static void tpe_stop(void *state)
{
	tpe_state *st = state;
	if (st)
		free(st->dims);
	free(st);
}

const tally_strategy tally__tpe_strategy = {"tpe", true, tpe_start, tpe_next, tpe_stop};

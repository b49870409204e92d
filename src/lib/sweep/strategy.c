/*
 * Strategies: which trials a sweep runs.
 *  - grid: every point of a finite space, in order (the last flag fastest);
 *  - random: a random subset of a finite space's grid, without repeats, or
 *    independent draws where a flag is a distribution.
 * Both know their whole plan in advance.  A sequential strategy (TPE, in
 * tpe.c) fits the same interface: next() gets every trial so far, with the
 * results of those that ended, each time a worker frees.
 */
#include "lib/sweep/sweep.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	const tally_space *space;
	uint64_t *order;  /* random: the grid indexes to run, in order; NULL for draws */
	uint64_t count;   /* trials to propose */
	uint64_t next;
	tally_rng rng;
} plan_state;

static int grid_start(void **state, const tally_space *space, uint64_t budget, uint64_t seed, const json_t *settings)
{
	(void)settings;
	uint64_t size = tally__space_grid_size(space);
	if (size == 0)
		return tally__error(TALLY_EINVALID, "a grid needs every flag to be a list — use random search (--max-trials N) "
		                    "for distributions such as uniform[a:b]");
	if (size == UINT64_MAX)
		return tally__error(TALLY_EINVALID, "the grid has more than 2^62 points — sample it (--max-trials N)");
	plan_state *s = calloc(1, sizeof *s);
	if (!s)
		return tally__error_oom();
	s->space = space;
	s->count = budget && budget < size ? budget : size;
	tally_rng_seed(&s->rng, seed);
	*state = s;
	return 0;
}

static int grid_next(void *state, const tally_trial_result *trials, size_t n_trials, json_t **values)
{
	plan_state *s = state;
	if (s->next >= s->count)
		return 1;
	*values = tally__space_grid_point(s->space, s->next++);
	return *values ? 0 : tally__error_oom();
}

static void plan_stop(void *state)
{
	plan_state *s = state;
	if (s)
		free(s->order);
	free(s);
}

/* An open-addressing set of grid indexes, for drawing without repeats. */
typedef struct {
	uint64_t *slots; /* index + 1; 0 = empty */
	uint64_t mask;
} index_set;

static bool index_set_add(index_set *set, uint64_t index)
{
	uint64_t h = (index * 0x9E3779B97F4A7C15ULL) & set->mask;
	while (set->slots[h]) {
		if (set->slots[h] == index + 1)
			return false;
		h = (h + 1) & set->mask;
	}
	set->slots[h] = index + 1;
	return true;
}

/*
 * k distinct indexes below n in random order: Floyd's algorithm picks the
 * set in k steps whatever n is, then a shuffle orders it.
 */
static int sample_indexes(uint64_t **out, uint64_t n, uint64_t k, tally_rng *rng)
{
	uint64_t cap = 16;
	while (cap < 2 * k)
		cap <<= 1;
	index_set set = {calloc(cap, sizeof(uint64_t)), cap - 1};
	uint64_t *order = malloc((k ? k : 1) * sizeof *order);
	if (!set.slots || !order) {
		free(set.slots);
		free(order);
		return tally__error_oom();
	}
	uint64_t got = 0;
	for (uint64_t j = n - k; j < n; j++) {
		uint64_t t = tally_rng_below(rng, j + 1);
		uint64_t pick = index_set_add(&set, t) ? t : j;
		if (pick == j)
			index_set_add(&set, j);
		order[got++] = pick;
	}
	for (uint64_t i = k; i > 1; i--) {
		uint64_t j = tally_rng_below(rng, i);
		uint64_t tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	free(set.slots);
	*out = order;
	return 0;
}

static int random_start(void **state, const tally_space *space, uint64_t budget, uint64_t seed, const json_t *settings)
{
	(void)settings;
	plan_state *s = calloc(1, sizeof *s);
	if (!s)
		return tally__error_oom();
	s->space = space;
	tally_rng_seed(&s->rng, seed);
	uint64_t size = tally__space_grid_size(space);
	s->count = budget ? budget : 20;
	int rc = 0;
	if (size && size != UINT64_MAX) { /* a finite grid: a subset of it, no point twice */
		if (s->count > size)
			s->count = size;
		rc = sample_indexes(&s->order, size, s->count, &s->rng);
	} else if (size == UINT64_MAX && s->count > (UINT64_C(1) << 24)) {
		rc = tally__error(TALLY_EINVALID, "%llu trials are too many", (unsigned long long)s->count);
	}
	if (rc) {
		plan_stop(s);
		return rc;
	}
	*state = s;
	return 0;
}

static int random_next(void *state, const tally_trial_result *trials, size_t n_trials, json_t **values)
{
	plan_state *s = state;
	if (s->next >= s->count)
		return 1;
	uint64_t k = s->next++;
	*values = s->order ? tally__space_grid_point(s->space, s->order[k]) : tally__space_random_point(s->space, &s->rng);
	return *values ? 0 : tally__error_oom();
}

static const tally_strategy strategies[] = {
	{"grid", false, grid_start, grid_next, plan_stop},
	{"random", false, random_start, random_next, plan_stop},
};

/* Sequential strategies, in their own files. */
static const tally_strategy *const sequential[] = {&tally__tpe_strategy};

/* Strategies added at run time (tests; later, ones built outside this file). */
static const tally_strategy *registered[16];
static size_t n_registered;

int tally__strategy_register(const tally_strategy *strategy)
{
	if (tally__strategy_find(strategy->name))
		return tally__error(TALLY_EEXISTS, "a search strategy '%s' exists already", strategy->name);
	if (n_registered == sizeof registered / sizeof *registered)
		return tally__error(TALLY_ERROR, "too many search strategies");
	registered[n_registered++] = strategy;
	return 0;
}

const tally_strategy *tally__strategy_find(const char *name)
{
	for (size_t i = 0; i < sizeof strategies / sizeof *strategies; i++)
		if (!strcmp(strategies[i].name, name))
			return &strategies[i];
	for (size_t i = 0; i < sizeof sequential / sizeof *sequential; i++)
		if (!strcmp(sequential[i]->name, name))
			return sequential[i];
	for (size_t i = 0; i < n_registered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	return NULL;
}

/*
 * Sweeps, inside the library: search spaces (space.c), the strategies that
 * pick trials from them (strategy.c), trials files (trialsfile.c) and the
 * sweep record and its scheduler (sweep.c).
 */
#ifndef TALLY_LIB_SWEEP_H
#define TALLY_LIB_SWEEP_H

#include "lib/index/index.h"
#include "util/rng.h"

/* ---- search spaces (space.c) ---- */

typedef enum {
	TALLY_DIM_VALUES,     /* a finite list: [a,b], choice[], range[], linspace[], logspace[] */
	TALLY_DIM_UNIFORM,    /* uniform[lo:hi] */
	TALLY_DIM_LOGUNIFORM, /* loguniform[lo:hi], 0 < lo */
	TALLY_DIM_RANDINT,    /* randint[lo:hi], both ends included */
	TALLY_DIM_LOGRANDINT, /* lograndint[lo:hi], 0 < lo */
} tally_dim_kind;

typedef struct {
	char *name;       /* the flag */
	char *spec;       /* as given, e.g. "loguniform[1e-4:1e-1]" */
	tally_dim_kind kind;
	json_t *values;   /* TALLY_DIM_VALUES: a JSON array of typed values */
	bool sequence;    /* the values were generated (range[], linspace[], logspace[]): monotonic, one type */
	double lo, hi;    /* the distributions' bounds */
} tally_dim;

typedef struct {
	tally_dim *dims;
	size_t n;
} tally_space;

#define TALLY_SPACE_MAX_VALUES 1000000 /* values one range[]/linspace[] may give */

/* Whether the right-hand side of NAME=VALUE is a search space ("[…]", "uniform[…]"…). */
bool tally__is_space_spec(const char *value);
/* Parse `spec` for flag `name` into `out`; TALLY_EINVALID with a message. */
int tally__dim_parse(tally_dim *out, const char *name, const char *spec);
void tally__dim_release(tally_dim *dim);
/* Add a parsed dimension (taking it over); a flag given twice is an error. */
int tally__space_add(tally_space *space, tally_dim *dim);
void tally__space_release(tally_space *space);
/* Whether every dimension is a finite list. */
bool tally__space_is_finite(const tally_space *space);
/* The number of grid points (finite spaces), or UINT64_MAX when past 2^62. */
uint64_t tally__space_grid_size(const tally_space *space);
/* Grid point `index` (the last flag varies fastest) as {flag: value}. */
json_t *tally__space_grid_point(const tally_space *space, uint64_t index);
/* A random point: lists uniformly, distributions by their law (6 significant digits). */
json_t *tally__space_random_point(const tally_space *space, tally_rng *rng);
/* Values that exercise every dimension's extremes, for checking them against
 * the script's flags before anything starts: a JSON array of {flag: value}. */
json_t *tally__space_probe_points(const tally_space *space);

/* ---- strategies (strategy.c) ---- */

/* A finished trial as strategies see it. */
typedef struct {
	json_t *flags;       /* the values it ran with (borrowed) */
	bool failed;         /* error or terminated */
	bool has_objective;
	double objective;    /* oriented: smaller is better */
} tally_trial_result;

/*
 * A strategy proposes trials.  Grid and random know every trial in advance
 * (`sequential` false: the sweep records the whole plan when it starts);
 * a sequential one (Bayesian search, early stopping) is asked again each
 * time a worker frees, with the results so far.
 */
typedef struct {
	const char *name;
	bool sequential;
	/* `budget`: the number of trials wanted (0: every point of a finite space). */
	int (*start)(void **state, const tally_space *space, uint64_t budget, uint64_t seed);
	/* 0 and the next trial's values, 1 when there are no more; negative on error. */
	int (*next)(void *state, const tally_trial_result *done, size_t n_done, json_t **values);
	void (*stop)(void *state);
} tally_strategy;

/* "grid", "random" or a registered strategy; NULL for another name. */
const tally_strategy *tally__strategy_find(const char *name);
/* Make a strategy available by its name (it must outlive its use). */
int tally__strategy_register(const tally_strategy *strategy);

/* ---- trials files (trialsfile.c) ---- */

/* One trial per row of a .csv, .yml/.yaml or .json file: a JSON array of {flag: value}. */
int tally__trials_file_load(json_t **out, const char *path);
/* The same from `len` bytes of `text`; `path` names the format (by its extension) and the messages. */
int tally__trials_parse(json_t **out, const char *path, const char *text, size_t len);

#endif

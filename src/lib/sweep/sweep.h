/*
 * Sweeps, inside the library: search spaces (space.c), the strategies that
 * pick trials from them (tpe.c, strategy.c), the pruners that stop hopeless
 * trials (prune.c), trials files (trialsfile.c), the
 * sweep's record on disk and its trials' state (sweep.c), planning a
 * sweep (plan.c), the executors that run trials (executor-local.c) and the
 * scheduler between them (schedule.c).
 *
 * Within the folder each file uses only those listed before it here, and
 * the scheduler alone knows both strategies and executors: a new way to
 * pick trials is a tally_strategy, a new way to run them (a batch system)
 * a tally_executor, and neither touches the rest.
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
/* `v` rounded to `digits` significant digits (sampled values read well in labels). */
double tally__round_sig(double v, int digits);
/* Values that exercise every dimension's extremes, for checking them against
 * the script's flags before anything starts: a JSON array of {flag: value}. */
json_t *tally__space_probe_points(const tally_space *space);

/* ---- strategies (strategy.c) ---- */

/* Where a trial stands, as strategies see it. */
typedef enum {
	TALLY_TRIAL_RUNNING,   /* proposed and not ended (pending or running) */
	TALLY_TRIAL_COMPLETED,
	TALLY_TRIAL_FAILED,    /* error or terminated, or completed without the objective */
	TALLY_TRIAL_PRUNED,    /* stopped early by the sweep's pruner */
} tally_trial_outcome;

typedef struct {
	json_t *flags;       /* the values it runs with (borrowed) */
	tally_trial_outcome outcome;
	bool has_objective;  /* completed or pruned, with the objective's last value */
	double objective;    /* oriented: smaller is better */
	int64_t step;        /* pruned: the objective's last step */
} tally_trial_result;

/*
 * A strategy proposes trials.  Grid and random know every trial in advance
 * (`sequential` false: the sweep records the whole plan when it starts);
 * a sequential one (TPE) is asked again each time a worker frees, with every
 * trial so far, running ones included.
 */
typedef struct {
	const char *name;
	bool sequential;
	/* `budget`: the number of trials wanted (0: every point of a finite space);
	 * `settings`: the record's "optimizer" object (may be NULL). */
	int (*start)(void **state, const tally_space *space, uint64_t budget, uint64_t seed, const json_t *settings);
	/* 0 and the next trial's values, 1 when there are no more; negative on error.
	 * `trials`: every trial so far, in order. */
	int (*next)(void *state, const tally_trial_result *trials, size_t n_trials, json_t **values);
	void (*stop)(void *state);
} tally_strategy;

/* TPE, the Tree-structured Parzen Estimator (tpe.c): its settings' defaults. */
#define TALLY_TPE_STARTUP 10     /* random trials before the model takes over */
#define TALLY_TPE_CANDIDATES 24  /* draws from the good trials' density, the best one proposed */
#define TALLY_TPE_MAX_CANDIDATES 100000
extern const tally_strategy tally__tpe_strategy;

/* "grid", "random" or a registered strategy; NULL for another name. */
const tally_strategy *tally__strategy_find(const char *name);
/* Make a strategy available by its name (it must outlive its use). */
int tally__strategy_register(const tally_strategy *strategy);

/* ---- pruners: stopping hopeless trials early (prune.c) ---- */

typedef enum { TALLY_PRUNE_MEDIAN, TALLY_PRUNE_ASHA } tally_pruner_kind;

#define TALLY_PRUNE_STARTUP 5     /* median: completed trials before any is pruned */
#define TALLY_PRUNE_FACTOR 3      /* asha: the reduction factor */
#define TALLY_PRUNE_GRACE_S 10    /* seconds from SIGTERM to SIGKILL */

typedef struct tally_pruner tally_pruner;

/* A pruner from the record's "pruner" settings; `objective` and `maximize` word its reasons. */
int tally__pruner_new(tally_pruner **out, const json_t *settings, const char *objective, bool maximize);
void tally__pruner_free(tally_pruner *p);
/* Trial `trial` (from 0) logged `value` (oriented: smaller is better) at `step`. */
int tally__pruner_report(tally_pruner *p, size_t trial, int64_t step, double value);
/* The trial completed: its values count for the median, its length for ASHA's rungs. */
void tally__pruner_completed(tally_pruner *p, size_t trial);
/* A trial that ran before this execution (resume), or completed: record the ASHA rungs it reached. */
void tally__pruner_replay(tally_pruner *p, size_t trial);
/* ASHA's first rung step in use (given, or estimated once a trial completed); 0 while unknown. */
int64_t tally__pruner_min_step(tally_pruner *p);
/* Whether the trial should stop at its latest value; if so, why (in `why`). */
bool tally__pruner_check(tally_pruner *p, size_t trial, char *why, size_t size);

/* ---- trials files (trialsfile.c) ---- */

/* One trial per row of a .csv, .yml/.yaml or .json file: a JSON array of {flag: value}. */
int tally__trials_file_load(json_t **out, const char *path);
/* The same from `len` bytes of `text`; `path` names the format (by its extension) and the messages. */
int tally__trials_parse(json_t **out, const char *path, const char *text, size_t len);

/* ---- the sweep and its record (sweep.c) ---- */

#define TALLY_SWEEP_MAX_TRIALS 1000000
#define TALLY_SWEEP_MAX_PARALLEL 1024

/* What the sweep knows of one trial, read from its runs. */
typedef struct {
	char *run_id;
	char status[16];       /* pending, running, completed, error, terminated, pruned */
	bool has_objective;    /* completed, with the objective */
	bool logged_objective; /* its run logged the objective, whatever its status */
	double objective;
	int64_t objective_step; /* the step of its last objective value */
	int64_t duration_ms;
	char *flags_text;      /* the trial's flags as compact JSON, for tally_sweep_trial_get() */
} tally_trial_state;

struct tally_sweep {
	tally_store *store;     /* borrowed */
	char id[16];
	char *dir;              /* RUNS/.sweeps/ID, once recorded */
	json_t *record;         /* sweep.json */
	tally_trial_state *trials;
	size_t n_trials;
	char status[16];
	char *describe;
	char *json_text;
	char objective[128];    /* "" until chosen or found */
	bool maximize;
	int lock_fd;            /* held by the process running the sweep, or -1 */
};

tally_sweep *tally__sweep_alloc(tally_store *store);
/* A string field of sweep.json ("" when absent). */
const char *tally__sweep_rec_str(const tally_sweep *s, const char *key);
/* The record's array of trials, and trial `i`'s {flag: value} (borrowed). */
json_t *tally__sweep_rec_trials(const tally_sweep *s);
json_t *tally__sweep_trial_flags(const tally_sweep *s, size_t i);
/* (Re)make the trials' states, all pending, from the record's trials. */
int tally__sweep_alloc_trials(tally_sweep *s);
/* The objective and its goal, from the record. */
void tally__sweep_load_objective(tally_sweep *s);
/* Write sweep.json atomically (`durable`: fsync'ed). */
int tally__sweep_save_record(tally_sweep *s, bool durable);
/* Give a planned sweep its id and directory, RUNS/.sweeps/ID. */
int tally__sweep_create_dir(tally_sweep *s);
/* Take the lock the running sweep holds; TALLY_ELOCKED when another process runs it. */
int tally__sweep_lock(tally_sweep *s);
/* Record the sweep's status ("running", "completed", …) with its times, pid and host. */
int tally__sweep_set_status(tally_sweep *s, const char *status, bool durable);
/* Add a trial a sequential strategy proposed (recorded before it starts); takes `values`. */
int tally__sweep_append_trial(tally_sweep *s, json_t *values);
/* Every trial's state from its runs, through the index. */
int tally__sweep_refresh_trials(tally_sweep *s);
/* Trial `trial`'s state from the run `run_id` that just ended (no index sync). */
void tally__sweep_read_trial_run(tally_sweep *s, size_t trial, const char *run_id);

/* ---- planning (plan.c) ---- */

/* The options tally_launch() runs trial `trial` with, rebuilt from the record. */
typedef struct {
	tally_launch_options opts;
	tally_strlist command, tags, args;
} tally_trial_launch;

int tally__trial_launch_init(tally_trial_launch *tl, const tally_sweep *s, size_t trial);
void tally__trial_launch_release(tally_trial_launch *tl);
/* A JSON array of the strings of a NULL-terminated list (may be NULL). */
json_t *tally__strings_json(const char *const *list);

/* ---- executors: how trials run (executor-local.c, executor-slurm.c) ---- */

/* What an executor is asked to run. */
typedef struct {
	unsigned slot;                       /* which of the sweep's parallel places it takes */
	size_t trial;                        /* from 0 */
	const tally_launch_options *launch;  /* the run to make (its sweep id and trial set) */
	const char *runs_dir;                /* the runs directory it goes into */
	const char *gpu;                     /* CUDA_VISIBLE_DEVICES for it, or NULL */
} tally_trial_start;

/* How a trial ended, as far as the executor saw: its run (whose run.json
 * tells the rest) or why there is none. */
typedef struct {
	unsigned slot;
	size_t trial;
	const char *run_id;                  /* NULL when no run was created */
	const char *error;                   /* NULL, or why the trial did not start */
} tally_trial_end;

typedef void (*tally_trial_ended_cb)(void *ctx, const tally_trial_end *end);

/* What the scheduler tells an executor when it opens one. */
typedef struct {
	unsigned slots;                      /* at most this many trials at once */
	bool echo;                           /* trials' output on the sweep's own stdout and stderr */
	/* Called first thing in a process made for a trial, so that nothing of the
	 * sweep's own (its signal handlers, its lock) lives on in it. */
	void (*child_setup)(void *ctx);
	void *ctx;
	/* a batch system's executor */
	const char *runs_dir;
	unsigned throttle;                   /* at most this many of the submitted trials run at once */
	const tally_slurm_options *slurm;    /* how trials go to Slurm */
	const char *job_name;
} tally_executor_env;

/*
 * An executor runs trials: locally (a forked tally_launch() per trial), or
 * later through a batch system.  The scheduler starts a trial in a free slot,
 * then waits; the executor reports each trial that ended.  Signals the sweep
 * receives reach the running trials through `signal`.
 */
typedef struct {
	const char *name;
	int (*open)(void **state, const tally_executor_env *env);
	/* Start a trial; 0, or an error and nothing started. */
	int (*start)(void *state, const tally_trial_start *trial);
	/* Wait up to `timeout_ms` for news of the trials or for `wake_fd` to be
	 * readable (not read here), then hand every trial that ended to `ended`. */
	void (*wait)(void *state, int wake_fd, int timeout_ms, tally_trial_ended_cb ended, void *ctx);
	/* Pass `sig` on to every running trial. */
	void (*signal)(void *state, int sig);
	/* Pass `sig` to the trial in `slot` alone (a pruned one). */
	void (*signal_trial)(void *state, unsigned slot, int sig);
	/* The id of the run the trial in `slot` became, once it exists (else NULL). */
	const char *(*run_of)(void *state, unsigned slot);
	void (*close)(void *state);
	/* Optional (a batch system): send the trials started since the last call
	 * off together.  On failure every one of them is reported ended, with the
	 * error, and nothing of them is left. */
	int (*submit)(void *state, tally_trial_ended_cb ended, void *ctx);
	/* Optional: watch in `slot` the trial whose run `run_id` is still queued
	 * or running (left by a sweep that was killed); 0 when it can, 1 when the
	 * trial must run again (its run never reached the batch system). */
	int (*adopt)(void *state, unsigned slot, size_t trial, const char *run_id);
	/* Whether the executor queues every planned trial at once (a batch
	 * system keeps the --parallel limit itself) rather than slot by slot. */
	bool queues_all;
} tally_executor;

/* "local" (executor-local.c) or "slurm" (executor-slurm.c); NULL for another name. */
const tally_executor *tally__executor_find(const char *name);
const tally_executor *tally__executor_slurm(void);

#endif

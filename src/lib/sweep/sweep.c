/*
 * Sweeps: the record and the scheduler.
 *
 * A sweep lives in RUNS/.sweeps/ID/: sweep.json (its space, options, seed
 * and the list of trials, written atomically) and a lock file that the
 * process running it holds, so that "running" is never believed of a sweep
 * whose process died (it reads as interrupted).  Its trials are ordinary
 * runs whose run.json says {"sweep": {"id", "trial"}}: which trials have
 * run, and how they ended, is read from the runs (through the index), never
 * from a copy kept in the sweep — so a sweep killed at any moment loses
 * nothing and resumes without running a completed trial twice.
 *
 * Each trial runs in a forked child that calls tally_launch(), as `tally
 * run -q` would: the child is its own process group (Ctrl-C reaches the
 * sweep, which forwards it once), dies with the sweep (PR_SET_PDEATHSIG, so
 * a killed sweep's trials end as terminated), and reports the run's id
 * through a pipe as soon as the run exists.
 */
#include "lib/sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <dirent.h>

#include "util/fsutil.h"
#include "util/strlist.h"
#include "util/timeutil.h"

#define SWEEPS_DIR ".sweeps"
#define MAX_TRIALS 1000000
#define MAX_PARALLEL 1024

typedef struct {
	char *run_id;
	char status[16];       /* pending, running, completed, error, terminated */
	bool has_objective;
	double objective;
	int64_t duration_ms;
	char *flags_text;      /* the trial's flags as compact JSON, for tally_sweep_trial_get() */
} trial_state;

struct tally_sweep {
	tally_store *store;     /* borrowed */
	char id[16];
	char *dir;              /* RUNS/.sweeps/ID, once recorded */
	json_t *record;         /* sweep.json */
	trial_state *trials;
	size_t n_trials;
	char status[16];
	char *describe;
	char *json_text;
	char objective[128];    /* "" until chosen or found */
	bool maximize;
	int lock_fd;
};

/* ---- small helpers ---- */

static size_t count_strings(const char *const *list)
{
	size_t n = 0;
	while (list && list[n])
		n++;
	return n;
}

static const char *rec_str(const tally_sweep *s, const char *key)
{
	const char *v = json_string_value(json_object_get(s->record, key));
	return v ? v : "";
}

static json_t *rec_trials(const tally_sweep *s)
{
	return json_object_get(s->record, "trials");
}

static json_t *trial_flags(const tally_sweep *s, size_t i)
{
	return json_object_get(json_array_get(rec_trials(s), i), "flags");
}

static void release_trials(tally_sweep *s)
{
	for (size_t i = 0; i < s->n_trials; i++) {
		free(s->trials[i].run_id);
		free(s->trials[i].flags_text);
	}
	free(s->trials);
	s->trials = NULL;
	s->n_trials = 0;
}

static int alloc_trials(tally_sweep *s)
{
	release_trials(s);
	size_t n = json_array_size(rec_trials(s));
	s->trials = calloc(n ? n : 1, sizeof *s->trials);
	if (!s->trials)
		return tally__error_oom();
	s->n_trials = n;
	for (size_t i = 0; i < n; i++) {
		strcpy(s->trials[i].status, "pending");
		s->trials[i].duration_ms = -1;
		s->trials[i].flags_text = json_dumps(trial_flags(s, i), JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
		if (!s->trials[i].flags_text)
			return tally__error_oom();
	}
	return 0;
}

static void load_objective(tally_sweep *s)
{
	json_t *o = json_object_get(s->record, "objective");
	const char *scalar = json_string_value(json_object_get(o, "scalar"));
	snprintf(s->objective, sizeof s->objective, "%s", scalar ? scalar : "");
	s->maximize = !strcmp(json_string_value(json_object_get(o, "goal")) ? json_string_value(json_object_get(o, "goal")) : "",
	                      "maximize");
}

static int save_record(tally_sweep *s, bool durable)
{
	char *text = json_dumps(s->record, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	char *path = tally_path_join(s->dir, "sweep.json");
	int rc = 0;
	if (!text || !path)
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path, text, strlen(text), durable ? TALLY_DURABLE : 0) < 0)
		rc = tally__error(TALLY_ERROR, "cannot write '%s': %s", path, strerror(errno));
	free(text);
	free(path);
	return rc;
}

/* ---- planning ---- */

/* NAME=VALUE arguments of one trial: the fixed ones, then the trial's values. */
static int trial_args(tally_strlist *args, json_t *fixed, json_t *flags)
{
	size_t i;
	json_t *v;
	json_array_foreach(fixed, i, v) if (tally_strlist_push(args, json_string_value(v)) < 0) return tally__error_oom();
	const char *name;
	tally_buf text = TALLY_BUF_INIT;
	json_object_foreach(flags, name, v) {
		tally_buf_clear(&text);
		tally__flag_assignment_text(&text, name, v);
		if (tally_buf_oom(&text) || tally_strlist_push(args, text.ptr) < 0) {
			tally_buf_release(&text);
			return tally__error_oom();
		}
	}
	tally_buf_release(&text);
	return 0;
}

static json_t *strings_json(const char *const *list)
{
	json_t *a = json_array();
	for (const char *const *p = list; p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

/* The launch options a trial runs with, rebuilt from the record. */
typedef struct {
	tally_launch_options opts;
	tally_strlist command, tags, args;
} launch_plan;

static int launch_plan_init(launch_plan *lp, const tally_sweep *s, size_t trial)
{
	lp->opts = (tally_launch_options)TALLY_LAUNCH_OPTIONS_INIT;
	lp->command = lp->tags = lp->args = (tally_strlist)TALLY_STRLIST_INIT;
	json_t *r = s->record;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(r, "command"), i, v) if (tally_strlist_push(&lp->command, json_string_value(v)) < 0) return tally__error_oom();
	json_array_foreach(json_object_get(r, "tags"), i, v) if (tally_strlist_push(&lp->tags, json_string_value(v)) < 0) return tally__error_oom();
	int rc = trial_args(&lp->args, json_object_get(r, "fixed_flags"), trial_flags(s, trial));
	if (rc)
		return rc;
	lp->opts.script = json_string_value(json_object_get(r, "script"));
	lp->opts.command = lp->command.n ? (const char *const *)lp->command.items : NULL;
	lp->opts.flag_args = (const char *const *)lp->args.items;
	lp->opts.interpreter = json_string_value(json_object_get(r, "interpreter"));
	lp->opts.label = json_string_value(json_object_get(r, "label"));
	lp->opts.tags = lp->tags.n ? (const char *const *)lp->tags.items : NULL;
	lp->opts.comment = json_string_value(json_object_get(r, "comment"));
	lp->opts.project_dir = json_string_value(json_object_get(r, "project_dir"));
	lp->opts.flags_file = json_string_value(json_object_get(r, "flags_file"));
	lp->opts.force_flags = json_is_true(json_object_get(r, "force_flags"));
	lp->opts.no_system_metrics = json_is_true(json_object_get(r, "no_system_metrics"));
	lp->opts.quiet = 1;
	lp->opts.sweep_id = s->id[0] ? s->id : NULL;
	lp->opts.sweep_trial = (long)trial + 1;
	return 0;
}

static void launch_plan_release(launch_plan *lp)
{
	tally_strlist_release(&lp->command);
	tally_strlist_release(&lp->tags);
	tally_strlist_release(&lp->args);
}

/* Would tally_launch() accept the trial with these values?  The message names them. */
static int check_values(tally_sweep *s, json_t *values, const char *what)
{
	json_t *trials = json_array();
	json_t *trial = json_object();
	json_object_set(trial, "flags", values);
	json_array_append_new(trials, trial);
	json_t *saved = json_incref(rec_trials(s));
	json_object_set_new(s->record, "trials", trials);
	launch_plan lp;
	int rc = launch_plan_init(&lp, s, 0);
	if (!rc) {
		lp.opts.check_only = 1;
		lp.opts.sweep_id = NULL;
		tally_run *none = NULL;
		int exit_code;
		rc = tally_launch(&none, &exit_code, s->store, &lp.opts);
		tally_run_free(none);
	}
	launch_plan_release(&lp);
	json_object_set_new(s->record, "trials", saved);
	if (rc && what) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", tally_error_last());
		rc = tally__error(rc, "%s: %s", what, msg);
	}
	return rc;
}

static int parse_spaces(const tally_sweep_options *o, tally_space *space, json_t *fixed, json_t *spec_list)
{
	for (const char *const *a = o->launch.flag_args; a && *a; a++) {
		const char *eq = strchr(*a, '=');
		if (!eq || !tally__is_space_spec(eq + 1)) {
			json_array_append_new(fixed, json_string(*a));
			continue;
		}
		char *name = strndup(*a, (size_t)(eq - *a));
		tally_flag probe = {0};
		/* the name must be a valid flag name: check it as an assignment */
		char *assignment = name ? malloc(strlen(name) + 3) : NULL;
		int rc = !assignment ? tally__error_oom() : 0;
		if (!rc) {
			sprintf(assignment, "%s=0", name);
			rc = tally__flag_parse_assignment(&probe, assignment);
			tally__flag_release(&probe);
		}
		tally_dim dim;
		if (!rc && !(rc = tally__dim_parse(&dim, name, eq + 1))) {
			json_t *entry = json_object();
			json_object_set_new(entry, "flag", json_string(name));
			json_object_set_new(entry, "spec", json_string(eq + 1));
			json_array_append_new(spec_list, entry);
			rc = tally__space_add(space, &dim);
		}
		free(assignment);
		free(name);
		if (rc)
			return rc;
	}
	/* a flag both fixed and swept is a mistake */
	size_t i;
	json_t *v;
	json_array_foreach(fixed, i, v) {
		const char *text = json_string_value(v);
		for (size_t d = 0; d < space->n; d++) {
			size_t len = strlen(space->dims[d].name);
			if (!strncmp(text, space->dims[d].name, len) && text[len] == '=')
				return tally__error(TALLY_EINVALID, "flag %s is given a value and a search space — give one",
				                    space->dims[d].name);
		}
	}
	return 0;
}

static const char *dim_text(const tally_dim *d, char *buf, size_t size)
{
	if (d->kind == TALLY_DIM_VALUES)
		snprintf(buf, size, "%zu", json_array_size(d->values));
	else
		snprintf(buf, size, "continuous");
	return buf;
}

static int plan_trials(tally_sweep *s, const tally_sweep_options *o, const tally_space *space, json_t *trials,
                       const char **strategy_name, uint64_t *budget_out)
{
	bool finite = tally__space_is_finite(space);
	uint64_t grid = finite ? tally__space_grid_size(space) : 0;
	const char *name = o->strategy;
	if (o->sample != 0 && !(o->sample > 0 && o->sample <= 1))
		return tally__error(TALLY_EINVALID, "--sample %g is not a share of the grid — give 0 < F <= 1", o->sample);
	if (o->sample > 0 && !finite)
		return tally__error(TALLY_EINVALID, "--sample takes a share of a grid, but a flag is a distribution — "
		                    "use --max-trials N");
	if (!name)
		name = finite && !o->sample && !o->max_trials ? "grid" : "random";
	const tally_strategy *strategy = tally__strategy_find(name);
	if (!strategy)
		return tally__error(TALLY_EINVALID, "no search strategy '%s' — use grid or random", name);
	uint64_t budget = o->max_trials;
	if (o->sample > 0) { /* tfruns: a share of the grid, at least one trial */
		uint64_t n = (uint64_t)floor(o->sample * (double)grid);
		budget = n ? n : 1;
		if (o->max_trials && o->max_trials < budget)
			budget = o->max_trials;
	}
	if (!strcmp(name, "grid") && grid > MAX_TRIALS && (!budget || budget > MAX_TRIALS))
		return tally__error(TALLY_EINVALID, "the grid has %s%llu points, more than %d — sample it (--sample F or "
		                    "--max-trials N)", grid == UINT64_MAX ? "over " : "",
		                    (unsigned long long)(grid == UINT64_MAX ? UINT64_C(1) << 62 : grid), MAX_TRIALS);
	if (budget > MAX_TRIALS)
		return tally__error(TALLY_EINVALID, "%llu trials are more than %d", (unsigned long long)budget, MAX_TRIALS);
	*strategy_name = strategy->name;
	if (strategy->sequential) { /* its trials are proposed as results come in */
		*budget_out = budget ? budget : 20;
		json_object_set_new(s->record, "max_trials", json_integer((json_int_t)*budget_out));
		return 0;
	}
	void *state = NULL;
	uint64_t seed = (uint64_t)json_integer_value(json_object_get(s->record, "seed"));
	int rc = strategy->start(&state, space, budget, seed);
	json_t *values;
	while (!rc && (rc = strategy->next(state, NULL, 0, &values)) == 0) {
		json_t *trial = json_object();
		json_object_set_new(trial, "flags", values);
		json_array_append_new(trials, trial);
	}
	if (rc == 1)
		rc = 0;
	if (state)
		strategy->stop(state);
	*budget_out = budget;
	return rc;
}

static void set_description(tally_sweep *s, const tally_space *space, const char *strategy, uint64_t grid)
{
	tally_buf d = TALLY_BUF_INIT;
	const tally_strategy *st = tally__strategy_find(strategy);
	bool sequential = st && st->sequential;
	size_t n = sequential ? (size_t)json_integer_value(json_object_get(s->record, "max_trials"))
	                      : json_array_size(rec_trials(s));
	tally_buf_printf(&d, "%s%zu trial%s (", sequential ? "up to " : "", n, n == 1 ? "" : "s");
	if (!strcmp(strategy, "trials-file")) {
		tally_buf_printf(&d, "from %s", rec_str(s, "trials_file"));
	} else {
		if (!strcmp(strategy, "grid") || !strcmp(strategy, "random"))
			tally_buf_printf(&d, "%s", !strcmp(strategy, "grid") ? "grid of " : "random from ");
		else
			tally_buf_printf(&d, "%s search over ", strategy);
		char buf[32];
		for (size_t i = 0; i < space->n; i++)
			tally_buf_printf(&d, "%s%s", i ? " × " : "", dim_text(&space->dims[i], buf, sizeof buf));
		if (grid && n < grid && space->n > 1 && strcmp(strategy, "grid"))
			tally_buf_printf(&d, " = %llu", (unsigned long long)grid);
	}
	tally_buf_addc(&d, ')');
	free(s->describe);
	s->describe = tally_buf_oom(&d) ? NULL : strdup(d.ptr);
	tally_buf_release(&d);
	if (s->describe)
		json_object_set_new(s->record, "description", json_string(s->describe));
}

static tally_sweep *sweep_alloc(tally_store *store)
{
	tally_sweep *s = calloc(1, sizeof *s);
	if (s) {
		s->store = store;
		s->lock_fd = -1;
		strcpy(s->status, "planned");
	}
	return s;
}

static json_t *opt_string(const char *v)
{
	return v ? json_string(v) : json_null();
}

static json_t *new_record(const tally_store *store, const tally_sweep_options *o, uint64_t seed)
{
	const tally_launch_options *l = &o->launch;
	json_t *r = json_object();
	char *project = tally_path_absolute(l->project_dir ? l->project_dir : ".");
	char *flags_file = l->flags_file ? tally_path_absolute(l->flags_file) : NULL;
	json_object_set_new(r, "format", json_integer(1));
	json_object_set_new(r, "id", json_null());
	json_object_set_new(r, "status", json_string("planned"));
	json_object_set_new(r, "description", json_null());
	json_object_set_new(r, "project_dir", opt_string(project));
	json_object_set_new(r, "script", opt_string(l->script));
	json_object_set_new(r, "command", strings_json(l->command));
	json_object_set_new(r, "interpreter", opt_string(l->interpreter));
	json_object_set_new(r, "flags_file", opt_string(flags_file));
	json_object_set_new(r, "force_flags", json_boolean(l->force_flags));
	json_object_set_new(r, "no_system_metrics", json_boolean(l->no_system_metrics));
	json_object_set_new(r, "label", opt_string(l->label));
	json_object_set_new(r, "tags", strings_json(l->tags));
	json_object_set_new(r, "comment", opt_string(l->comment));
	json_object_set_new(r, "fixed_flags", json_array());
	json_object_set_new(r, "space", json_array());
	json_object_set_new(r, "strategy", json_null());
	json_object_set_new(r, "seed", json_integer((json_int_t)seed));
	json_object_set_new(r, "sample", o->sample > 0 ? json_real(o->sample) : json_null());
	json_object_set_new(r, "max_trials", o->max_trials ? json_integer((json_int_t)o->max_trials) : json_null());
	json_object_set_new(r, "trials_file", opt_string(o->trials_file));
	json_t *objective = json_object();
	json_object_set_new(objective, "scalar", opt_string(o->objective));
	json_object_set_new(objective, "goal", json_string(o->maximize ? "maximize" : "minimize"));
	json_object_set_new(r, "objective", objective);
	json_object_set_new(r, "host", json_string(store->host));
	json_object_set_new(r, "trials", json_array());
	free(project);
	free(flags_file);
	return r;
}

int tally_sweep_plan(tally_sweep **out, tally_store *store, const tally_sweep_options *o)
{
	*out = NULL;
	if (!o || o->version != TALLY_SWEEP_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "unsupported tally_sweep_options version");
	if (o->launch.version != TALLY_LAUNCH_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "unsupported tally_launch_options version");
	if (o->launch.name)
		return tally__error(TALLY_EINVALID, "a sweep's trials cannot share one name — leave --name out");
	if (o->objective && !*o->objective)
		return tally__error(TALLY_EINVALID, "the objective is empty — name a scalar, e.g. val_loss");
	uint64_t seed = o->has_seed ? o->seed : tally_rng_fresh_seed() % 1000000000u;
	if (seed > (uint64_t)INT64_MAX)
		return tally__error(TALLY_EINVALID, "seed %llu is too large — give one below 2^63", (unsigned long long)seed);
	tally_sweep *s = sweep_alloc(store);
	tally_space space = {NULL, 0};
	int rc = 0;
	if (!s || !(s->record = new_record(store, o, seed))) {
		tally_sweep_free(s);
		return tally__error_oom();
	}
	json_t *fixed = json_object_get(s->record, "fixed_flags");
	if ((rc = parse_spaces(o, &space, fixed, json_object_get(s->record, "space"))))
		goto done;
	const char *strategy = "trials-file";
	uint64_t budget = 0, grid = tally__space_is_finite(&space) ? tally__space_grid_size(&space) : 0;
	json_t *trials = rec_trials(s);
	if (o->trials_file) {
		json_t *rows = NULL;
		if (space.n)
			rc = tally__error(TALLY_EINVALID, "give either search spaces (flag %s) or --trials, not both",
			                  space.dims[0].name);
		else if (o->strategy || o->sample > 0 || o->max_trials)
			rc = tally__error(TALLY_EINVALID, "--trials runs the file's rows: leave --grid, --sample and "
			                  "--max-trials out");
		else if (!(rc = tally__trials_file_load(&rows, o->trials_file))) {
			size_t i;
			json_t *row;
			json_array_foreach(rows, i, row) {
				json_t *trial = json_object();
				json_object_set(trial, "flags", row);
				json_array_append_new(trials, trial);
			}
			json_decref(rows);
			if (json_array_size(trials) > MAX_TRIALS)
				rc = tally__error(TALLY_EINVALID, "%s holds more than %d trials", o->trials_file, MAX_TRIALS);
		}
	} else if (!space.n) {
		rc = tally__error(TALLY_EINVALID, "nothing to sweep — give a flag a list (lr=[0.01,0.1]) or a "
		                  "distribution (lr=loguniform[1e-4:1e-1]), or --trials FILE");
	} else {
		rc = plan_trials(s, o, &space, trials, &strategy, &budget);
	}
	if (rc)
		goto done;
	json_object_set_new(s->record, "strategy", json_string(strategy));
	json_object_set_new(s->record, "grid_size", grid && grid != UINT64_MAX ? json_integer((json_int_t)grid) : json_null());
	set_description(s, &space, strategy, grid);

	/* Everything a trial could get wrong fails now, before anything starts. */
	if (o->trials_file) {
		size_t i;
		json_t *trial;
		json_array_foreach(trials, i, trial) {
			char what[64];
			snprintf(what, sizeof what, "trial %zu", i + 1);
			if ((rc = check_values(s, json_object_get(trial, "flags"), what)))
				break;
		}
	} else {
		json_t *probes = tally__space_probe_points(&space);
		size_t i;
		json_t *probe;
		json_array_foreach(probes, i, probe) if ((rc = check_values(s, probe, NULL))) break;
		json_decref(probes);
	}
	if (!rc)
		rc = alloc_trials(s);
	load_objective(s);
done:
	tally__space_release(&space);
	if (rc) {
		tally_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- the record on disk ---- */

static char *sweeps_root(const tally_store *store)
{
	return tally_path_join(store->path, SWEEPS_DIR);
}

/* Whether runs in the index say they are trials of sweep `id`. */
static bool id_has_runs(tally_store *store, const char *id)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (store->db && sqlite3_prepare_v2(store->db, "SELECT 1 FROM runs WHERE sweep = ?1 LIMIT 1", -1, &st, NULL) ==
	                     SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* A new RUNS/.sweeps/ID: four hex digits, more if those keep colliding
 * (with another sweep, or with the runs of a sweep whose record is gone). */
static int create_sweep_dir(tally_sweep *s)
{
	char *root = sweeps_root(s->store);
	if (!root || tally_mkdir_p(root) < 0) {
		int rc = root ? tally__error(TALLY_ERROR, "cannot create '%s': %s", root, strerror(errno)) : tally__error_oom();
		free(root);
		return rc;
	}
	tally_rng rng;
	tally_rng_seed(&rng, tally_rng_fresh_seed());
	int rc = tally_store_sync(s->store, 0, NULL);
	if (rc) {
		free(root);
		return rc;
	}
	rc = TALLY_ERROR;
	for (int attempt = 0; attempt < 200; attempt++) {
		int digits = attempt < 50 ? 4 : attempt < 100 ? 6 : 8;
		snprintf(s->id, sizeof s->id, "%0*llx", digits,
		         (unsigned long long)tally_rng_below(&rng, UINT64_C(1) << (4 * digits)));
		if (!strspn(s->id, "abcdef")) /* never all digits: that would read as a run index */
			s->id[0] = "abcdef"[tally_rng_below(&rng, 6)];
		free(s->dir);
		s->dir = tally_path_join(root, s->id);
		if (!s->dir) {
			rc = tally__error_oom();
			break;
		}
		if (mkdir(s->dir, 0777) == 0) {
			if (!id_has_runs(s->store, s->id)) {
				rc = 0;
				break;
			}
			rmdir(s->dir); /* runs of an earlier sweep of that id (its record deleted): not this one's */
			continue;
		}
		if (errno != EEXIST) {
			rc = tally__error(TALLY_ERROR, "cannot create '%s': %s", s->dir, strerror(errno));
			break;
		}
	}
	free(root);
	if (rc)
		s->id[0] = '\0';
	return rc;
}

static bool valid_sweep_id(const char *id)
{
	size_t n = strlen(id);
	return n >= 4 && n < 16 && strspn(id, "0123456789abcdef") == n;
}

/* Absent, or an array of strings. */
static bool strings_or_absent(json_t *v)
{
	size_t i;
	json_t *e;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
	return true;
}

/* What the scheduler reads of a record has the shape it expects: a record
 * edited by hand is refused, not half used. */
static bool record_valid(json_t *r)
{
	json_t *trials = json_object_get(r, "trials"), *v;
	size_t i;
	if (!json_is_array(trials) || !json_is_string(json_object_get(r, "status")) ||
	    (!json_is_string(json_object_get(r, "script")) && !json_array_size(json_object_get(r, "command"))) ||
	    !strings_or_absent(json_object_get(r, "command")) || !strings_or_absent(json_object_get(r, "tags")) ||
	    !strings_or_absent(json_object_get(r, "fixed_flags")))
		return false;
	json_array_foreach(trials, i, v) if (!json_is_object(json_object_get(v, "flags"))) return false;
	json_array_foreach(json_object_get(r, "space"), i, v) {
		if (!json_is_string(json_object_get(v, "flag")) || !json_is_string(json_object_get(v, "spec")))
			return false;
	}
	return true;
}

/* Read `dir`/sweep.json into the sweep. */
static int load_record(tally_sweep *s, const char *id)
{
	char *root = sweeps_root(s->store);
	s->dir = root ? tally_path_join(root, id) : NULL;
	free(root);
	char *path = s->dir ? tally_path_join(s->dir, "sweep.json") : NULL;
	if (!path)
		return tally__error_oom();
	json_error_t err;
	s->record = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	int rc = 0;
	if (!s->record)
		rc = tally__error(TALLY_ECORRUPT, "sweep %s: cannot read %s: %s", id, path, err.text);
	else if (!record_valid(s->record))
		rc = tally__error(TALLY_ECORRUPT, "sweep %s: %s is not a sweep record (edited by hand?)", id, path);
	free(path);
	if (rc)
		return rc;
	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->status, sizeof s->status, "%s", rec_str(s, "status"));
	free(s->describe);
	s->describe = strdup(rec_str(s, "description"));
	load_objective(s);
	return s->describe ? alloc_trials(s) : tally__error_oom();
}

/* A "running" record whose process no longer holds the lock was killed. */
static void check_liveness(tally_sweep *s)
{
	if (strcmp(s->status, "running") || strcmp(rec_str(s, "host"), s->store->host))
		return; /* another machine's sweep: its lock is not ours to test */
	char *path = tally_path_join(s->dir, "lock");
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0)
		strcpy(s->status, "interrupted");
	if (fd >= 0)
		close(fd);
	free(path);
}

static int refresh_trials(tally_sweep *s);

int tally_sweep_open(tally_sweep **out, tally_store *store, const char *ref)
{
	*out = NULL;
	char *root = sweeps_root(store);
	if (!root)
		return tally__error_oom();
	DIR *d = opendir(root);
	tally_strlist matches = TALLY_STRLIST_INIT;
	struct dirent *e;
	bool exact = false;
	while (d && (e = readdir(d)) && !exact) {
		if (!valid_sweep_id(e->d_name) || strncmp(e->d_name, ref, strlen(ref)))
			continue;
		if (!strcmp(e->d_name, ref)) {
			tally_strlist_release(&matches);
			exact = true;
		}
		tally_strlist_push(&matches, e->d_name);
	}
	if (d)
		closedir(d);
	free(root);
	int rc = 0;
	if (!*ref || !matches.n)
		rc = tally__error(TALLY_ENOTFOUND, "no sweep '%s' — `tally sweeps` lists them", ref);
	else if (matches.n > 1)
		rc = tally__error(TALLY_EAMBIGUOUS, "sweep '%s' is ambiguous: %s, %s%s — give more of its id", ref,
		                  matches.items[0], matches.items[1], matches.n > 2 ? ", …" : "");
	tally_sweep *s = rc ? NULL : sweep_alloc(store);
	if (!rc && !s)
		rc = tally__error_oom();
	if (!rc && !(rc = load_record(s, matches.items[0]))) {
		check_liveness(s);
		rc = refresh_trials(s);
	}
	tally_strlist_release(&matches);
	if (rc) {
		tally_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void tally_sweep_free(tally_sweep *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	release_trials(s);
	json_decref(s->record);
	free(s->dir);
	free(s->describe);
	free(s->json_text);
	free(s);
}

/* ---- the trials' state, from their runs ---- */

/* Without --minimize/--maximize: the first of these a completed trial logged. */
static const char *const default_objectives[] = {"val_loss", "loss"};

static void set_objective(tally_sweep *s, const char *scalar)
{
	snprintf(s->objective, sizeof s->objective, "%s", scalar);
	json_object_set_new(json_object_get(s->record, "objective"), "scalar", json_string(s->objective));
}

/* The default objective, from the completed trials in the index. */
static void find_objective(tally_sweep *s)
{
	if (s->objective[0])
		return;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->store->db,
	                       "SELECT s.tag FROM runs r JOIN scalars s ON s.rid = r.rid WHERE r.sweep = ?1"
	                       " AND r.status = 'completed' AND s.tag IN (?2, ?3) ORDER BY s.tag = ?2 DESC LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, default_objectives[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, default_objectives[1], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		set_objective(s, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void reset_trial(trial_state *t)
{
	free(t->run_id);
	t->run_id = NULL;
	strcpy(t->status, "pending");
	t->has_objective = false;
	t->duration_ms = -1;
}

/*
 * The trials' state from their runs (through the index).  A trial is
 * completed when one of its runs completed; otherwise its latest run tells
 * (an interrupted retry of a failed trial is terminated: run again).
 */
static int refresh_trials(tally_sweep *s)
{
	if (!s->id[0])
		return 0;
	int rc = tally_store_sync(s->store, 0, NULL);
	if (rc)
		return rc;
	if (!s->store->db)
		return tally__error(TALLY_ERROR, "sweep %s: the runs index is not available", s->id);
	find_objective(s);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->store->db,
	                       "SELECT r.trial, r.id, r.status, r.started, r.stopped, sc.last FROM runs r"
	                       " LEFT JOIN scalars sc ON sc.rid = r.rid AND sc.tag = ?2"
	                       " WHERE r.sweep = ?1 ORDER BY r.started, r.id",
	                       -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "sweep %s: index query failed: %s", s->id, sqlite3_errmsg(s->store->db));
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->objective, -1, SQLITE_STATIC);
	for (size_t i = 0; i < s->n_trials; i++)
		reset_trial(&s->trials[i]);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_int64 trial = sqlite3_column_int64(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 2);
		if (trial < 1 || (size_t)trial > s->n_trials || !status)
			continue;
		trial_state *t = &s->trials[trial - 1];
		if (!strcmp(t->status, "completed"))
			continue; /* done: a later run of it (a retry that failed) does not undo that */
		free(t->run_id);
		if (!(t->run_id = strdup((const char *)sqlite3_column_text(st, 1))))
			rc = tally__error_oom();
		snprintf(t->status, sizeof t->status, "%s", status);
		t->duration_ms = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1
		               : sqlite3_column_int64(st, 4) - sqlite3_column_int64(st, 3);
		t->has_objective = sqlite3_column_type(st, 5) != SQLITE_NULL && !strcmp(status, "completed");
		t->objective = sqlite3_column_double(st, 5);
	}
	sqlite3_finalize(st);
	return rc;
}


/*
 * A trial's run that just ended, read from its directory: no index sync,
 * which right after a run was created would rescan the whole runs directory
 * (its mtime is too recent to trust) — once per trial, that made a sweep
 * quadratic.
 */
static void read_trial_run(tally_sweep *s, size_t trial, const char *run_id)
{
	trial_state *t = &s->trials[trial];
	if (!strcmp(t->status, "completed"))
		return;
	char *dir = tally_path_join(s->store->path, run_id);
	tally_run *run = NULL;
	if (!dir || tally__run_load_dir(&run, s->store, dir)) {
		tally_buf_printf(&s->store->warnings, "sweep %s, trial %zu: %s\n", s->id, trial + 1,
		                 dir ? tally_error_last() : "out of memory");
		free(dir);
		return;
	}
	free(dir);
	reset_trial(t);
	t->run_id = strdup(run_id);
	snprintf(t->status, sizeof t->status, "%s", tally_run_status(run));
	int64_t started = tally_run_started_ms(run), stopped = tally_run_stopped_ms(run);
	t->duration_ms = stopped > 0 && stopped >= started ? stopped - started : -1;
	json_t *scalars = json_loads(tally_run_scalars_json(run), 0, NULL);
	for (size_t i = 0; !s->objective[0] && !strcmp(t->status, "completed") && i < 2; i++)
		if (json_object_get(scalars, default_objectives[i]))
			set_objective(s, default_objectives[i]);
	json_t *last = json_object_get(json_object_get(scalars, s->objective), "last");
	t->has_objective = s->objective[0] && json_is_number(last) && !strcmp(t->status, "completed");
	t->objective = json_number_value(last);
	json_decref(scalars);
	tally_run_free(run);
}

/* ---- reading a sweep ---- */

const char *tally_sweep_id(const tally_sweep *s)
{
	return s->id;
}

const char *tally_sweep_status(const tally_sweep *s)
{
	return s->status;
}

const char *tally_sweep_describe(const tally_sweep *s)
{
	return s->describe ? s->describe : "";
}

const char *tally_sweep_objective(const tally_sweep *s, int *maximize)
{
	if (maximize)
		*maximize = s->maximize;
	return s->objective;
}

size_t tally_sweep_trial_count(const tally_sweep *s)
{
	return s->n_trials;
}

int tally_sweep_trial_get(const tally_sweep *s, size_t i, tally_sweep_trial *out)
{
	if (i >= s->n_trials)
		return tally__error(TALLY_ENOTFOUND, "sweep %s has no trial %zu", s->id, i + 1);
	const trial_state *t = &s->trials[i];
	out->flags_json = t->flags_text;
	out->run_id = t->run_id;
	out->status = t->status;
	out->has_objective = t->has_objective;
	out->objective = t->objective;
	out->duration_ms = t->duration_ms;
	return 0;
}

long tally_sweep_best(const tally_sweep *s)
{
	long best = -1;
	for (size_t i = 0; i < s->n_trials; i++) {
		const trial_state *t = &s->trials[i];
		if (!t->has_objective || isnan(t->objective))
			continue;
		double b = best >= 0 ? s->trials[best].objective : 0;
		if (best < 0 || (s->maximize ? t->objective > b : t->objective < b))
			best = (long)i;
	}
	return best;
}

const char *tally_sweep_json(tally_sweep *s)
{
	json_t *o = json_deep_copy(s->record);
	json_object_set_new(o, "id", s->id[0] ? json_string(s->id) : json_null());
	json_object_set_new(o, "status", json_string(s->status));
	json_object_set_new(o, "description", json_string(tally_sweep_describe(s)));
	json_t *trials = json_object_get(o, "trials");
	for (size_t i = 0; i < s->n_trials; i++) {
		json_t *t = json_array_get(trials, i);
		const trial_state *st = &s->trials[i];
		json_object_set_new(t, "trial", json_integer((json_int_t)i + 1));
		json_object_set_new(t, "status", json_string(st->status));
		json_object_set_new(t, "run", st->run_id ? json_string(st->run_id) : json_null());
		json_object_set_new(t, "objective", st->has_objective && isfinite(st->objective) ? json_real(st->objective)
		                                                                                 : json_null());
	}
	long best = tally_sweep_best(s);
	json_object_set_new(o, "best_trial", best >= 0 ? json_integer(best + 1) : json_null());
	json_object_set_new(o, "best_run", best >= 0 ? json_string(s->trials[best].run_id) : json_null());
	free(s->json_text);
	s->json_text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_decref(o);
	return s->json_text ? s->json_text : "{}";
}

static int by_created_desc(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return strcmp(json_string_value(json_object_get(*y, "created")) ? json_string_value(json_object_get(*y, "created")) : "",
	              json_string_value(json_object_get(*x, "created")) ? json_string_value(json_object_get(*x, "created")) : "");
}

int tally_sweep_list(tally_store *store, char **json_out)
{
	*json_out = NULL;
	char *root = sweeps_root(store);
	if (!root)
		return tally__error_oom();
	DIR *d = opendir(root);
	free(root);
	json_t **items = NULL;
	size_t n = 0;
	struct dirent *e;
	int rc = 0;
	tally_buf skipped = TALLY_BUF_INIT; /* told once every sync (which restarts the warnings) is done */
	while (!rc && d && (e = readdir(d))) {
		if (!valid_sweep_id(e->d_name))
			continue;
		tally_sweep *s = NULL;
		if (tally_sweep_open(&s, store, e->d_name)) { /* a damaged record: reported, not fatal */
			tally_buf_printf(&skipped, "skipped %s\n", tally_error_last()); /* the message names the sweep */
			continue;
		}
		json_t *summary = json_object(), **grown = realloc(items, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = tally__error_oom();
			json_decref(summary);
			tally_sweep_free(s);
			break;
		}
		items = grown;
		size_t completed = 0, failed = 0;
		for (size_t i = 0; i < s->n_trials; i++) {
			completed += !strcmp(s->trials[i].status, "completed");
			failed += !strcmp(s->trials[i].status, "error") || !strcmp(s->trials[i].status, "terminated");
		}
		long best = tally_sweep_best(s);
		json_object_set_new(summary, "id", json_string(s->id));
		json_object_set(summary, "created", json_object_get(s->record, "created"));
		json_object_set_new(summary, "status", json_string(s->status));
		json_object_set(summary, "script", json_object_get(s->record, "script"));
		json_object_set(summary, "strategy", json_object_get(s->record, "strategy"));
		json_object_set_new(summary, "description", json_string(tally_sweep_describe(s)));
		json_object_set_new(summary, "trials", json_integer((json_int_t)s->n_trials));
		json_object_set_new(summary, "completed", json_integer((json_int_t)completed));
		json_object_set_new(summary, "failed", json_integer((json_int_t)failed));
		json_object_set_new(summary, "objective", s->objective[0] ? json_string(s->objective) : json_null());
		json_object_set_new(summary, "goal", json_string(s->maximize ? "maximize" : "minimize"));
		json_object_set_new(summary, "best_run", best >= 0 ? json_string(s->trials[best].run_id) : json_null());
		json_object_set_new(summary, "best_value", best >= 0 && isfinite(s->trials[best].objective)
		                                               ? json_real(s->trials[best].objective) : json_null());
		items[n++] = summary;
		tally_sweep_free(s);
	}
	if (d)
		closedir(d);
	if (skipped.len)
		tally_buf_adds(&store->warnings, skipped.ptr);
	tally_buf_release(&skipped);
	if (n > 1)
		qsort(items, n, sizeof *items, by_created_desc);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
	if (!rc && !(*json_out = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS)))
		rc = tally__error_oom();
	json_decref(list);
	return rc;
}

/* ---- running it ---- */

typedef struct {
	pid_t pid;               /* the trial's supervisor (a forked tally_launch), or 0 */
	int report_fd;           /* "ok ID" or "error MESSAGE" from it, or -1 */
	size_t trial;
	tally_buf report;
	int64_t started_ms;
} worker;

typedef struct {
	tally_sweep *s;
	const tally_sweep_exec_options *o;
	worker *workers;
	unsigned n_workers;
	size_t *todo;            /* trials to run, in order */
	size_t n_todo, next_todo;
	size_t running, completed, failed, done_before;
	int64_t finished_ms_total;
	size_t finished_count;
	bool stopping, failed_fast;
	int stop_signal;
	/* A sequential strategy, asked for each trial as workers free. */
	const tally_strategy *strategy;
	void *strategy_state;
	tally_space space;
	uint64_t budget;
	bool exhausted;
} executor;

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;
	if (write(signal_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
	errno = saved;
}

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
#define N_HANDLED (sizeof handled_signals / sizeof *handled_signals)

static int install_signals(struct sigaction saved[N_HANDLED])
{
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return tally__error(TALLY_ERROR, "cannot create a pipe: %s", strerror(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_HANDLED; i++) {
		sigaction(handled_signals[i], NULL, &saved[i]);
		/* ignored when the sweep started (nohup): stays ignored; SIGCHLD is always needed */
		if (saved[i].sa_handler == SIG_IGN && handled_signals[i] != SIGCHLD)
			continue;
		sigaction(handled_signals[i], &sa, NULL);
	}
	return 0;
}

static void restore_signals(const struct sigaction saved[N_HANDLED])
{
	for (size_t i = 0; i < N_HANDLED; i++)
		sigaction(handled_signals[i], &saved[i], NULL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	signal_pipe[0] = signal_pipe[1] = -1;
}

static void emit(executor *x, int event, long trial, const char *run_id, const char *error)
{
	if (!x->o->progress)
		return;
	tally_sweep_progress p = {event, trial, run_id, error, x->s->n_trials, x->completed, x->failed, x->running,
	                          0, x->done_before, -1};
	p.pending = x->n_todo - x->next_todo;
	if (x->strategy && !x->exhausted && x->budget > x->s->n_trials) { /* still to be proposed */
		p.pending += (size_t)(x->budget - x->s->n_trials);
		p.total = (size_t)x->budget;
	}
	if (x->finished_count) { /* the trials still to start, in rounds, after the running ones' rest */
		int64_t avg = x->finished_ms_total / (int64_t)x->finished_count, now = tally_now_ms(), rest = 0;
		for (unsigned w = 0; w < x->n_workers; w++)
			if (x->workers[w].pid > 0 && avg - (now - x->workers[w].started_ms) > rest)
				rest = avg - (now - x->workers[w].started_ms);
		p.eta_ms = rest + avg * (int64_t)((p.pending + x->n_workers - 1) / x->n_workers);
	}
	x->o->progress(x->o->ctx, x->s, &p);
}

/* The child: a trial as `tally run -q` would run it from the project
 * directory, its run linked to the sweep.  Signals are blocked on entry. */
static void trial_child(executor *x, size_t trial, int report_w, const char *gpu, const struct sigaction *saved,
                        const sigset_t *mask, pid_t parent)
{
	for (size_t i = 0; i < N_HANDLED; i++)
		sigaction(handled_signals[i], &saved[i], NULL);
	setpgid(0, 0); /* the terminal's Ctrl-C reaches the sweep, which forwards it once */
#ifdef __linux__
	/* The sweep killed (even by SIGKILL): its trials end, as terminated. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(143);
#else
	(void)parent;
#endif
	sigprocmask(SIG_SETMASK, mask, NULL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	if (x->s->lock_fd >= 0)
		close(x->s->lock_fd); /* the sweep's lock stays the sweep process's alone */
	for (unsigned w = 0; w < x->n_workers; w++)
		if (x->workers[w].report_fd >= 0)
			close(x->workers[w].report_fd);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		if (!x->o->echo) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
	}
	if (gpu)
		setenv("CUDA_VISIBLE_DEVICES", gpu, 1);
	tally_store *store = NULL;
	launch_plan lp;
	int exit_code = 1;
	/* the script and a command's paths are relative to the project, wherever the sweep resumes */
	const char *project = rec_str(x->s, "project_dir");
	int rc = *project && chdir(project) < 0
	       ? tally__error(TALLY_ENOTFOUND, "cannot enter the project directory '%s': %s", project, strerror(errno))
	       : tally_store_open(&store, x->s->store->path);
	if (!rc)
		rc = launch_plan_init(&lp, x->s, trial);
	if (!rc) {
		lp.opts.quiet = !x->o->echo;
		lp.opts.notify_fd = report_w;
		tally_run *run = NULL;
		rc = tally_launch(&run, &exit_code, store, &lp.opts);
		tally_run_free(run);
	}
	if (rc) { /* the report pipe is still open only when no run was created */
		char line[1200];
		int n = snprintf(line, sizeof line, "error %s\n", tally_error_last());
		tally_write_all(report_w, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	}
	_exit(rc ? 126 : exit_code);
}

static int start_trial(executor *x, unsigned w, size_t trial, const struct sigaction *saved)
{
	worker *k = &x->workers[w];
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		return tally__error(TALLY_ERROR, "cannot create a pipe: %s", strerror(errno));
	const char *gpu = x->o->gpus && x->o->gpus[0] ? x->o->gpus[w % count_strings(x->o->gpus)] : NULL;
	fflush(NULL);
	pid_t parent = getpid();
	/* Blocked across fork(): the child must not run the sweep's handlers,
	 * nor take a signal before it is in a group of its own. */
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < N_HANDLED; i++)
		sigaddset(&block, handled_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		trial_child(x, trial, report[1], gpu, saved, &old, parent);
	}
	int fork_errno = errno;
	if (pid > 0)
		setpgid(pid, pid); /* also from here: no race with a forwarded signal */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		return tally__error(TALLY_ERROR, "cannot start a trial: %s", strerror(fork_errno));
	}
	close(report[1]);
	k->pid = pid;
	k->report_fd = report[0];
	k->trial = trial;
	k->started_ms = tally_now_ms();
	tally_buf_clear(&k->report);
	x->running++;
	emit(x, TALLY_SWEEP_TRIAL_STARTED, (long)trial, NULL, NULL);
	return 0;
}

static void read_report(worker *k)
{
	char buf[512];
	ssize_t n = read(k->report_fd, buf, sizeof buf);
	if (n > 0) {
		tally_buf_add(&k->report, buf, (size_t)n);
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	close(k->report_fd); /* the run exists (its id came), or the child is gone */
	k->report_fd = -1;
}

static void end_trial(executor *x, worker *k, int wait_status)
{
	while (k->report_fd >= 0)
		read_report(k);
	x->running--;
	size_t trial = k->trial;
	const char *text = k->report.ptr ? k->report.ptr : "";
	char *nl = k->report.ptr ? strchr(k->report.ptr, '\n') : NULL;
	if (nl)
		*nl = '\0';
	char run_id[TALLY_ID_MAX] = "";
	const char *error = NULL;
	if (!strncmp(text, "ok ", 3))
		snprintf(run_id, sizeof run_id, "%s", text + 3);
	else if (!strncmp(text, "error ", 6))
		error = text + 6;
	else
		error = WIFSIGNALED(wait_status) ? "the trial's tally process was killed" : "the trial did not start";
	if (run_id[0])
		read_trial_run(x->s, trial, run_id);
	const char *status = x->s->trials[trial].status;
	bool ok = !error && !strcmp(status, "completed");
	if (ok)
		x->completed++;
	else
		x->failed++;
	x->finished_ms_total += tally_now_ms() - k->started_ms;
	x->finished_count++;
	if (!ok && x->o->fail_fast && !x->stopping) {
		x->stopping = true;
		x->failed_fast = true;
	}
	k->pid = 0;
	emit(x, TALLY_SWEEP_TRIAL_ENDED, (long)trial, run_id[0] ? run_id : NULL, error);
}

static void forward_signal(executor *x, int sig)
{
	for (unsigned w = 0; w < x->n_workers; w++)
		if (x->workers[w].pid > 0)
			kill(x->workers[w].pid, sig);
}

/* Wait for a report, a child's end or a signal (up to a second: the caller ticks). */
static void wait_for_events(executor *x)
{
	struct pollfd fds[MAX_PARALLEL + 1];
	nfds_t n = 0;
	fds[n++] = (struct pollfd){signal_pipe[0], POLLIN, 0};
	for (unsigned w = 0; w < x->n_workers; w++)
		if (x->workers[w].report_fd >= 0)
			fds[n++] = (struct pollfd){x->workers[w].report_fd, POLLIN, 0};
	if (poll(fds, n, 1000) <= 0)
		return;
	for (nfds_t i = 1; i < n; i++)
		if (fds[i].revents)
			for (unsigned w = 0; w < x->n_workers; w++)
				if (x->workers[w].report_fd == fds[i].fd)
					read_report(&x->workers[w]);
	unsigned char sigs[64];
	ssize_t got;
	while ((got = read(signal_pipe[0], sigs, sizeof sigs)) > 0)
		for (ssize_t i = 0; i < got; i++)
			if (sigs[i] != SIGCHLD) {
				x->stopping = true;
				x->stop_signal = sigs[i];
				forward_signal(x, sigs[i]);
			}
}

static void reap(executor *x)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (unsigned w = 0; w < x->n_workers; w++)
			if (x->workers[w].pid == pid)
				end_trial(x, &x->workers[w], status);
}

static int take_lock(tally_sweep *s)
{
	char *path = tally_path_join(s->dir, "lock");
	if (!path)
		return tally__error_oom();
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	int rc = 0;
	if (s->lock_fd < 0)
		rc = tally__error(TALLY_ERROR, "cannot open '%s': %s", path, strerror(errno));
	else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = tally__error(TALLY_ELOCKED, "sweep %s is running already (pid %lld on %s) — wait for it, or stop it",
		                  s->id, (long long)json_integer_value(json_object_get(s->record, "pid")), rec_str(s, "host"));
	free(path);
	if (rc && s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	return rc;
}

static int set_status(tally_sweep *s, const char *status, bool durable)
{
	snprintf(s->status, sizeof s->status, "%s", status);
	json_object_set_new(s->record, "status", json_string(status));
	char iso[40];
	tally_format_iso_ms(iso, sizeof iso, tally_now_ms());
	json_object_set_new(s->record, strcmp(status, "running") ? "ended" : "resumed", json_string(iso));
	if (!json_object_get(s->record, "created"))
		json_object_set_new(s->record, "created", json_string(iso));
	json_object_set_new(s->record, "pid", json_integer(getpid()));
	json_object_set_new(s->record, "host", json_string(s->store->host));
	return save_record(s, durable);
}

/* ---- sequential strategies: trials proposed while the sweep runs ---- */

static int load_space(const tally_sweep *s, tally_space *space)
{
	size_t i;
	json_t *dim;
	json_array_foreach(json_object_get(s->record, "space"), i, dim) {
		tally_dim d;
		int rc = tally__dim_parse(&d, json_string_value(json_object_get(dim, "flag")) ? json_string_value(json_object_get(dim, "flag")) : "",
		                          json_string_value(json_object_get(dim, "spec")) ? json_string_value(json_object_get(dim, "spec")) : "");
		if (!rc)
			rc = tally__space_add(space, &d);
		if (rc)
			return rc;
	}
	return 0;
}

static int start_strategy(executor *x)
{
	const tally_strategy *st = tally__strategy_find(rec_str(x->s, "strategy"));
	if (!st || !st->sequential)
		return 0; /* its trials are all in the record */
	x->budget = (uint64_t)json_integer_value(json_object_get(x->s->record, "max_trials"));
	int rc = load_space(x->s, &x->space);
	if (!rc)
		rc = st->start(&x->strategy_state, &x->space, x->budget,
		               (uint64_t)json_integer_value(json_object_get(x->s->record, "seed")));
	if (!rc)
		x->strategy = st;
	return rc;
}

static void stop_strategy(executor *x)
{
	if (x->strategy && x->strategy_state)
		x->strategy->stop(x->strategy_state);
	tally__space_release(&x->space);
}

/* Add a proposed trial to the record (written before it starts) and to the states. */
static int append_trial(tally_sweep *s, json_t *values)
{
	trial_state *grown = realloc(s->trials, (s->n_trials + 1) * sizeof *grown);
	if (!grown) {
		json_decref(values);
		return tally__error_oom();
	}
	s->trials = grown;
	trial_state *t = &s->trials[s->n_trials];
	memset(t, 0, sizeof *t);
	strcpy(t->status, "pending");
	t->duration_ms = -1;
	t->flags_text = json_dumps(values, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_t *trial = json_object();
	json_object_set_new(trial, "flags", values);
	json_array_append_new(rec_trials(s), trial);
	s->n_trials++;
	return t->flags_text ? save_record(s, false) : tally__error_oom();
}

/* The finished trials, as the strategy sees them (the objective oriented: smaller is better). */
static tally_trial_result *finished_trials(const tally_sweep *s, size_t *n)
{
	tally_trial_result *done = calloc(s->n_trials ? s->n_trials : 1, sizeof *done);
	*n = 0;
	for (size_t i = 0; done && i < s->n_trials; i++) {
		const trial_state *t = &s->trials[i];
		if (!strcmp(t->status, "pending") || !strcmp(t->status, "running"))
			continue;
		tally_trial_result *r = &done[(*n)++];
		r->flags = trial_flags(s, i);
		r->failed = strcmp(t->status, "completed") != 0;
		r->has_objective = t->has_objective;
		r->objective = s->maximize ? -t->objective : t->objective;
	}
	return done;
}

/* The next trial to start: a planned one not yet run, else the strategy's
 * next proposal; -1 when there is none for now. */
static long next_trial(executor *x, int *rc)
{
	if (x->next_todo < x->n_todo)
		return (long)x->todo[x->next_todo++];
	if (!x->strategy || x->exhausted || x->s->n_trials >= x->budget)
		return -1;
	size_t n = 0;
	tally_trial_result *done = finished_trials(x->s, &n);
	json_t *values = NULL;
	int r = done ? x->strategy->next(x->strategy_state, done, n, &values) : tally__error_oom();
	free(done);
	if (r == 1) { /* nothing now: for good once no trial is left to report */
		x->exhausted = !x->running;
		return -1;
	}
	if (r < 0 || (r = append_trial(x->s, values)) < 0) {
		*rc = r;
		return -1;
	}
	return (long)x->s->n_trials - 1;
}

static bool more_to_start(const executor *x)
{
	return x->next_todo < x->n_todo || (x->strategy && !x->exhausted && x->s->n_trials < x->budget);
}

/* Which trials still need a run: never ran, terminated, or (asked) failed. */
static int list_todo(executor *x)
{
	tally_sweep *s = x->s;
	x->todo = malloc((s->n_trials ? s->n_trials : 1) * sizeof *x->todo);
	if (!x->todo)
		return tally__error_oom();
	for (size_t i = 0; i < s->n_trials; i++) {
		const char *st = s->trials[i].status;
		if (!strcmp(st, "completed"))
			x->done_before++;
		else if (!strcmp(st, "pending") || !strcmp(st, "terminated") || (!strcmp(st, "error") && x->o->retry_failed))
			x->todo[x->n_todo++] = i;
		else if (!strcmp(st, "error"))
			x->failed++;
	}
	x->completed = 0;
	return 0;
}

/* Resuming while a trial's run still goes (its supervisor outlived a killed
 * sweep, say) would leave it uncounted, or run it twice. */
static int check_none_running(tally_sweep *s)
{
	int rc = refresh_trials(s);
	for (size_t i = 0; !rc && i < s->n_trials; i++)
		if (!strcmp(s->trials[i].status, "running"))
			rc = tally__error(TALLY_ELOCKED, "trial %zu of sweep %s is still running (run %s) — wait for it to end, "
			                  "or stop it (tally stop %s), then resume", i + 1, s->id, s->trials[i].run_id,
			                  s->trials[i].run_id);
	if (rc) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	return rc;
}

int tally_sweep_execute(tally_sweep *s, const tally_sweep_exec_options *o)
{
	if (!o || o->version != TALLY_SWEEP_EXEC_VERSION)
		return tally__error(TALLY_EINVALID, "unsupported tally_sweep_exec_options version");
	unsigned parallel = o->parallel ? o->parallel : o->gpus && o->gpus[0] ? (unsigned)count_strings(o->gpus) : 1;
	if (parallel > MAX_PARALLEL)
		return tally__error(TALLY_EINVALID, "--parallel %u is more than %d", parallel, MAX_PARALLEL);
	int rc;
	bool fresh = !s->id[0];
	if (fresh) {
		if ((rc = create_sweep_dir(s)))
			return rc;
		json_object_set_new(s->record, "id", json_string(s->id));
	}
	if ((rc = take_lock(s)) || (!fresh && (rc = check_none_running(s))))
		return rc;
	json_object_set_new(s->record, "parallel", json_integer(parallel));
	json_object_set_new(s->record, "gpus", strings_json(o->gpus));
	json_object_set_new(s->record, "fail_fast", json_boolean(o->fail_fast));
	if ((rc = set_status(s, "running", true)))
		return rc;
	executor x = {.s = s, .o = o, .n_workers = parallel};
	struct sigaction saved[N_HANDLED];
	if ((rc = list_todo(&x)) || (rc = start_strategy(&x)) || (rc = install_signals(saved))) {
		stop_strategy(&x);
		free(x.todo);
		return rc;
	}
	if (!(x.workers = calloc(parallel, sizeof *x.workers))) {
		restore_signals(saved);
		stop_strategy(&x);
		free(x.todo);
		return tally__error_oom();
	}
	for (unsigned w = 0; w < parallel; w++) {
		x.workers[w].report_fd = -1;
		x.workers[w].report = (tally_buf)TALLY_BUF_INIT;
	}
	emit(&x, TALLY_SWEEP_STARTED, -1, NULL, NULL);
	int64_t last_tick = tally_now_ms();
	for (;;) {
		for (unsigned w = 0; w < parallel && !x.stopping && !rc; w++) {
			if (x.workers[w].pid)
				continue;
			long trial = next_trial(&x, &rc);
			if (trial < 0)
				break;
			rc = start_trial(&x, w, (size_t)trial, saved);
		}
		if (rc)
			x.stopping = true;
		if (!x.running && (x.stopping || !more_to_start(&x)))
			break;
		wait_for_events(&x);
		reap(&x);
		if (tally_now_ms() - last_tick >= 1000) {
			last_tick = tally_now_ms();
			emit(&x, TALLY_SWEEP_TICK, -1, NULL, NULL);
		}
	}
	restore_signals(saved);
	const char *status = x.stop_signal || rc ? "interrupted" : x.failed_fast ? "failed" : "completed";
	int src = set_status(s, status, true);
	emit(&x, TALLY_SWEEP_ENDED, -1, NULL, NULL);
	for (unsigned w = 0; w < parallel; w++)
		tally_buf_release(&x.workers[w].report);
	stop_strategy(&x);
	free(x.workers);
	free(x.todo);
	close(s->lock_fd);
	s->lock_fd = -1;
	return rc ? rc : src;
}

/*
 * Planning a sweep: the search spaces from NAME=SPACE arguments, the trials
 * a strategy picks (or a trials file lists), the record that will be
 * written, and a check of every value against the script's flags before
 * anything starts — so a sweep never fails at trial 500 on a typo.  Also
 * the launch options of one trial, rebuilt from the record, which the
 * executors run.
 */
#include "lib/sweep/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/strlist.h"

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

json_t *tally__strings_json(const char *const *list)
{
	json_t *a = json_array();
	for (const char *const *p = list; p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

int tally__trial_launch_init(tally_trial_launch *tl, const tally_sweep *s, size_t trial)
{
	tl->opts = (tally_launch_options)TALLY_LAUNCH_OPTIONS_INIT;
	tl->command = tl->tags = tl->args = (tally_strlist)TALLY_STRLIST_INIT;
	json_t *r = s->record;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(r, "command"), i, v) if (tally_strlist_push(&tl->command, json_string_value(v)) < 0) return tally__error_oom();
	json_array_foreach(json_object_get(r, "tags"), i, v) if (tally_strlist_push(&tl->tags, json_string_value(v)) < 0) return tally__error_oom();
	int rc = trial_args(&tl->args, json_object_get(r, "fixed_flags"), tally__sweep_trial_flags(s, trial));
	if (rc)
		return rc;
	tl->opts.script = json_string_value(json_object_get(r, "script"));
	tl->opts.command = tl->command.n ? (const char *const *)tl->command.items : NULL;
	tl->opts.flag_args = (const char *const *)tl->args.items;
	tl->opts.interpreter = json_string_value(json_object_get(r, "interpreter"));
	tl->opts.label = json_string_value(json_object_get(r, "label"));
	tl->opts.tags = tl->tags.n ? (const char *const *)tl->tags.items : NULL;
	tl->opts.comment = json_string_value(json_object_get(r, "comment"));
	tl->opts.project_dir = json_string_value(json_object_get(r, "project_dir"));
	tl->opts.flags_file = json_string_value(json_object_get(r, "flags_file"));
	tl->opts.force_flags = json_is_true(json_object_get(r, "force_flags"));
	tl->opts.no_system_metrics = json_is_true(json_object_get(r, "no_system_metrics"));
	tl->opts.quiet = 1;
	tl->opts.sweep_id = s->id[0] ? s->id : NULL;
	tl->opts.sweep_trial = (long)trial + 1;
	return 0;
}

void tally__trial_launch_release(tally_trial_launch *tl)
{
	tally_strlist_release(&tl->command);
	tally_strlist_release(&tl->tags);
	tally_strlist_release(&tl->args);
}

/* Would tally_launch() accept the trial with these values?  The message names them. */
static int check_values(tally_sweep *s, json_t *values, const char *what)
{
	json_t *trials = json_array();
	json_t *trial = json_object();
	json_object_set(trial, "flags", values);
	json_array_append_new(trials, trial);
	json_t *saved = json_incref(tally__sweep_rec_trials(s));
	json_object_set_new(s->record, "trials", trials);
	tally_trial_launch lp;
	int rc = tally__trial_launch_init(&lp, s, 0);
	if (!rc) {
		lp.opts.check_only = 1;
		lp.opts.sweep_id = NULL;
		tally_run *none = NULL;
		int exit_code;
		rc = tally_launch(&none, &exit_code, s->store, &lp.opts);
		tally_run_free(none);
	}
	tally__trial_launch_release(&lp);
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
		if (!eq || !tally_flag_is_sweep(o->launch.script, *a)) {
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
		return tally__error(TALLY_EINVALID, "no optimizer '%s' — use grid, random or tpe", name);
	uint64_t budget = o->max_trials;
	if (o->sample > 0) { /* tfruns: a share of the grid, at least one trial */
		uint64_t n = (uint64_t)floor(o->sample * (double)grid);
		budget = n ? n : 1;
		if (o->max_trials && o->max_trials < budget)
			budget = o->max_trials;
	}
	if (!strcmp(name, "grid") && grid > TALLY_SWEEP_MAX_TRIALS && (!budget || budget > TALLY_SWEEP_MAX_TRIALS))
		return tally__error(TALLY_EINVALID, "the grid has %s%llu points, more than %d — sample it (--sample F or "
		                    "--max-trials N)", grid == UINT64_MAX ? "over " : "",
		                    (unsigned long long)(grid == UINT64_MAX ? UINT64_C(1) << 62 : grid), TALLY_SWEEP_MAX_TRIALS);
	if (budget > TALLY_SWEEP_MAX_TRIALS)
		return tally__error(TALLY_EINVALID, "%llu trials are more than %d", (unsigned long long)budget, TALLY_SWEEP_MAX_TRIALS);
	*strategy_name = strategy->name;
	if (strategy->sequential) { /* its trials are proposed as results come in */
		*budget_out = budget ? budget : 20;
		if (grid && grid < *budget_out) /* a finite space: each point at most once */
			*budget_out = grid;
		json_object_set_new(s->record, "max_trials", json_integer((json_int_t)*budget_out));
		return 0;
	}
	void *state = NULL;
	uint64_t seed = (uint64_t)json_integer_value(json_object_get(s->record, "seed"));
	int rc = strategy->start(&state, space, budget, seed, json_object_get(s->record, "optimizer"));
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

/* A setting given (> 0), else its default. */
static json_t *setting(long given, long fallback)
{
	return json_integer(given > 0 ? given : fallback);
}

/* The record's "optimizer": the strategy and, for TPE, its settings. */
static int set_optimizer(tally_sweep *s, const tally_sweep_options *o, const char *strategy)
{
	bool tpe = !strcmp(strategy, "tpe");
	bool v2 = o->version >= 2;
	if (v2 && !tpe && (o->multivariate || o->startup_trials > 0 || o->candidates > 0))
		return tally__error(TALLY_EINVALID, "--%s is a setting of TPE — add --optimizer tpe",
		                    o->multivariate ? "multivariate" : o->startup_trials > 0 ? "startup-trials" : "candidates");
	if (v2 && o->candidates > TALLY_TPE_MAX_CANDIDATES)
		return tally__error(TALLY_EINVALID, "--candidates %ld is more than %d", o->candidates, TALLY_TPE_MAX_CANDIDATES);
	json_t *opt = json_object();
	json_object_set_new(opt, "name", json_string(strategy));
	if (tpe) {
		json_object_set_new(opt, "startup_trials", setting(v2 ? o->startup_trials : 0, TALLY_TPE_STARTUP));
		json_object_set_new(opt, "candidates", setting(v2 ? o->candidates : 0, TALLY_TPE_CANDIDATES));
		json_object_set_new(opt, "multivariate", json_boolean(v2 && o->multivariate));
		json_object_set_new(opt, "constant_liar", json_true());
	}
	json_object_set_new(s->record, "optimizer", opt);
	return 0;
}

/* The record's "pruner" (null without one), checked before anything starts. */
static int set_pruner(tally_sweep *s, const tally_sweep_options *o)
{
	const char *name = o->version >= 2 ? o->prune : NULL;
	json_object_set_new(s->record, "pruner", json_null());
	if (!name) {
		if (o->version >= 2 && (o->prune_startup > 0 || o->prune_warmup > 0 || o->prune_min_step > 0 ||
		                        o->prune_factor > 0 || o->prune_grace > 0))
			return tally__error(TALLY_EINVALID, "a --prune-… setting without a pruner — add --prune median or --prune asha");
		return 0;
	}
	bool median = !strcmp(name, "median"), asha = !strcmp(name, "asha");
	if (!median && !asha)
		return tally__error(TALLY_EINVALID, "no pruner '%s' — use median or asha", name);
	if (!o->objective)
		return tally__error(TALLY_EINVALID, "--prune %s needs the objective it watches — add --minimize SCALAR or "
		                    "--maximize SCALAR", name);
	if (median && (o->prune_min_step > 0 || o->prune_factor > 0))
		return tally__error(TALLY_EINVALID, "--prune-%s is a setting of ASHA — use it with --prune asha",
		                    o->prune_min_step > 0 ? "min-step" : "factor");
	if (asha && (o->prune_startup > 0 || o->prune_warmup > 0))
		return tally__error(TALLY_EINVALID, "--prune-%s is a setting of the median pruner — use it with --prune median",
		                    o->prune_startup > 0 ? "startup" : "warmup");
	if (!(o->prune_grace <= 86400)) /* NaN too */
		return tally__error(TALLY_EINVALID, "--prune-grace %g is not a number of seconds up to a day", o->prune_grace);
	if (asha && o->prune_factor == 1)
		return tally__error(TALLY_EINVALID, "--prune-factor 1 halves nothing — give 2 or more (default 3)");
	json_t *p = json_object();
	json_object_set_new(p, "name", json_string(name));
	if (median) {
		json_object_set_new(p, "startup_trials", setting(o->prune_startup, TALLY_PRUNE_STARTUP));
		json_object_set_new(p, "warmup_steps", setting(o->prune_warmup, 0));
	} else {
		json_object_set_new(p, "min_step", o->prune_min_step > 0 ? json_integer(o->prune_min_step) : json_null());
		json_object_set_new(p, "reduction_factor", setting(o->prune_factor, TALLY_PRUNE_FACTOR));
	}
	json_object_set_new(p, "grace_seconds", json_real(o->prune_grace > 0 ? o->prune_grace : TALLY_PRUNE_GRACE_S));
	json_object_set_new(s->record, "pruner", p);
	return 0;
}

static void set_description(tally_sweep *s, const tally_space *space, const char *strategy, uint64_t grid)
{
	tally_buf d = TALLY_BUF_INIT;
	const tally_strategy *st = tally__strategy_find(strategy);
	bool sequential = st && st->sequential;
	size_t n = sequential ? (size_t)json_integer_value(json_object_get(s->record, "max_trials"))
	                      : json_array_size(tally__sweep_rec_trials(s));
	tally_buf_printf(&d, "%s%zu trial%s (", sequential ? "up to " : "", n, n == 1 ? "" : "s");
	if (!strcmp(strategy, "trials-file")) {
		tally_buf_printf(&d, "from %s", tally__sweep_rec_str(s, "trials_file"));
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
	json_object_set_new(r, "command", tally__strings_json(l->command));
	json_object_set_new(r, "interpreter", opt_string(l->interpreter));
	json_object_set_new(r, "flags_file", opt_string(flags_file));
	json_object_set_new(r, "force_flags", json_boolean(l->force_flags));
	json_object_set_new(r, "no_system_metrics", json_boolean(l->no_system_metrics));
	json_object_set_new(r, "label", opt_string(l->label));
	json_object_set_new(r, "tags", tally__strings_json(l->tags));
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
	if (!o || o->version < 1 || o->version > TALLY_SWEEP_OPTIONS_VERSION)
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
	tally_sweep *s = tally__sweep_alloc(store);
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
	json_t *trials = tally__sweep_rec_trials(s);
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
			if (json_array_size(trials) > TALLY_SWEEP_MAX_TRIALS)
				rc = tally__error(TALLY_EINVALID, "%s holds more than %d trials", o->trials_file, TALLY_SWEEP_MAX_TRIALS);
		}
	} else if (!space.n) {
		rc = tally__error(TALLY_EINVALID, "nothing to sweep — give a flag a list (lr=[0.01,0.1]) or a "
		                  "distribution (lr=loguniform[1e-4:1e-1]), or --trials FILE");
	} else {
		rc = plan_trials(s, o, &space, trials, &strategy, &budget);
	}
	if (!rc)
		rc = set_optimizer(s, o, strategy);
	if (!rc)
		rc = set_pruner(s, o);
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
		rc = tally__sweep_alloc_trials(s);
	tally__sweep_load_objective(s);
done:
	tally__space_release(&space);
	if (rc) {
		tally_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}


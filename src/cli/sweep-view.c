/*
 * Showing a sweep: its summary and the table of its trials (tally tune at
 * the end, tally show SWEEP, tally tune --dry-run).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/timeutil.h"

/* A flag value as a table shows it: numbers at their shortest, strings bare. */
static void value_text(char *out, size_t size, json_t *v)
{
	if (json_is_real(v))
		cli_format_number(out, size, json_real_value(v));
	else if (json_is_integer(v))
		snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_array(v)) { /* a list flag's value: [128,64] */
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(out, size, "%s", text ? text : "[]");
		free(text);
	} else
		snprintf(out, size, "%s", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
}

typedef struct {
	json_t **flags;     /* each trial's flags */
	size_t n;
	json_t *names;      /* the flags' names, in the order first seen */
	long *order;
} trial_rows;

static void rows_release(trial_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		json_decref(r->flags[i]);
	free(r->flags);
	free(r->order);
	json_decref(r->names);
}

static const tally_sweep *sort_sweep;
static int sort_maximize;

static bool is_pruned(const tally_sweep_trial *t)
{
	return t->status && !strcmp(t->status, "pruned");
}

/* 0: completed with an objective; 1: pruned (stopped early: its value is not a final one); 2: the rest. */
static int rank_group(const tally_sweep_trial *t)
{
	return is_pruned(t) ? 1 : t->has_objective ? 0 : 2;
}

/* Completed trials with an objective first, best first; then pruned trials, best last value
 * first; then the rest in trial order. */
static int by_objective(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	tally_sweep_trial tx, ty;
	tally_sweep_trial_get(sort_sweep, (size_t)x, &tx);
	tally_sweep_trial_get(sort_sweep, (size_t)y, &ty);
	int gx = rank_group(&tx), gy = rank_group(&ty);
	if (gx != gy)
		return gx < gy ? -1 : 1;
	bool vx = gx == 0 || (gx == 1 && tx.logged_objective), vy = gy == 0 || (gy == 1 && ty.logged_objective);
	if (vx != vy)
		return vx ? -1 : 1;
	if (vx && tx.objective != ty.objective)
		return (tx.objective < ty.objective) == !sort_maximize ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int rows_load(trial_rows *r, const tally_sweep *sweep, bool ranked)
{
	r->n = tally_sweep_trial_count(sweep);
	r->flags = calloc(r->n ? r->n : 1, sizeof *r->flags);
	r->order = calloc(r->n ? r->n : 1, sizeof *r->order);
	r->names = json_array();
	if (!r->flags || !r->order)
		return cli_error("out of memory");
	json_t *seen = json_object();
	for (size_t i = 0; i < r->n; i++) {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, i, &t);
		r->flags[i] = json_loads(t.flags_json, 0, NULL);
		r->order[i] = (long)i;
		const char *name;
		json_t *v;
		json_object_foreach(r->flags[i], name, v) {
			if (!json_object_get(seen, name)) {
				json_object_set_new(seen, name, json_true());
				json_array_append_new(r->names, json_string(name));
			}
		}
	}
	json_decref(seen);
	if (ranked) {
		sort_sweep = sweep;
		tally_sweep_objective(sweep, &sort_maximize);
		qsort(r->order, r->n, sizeof *r->order, by_objective);
	}
	return 0;
}

/* The cells of one trial's row. */
static void row_cells(const tally_sweep *sweep, const trial_rows *r, long i, bool plan_only, char cells[][64],
                      size_t n_cells)
{
	tally_sweep_trial t;
	tally_sweep_trial_get(sweep, (size_t)i, &t);
	size_t c = 0;
	snprintf(cells[c++], 64, "%ld", i + 1);
	if (!plan_only) {
		snprintf(cells[c++], 64, "%s", t.status);
		snprintf(cells[c++], 64, "%s", t.run_id ? tally_run_id_short(t.run_id) : "-");
	}
	for (size_t k = 0; k < json_array_size(r->names) && c < n_cells; k++) {
		json_t *v = json_object_get(r->flags[i], json_string_value(json_array_get(r->names, k)));
		if (v)
			value_text(cells[c++], 64, v);
		else
			snprintf(cells[c++], 64, "-");
	}
	if (!plan_only && c + 2 <= n_cells) {
		if (t.has_objective || t.logged_objective) /* a failed or pruned trial's: the last value it logged */
			tally_format_rounded(cells[c], 64, t.objective);
		else
			snprintf(cells[c], 64, "-");
		c++;
		if (t.duration_ms >= 0)
			tally_format_duration(cells[c], 64, t.duration_ms);
		else
			snprintf(cells[c], 64, "-");
	}
}

int cli_sweep_table(FILE *out, const tally_sweep *sweep, bool plan_only, size_t max_rows)
{
	trial_rows r = {0};
	int code = rows_load(&r, sweep, !plan_only);
	size_t n_flags = json_array_size(r.names);
	size_t n_cells = (plan_only ? 1 : 5) + n_flags;
	char (*cells)[64] = calloc(n_cells, 64);
	int *widths = calloc(n_cells, sizeof *widths);
	const char **heads = calloc(n_cells, sizeof *heads);
	if (code || !cells || !widths || !heads) {
		free(cells);
		free(widths);
		free(heads);
		rows_release(&r);
		return code ? code : cli_error("out of memory");
	}
	const char *objective = tally_sweep_objective(sweep, NULL);
	size_t c = 0;
	heads[c++] = "TRIAL";
	if (!plan_only) {
		heads[c++] = "STATUS";
		heads[c++] = "RUN";
	}
	for (size_t k = 0; k < n_flags; k++)
		heads[c++] = json_string_value(json_array_get(r.names, k));
	if (!plan_only) {
		heads[c++] = *objective ? objective : "OBJECTIVE";
		heads[c++] = "DURATION";
	}
	for (size_t k = 0; k < n_cells; k++)
		widths[k] = cli_display_width(heads[k]);
	size_t rows = max_rows && max_rows < r.n ? max_rows : r.n;
	for (size_t i = 0; i < rows; i++) { /* widths first: the table streams its rows */
		memset(cells, 0, n_cells * 64);
		row_cells(sweep, &r, r.order[i], plan_only, cells, n_cells);
		for (size_t k = 0; k < n_cells; k++) {
			int w = cli_display_width(cells[k]);
			widths[k] = w > widths[k] ? w : widths[k];
		}
	}
	cli_print_row(out, heads, widths, n_cells);
	for (size_t i = 0; i < rows; i++) {
		memset(cells, 0, n_cells * 64);
		row_cells(sweep, &r, r.order[i], plan_only, cells, n_cells);
		for (size_t k = 0; k < n_cells; k++)
			heads[k] = cells[k]; /* reused as the row's pointers */
		cli_print_row(out, heads, widths, n_cells);
	}
	free(cells);
	free(widths);
	free(heads);
	rows_release(&r);
	return 0;
}

/* "Best: trial 5, run ID, val_loss 0.0658" (nothing when no trial has an objective). */
void cli_sweep_best_line(FILE *out, const tally_sweep *sweep)
{
	long best = tally_sweep_best(sweep);
	if (best < 0)
		return;
	tally_sweep_trial t;
	tally_sweep_trial_get(sweep, (size_t)best, &t);
	char value[40];
	tally_format_rounded(value, sizeof value, t.objective);
	int maximize;
	const char *objective = tally_sweep_objective(sweep, &maximize);
	fprintf(out, "Best: trial %ld, run %s, %s %s (%s)\n", best + 1, t.run_id ? tally_run_id_short(t.run_id) : "-", objective, value,
	        maximize ? "maximized" : "minimized");
}

void cli_sweep_status_text(char *out, size_t size, const char *status, size_t failed)
{
	cli_sweep_status_text_pruned(out, size, status, 0, failed);
}

void cli_sweep_status_text_pruned(char *out, size_t size, const char *status, size_t pruned, size_t failed)
{
	int n = snprintf(out, size, "%s", status);
	if (pruned && n >= 0 && (size_t)n < size)
		n += snprintf(out + n, size - (size_t)n, ", %zu pruned", pruned);
	if (failed && strcmp(status, "failed") && n >= 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ", %zu failed", failed);
}

size_t cli_sweep_pruned_count(const tally_sweep *sweep)
{
	size_t pruned = 0;
	for (size_t i = 0; i < tally_sweep_trial_count(sweep); i++) {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, i, &t);
		pruned += is_pruned(&t);
	}
	return pruned;
}

size_t cli_sweep_failed_count(const tally_sweep *sweep)
{
	size_t failed = 0;
	for (size_t i = 0; i < tally_sweep_trial_count(sweep); i++) {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, i, &t);
		failed += !strcmp(t.status, "error") || !strcmp(t.status, "terminated");
	}
	return failed;
}

/* The last non-blank line of a run's stderr, collected chunk by chunk. */
typedef struct {
	tally_buf line, last;
} last_line;

static int take_stderr(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	last_line *l = ctx;
	(void)stream;
	(void)time_ms;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || data[i] == '\r') {
			if (l->line.len && strspn(l->line.ptr, " \t") < l->line.len) {
				tally_buf_clear(&l->last);
				tally_buf_add(&l->last, l->line.ptr, l->line.len);
			}
			tally_buf_clear(&l->line);
		} else if (l->line.len < 300) {
			tally_buf_addc(&l->line, data[i]);
		}
	}
	return 0;
}

void cli_sweep_failures(FILE *out, tally_store *store, const tally_sweep *sweep)
{
	size_t shown = 0, failed = cli_sweep_failed_count(sweep);
	for (size_t i = 0; i < tally_sweep_trial_count(sweep) && shown < 10; i++) {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, i, &t);
		if (strcmp(t.status, "error") && strcmp(t.status, "terminated"))
			continue;
		shown++;
		last_line l = {TALLY_BUF_INIT, TALLY_BUF_INIT};
		tally_run *run = NULL;
		if (t.run_id && tally_run_lookup(&run, store, t.run_id) == 0)
			tally_run_output(run, TALLY_OUTPUT_STDERR, take_stderr, &l);
		take_stderr(&l, 1, "\n", 1, 0); /* a last line without its newline */
		tally_buf text = TALLY_BUF_INIT; /* control characters of the script's output are not for the terminal */
		for (size_t k = 0; k < l.last.len; k++)
			tally_buf_addc(&text, (unsigned char)l.last.ptr[k] < 0x20 || l.last.ptr[k] == 0x7f ? '?' : l.last.ptr[k]);
		fprintf(out, "Trial %zu %s%s%s%s\n", i + 1, !strcmp(t.status, "error") ? "failed" : "was terminated",
		        t.run_id ? " (run " : "", t.run_id ? tally_run_id_short(t.run_id) : "", t.run_id ? ")" : "");
		if (text.len)
			fprintf(out, "  %s\n", text.ptr);
		tally_buf_release(&text);
		tally_buf_release(&l.line);
		tally_buf_release(&l.last);
		tally_run_free(run);
	}
	if (failed > shown)
		fprintf(out, "… and %zu more (tally runs --sweep %s --error)\n", failed - shown, tally_sweep_id(sweep));
}

/* ---- the optimizer's and the pruner's settings (sweep.json's "optimizer" and "pruner") ---- */

static void add_part(tally_buf *b, const char *text)
{
	tally_buf_printf(b, "%s%s", b->len ? ", " : "", text);
}

/* A setting's number as text (10.0 as 10), or NULL when `v` is not a number. */
static const char *number_text(char *out, size_t size, json_t *v)
{
	if (!json_is_number(v))
		return NULL;
	double d = json_number_value(v);
	if (json_is_real(v) && d == floor(d) && fabs(d) < 1e15)
		snprintf(out, size, "%.0f", d);
	else
		value_text(out, size, v);
	return out;
}

/* "N word(s)" for a count. */
static void add_count(tally_buf *b, const char *before, json_t *v, const char *one, const char *many)
{
	char n[64], text[160];
	if (!number_text(n, sizeof n, v))
		return;
	snprintf(text, sizeof text, "%s%s %s", before, n, json_is_integer(v) && json_integer_value(v) == 1 ? one : many);
	add_part(b, text);
}

/* Settings this view does not know, as "key value" (unknown optimizers and pruners, later fields). */
static void add_other_settings(tally_buf *b, json_t *o, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		bool skip = !strcmp(key, "name");
		for (size_t k = 0; known[k] && !skip; k++)
			skip = !strcmp(key, known[k]);
		if (skip)
			continue;
		char value[64], text[160];
		value_text(value, sizeof value, v);
		snprintf(text, sizeof text, "%s %s", key, value);
		for (char *c = text; *c && c < text + strlen(key); c++)
			*c = *c == '_' ? ' ' : *c;
		add_part(b, text);
	}
}

/* "tpe (10 random start-up trials, 24 candidates, univariate)"; the strategy alone for records without one. */
static void optimizer_text(tally_buf *out, const char *strategy, json_t *opt)
{
	const char *name = json_string_value(json_object_get(opt, "name"));
	tally_buf parts = TALLY_BUF_INIT;
	if (name && strategy && strcmp(name, strategy))
		add_part(&parts, name);
	if (!name)
		name = strategy ? strategy : "?";
	if (!strcmp(name, "tpe")) {
		static const char *const known[] = {"startup_trials", "candidates", "multivariate", "constant_liar", NULL};
		add_count(&parts, "", json_object_get(opt, "startup_trials"), "random start-up trial", "random start-up trials");
		add_count(&parts, "", json_object_get(opt, "candidates"), "candidate", "candidates");
		json_t *multivariate = json_object_get(opt, "multivariate");
		if (json_is_boolean(multivariate))
			add_part(&parts, json_is_true(multivariate) ? "multivariate" : "univariate");
		if (json_is_true(json_object_get(opt, "constant_liar")))
			add_part(&parts, "constant liar");
		add_other_settings(&parts, opt, known);
	} else if (json_is_object(opt)) {
		static const char *const known[] = {NULL};
		add_other_settings(&parts, opt, known);
	}
	tally_buf_adds(out, strategy ? strategy : name);
	if (parts.len)
		tally_buf_printf(out, " (%s)", parts.ptr);
	tally_buf_release(&parts);
}

/* "median (after 5 completed trials, from step 0; SIGKILL 10 s after SIGTERM)", "none" for null. */
static void pruner_text(tally_buf *out, json_t *pruner)
{
	if (json_is_string(pruner)) {
		tally_buf_adds(out, json_string_value(pruner));
		return;
	}
	if (!json_is_object(pruner)) {
		tally_buf_adds(out, "none");
		return;
	}
	const char *name = json_string_value(json_object_get(pruner, "name"));
	tally_buf parts = TALLY_BUF_INIT;
	if (name && !strcmp(name, "median")) {
		static const char *const known[] = {"startup_trials", "warmup_steps", "grace_seconds", NULL};
		add_count(&parts, "after ", json_object_get(pruner, "startup_trials"), "completed trial", "completed trials");
		char n[64], text[100];
		if (number_text(n, sizeof n, json_object_get(pruner, "warmup_steps"))) {
			snprintf(text, sizeof text, "from step %s", n);
			add_part(&parts, text);
		}
		add_other_settings(&parts, pruner, known);
	} else if (name && !strcmp(name, "asha")) {
		static const char *const known[] = {"min_step", "reduction_factor", "grace_seconds", NULL};
		json_t *min_step = json_object_get(pruner, "min_step");
		char n[64], text[100];
		if (min_step && (json_is_null(min_step) || number_text(n, sizeof n, min_step))) {
			snprintf(text, sizeof text, "rungs from step %s", json_is_null(min_step) ? "auto" : n);
			add_part(&parts, text);
		}
		if (number_text(n, sizeof n, json_object_get(pruner, "reduction_factor"))) {
			snprintf(text, sizeof text, "reduction factor %s", n);
			add_part(&parts, text);
		}
		add_other_settings(&parts, pruner, known);
	} else {
		static const char *const known[] = {"grace_seconds", NULL};
		add_other_settings(&parts, pruner, known);
	}
	char grace[64];
	if (number_text(grace, sizeof grace, json_object_get(pruner, "grace_seconds")))
		tally_buf_printf(&parts, "%sSIGKILL %s s after SIGTERM", parts.len ? "; " : "", grace);
	tally_buf_adds(out, name ? name : "?");
	if (parts.len)
		tally_buf_printf(out, " (%s)", parts.ptr);
	tally_buf_release(&parts);
}

/* "executor    slurm (--time=1:00), parallel 4" and the detached controller's job; nothing for local sweeps. */
static void print_executor(json_t *rec)
{
	const char *executor = json_string_value(json_object_get(rec, "executor"));
	if (!executor || strcmp(executor, "slurm"))
		return;
	json_t *slurm = json_object_get(rec, "slurm");
	printf("  executor    slurm");
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(slurm, "options"), i, o)
		printf("%s%s", i ? " " : " (", json_string_value(o));
	if (json_array_size(json_object_get(slurm, "options")))
		printf(")");
	if (json_integer_value(json_object_get(slurm, "gpus")))
		printf(", %" JSON_INTEGER_FORMAT " GPU a trial", json_integer_value(json_object_get(slurm, "gpus")));
	printf(", parallel %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(rec, "parallel")));
	json_t *controller = json_object_get(rec, "controller");
	if (controller)
		printf("  controller  Slurm job %s (log %s)\n", json_string_value(json_object_get(controller, "job")),
		       json_string_value(json_object_get(controller, "log")));
}

int cli_sweep_show(tally_sweep *sweep, tally_store *store, bool json)
{
	const char *runs_dir = tally_store_path(store);
	if (json) {
		puts(tally_sweep_json(sweep));
		return EXIT_OK;
	}
	json_t *rec = json_loads(tally_sweep_json(sweep), 0, NULL);
	const char *script = json_string_value(json_object_get(rec, "script"));
	printf("Sweep %s: %s\n", tally_sweep_id(sweep), tally_sweep_describe(sweep));
	char status[64];
	cli_sweep_status_text_pruned(status, sizeof status, tally_sweep_status(sweep), cli_sweep_pruned_count(sweep),
	                             cli_sweep_failed_count(sweep));
	printf("  status      %s\n", status);
	if (script)
		printf("  script      %s\n", script);
	tally_buf text = TALLY_BUF_INIT;
	optimizer_text(&text, json_string_value(json_object_get(rec, "strategy")), json_object_get(rec, "optimizer"));
	json_t *seed = json_object_get(rec, "seed");
	if (json_is_integer(seed))
		tally_buf_printf(&text, ", seed %" JSON_INTEGER_FORMAT, json_integer_value(seed));
	printf("  strategy    %s\n", text.ptr ? text.ptr : "");
	if (json_object_get(rec, "pruner")) { /* records from before pruning have none */
		tally_buf_clear(&text);
		pruner_text(&text, json_object_get(rec, "pruner"));
		printf("  pruner      %s\n", text.ptr ? text.ptr : "");
	}
	tally_buf_release(&text);
	print_executor(rec);
	size_t i;
	json_t *dim;
	json_array_foreach(json_object_get(rec, "space"), i, dim)
		printf("  %-11s %s=%s\n", i ? "" : "space", json_string_value(json_object_get(dim, "flag")),
		       json_string_value(json_object_get(dim, "spec")));
	json_array_foreach(json_object_get(rec, "fixed_flags"), i, dim)
		printf("  %-11s %s\n", i ? "" : "fixed", json_string_value(dim));
	int maximize;
	const char *objective = tally_sweep_objective(sweep, &maximize);
	printf("  objective   %s\n", *objective ? objective : "(val_loss or loss, once a trial logs one)");
	if (*objective)
		printf("  goal        %s\n", maximize ? "maximize" : "minimize");
	const char *created = json_string_value(json_object_get(rec, "created"));
	if (created)
		printf("  created     %s\n", created);
	printf("  record      %s/.sweeps/%s/sweep.json\n", runs_dir, tally_sweep_id(sweep));
	json_decref(rec);
	putchar('\n');
	cli_sweep_table(stdout, sweep, false, 0);
	cli_sweep_best_line(stdout, sweep);
	cli_sweep_failures(stdout, store, sweep);
	return EXIT_OK;
}

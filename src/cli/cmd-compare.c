/* tally compare — runs side by side: attributes, flags and scalars, what differs first. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_compare_usage[] =
	"usage: tally compare [RUN…] [--all-rows] [--summary] [--sys] [--transpose]\n"
	"                     [--format table|csv|json] [query options]\n"
	"\n"
	"Show runs side by side, one column per run (the latest two by default, the\n"
	"older on the left), like tfruns' compare_runs() and Guild's compare: their\n"
	"attributes, flags and scalars (last values).  Only the rows that differ\n"
	"are shown, marked with * (and in colour on a terminal, unless NO_COLOR is\n"
	"set); --all-rows shows every row.  With more than 4 runs the table turns to\n"
	"one row per run (--transpose does it for fewer).  RUN is an index, a range\n"
	"(1:5), a list (3,7), an id prefix, a name, a run directory or a sweep's\n"
	"trials (--sweep ID); the query options of tally runs pick runs too.\n"
	"\n"
	"Options:\n"
	"  -a, --all-rows      rows whose values are the same in every run too\n"
	"      --summary       each scalar's first, min, max, avg and count, not only\n"
	"                      its last value\n"
	"      --sys           the sys/* scalars (CPU, memory, GPU) too\n"
	"  -t, --transpose     one row per run\n"
	"  -f, --format table|csv|json\n"
	"                      table by default; csv has one row per field\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Exit status: 0 when the runs differ in a flag or scalar, 1 when they do\n"
	"not (like diff, reversed: there was something to compare).\n";

enum { OPT_SUMMARY = CLI_OPT_FIRST_FREE, OPT_SYS, OPT_RUNS_DIR };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"all-rows", no_argument, NULL, 'a'},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{"sys", no_argument, NULL, OPT_SYS},
	{"transpose", no_argument, NULL, 't'},
	{"format", required_argument, NULL, 'f'},
	{"runs-dir", required_argument, NULL, OPT_RUNS_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

typedef struct {
	const char *section;  /* "attribute", "flag", "scalar" */
	char *name;
	json_t **values;      /* one per run; NULL where the run has none */
	bool differs;
} row;

typedef struct {
	row *rows;
	size_t n, cap;
	size_t n_runs;
} table;

static row *add_row(table *t, const char *section, const char *name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		row *grown = realloc(t->rows, cap * sizeof *grown);
		if (!grown)
			return NULL;
		t->rows = grown;
		t->cap = cap;
	}
	row *r = &t->rows[t->n];
	r->section = section;
	r->name = strdup(name);
	r->values = calloc(t->n_runs, sizeof *r->values);
	r->differs = false;
	if (!r->name || !r->values) {
		free(r->name);
		free(r->values);
		return NULL;
	}
	t->n++;
	return r;
}

static void table_release(table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->n_runs; k++)
			json_decref(t->rows[i].values[k]);
		free(t->rows[i].values);
		free(t->rows[i].name);
	}
	free(t->rows);
}

/* Names of the keys of `objects[k]` (each run's flags or scalars), in the order first seen. */
static json_t *union_of_keys(json_t **objects, size_t n)
{
	json_t *names = json_array(), *seen = json_object();
	for (size_t k = 0; k < n; k++) {
		const char *key;
		json_t *v;
		json_object_foreach(objects[k], key, v) {
			if (!json_object_get(seen, key)) {
				json_object_set_new(seen, key, json_true());
				json_array_append_new(names, json_string(key));
			}
		}
	}
	json_decref(seen);
	return names;
}

static json_t *duration_of(const tally_run *run)
{
	int64_t start = tally_run_started_ms(run), stop = tally_run_stopped_ms(run);
	return start > 0 && stop >= start ? json_real((double)(stop - start) / 1000.0) : NULL;
}

/* `summaries`: each run's tally_run_summary_json(), `origins` its tally_run_origin_json(). */
static int add_attributes(table *t, tally_run **runs, json_t **summaries, json_t **origins)
{
	static const char *const keys[] = {"name", "status", "started", "duration", "label", "tags", "script",
	                                   "exit_status", "host", "commit", "sweep"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		row *r = add_row(t, "attribute", keys[i]);
		if (!r)
			return -1;
		for (size_t k = 0; k < t->n_runs; k++) {
			json_t *m = summaries[k], *v = NULL;
			if (!strcmp(keys[i], "duration"))
				v = duration_of(runs[k]);
			else if (!strcmp(keys[i], "host") || !strcmp(keys[i], "commit"))
				v = json_incref(json_object_get(origins[k], keys[i]));
			else if (!strcmp(keys[i], "sweep"))
				v = json_incref(json_object_get(json_object_get(m, "sweep"), "id"));
			else if (!strcmp(keys[i], "tags"))
				v = json_array_size(json_object_get(m, "tags")) ? json_incref(json_object_get(m, "tags")) : NULL;
			else if (!strcmp(keys[i], "label"))
				v = json_string_length(json_object_get(m, "label")) ? json_incref(json_object_get(m, "label")) : NULL;
			else
				v = json_incref(json_object_get(m, keys[i]));
			r->values[k] = json_is_null(v) ? (json_decref(v), NULL) : v;
		}
	}
	return 0;
}

static int add_flags(table *t, json_t **summaries)
{
	json_t **flags = calloc(t->n_runs, sizeof *flags);
	if (!flags)
		return -1;
	for (size_t k = 0; k < t->n_runs; k++)
		flags[k] = json_object_get(summaries[k], "flags");
	json_t *names = union_of_keys(flags, t->n_runs);
	size_t i;
	json_t *name;
	int rc = 0;
	json_array_foreach(names, i, name) {
		row *r = add_row(t, "flag", json_string_value(name));
		if (!r) {
			rc = -1;
			break;
		}
		for (size_t k = 0; k < t->n_runs; k++)
			r->values[k] = json_incref(json_object_get(flags[k], json_string_value(name)));
	}
	json_decref(names);
	free(flags);
	return rc;
}

static int add_scalars(table *t, json_t **run_summaries, bool summary, bool sys)
{
	static const char *const aggregates[] = {"first", "min", "max", "avg", "count"};
	json_t **summaries = calloc(t->n_runs, sizeof *summaries);
	if (!summaries)
		return -1;
	for (size_t k = 0; k < t->n_runs; k++)
		summaries[k] = json_object_get(run_summaries[k], "scalars");
	json_t *names = union_of_keys(summaries, t->n_runs);
	size_t i;
	json_t *name;
	int rc = 0;
	json_array_foreach(names, i, name) {
		const char *tag = json_string_value(name);
		if (!sys && !strncmp(tag, "sys/", 4))
			continue;
		for (size_t a = 0; a <= (summary ? 5 : 0) && !rc; a++) {
			char label[512];
			if (a)
				snprintf(label, sizeof label, "%s(%s)", aggregates[a - 1], tag);
			row *r = add_row(t, "scalar", a ? label : tag);
			if (!r) {
				rc = -1;
				break;
			}
			for (size_t k = 0; k < t->n_runs; k++)
				r->values[k] = json_incref(json_object_get(json_object_get(summaries[k], tag), a ? aggregates[a - 1] : "last"));
		}
	}
	json_decref(names);
	free(summaries);
	return rc;
}

static void cell_text(char *out, size_t size, json_t *v, const row *r);

/* Values differ by value, but durations and start times as they read (1.007 s
 * and 1.008 s are both "1.0 s"; two starts within a second show the same). */
static void mark_differences(table *t)
{
	char a[256], b[256];
	for (size_t i = 0; i < t->n; i++) {
		row *r = &t->rows[i];
		bool by_text = (!strcmp(r->name, "duration") || !strcmp(r->name, "started")) && !strcmp(r->section, "attribute");
		if (by_text)
			cell_text(a, sizeof a, r->values[0], r);
		for (size_t k = 1; k < t->n_runs && !r->differs; k++) {
			if (by_text) {
				cell_text(b, sizeof b, r->values[k], r);
				r->differs = strcmp(a, b) != 0;
			} else {
				r->differs = !(r->values[0] == r->values[k] ||
				               (r->values[0] && r->values[k] && json_equal(r->values[0], r->values[k])));
			}
		}
	}
}

/* A value as a cell shows it: a scalar's to 6 significant digits (csv and json keep them exact). */
static void cell_text(char *out, size_t size, json_t *v, const row *r)
{
	const char *name = r ? r->name : "";
	if (!v) {
		snprintf(out, size, "-");
	} else if (!strcmp(name, "started") && json_is_string(v)) {
		int64_t ms = tally_parse_iso_ms(json_string_value(v));
		if (ms >= 0)
			cli_format_local_time(out, size, ms, true);
		else
			snprintf(out, size, "%s", json_string_value(v));
	} else if (!strcmp(name, "duration") && json_is_number(v)) {
		tally_format_duration(out, size, (int64_t)(json_number_value(v) * 1000));
	} else if (json_is_string(v)) {
		snprintf(out, size, "%s", json_string_value(v));
	} else if (json_is_real(v) && r && !strcmp(r->section, "scalar")) {
		tally_format_rounded(out, size, json_real_value(v));
	} else if (json_is_real(v)) {
		cli_format_number(out, size, json_real_value(v));
	} else if (json_is_array(v)) {
		size_t i, len = 0;
		json_t *e;
		out[0] = '\0';
		json_array_foreach(v, i, e) {
			int n = snprintf(out + len, size - len, "%s%s", i ? "," : "", json_string_value(e) ? json_string_value(e) : "");
			if (n < 0 || (size_t)n >= size - len)
				break;
			len += (size_t)n;
		}
	} else {
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | CLI_JSON_REALS);
		snprintf(out, size, "%s", text ? text : "?");
		free(text);
	}
}

/* Shown: what differs, and (for context) how each run went. */
static bool shown(const row *r, bool all_rows)
{
	return all_rows || r->differs ||
	       (!strcmp(r->section, "attribute") && (!strcmp(r->name, "status") || !strcmp(r->name, "started")));
}

#define CELL 256
#define BOLD_YELLOW "\033[1;33m"
#define BOLD_GREEN "\033[1;32m"
#define RESET "\033[0m"

/* The run holding a differing scalar's best value (by its name: tally_scalar_direction()), or -1. */
static long best_run(const table *t, const row *r)
{
	int direction = strcmp(r->section, "scalar") || !r->differs ? 0 : tally_scalar_direction(r->name);
	long best = -1;
	for (size_t k = 0; direction && k < t->n_runs; k++) {
		json_t *v = r->values[k];
		if (!json_is_number(v) || isnan(json_number_value(v)))
			continue;
		double x = json_number_value(v);
		if (best < 0 || (direction > 0 ? x > json_number_value(r->values[best]) : x < json_number_value(r->values[best])))
			best = (long)k;
	}
	return best;
}

static void print_fields(table *t, tally_run **runs, bool all_rows, bool colour)
{
	size_t cols = t->n_runs + 2;
	int *widths = calloc(cols, sizeof *widths);
	const char **cells = calloc(cols, sizeof *cells);
	char (*buf)[CELL] = calloc(cols, CELL);
	if (!widths || !cells || !buf)
		goto done;
	widths[0] = 1;
	widths[1] = 5;
	for (size_t k = 0; k < t->n_runs; k++)
		widths[k + 2] = cli_display_width(tally_run_id_short(tally_run_id(runs[k])));
	for (size_t i = 0; i < t->n; i++) {
		if (!shown(&t->rows[i], all_rows))
			continue;
		int w = cli_display_width(t->rows[i].name);
		widths[1] = w > widths[1] ? w : widths[1];
		for (size_t k = 0; k < t->n_runs; k++) {
			cell_text(buf[0], CELL, t->rows[i].values[k], &t->rows[i]);
			w = cli_display_width(buf[0]);
			widths[k + 2] = w > widths[k + 2] ? w : widths[k + 2];
		}
	}
	cells[0] = " ";
	cells[1] = "";
	for (size_t k = 0; k < t->n_runs; k++)
		cells[k + 2] = tally_run_id_short(tally_run_id(runs[k]));
	cli_print_row(stdout, cells, widths, cols);
	const char *section = NULL;
	for (size_t i = 0; i < t->n; i++) {
		row *r = &t->rows[i];
		if (!shown(r, all_rows))
			continue;
		if (section != r->section && strcmp(r->section, "attribute")) /* a blank line before flags, scalars */
			fputs("\n", stdout);
		section = r->section;
		for (size_t k = 0; k < t->n_runs; k++) {
			cell_text(buf[k + 2], CELL, r->values[k], r);
			cells[k + 2] = buf[k + 2];
		}
		cells[0] = r->differs ? "*" : " ";
		cells[1] = r->name;
		long best = colour ? best_run(t, r) : -1;
		if (colour && r->differs)
			fputs(BOLD_YELLOW, stdout);
		for (size_t k = 0; k < cols; k++) { /* the best value of a scalar in green */
			bool mark = best >= 0 && k == (size_t)best + 2;
			if (mark)
				fputs(BOLD_GREEN, stdout);
			cli_print_cell(stdout, cells[k], widths[k], k + 1 == cols);
			if (mark)
				fputs(r->differs ? RESET BOLD_YELLOW : RESET, stdout);
			fputs(k + 1 == cols ? "\n" : "  ", stdout);
		}
		if (colour && r->differs)
			fputs(RESET, stdout);
	}
done:
	free(widths);
	free(cells);
	free(buf);
}

static void print_transposed(table *t, tally_run **runs, bool all_rows, bool colour)
{
	size_t cols = 1;
	for (size_t i = 0; i < t->n; i++)
		cols += shown(&t->rows[i], all_rows);
	int *widths = calloc(cols, sizeof *widths);
	const char **cells = calloc(cols, sizeof *cells);
	char (*buf)[CELL] = calloc(cols, CELL);
	if (!widths || !cells || !buf)
		goto done;
	cells[0] = "RUN";
	widths[0] = 3;
	for (size_t i = 0, c = 1; i < t->n; i++) {
		if (!shown(&t->rows[i], all_rows))
			continue;
		cells[c] = t->rows[i].name;
		widths[c] = cli_display_width(t->rows[i].name);
		for (size_t k = 0; k < t->n_runs; k++) {
			cell_text(buf[0], CELL, t->rows[i].values[k], &t->rows[i]);
			int w = cli_display_width(buf[0]);
			widths[c] = w > widths[c] ? w : widths[c];
		}
		c++;
	}
	for (size_t k = 0; k < t->n_runs; k++) {
		int w = cli_display_width(tally_run_id_short(tally_run_id(runs[k])));
		widths[0] = w > widths[0] ? w : widths[0];
	}
	if (colour)
		fputs(BOLD_YELLOW, stdout);
	cli_print_row(stdout, cells, widths, cols);
	if (colour)
		fputs(RESET, stdout);
	for (size_t k = 0; k < t->n_runs; k++) {
		cells[0] = tally_run_id_short(tally_run_id(runs[k]));
		for (size_t i = 0, c = 1; i < t->n; i++) {
			if (!shown(&t->rows[i], all_rows))
				continue;
			cell_text(buf[c], CELL, t->rows[i].values[k], &t->rows[i]);
			cells[c] = buf[c];
			c++;
		}
		cli_print_row(stdout, cells, widths, cols);
	}
done:
	free(widths);
	free(cells);
	free(buf);
}

static void print_csv(table *t, tally_run **runs, bool all_rows)
{
	fputs("section,field", stdout);
	for (size_t k = 0; k < t->n_runs; k++) {
		putchar(',');
		cli_csv_field(stdout, tally_run_id(runs[k]), ',');
	}
	putchar('\n');
	char buf[CELL];
	for (size_t i = 0; i < t->n; i++) {
		row *r = &t->rows[i];
		if (!shown(r, all_rows))
			continue;
		printf("%s,", r->section);
		cli_csv_field(stdout, r->name, ',');
		for (size_t k = 0; k < t->n_runs; k++) {
			putchar(',');
			if (r->values[k] && json_is_real(r->values[k])) { /* exact, not shortened for a table */
				char *text = json_dumps(r->values[k], JSON_ENCODE_ANY | CLI_JSON_REALS);
				fputs(text ? text : "", stdout);
				free(text);
			} else if (r->values[k]) {
				cell_text(buf, sizeof buf, r->values[k], NULL);
				cli_csv_field(stdout, buf, ',');
			}
		}
		putchar('\n');
	}
}

static void print_json(table *t, tally_run **runs, bool all_rows)
{
	json_t *o = json_object(), *ids = json_array(), *rows = json_array();
	for (size_t k = 0; k < t->n_runs; k++)
		json_array_append_new(ids, json_string(tally_run_id(runs[k])));
	for (size_t i = 0; i < t->n; i++) {
		row *r = &t->rows[i];
		if (!shown(r, all_rows))
			continue;
		json_t *jr = json_object(), *values = json_array();
		json_object_set_new(jr, "section", json_string(r->section));
		json_object_set_new(jr, "name", json_string(r->name));
		for (size_t k = 0; k < t->n_runs; k++)
			json_array_append(values, r->values[k] ? r->values[k] : json_null());
		json_object_set_new(jr, "values", values);
		json_object_set_new(jr, "differs", json_boolean(r->differs));
		json_array_append_new(rows, jr);
	}
	json_object_set_new(o, "runs", ids);
	json_object_set_new(o, "rows", rows);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | CLI_JSON_REALS);
	if (text)
		puts(text);
	free(text);
	json_decref(o);
}

typedef struct {
	cli_selection sel;
	const char **refs;
	size_t n_refs;
	const char *runs_dir, *format;
	bool all_rows, summary, sys, transpose;
} compare_args;

static int parse_args(int argc, char **argv, compare_args *a)
{
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:atf:h", options, NULL)) != -1) {
		if (cli_selection_option(&a->sel, c, optarg))
			continue;
		switch (c) {
		case 'a': a->all_rows = true; break;
		case OPT_SUMMARY: a->summary = true; break;
		case OPT_SYS: a->sys = true; break;
		case 't': a->transpose = true; break;
		case 'f': a->format = optarg; break;
		case OPT_RUNS_DIR: a->runs_dir = optarg; break;
		case 'h': fputs(cmd_compare_usage, stdout); return -1;
		default: return cli_usage_error(cmd_compare_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(a->format, "table") && strcmp(a->format, "csv") && strcmp(a->format, "json"))
		return cli_usage_error(cmd_compare_usage, "unknown format '%s' — use table, csv or json", a->format);
	for (int i = optind; i < argc; i++)
		a->refs[a->n_refs++] = argv[i];
	return cli_selection_check(&a->sel);
}

int cmd_compare(int argc, char **argv)
{
	compare_args a = {CLI_SELECTION_INIT, calloc((size_t)argc + 2, sizeof(char *)), 0, NULL, "table",
	                  false, false, false, false};
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t n_runs = 0;
	json_t **summaries = NULL, **origins = NULL;
	table t = {NULL, 0, 0, 0};
	int code = a.refs ? parse_args(argc, argv, &a) : cli_error("out of memory");
	if (code) {
		code = code < 0 ? EXIT_OK : code;
		goto done;
	}
	static const char *const latest_two[] = {"2", "1"}; /* the older on the left */
	a.sel.summaries = true;
	if ((code = cli_open_store(&store, a.runs_dir)) ||
	    (code = cli_select_side_by_side(store, &a.sel, a.refs, a.n_refs, latest_two, 2, &runs, &n_runs)))
		goto done;
	if (n_runs < 2) {
		code = cli_error("compare needs two runs or more (%zu given or selected) — see tally runs", n_runs);
		goto done;
	}
	/* What the table shows of a run is in its summary and origin: runs looked
	 * up for their summaries come from the index, not their directories. */
	summaries = calloc(n_runs, sizeof *summaries);
	origins = calloc(n_runs, sizeof *origins);
	if (!summaries || !origins) {
		code = cli_error("out of memory");
		goto done;
	}
	for (size_t k = 0; k < n_runs; k++) {
		summaries[k] = json_loads(tally_run_summary_json(runs[k]), 0, NULL);
		origins[k] = json_loads(tally_run_origin_json(runs[k]), 0, NULL);
		if (!summaries[k])
			summaries[k] = json_object();
		if (!origins[k])
			origins[k] = json_object();
	}
	t.n_runs = n_runs;
	if (add_attributes(&t, runs, summaries, origins) || add_flags(&t, summaries) ||
	    add_scalars(&t, summaries, a.summary, a.sys)) {
		code = cli_error("out of memory");
		goto done;
	}
	mark_differences(&t);
	bool differ = false;
	for (size_t i = 0; i < t.n; i++)
		differ = differ || (t.rows[i].differs && strcmp(t.rows[i].section, "attribute"));
	if (!strcmp(a.format, "csv"))
		print_csv(&t, runs, a.all_rows);
	else if (!strcmp(a.format, "json"))
		print_json(&t, runs, a.all_rows);
	else if (a.transpose || n_runs > 4)
		print_transposed(&t, runs, a.all_rows, cli_use_colour());
	else
		print_fields(&t, runs, a.all_rows, cli_use_colour());
	code = differ ? EXIT_OK : EXIT_NEGATIVE;
done:
	table_release(&t);
	for (size_t k = 0; k < n_runs; k++) {
		json_decref(summaries ? summaries[k] : NULL);
		json_decref(origins ? origins[k] : NULL);
	}
	free(summaries);
	free(origins);
	cli_free_runs(runs, n_runs);
	tally_store_free(store);
	cli_selection_release(&a.sel);
	free(a.refs);
	return code;
}

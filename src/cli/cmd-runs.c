/* tally runs — list runs, newest first (served by the index). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/timeutil.h"

static const char usage[] =
	"usage: tally runs [-n N] [--format table|csv|tsv|json] [--runs-dir DIR]\n"
	"\n"
	"List runs, newest first: index (1 = latest), id, start time, duration,\n"
	"status, label, flags and the last value of each scalar.  On a terminal the\n"
	"table fits the window and shows the latest 20 runs (-a for all); piped, it\n"
	"prints every run, one row each, untruncated.\n"
	"\n"
	"  csv/tsv  one column per attribute plus flag_NAME and scalar_NAME columns\n"
	"           (like tfruns' ls_runs()): read.csv(pipe(\"tally runs --format csv\"))\n"
	"  json     an array of objects with id, dir, status, started, stopped,\n"
	"           exit_status, label, tags, flags, scalars (tag → summary)\n"
	"\n"
	"Options:\n"
	"  -n, --limit N        at most N runs (0 = all)\n"
	"  -a, --all            all runs, also on a terminal\n"
	"  -f, --format FMT     table (default), csv, tsv or json\n"
	"      --runs-dir DIR   where runs live (default ./runs)\n"
	"  -h, --help           show this help\n";

static const struct option options[] = {
	{"limit", required_argument, NULL, 'n'},
	{"all", no_argument, NULL, 'a'},
	{"format", required_argument, NULL, 'f'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define TERMINAL_DEFAULT_LIMIT 20

static int64_t duration_ms(const tally_run *run, int64_t now)
{
	int64_t stop = tally_run_stopped_ms(run);
	if (!strcmp(tally_run_status(run), "running"))
		stop = now;
	return stop > 0 && tally_run_started_ms(run) > 0 ? stop - tally_run_started_ms(run) : -1;
}

/* ---- table ---- */

enum { COL_INDEX, COL_ID, COL_STARTED, COL_TIME, COL_STATUS, COL_LABEL, COL_FLAGS, COL_SCALARS, N_COLS };
static const char *const headers[N_COLS] = {"#", "ID", "STARTED", "TIME", "STATUS", "LABEL", "FLAGS", "SCALARS"};

/*
 * All cells live in one arena (NUL-separated) and rows are offsets into it:
 * 100,000 rows cost two allocations that grow, not 800,000.
 */
typedef struct {
	tally_buf arena;
	size_t *offsets;   /* N_COLS per row */
	int *widths;       /* display width of each cell */
	size_t n, cap;
} table;

static int table_add_row(table *t, const char *const values[N_COLS])
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		size_t *grown = realloc(t->offsets, cap * N_COLS * sizeof *grown);
		if (!grown)
			return -1;
		t->offsets = grown;
		int *wgrown = realloc(t->widths, cap * N_COLS * sizeof *wgrown);
		if (!wgrown)
			return -1;
		t->widths = wgrown;
		t->cap = cap;
	}
	for (int c = 0; c < N_COLS; c++) {
		size_t len = strlen(values[c]);
		t->offsets[t->n * N_COLS + (size_t)c] = t->arena.len;
		/* index, id, times and status are ASCII: their width is their length */
		t->widths[t->n * N_COLS + (size_t)c] = c < COL_LABEL ? (int)len : cli_display_width_n(values[c], len);
		tally_buf_add(&t->arena, values[c], len + 1);
	}
	t->n++;
	return tally_buf_oom(&t->arena) ? -1 : 0;
}

static const char *cell(const table *t, size_t row, int c)
{
	return t->arena.ptr + t->offsets[row * N_COLS + (size_t)c];
}

static int cell_width(const table *t, size_t row, int c)
{
	return t->widths[row * N_COLS + (size_t)c];
}

/* Local start times, formatted once per minute: consecutive runs mostly share one. */
typedef struct {
	int64_t minute;
	char text[32];
} time_cache;

static const char *started_text(time_cache *tc, int64_t ms)
{
	int64_t minute = ms > 0 ? ms / 60000 : -1;
	if (minute != tc->minute) {
		cli_format_local_time(tc->text, sizeof tc->text, ms, false);
		tc->minute = minute;
	}
	return tc->text;
}

/* Narrow the widest of label, flags and scalars, one column at a time, until the table fits. */
static void fit_to_terminal(int width[N_COLS], const bool present[N_COLS], int term)
{
	static const int shrinkable[] = {COL_LABEL, COL_FLAGS, COL_SCALARS};
	int total = 0;
	for (int c = 0; c < N_COLS; c++)
		if (present[c])
			total += width[c] + 2;
	while (total > term) {
		int widest = -1;
		for (size_t s = 0; s < 3; s++) {
			int c = shrinkable[s];
			if (present[c] && width[c] > cli_display_width(headers[c]) + 2 && (widest < 0 || width[c] > width[widest]))
				widest = c;
		}
		if (widest < 0)
			return; /* the fixed columns alone are wider than the terminal */
		width[widest]--;
		total--;
	}
}

static size_t cell_bytes(const table *t, size_t at)
{
	return (at + 1 < t->n * N_COLS ? t->offsets[at + 1] : t->arena.len) - t->offsets[at] - 1;
}

/* Piped output: no truncation, so rows are assembled in large blocks. */
static void print_rows_fast(const table *t, const int width[N_COLS], int last)
{
	static const char spaces[] = "                                                                ";
	tally_buf out = TALLY_BUF_INIT;
	for (size_t r = 0; r < t->n; r++) {
		for (int c = 0; c <= last; c++) {
			if (width[c] < 0)
				continue;
			size_t at = r * N_COLS + (size_t)c;
			tally_buf_add(&out, cell(t, r, c), cell_bytes(t, at));
			if (c == last)
				break;
			for (int pad = width[c] - cell_width(t, r, c) + 2; pad > 0; pad -= (int)sizeof spaces - 1)
				tally_buf_add(&out, spaces, pad < (int)sizeof spaces - 1 ? (size_t)pad : sizeof spaces - 1);
		}
		tally_buf_addc(&out, '\n');
		if (out.len >= (1 << 18)) {
			fwrite_unlocked(out.ptr, 1, out.len, stdout);
			tally_buf_clear(&out);
		}
	}
	fwrite_unlocked(out.ptr, 1, out.len, stdout);
	tally_buf_release(&out);
}

static void print_rows(const table *t, const int width[N_COLS], const bool present[N_COLS], bool truncate)
{
	int last = 0;
	for (int c = 0; c < N_COLS; c++)
		if (present[c])
			last = c;
	for (int c = 0; c < N_COLS; c++) {
		if (!present[c])
			continue;
		cli_print_cell(stdout, headers[c], c == last && !truncate ? 0 : width[c], c == last);
		fputs_unlocked(c == last ? "\n" : "  ", stdout);
	}
	if (!truncate) {
		int w[N_COLS];
		for (int c = 0; c < N_COLS; c++)
			w[c] = present[c] ? width[c] : -1;
		print_rows_fast(t, w, last);
		return;
	}
	for (size_t r = 0; r < t->n; r++) {
		for (int c = 0; c < N_COLS; c++) {
			if (!present[c])
				continue;
			size_t at = r * N_COLS + (size_t)c;
			cli_print_cell_n(stdout, cell(t, r, c), cell_bytes(t, at), cell_width(t, r, c), width[c], c == last);
			fputs_unlocked(c == last ? "\n" : "  ", stdout);
		}
	}
}

static int print_table(tally_run_iter *it, size_t shown_limit)
{
	table t = {TALLY_BUF_INIT, NULL, NULL, 0, 0};
	time_cache tc = {-2, ""};
	const tally_run *run;
	int64_t now = tally_now_ms();
	int rc, code = EXIT_OK;
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		char idx[24], dur[32];
		tally_format_uint(idx, t.n + 1);
		tally_format_duration(dur, sizeof dur, duration_ms(run, now));
		const char *values[N_COLS] = {idx, tally_run_id(run), started_text(&tc, tally_run_started_ms(run)), dur,
		                              tally_run_status(run), tally_run_label(run), tally_run_flags_text(run),
		                              tally_run_scalars_text(run)};
		if (table_add_row(&t, values) < 0) {
			code = cli_error("out of memory");
			goto done;
		}
	}
	if (rc < 0) {
		code = cli_lib_error(rc);
		goto done;
	}
	if (t.n == 0) {
		fprintf(stderr, "No runs yet. Start one with `tally run SCRIPT`.\n");
		goto done;
	}
	int width[N_COLS];
	bool present[N_COLS];
	for (int c = 0; c < N_COLS; c++) {
		width[c] = cli_display_width(headers[c]);
		present[c] = c < COL_LABEL; /* optional columns only when some run has them */
	}
	for (size_t r = 0; r < t.n; r++)
		for (int c = 0; c < N_COLS; c++) {
			int w = cell_width(&t, r, c);
			if (!w)
				continue;
			if (w > width[c])
				width[c] = w;
			present[c] = true;
		}
	int term = cli_terminal_width();
	if (term > 0)
		fit_to_terminal(width, present, term);
	print_rows(&t, width, present, term > 0);
	if (shown_limit && t.n == shown_limit) {
		fflush(stdout); /* the note goes after the table */
		fprintf(stderr, "(latest %zu shown; -a for all)\n", t.n);
	}
done:
	tally_buf_release(&t.arena);
	free(t.offsets);
	free(t.widths);
	return code;
}

/* ---- JSON: the index keeps each run's JSON summary ready; only "dir" is added ---- */

static int print_json(tally_run_iter *it)
{
	const tally_run *run;
	int rc;
	size_t n = 0;
	fputc('[', stdout);
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		json_t *dir = json_string(tally_run_dir(run));
		char *dir_text = dir ? json_dumps(dir, JSON_ENCODE_ANY) : NULL;
		json_decref(dir);
		const char *summary = tally_run_summary_json(run);
		if (!dir_text)
			return cli_error("out of memory");
		/* summary is a non-empty object "{...}": splice "dir" in as its first member */
		printf("%s\n{\"dir\":%s%s%s", n++ ? "," : "", dir_text, summary[1] == '}' ? "" : ",", summary + 1);
		free(dir_text);
	}
	fputs(n ? "\n]\n" : "]\n", stdout);
	return rc < 0 ? cli_lib_error(rc) : EXIT_OK;
}

/* ---- CSV / TSV: one column per flag and per scalar across the listed runs ---- */

typedef struct {
	char *id, *dir, *status, *label, *script, *tags;
	int64_t started, stopped;
	int exit_status;
	json_t *flags, *scalars;
} csv_row;

static void add_key(json_t *set, json_t *obj)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) json_object_set_new(set, k, json_true());
}

static void csv_value(FILE *out, json_t *v, char sep)
{
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v)) {
		cli_csv_field(out, json_string_value(v), sep);
		return;
	}
	if (json_is_true(v) || json_is_false(v)) {
		fputs(json_is_true(v) ? "TRUE" : "FALSE", out);
		return;
	}
	if (json_is_integer(v)) {
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	}
	fprintf(out, "%.10g", json_number_value(v));
}

static char *tags_joined(json_t *tags)
{
	size_t i, len = 1;
	json_t *t;
	json_array_foreach(tags, i, t) len += strlen(json_string_value(t) ? json_string_value(t) : "") + 1;
	char *out = calloc(1, len);
	json_array_foreach(tags, i, t) if (out && json_string_value(t))
	{
		if (i)
			strcat(out, ";");
		strcat(out, json_string_value(t));
	}
	return out;
}

static int print_csv(tally_run_iter *it, char sep)
{
	csv_row *rows = NULL;
	size_t n = 0, cap = 0;
	const tally_run *run;
	json_t *flag_names = json_object(), *scalar_names = json_object();
	int rc;
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		if (n == cap) {
			csv_row *grown = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof *grown);
			if (!grown) {
				rc = TALLY_ENOMEM; /* reported below, after what was gathered is freed */
				break;
			}
			rows = grown;
		}
		csv_row *r = &rows[n++];
		r->id = strdup(tally_run_id(run));
		r->dir = strdup(tally_run_dir(run));
		r->status = strdup(tally_run_status(run));
		r->label = strdup(tally_run_label(run));
		r->script = strdup(tally_run_script(run));
		json_t *summary = json_loads(tally_run_summary_json(run), 0, NULL);
		r->tags = tags_joined(json_object_get(summary, "tags"));
		r->started = tally_run_started_ms(run);
		r->stopped = tally_run_stopped_ms(run);
		r->exit_status = tally_run_exit_status(run);
		r->flags = json_incref(json_object_get(summary, "flags"));
		r->scalars = json_incref(json_object_get(summary, "scalars"));
		json_decref(summary);
		add_key(flag_names, r->flags);
		add_key(scalar_names, r->scalars);
	}
	fprintf(stdout, "id%cdir%cstatus%cstarted%cstopped%cduration%cexit_status%clabel%ctags%cscript", sep, sep, sep, sep,
	        sep, sep, sep, sep, sep);
	const char *k;
	json_t *v;
	json_object_foreach(flag_names, k, v) {
		fprintf(stdout, "%cflag_", sep);
		cli_csv_field(stdout, k, sep);
	}
	json_object_foreach(scalar_names, k, v) {
		fprintf(stdout, "%cscalar_", sep);
		cli_csv_field(stdout, k, sep);
	}
	fputc('\n', stdout);
	for (size_t i = 0; i < n; i++) {
		csv_row *r = &rows[i];
		char started[40] = "", stopped[40] = "";
		if (r->started > 0)
			tally_format_iso_ms(started, sizeof started, r->started);
		if (r->stopped > 0)
			tally_format_iso_ms(stopped, sizeof stopped, r->stopped);
		const char *texts[] = {r->id, r->dir, r->status, started, stopped};
		for (size_t t = 0; t < 5; t++) {
			cli_csv_field(stdout, texts[t] ? texts[t] : "", sep);
			fputc(sep, stdout);
		}
		if (r->started > 0 && r->stopped > 0)
			printf("%.3f", (double)(r->stopped - r->started) / 1000.0);
		fputc(sep, stdout);
		if (r->exit_status >= 0)
			printf("%d", r->exit_status);
		const char *more[] = {r->label, r->tags, r->script};
		for (size_t t = 0; t < 3; t++) {
			fputc(sep, stdout);
			cli_csv_field(stdout, more[t] ? more[t] : "", sep);
		}
		json_object_foreach(flag_names, k, v) {
			fputc(sep, stdout);
			csv_value(stdout, json_object_get(r->flags, k), sep);
		}
		json_object_foreach(scalar_names, k, v) {
			fputc(sep, stdout);
			csv_value(stdout, json_object_get(json_object_get(r->scalars, k), "last"), sep);
		}
		fputc('\n', stdout);
		free(r->id), free(r->dir), free(r->status), free(r->label), free(r->script), free(r->tags);
		json_decref(r->flags);
		json_decref(r->scalars);
	}
	free(rows);
	json_decref(flag_names);
	json_decref(scalar_names);
	if (rc == TALLY_ENOMEM)
		return cli_error("out of memory listing runs");
	return rc < 0 ? cli_lib_error(rc) : EXIT_OK;
}

int cmd_runs(int argc, char **argv)
{
	const char *format = "table", *runs_dir = NULL;
	long limit = -1;
	bool all = false;
	int c, code = EXIT_OK;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:af:h", options, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			limit = strtol(optarg, &end, 10);
			if (*end || end == optarg || limit < 0)
				return cli_usage_error(usage, "-n wants a number of runs, not '%s'", optarg);
			break;
		}
		case 'a': all = true; break;
		case 'f': format = optarg; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	bool as_table = !strcmp(format, "table");
	if (!as_table && strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "tsv"))
		return cli_usage_error(usage, "unknown format '%s' (table, csv, tsv or json)", format);
	size_t effective = limit >= 0 ? (size_t)limit : 0;
	if (limit < 0 && !all && as_table && isatty(STDOUT_FILENO))
		effective = TERMINAL_DEFAULT_LIMIT;

	tally_store *store = NULL;
	tally_run_iter *it = NULL;
	if ((code = cli_open_store(&store, runs_dir)))
		return code;
	tally_iter_options iter = TALLY_ITER_OPTIONS_INIT;
	iter.limit = effective;
	iter.details = !as_table;
	static char out_buffer[1 << 16];
	setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
	int rc = tally_run_iter_new(&it, store, &iter);
	if (rc) {
		code = cli_lib_error(rc);
		goto done;
	}
	cli_print_warnings(store);
	if (as_table)
		code = print_table(it, limit < 0 ? effective : 0);
	else if (!strcmp(format, "json"))
		code = print_json(it);
	else
		code = print_csv(it, !strcmp(format, "tsv") ? '\t' : ',');
done:
	tally_run_iter_free(it);
	tally_store_free(store);
	return code;
}

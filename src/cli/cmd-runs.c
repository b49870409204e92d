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

const char cmd_runs_usage[] =
	"usage: tally runs [--where EXPR] [--sort KEYS] [-n N] [filters] [--format FORMAT]\n"
	"\n"
	"List runs, newest first: index (1 = latest), id, start time, duration,\n"
	"status, label, flags and the last value of each scalar.  On a terminal the\n"
	"table fits the window and shows the latest 20 runs (-a for all); piped, it\n"
	"prints every run, one row each, untruncated.  The table shows an id's\n"
	"random part (k8f0th), which names the run like the whole id (--full-ids:\n"
	"the whole id; csv, tsv and json always have it); FLAGS only the flags\n"
	"whose values differ between the runs listed; LABEL only labels that say\n"
	"more than the flags (a label of NAME=VALUE flags is left out); when the\n"
	"window is narrow, LABEL and FLAGS are cut before SCALARS.\n"
	"\n"
	"Queries (--where), like tfruns' ls_runs(eval_acc > 0.98, order = eval_acc):\n"
	"  comparisons  = != < <= > >=, and, or, not, parentheses\n"
	"               x in [a, b], x not in [..], label contains 'text',\n"
	"               tags contains best, label ~ 'regex', val_loss is missing\n"
	"  names        attributes status, started, stopped, duration (s), label,\n"
	"               script, host, exit_status, id, name, marked, tags, sweep,\n"
	"               trial; flags and scalars\n"
	"               (last value) by name; attr.X, flag.X, scalar.X to be sure;\n"
	"               min(X) max(X) first(X) last(X) avg(X) count(X) of a scalar;\n"
	"               tfruns' flag_X, metric_X, eval_X\n"
	"  values       numbers, 'strings', true/false; a bare word after a\n"
	"               comparison is a string (status = completed); dates for\n"
	"               started/stopped: 2026-11-24, 2026-11-24T10:00, today,\n"
	"               yesterday, 'last hour', 'last 3 days', '2 weeks ago'\n"
	"  missing      a comparison with a missing value is false (not makes it true)\n"
	"--sort KEYS: comma-separated names or aggregates, -NAME for largest first\n"
	"(missing values last), e.g. --sort -val_acc,started.\n"
	"\n"
	"  csv/tsv  one column per attribute plus flag_NAME and scalar_NAME columns\n"
	"           (like tfruns' ls_runs()): read.csv(pipe(\"tally runs --format csv\"))\n"
	"  json     an array of objects with id, dir, status, started, stopped,\n"
	"           exit_status, label, tags, flags, scalars (tag → summary)\n"
	"  tfruns   csv with the columns of tfruns' ls_runs(): run_dir, eval_NAME\n"
	"           (the scalars test_NAME and eval_NAME), metric_NAME (the last value\n"
	"           of every other scalar), flag_NAME, epochs_completed, script,\n"
	"           start, end, completed, ...\n"
	"\n"
	"Options:\n"
	"  -w, --where EXPR     only runs for which EXPR holds\n"
	"  -s, --sort KEYS      order by KEYS instead of newest first\n"
	"      --running, --completed, --error, --terminated,\n"
	"      --pruned         only runs with that status (several: any of them)\n"
	"      --tag TAG        only runs tagged TAG (repeatable: all of them)\n"
	"      --label TEXT     only runs whose label contains TEXT\n"
	"      --script NAME    only runs of script NAME\n"
	"      --started WHEN   only runs started after WHEN ('last hour', today, a date)\n"
	"      --pattern REGEX  only runs whose id matches REGEX\n"
	"      --marked, --unmarked  only runs with (without) a mark (tally mark)\n"
	"      --sweep ID       only the trials of sweep ID (tally tune, tally sweeps)\n"
	"      --archived       list the archive: runs removed with tally delete\n"
	"      --columns LIST   these columns, in this order (table, csv, tsv): id,\n"
	"                       name, started, stopped, time, status, label, script,\n"
	"                       exit_status, tags, flags, scalars, dir, flag.NAME,\n"
	"                       scalar.TAG, min(TAG) max first last avg count, or a\n"
	"                       bare flag or scalar name: --columns id,lr,val_loss\n"
	"      --column-width N\n"
	"                       cut table cells to at most N characters (…)\n"
	"      --full-ids       whole run ids in the table\n"
	"  -n, --limit N        at most N runs (0 = all)\n"
	"  -a, --all            all runs, also on a terminal\n"
	"  -f, --format table|csv|tsv|json|tfruns\n"
	"                       table by default\n"
	"      --runs-dir DIR   where runs live (default ./runs)\n"
	"  -h, --help           show this help\n";

enum { OPT_ARCHIVED = CLI_OPT_FIRST_FREE, OPT_COLUMNS, OPT_COLUMN_WIDTH, OPT_FULL_IDS };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"archived", no_argument, NULL, OPT_ARCHIVED},
	{"columns", required_argument, NULL, OPT_COLUMNS},
	{"column-width", required_argument, NULL, OPT_COLUMN_WIDTH},
	{"full-ids", no_argument, NULL, OPT_FULL_IDS},
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

/* Rows are assembled in blocks: one write per 256 KiB, not per row. */
static void flush_when_full(tally_buf *out)
{
	if (out->len >= (1 << 18)) {
		fwrite_unlocked(out->ptr, 1, out->len, stdout);
		tally_buf_clear(out);
	}
}

/* ---- table ---- */

enum { COL_INDEX, COL_ID, COL_STARTED, COL_TIME, COL_STATUS, COL_LABEL, COL_FLAGS, COL_SCALARS, N_COLS };
static const char *const headers[N_COLS] = {"#", "ID", "STARTED", "TIME", "STATUS", "LABEL", "FLAGS", "SCALARS"};

/*
 * The table is made in two passes over the index: the first measures the
 * columns, the second prints.  No row is kept, so 100,000 runs list in
 * constant memory (keeping them measured slower: page faults on the arena).
 */
typedef struct {
	int width[N_COLS];
	bool present[N_COLS];   /* optional columns only when some run has them */
	size_t rows;
	bool running;           /* some run's TIME still grows */
	/* FLAGS shows only the flags whose values differ between the listed runs
	 * (all of them for a single run): `varying` their names, when some don't */
	bool filter_flags;
	tally_strlist varying;
	bool full_ids;          /* --full-ids: the ID column holds whole ids */
} table_shape;

/* ---- which flags differ between the listed runs ---- */

/* The next "name=value" of a flags text ("lr=0.1 units=64"); a value ends where " NAME=" starts. */
static bool next_flag(const char **p, const char **name, size_t *name_len, const char **value, size_t *value_len)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	const char *eq = strchr(s, '=');
	if (!*s || !eq)
		return false;
	*name = s;
	*name_len = (size_t)(eq - s);
	const char *v = eq + 1, *end = v;
	for (;; end++) {
		end = strchr(end, ' ');
		if (!end) {
			end = v + strlen(v);
			break;
		}
		size_t ident = strspn(end + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
		if (ident && end[1 + ident] == '=')
			break;
	}
	*value = v;
	*value_len = (size_t)(end - v);
	*p = end;
	return true;
}

typedef struct {
	char *name, *value;  /* the first run's value */
	bool differs;
	size_t count;        /* runs that have it */
} flag_seen;

typedef struct {
	flag_seen *items;
	size_t n;
} flag_tracker;

static void track_flags(flag_tracker *t, const char *text)
{
	const char *p = text, *name, *value;
	size_t nl, vl;
	while (next_flag(&p, &name, &nl, &value, &vl)) {
		size_t i = 0;
		while (i < t->n && !(strlen(t->items[i].name) == nl && !strncmp(t->items[i].name, name, nl)))
			i++;
		if (i == t->n) {
			flag_seen *grown = realloc(t->items, (t->n + 1) * sizeof *grown);
			if (!grown)
				return; /* out of memory: the flag shows as if it varied */
			t->items = grown;
			t->items[t->n++] = (flag_seen){strndup(name, nl), strndup(value, vl), false, 0};
		}
		flag_seen *f = &t->items[i];
		f->count++;
		if (!f->differs && f->value && (strlen(f->value) != vl || strncmp(f->value, value, vl)))
			f->differs = true;
	}
}

/* After all rows: which flags FLAGS shows, when not all. */
static void choose_varying(flag_tracker *t, table_shape *shape)
{
	size_t kept = 0;
	for (size_t i = 0; i < t->n; i++) {
		bool varies = shape->rows < 2 || t->items[i].differs || t->items[i].count < shape->rows;
		if (varies && tally_strlist_push(&shape->varying, t->items[i].name) == 0)
			kept++;
		free(t->items[i].name);
		free(t->items[i].value);
	}
	shape->filter_flags = kept < t->n;
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

static bool is_varying(const table_shape *shape, const char *name, size_t len)
{
	for (size_t i = 0; i < shape->varying.n; i++)
		if (strlen(shape->varying.items[i]) == len && !strncmp(shape->varying.items[i], name, len))
			return true;
	return false;
}

/* The flags text of a run with only the varying flags. */
static const char *varying_flags_text(const table_shape *shape, const char *text, tally_buf *buf)
{
	if (!shape->filter_flags)
		return text;
	tally_buf_clear(buf);
	const char *p = text, *name, *value;
	size_t nl, vl;
	while (next_flag(&p, &name, &nl, &value, &vl))
		if (is_varying(shape, name, nl)) {
			if (buf->len)
				tally_buf_addc(buf, ' ');
			tally_buf_add(buf, name, nl + 1 + vl);
		}
	return buf->ptr ? buf->ptr : "";
}

/* Whether every word of `label` is a NAME=VALUE whose NAME is one of the
 * run's flags: the default label (the flags given), which FLAGS shows. */
static bool label_is_flags(const char *label, const char *flags_text)
{
	const char *p = label;
	while (*p == ' ')
		p++;
	if (!*p)
		return false;
	while (*p) {
		size_t word = strcspn(p, " "), name = strcspn(p, "= ");
		if (name == 0 || name >= word)
			return false;
		bool found = false;
		const char *f = flags_text, *fname, *fvalue;
		size_t fnl, fvl;
		while (!found && next_flag(&f, &fname, &fnl, &fvalue, &fvl))
			found = fnl == name && !strncmp(fname, p, name);
		if (!found)
			return false;
		p += word;
		while (*p == ' ')
			p++;
	}
	return true;
}

/* Local start times, formatted once per minute: consecutive runs mostly
 * share one.  Today's show the time alone, this year's the month and day
 * too, older ones the year as well: room for the scalars. */
typedef struct {
	int64_t minute;
	char text[32];
	char today[16];   /* "YYYY-MM-DD" of now */
} time_cache;

static const char *started_text(time_cache *tc, int64_t ms)
{
	int64_t minute = ms > 0 ? ms / 60000 : -1;
	if (minute == tc->minute)
		return tc->text;
	tc->minute = minute;
	if (!tc->today[0]) {
		char now[32];
		cli_format_local_time(now, sizeof now, tally_now_ms(), false);
		snprintf(tc->today, sizeof tc->today, "%.10s", now);
	}
	char full[32];
	cli_format_local_time(full, sizeof full, ms, false);
	size_t len = strlen(full), skip = 0;
	if (len == 16 && !memcmp(full, tc->today, 10))
		skip = 11; /* 20:02 */
	else if (len == 16 && !memcmp(full, tc->today, 5))
		skip = 5;  /* 12-06 20:02 */
	memcpy(tc->text, full + skip, len - skip + 1);
	return tc->text;
}

/* One row's cells; `idx` and `dur` are the caller's buffers for the cells made here. */
typedef struct {
	const char *text[N_COLS];
	size_t bytes[N_COLS];
	int width[N_COLS];
} row_cells;

static void make_row(row_cells *row, const tally_run *run, size_t n, int64_t now, time_cache *tc, char idx[24],
                     char dur[32], const table_shape *shape, tally_buf *flags)
{
	tally_format_uint(idx, n);
	tally_format_duration(dur, 32, duration_ms(run, now));
	const char *label = tally_run_label(run), *flags_text = tally_run_flags_text(run);
	const char *text[N_COLS] = {idx, shape->full_ids ? tally_run_id(run) : tally_run_id_short(tally_run_id(run)),
	                            started_text(tc, tally_run_started_ms(run)), dur, tally_run_status(run),
	                            label_is_flags(label, flags_text) ? "" : label,
	                            varying_flags_text(shape, flags_text, flags), tally_run_scalars_text(run)};
	for (int c = 0; c < N_COLS; c++) {
		row->text[c] = text[c];
		row->bytes[c] = strlen(text[c]);
		/* index, id, times and status are ASCII: their width is their length */
		row->width[c] = c < COL_LABEL ? (int)row->bytes[c] : cli_display_width_n(text[c], row->bytes[c]);
	}
}

static void widen(table_shape *shape, const row_cells *row, int from, int to)
{
	for (int c = from; c <= to; c++) {
		if (!row->width[c])
			continue;
		if (row->width[c] > shape->width[c])
			shape->width[c] = row->width[c];
		shape->present[c] = true;
	}
}

/* With only the varying flags shown, FLAGS is measured again. */
static int measure_varying_flags(tally_run_iter *it, table_shape *shape, int64_t now)
{
	int rc = tally_run_iter_rewind(it);
	time_cache tc = {-2, "", ""};
	tally_buf buf = TALLY_BUF_INIT;
	const tally_run *run;
	size_t n = 0;
	shape->width[COL_FLAGS] = cli_display_width(headers[COL_FLAGS]);
	shape->present[COL_FLAGS] = false;
	while (!rc && (rc = tally_run_iter_next(it, &run)) == 0) {
		char idx[24], dur[32];
		row_cells row;
		make_row(&row, run, ++n, now, &tc, idx, dur, shape, &buf);
		widen(shape, &row, COL_FLAGS, COL_FLAGS);
	}
	tally_buf_release(&buf);
	return rc < 0 ? rc : 0;
}

static int measure_table(tally_run_iter *it, table_shape *shape, int64_t now)
{
	time_cache tc = {-2, "", ""};
	flag_tracker flags = {NULL, 0};
	const tally_run *run;
	int rc;
	for (int c = 0; c < N_COLS; c++) {
		shape->width[c] = cli_display_width(headers[c]);
		shape->present[c] = c < COL_LABEL;
	}
	shape->rows = 0;
	shape->running = false;
	shape->filter_flags = false;
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		char idx[24], dur[32];
		row_cells row;
		make_row(&row, run, ++shape->rows, now, &tc, idx, dur, shape, NULL);
		track_flags(&flags, tally_run_flags_text(run));
		if (!strcmp(tally_run_status(run), "running"))
			shape->running = true;
		widen(shape, &row, 0, N_COLS - 1);
	}
	choose_varying(&flags, shape);
	if (rc >= 0 && shape->filter_flags)
		rc = measure_varying_flags(it, shape, now);
	return rc < 0 ? rc : 0;
}

/* Narrow the free-text columns until the table fits: LABEL first, then
 * FLAGS, then SCALARS (the values people look for), each down to a few
 * characters before the next is touched. */
static void fit_to_terminal(int width[N_COLS], const bool present[N_COLS], int term)
{
	static const int shrinkable[] = {COL_LABEL, COL_FLAGS, COL_SCALARS};
	int total = 0;
	for (int c = 0; c < N_COLS; c++)
		if (present[c])
			total += width[c] + 2;
	for (size_t s = 0; s < 3 && total > term; s++) {
		int c = shrinkable[s], least = cli_display_width(headers[c]) + 2;
		if (!present[c] || width[c] <= least)
			continue;
		int cut = total - term < width[c] - least ? total - term : width[c] - least;
		width[c] -= cut;
		total -= cut;
	}
}

static int last_column(const table_shape *shape)
{
	int last = 0;
	for (int c = 0; c < N_COLS; c++)
		if (shape->present[c])
			last = c;
	return last;
}

/* Piped output: nothing is cut, so rows are assembled in large blocks. */
static void add_row_untruncated(tally_buf *out, const row_cells *row, const table_shape *shape, int last)
{
	static const char spaces[] = "                                                                ";
	for (int c = 0; c <= last; c++) {
		if (!shape->present[c])
			continue;
		tally_buf_add(out, row->text[c], row->bytes[c]);
		if (c == last)
			break;
		for (int pad = shape->width[c] - row->width[c] + 2; pad > 0; pad -= (int)sizeof spaces - 1)
			tally_buf_add(out, spaces, pad < (int)sizeof spaces - 1 ? (size_t)pad : sizeof spaces - 1);
	}
	tally_buf_addc(out, '\n');
}

static void print_row_truncated(const row_cells *row, const table_shape *shape, int last)
{
	for (int c = 0; c <= last; c++) {
		if (!shape->present[c])
			continue;
		cli_print_cell_n(stdout, row->text[c], row->bytes[c], row->width[c], shape->width[c], c == last);
		fputs_unlocked(c == last ? "\n" : "  ", stdout);
	}
}

static int print_table_rows(tally_run_iter *it, const table_shape *shape, int64_t now, bool truncate)
{
	int last = last_column(shape);
	for (int c = 0; c <= last; c++) {
		if (!shape->present[c])
			continue;
		cli_print_cell(stdout, headers[c], c == last && !truncate ? 0 : shape->width[c], c == last);
		fputs_unlocked(c == last ? "\n" : "  ", stdout);
	}
	time_cache tc = {-2, "", ""};
	tally_buf out = TALLY_BUF_INIT, flags = TALLY_BUF_INIT;
	const tally_run *run;
	size_t n = 0;
	int rc;
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		char idx[24], dur[32];
		row_cells row;
		make_row(&row, run, ++n, now, &tc, idx, dur, shape, &flags);
		if (truncate) {
			print_row_truncated(&row, shape, last);
			continue;
		}
		add_row_untruncated(&out, &row, shape, last);
		flush_when_full(&out);
	}
	fwrite_unlocked(out.ptr, 1, out.len, stdout);
	bool oom = tally_buf_oom(&out);
	tally_buf_release(&out);
	tally_buf_release(&flags);
	if (oom)
		return cli_error("out of memory");
	return rc < 0 ? cli_lib_error(rc) : EXIT_OK;
}

/*
 * The measured shape is kept in the index as a memo, so that listing the
 * same runs again (nothing changed, nothing running) takes one pass, not two.
 */
static void memo_key(char *key, size_t size, size_t limit, bool full_ids)
{
	/* today's date: start times are shown shorter on the day they happened */
	char today[32];
	cli_format_local_time(today, sizeof today, tally_now_ms(), false);
	snprintf(key, size, "runs-table-v4 limit=%zu%s day=%.10s", limit, full_ids ? " full-ids" : "", today);
}

static bool shape_from_memo(tally_run_iter *it, const char *key, table_shape *shape)
{
	char *text = NULL;
	if (tally_run_iter_memo_get(it, key, &text) != 0)
		return false;
	const char *p = text;
	char *end;
	bool ok = true;
	shape->rows = (size_t)strtoull(p, &end, 10);
	ok = end != p;
	for (int c = 0; ok && c < N_COLS; c++) {
		p = end;
		long w = strtol(p, &end, 10);
		ok = end != p && w >= 0 && w < 1000000;
		shape->width[c] = (int)w;
		shape->present[c] = w > 0;
	}
	/* then "|" and the varying flags' names, when FLAGS shows only those */
	shape->filter_flags = ok && *end == '|';
	for (char *save = NULL, *name = shape->filter_flags ? strtok_r(end + 1, " ", &save) : NULL; name;
	     name = strtok_r(NULL, " ", &save))
		ok = ok && tally_strlist_push(&shape->varying, name) == 0;
	ok = ok && (*end == '\0' || shape->filter_flags);
	shape->running = false;
	free(text);
	return ok;
}

static void shape_to_memo(tally_run_iter *it, const char *key, const table_shape *shape)
{
	tally_buf text = TALLY_BUF_INIT;
	tally_buf_printf(&text, "%zu", shape->rows);
	for (int c = 0; c < N_COLS; c++)
		tally_buf_printf(&text, " %d", shape->present[c] ? shape->width[c] : 0);
	if (shape->filter_flags) {
		tally_buf_addc(&text, '|');
		for (size_t i = 0; i < shape->varying.n; i++)
			tally_buf_printf(&text, "%s%s", i ? " " : "", shape->varying.items[i]);
	}
	if (!tally_buf_oom(&text))
		tally_run_iter_memo_put(it, key, text.ptr);
	tally_buf_release(&text);
}

static int print_table(tally_run_iter *it, size_t limit, size_t shown_limit, int column_width, bool full_ids,
                       const char *empty)
{
	int64_t now = tally_now_ms();
	table_shape shape = {.varying = TALLY_STRLIST_INIT, .full_ids = full_ids};
	char key[96];
	int code = EXIT_OK;
	memo_key(key, sizeof key, limit, full_ids);
	if (!shape_from_memo(it, key, &shape)) {
		tally_strlist_release(&shape.varying);
		int rc = measure_table(it, &shape, now);
		if (!rc)
			rc = tally_run_iter_rewind(it);
		if (rc) {
			code = cli_lib_error(rc);
			goto done;
		}
		if (!shape.running)
			shape_to_memo(it, key, &shape);
	}
	if (shape.rows == 0) {
		fprintf(stderr, "%s\n", empty);
		goto done;
	}
	int term = cli_terminal_width();
	if (term > 0)
		fit_to_terminal(shape.width, shape.present, term);
	/* --column-width (run-manager's column-width) tames the free-text columns */
	for (int c = COL_LABEL; c < N_COLS && column_width > 0; c++)
		if (shape.width[c] > column_width)
			shape.width[c] = column_width;
	code = print_table_rows(it, &shape, now, term > 0 || column_width > 0);
	if (code == EXIT_OK && shown_limit && shape.rows == shown_limit) {
		fflush(stdout); /* the note goes after the table */
		fprintf(stderr, "(latest %zu shown; -a for all)\n", shape.rows);
	}
done:
	tally_strlist_release(&shape.varying);
	return code;
}

/* ---- JSON: the index keeps each run's JSON summary ready; only "dir" is added ---- */

static int print_json(tally_run_iter *it)
{
	const tally_run *run;
	int rc;
	size_t n = 0;
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_addc(&out, '[');
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		const char *summary = tally_run_summary_json(run);
		tally_buf_adds(&out, n++ ? ",\n{\"dir\":" : "\n{\"dir\":");
		cli_json_string(&out, tally_run_dir(run));
		/* summary is a non-empty object "{...}": splice "dir" in as its first member */
		if (summary[1] != '}')
			tally_buf_addc(&out, ',');
		tally_buf_adds(&out, summary + 1);
		flush_when_full(&out);
	}
	tally_buf_adds(&out, n ? "\n]\n" : "]\n");
	fwrite_unlocked(out.ptr, 1, out.len, stdout);
	bool oom = tally_buf_oom(&out);
	tally_buf_release(&out);
	if (oom)
		return cli_error("out of memory");
	return rc < 0 ? cli_lib_error(rc) : EXIT_OK;
}

/* ---- CSV / TSV: one column per flag and per scalar across the listed runs ---- */

/* The flag, scalar and (--format tfruns) eval_/metric_ columns: each kind in the order first met. */
enum { CSV_FLAGS, CSV_SCALARS, CSV_TFRUNS, CSV_KINDS };

/* One value of a row: its column (of its kind) and the value, a reference. */
typedef struct {
	size_t column;
	json_t *value;
} csv_cell;

/* A run's row, kept from the one pass over the index until every column is known. */
typedef struct {
	char *id, *dir, *status, *label, *script, *tags;
	int64_t started, stopped;
	int exit_status;
	int64_t epochs; /* --format tfruns: the epochs completed, -1 if unknown */
	csv_cell *cells[CSV_KINDS];
	size_t n_cells[CSV_KINDS];
} csv_row;

typedef struct {
	json_t *names[CSV_KINDS];  /* name → its column number */
	json_t **slots[CSV_KINDS]; /* while a row prints: its values by column */
} csv_table;

/*
 * The scalar columns ls_runs() has: eval_NAME for what evaluate() reported
 * after training — here the scalars named test_NAME or eval_NAME — and
 * metric_NAME for the last value of every other scalar.  epochs_completed
 * is the length of the shortest val_ series (validation runs once an
 * epoch, where training loss may be logged per batch), else of the
 * shortest series.  System metrics are not part of it.
 */
static json_t *tfruns_columns(json_t *scalars, int64_t *epochs)
{
	json_t *cols = json_object();
	const char *tag;
	json_t *s;
	int64_t shortest = -1, shortest_val = -1;
	json_object_foreach(scalars, tag, s) {
		if (!strncmp(tag, "sys/", 4))
			continue;
		char name[600];
		int64_t count = json_integer_value(json_object_get(s, "count"));
		if (!strncmp(tag, "test_", 5) || !strncmp(tag, "eval_", 5)) {
			snprintf(name, sizeof name, "eval_%s", tag + 5);
		} else {
			snprintf(name, sizeof name, "metric_%s", tag);
			shortest = shortest < 0 || count < shortest ? count : shortest;
			if (!strncmp(tag, "val_", 4))
				shortest_val = shortest_val < 0 || count < shortest_val ? count : shortest_val;
		}
		json_object_set(cols, name, json_object_get(s, "last"));
	}
	*epochs = shortest_val >= 0 ? shortest_val : shortest;
	return cols;
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

/* Keep the members of `obj` (or each member's `member`) as cells of `kind`, naming new columns. */
static int keep_cells(csv_row *r, csv_table *t, int kind, json_t *obj, const char *member)
{
	size_t n = json_object_size(obj);
	if (n && !(r->cells[kind] = calloc(n, sizeof *r->cells[kind])))
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		json_t *column = json_object_get(t->names[kind], k);
		if (!column && json_object_set_new(t->names[kind], k,
		                                   column = json_integer((json_int_t)json_object_size(t->names[kind]))))
			return -1;
		json_t *value = member ? json_object_get(v, member) : v;
		if (value && !json_is_null(value))
			r->cells[kind][r->n_cells[kind]++] = (csv_cell){(size_t)json_integer_value(column), json_incref(value)};
	}
	return 0;
}

static char *copy_text(const char *s)
{
	return strdup(s ? s : "");
}

/* A run's fields for its row: only the values of its columns are kept, not its parsed summary. */
static int row_load(csv_row *r, csv_table *t, const tally_run *run, bool tfruns)
{
	memset(r, 0, sizeof *r);
	json_t *summary = json_loads(tally_run_summary_json(run), 0, NULL);
	json_t *scalars = json_object_get(summary, "scalars");
	r->id = copy_text(tally_run_id(run));
	r->dir = copy_text(tally_run_dir(run));
	r->status = copy_text(tally_run_status(run));
	r->label = copy_text(tally_run_label(run));
	r->script = copy_text(tally_run_script(run));
	r->tags = tags_joined(json_object_get(summary, "tags"));
	r->started = tally_run_started_ms(run);
	r->stopped = tally_run_stopped_ms(run);
	r->exit_status = tally_run_exit_status(run);
	r->epochs = -1;
	int rc = r->id && r->dir && r->status && r->label && r->script && r->tags ? 0 : -1;
	if (!rc)
		rc = keep_cells(r, t, CSV_FLAGS, json_object_get(summary, "flags"), NULL);
	if (!rc)
		rc = keep_cells(r, t, CSV_SCALARS, scalars, "last");
	if (!rc && tfruns) {
		json_t *columns = tfruns_columns(scalars, &r->epochs);
		rc = columns ? keep_cells(r, t, CSV_TFRUNS, columns, NULL) : -1;
		json_decref(columns);
	}
	json_decref(summary);
	return rc;
}

static void row_release(csv_row *r)
{
	char *texts[] = {r->id, r->dir, r->status, r->label, r->script, r->tags};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		free(texts[i]);
	for (int kind = 0; kind < CSV_KINDS; kind++) {
		for (size_t i = 0; i < r->n_cells[kind]; i++)
			json_decref(r->cells[kind][i].value);
		free(r->cells[kind]);
	}
}

/* Put the row's values in their columns' slots (fill) or take them out again. */
static void row_slots(const csv_row *r, csv_table *t, bool fill)
{
	for (int kind = 0; kind < CSV_KINDS; kind++)
		for (size_t i = 0; i < r->n_cells[kind]; i++)
			t->slots[kind][r->cells[kind][i].column] = fill ? r->cells[kind][i].value : NULL;
}

/* The values of one kind's columns, in their order. */
static void print_cells(const csv_table *t, int kind, char sep)
{
	size_t n = json_object_size(t->names[kind]);
	for (size_t i = 0; i < n; i++) {
		putchar(sep);
		csv_value(stdout, t->slots[kind][i], sep);
	}
}

static void print_tfruns_header(json_t *column_names, json_t *flag_names)
{
	fputs("run_dir", stdout);
	const char *k;
	json_t *v;
	for (int pass = 0; pass < 2; pass++) /* eval_ columns first, as ls_runs() has them */
		json_object_foreach(column_names, k, v) if ((pass == 0) == !strncmp(k, "eval_", 5)) {
			putchar(',');
			cli_csv_field(stdout, k, ',');
		}
	json_object_foreach(flag_names, k, v) {
		fputs(",flag_", stdout);
		cli_csv_field(stdout, k, ',');
	}
	puts(",epochs_completed,script,label,tags,status,exit_status,start,end,completed,id");
}

static void print_tfruns_row(const csv_row *r, const csv_table *t, const char *started, const char *stopped)
{
	cli_csv_field(stdout, r->dir, ',');
	const char *k;
	json_t *v;
	for (int pass = 0; pass < 2; pass++)
		json_object_foreach(t->names[CSV_TFRUNS], k, v) if ((pass == 0) == !strncmp(k, "eval_", 5)) {
			putchar(',');
			csv_value(stdout, t->slots[CSV_TFRUNS][json_integer_value(v)], ',');
		}
	print_cells(t, CSV_FLAGS, ',');
	putchar(',');
	if (r->epochs >= 0)
		printf("%lld", (long long)r->epochs);
	const char *texts[] = {r->script, r->label, r->tags, r->status};
	for (size_t i = 0; i < 4; i++) {
		putchar(',');
		cli_csv_field(stdout, texts[i], ',');
	}
	putchar(',');
	if (r->exit_status >= 0)
		printf("%d", r->exit_status);
	printf(",%s,%s,%s,", started, stopped, !strcmp(r->status, "completed") ? "TRUE" : "FALSE");
	cli_csv_field(stdout, r->id, ',');
	putchar('\n');
}

static void print_csv_header(char sep, bool tfruns, json_t *flag_names, json_t *scalar_names, json_t *column_names)
{
	if (tfruns) {
		print_tfruns_header(column_names, flag_names);
		return;
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
}

static void print_csv_row(const csv_row *r, const csv_table *t, char sep, bool tfruns)
{
	char started[40] = "", stopped[40] = "";
	if (r->started > 0)
		tally_format_iso_ms(started, sizeof started, r->started);
	if (r->stopped > 0)
		tally_format_iso_ms(stopped, sizeof stopped, r->stopped);
	if (tfruns) {
		print_tfruns_row(r, t, started, stopped);
		return;
	}
	const char *texts[] = {r->id, r->dir, r->status, started, stopped};
	for (size_t i = 0; i < 5; i++) {
		cli_csv_field(stdout, texts[i], sep);
		fputc(sep, stdout);
	}
	if (r->started > 0 && r->stopped > 0)
		printf("%.3f", (double)(r->stopped - r->started) / 1000.0);
	fputc(sep, stdout);
	if (r->exit_status >= 0)
		printf("%d", r->exit_status);
	const char *more[] = {r->label, r->tags, r->script};
	for (size_t i = 0; i < 3; i++) {
		fputc(sep, stdout);
		cli_csv_field(stdout, more[i], sep);
	}
	print_cells(t, CSV_FLAGS, sep);
	print_cells(t, CSV_SCALARS, sep);
	fputc('\n', stdout);
}

/*
 * One pass over the index keeps each run's row (its fields and the values of
 * its columns, not its parsed summary), then the header (every flag and scalar
 * of the listed runs) and the rows are printed.  Parsing each summary twice
 * (two passes, no row kept) cost more than half the time at 100,000 runs;
 * keeping the parsed summaries cost seconds of allocation and 430 MB.
 */
static int print_csv(tally_run_iter *it, char sep, bool tfruns)
{
	csv_table t = {{json_object(), json_object(), json_object()}, {NULL, NULL, NULL}};
	csv_row *rows = NULL;
	size_t n = 0, cap = 0;
	const tally_run *run;
	int rc = 0, code = EXIT_OK;
	bool oom = !t.names[CSV_FLAGS] || !t.names[CSV_SCALARS] || !t.names[CSV_TFRUNS];
	while (!oom && (rc = tally_run_iter_next(it, &run)) == 0) {
		if (n == cap) {
			csv_row *more = realloc(rows, (cap = cap ? 2 * cap : 256) * sizeof *rows);
			if (!(oom = !more))
				rows = more;
		}
		if (!oom && (oom = row_load(&rows[n], &t, run, tfruns) < 0))
			row_release(&rows[n]);
		else if (!oom)
			n++;
	}
	for (int kind = 0; !oom && kind < CSV_KINDS; kind++)
		oom = !(t.slots[kind] = calloc(json_object_size(t.names[kind]) + 1, sizeof *t.slots[kind]));
	if (oom)
		code = cli_error("out of memory listing the runs as %s", tfruns ? "tfruns" : sep == ',' ? "csv" : "tsv");
	else if (rc < 0)
		code = cli_lib_error(rc);
	else
		print_csv_header(sep, tfruns, t.names[CSV_FLAGS], t.names[CSV_SCALARS], t.names[CSV_TFRUNS]);
	for (size_t i = 0; i < n; i++) {
		if (code == EXIT_OK) {
			row_slots(&rows[i], &t, true);
			print_csv_row(&rows[i], &t, sep, tfruns);
			row_slots(&rows[i], &t, false);
		}
		row_release(&rows[i]);
	}
	free(rows);
	for (int kind = 0; kind < CSV_KINDS; kind++) {
		json_decref(t.names[kind]);
		free(t.slots[kind]);
	}
	return code;
}

int cmd_runs(int argc, char **argv)
{
	const char *format = "table", *runs_dir = NULL, *columns_spec = NULL;
	long limit = -1, column_width = 0;
	cli_columns *columns = NULL;
	bool all = false, archived = false, full_ids = false;
	int c, code = EXIT_OK;
	cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:n:af:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case OPT_ARCHIVED: archived = true; break;
		case OPT_FULL_IDS: full_ids = true; break;
		case OPT_COLUMNS: columns_spec = optarg; break;
		case OPT_COLUMN_WIDTH: {
			char *end;
			column_width = strtol(optarg, &end, 10);
			if (*end || end == optarg || column_width < 1 || column_width > 10000) {
				code = cli_usage_error(cmd_runs_usage, "--column-width wants a number of characters, not '%s'", optarg);
				goto done_filters;
			}
			break;
		}
		case 'n': {
			char *end;
			limit = strtol(optarg, &end, 10);
			if (*end || end == optarg || limit < 0)
				return cli_usage_error(cmd_runs_usage, "-n wants a number of runs, not '%s'", optarg);
			break;
		}
		case 'a': all = true; break;
		case 'f': format = optarg; break;
		case 'R': runs_dir = optarg; break;
		case 'h':
			fputs(cmd_runs_usage, stdout);
			code = EXIT_OK;
			goto done_filters;
		default:
			code = cli_usage_error(cmd_runs_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
			goto done_filters;
		}
	}
	if ((code = cli_selection_check(&sel)))
		goto done_filters;
	if (optind < argc) {
		code = cli_usage_error(cmd_runs_usage, "unexpected argument '%s'", argv[optind]);
		goto done_filters;
	}
	bool as_table = !strcmp(format, "table");
	if (!as_table && strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "tsv") && strcmp(format, "tfruns")) {
		code = cli_usage_error(cmd_runs_usage, "unknown format '%s' (table, csv, tsv, json or tfruns)", format);
		goto done_filters;
	}
	if (columns_spec && strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "tsv")) {
		code = cli_usage_error(cmd_runs_usage, "--columns goes with the table, csv and tsv formats");
		goto done_filters;
	}
	if (columns_spec && (code = cli_columns_parse(&columns, columns_spec)))
		goto done_filters;
	size_t effective = limit >= 0 ? (size_t)limit : 0;
	if (limit < 0 && !all && as_table && isatty(STDOUT_FILENO))
		effective = TERMINAL_DEFAULT_LIMIT;

	tally_store *store = NULL;
	tally_run_iter *it = NULL;
	if ((code = cli_open_store(&store, runs_dir)))
		goto done_filters;
	if (archived && (code = cli_open_archive(&store)))
		goto done;
	tally_iter_options iter = TALLY_ITER_OPTIONS_INIT;
	iter.limit = effective;
	if (columns)
		iter.details = cli_columns_need_details(columns) ? TALLY_ITER_DETAILS : TALLY_ITER_COMPACT;
	else if (as_table)
		iter.details = TALLY_ITER_COMPACT;
	else
		iter.details = !strcmp(format, "json") ? TALLY_ITER_SUMMARY_ONLY : TALLY_ITER_DETAILS;
	iter.where = sel.where;
	iter.filter = cli_selection_filter(&sel);
	iter.sort = sel.sort;
	static char out_buffer[1 << 16];
	setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
	int rc = tally_run_iter_new(&it, store, &iter);
	if (rc) {
		code = cli_lib_error(rc);
		goto done;
	}
	cli_print_warnings(store);
	const char *empty = iter.where || iter.filter ? "No run matches."
	                    : archived                ? "The archive is empty (tally delete moves runs there)."
	                                              : "No runs yet. Start one with `tally run SCRIPT`.";
	if (columns)
		code = cli_columns_print(columns, it, format, (int)column_width, full_ids, empty);
	else if (as_table)
		code = print_table(it, effective, limit < 0 ? effective : 0, (int)column_width, full_ids, empty);
	else if (!strcmp(format, "json"))
		code = print_json(it);
	else
		code = print_csv(it, !strcmp(format, "tsv") ? '\t' : ',', !strcmp(format, "tfruns"));
done:
	tally_run_iter_free(it);
	tally_store_free(store);
done_filters:
	cli_selection_release(&sel);
	cli_columns_free(columns);
	return code;
}

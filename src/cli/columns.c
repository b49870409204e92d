/*
 * tally runs --columns: a table (or csv/tsv) of the columns the user names,
 * in that order — run attributes, flags, scalars and scalar summaries:
 *   --columns id,started,flag.lr,val_loss,max(val_acc)
 * A bare name is an attribute when there is one by that name, else the run's
 * flag of that name when it has one, else its scalar (last value).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "util/strlist.h"
#include "util/timeutil.h"

typedef enum { C_INDEX, C_ID, C_NAME, C_STARTED, C_STOPPED, C_TIME, C_STATUS, C_LABEL, C_SCRIPT, C_EXIT, C_TAGS,
               C_FLAGS, C_SCALARS, C_DIR, C_FLAG, C_SCALAR, C_ANY } column_kind;

static const struct {
	const char *name, *header;
	column_kind kind;
} attributes[] = {
	{"#", "#", C_INDEX},           {"index", "#", C_INDEX},         {"id", "ID", C_ID},
	{"name", "NAME", C_NAME},      {"started", "STARTED", C_STARTED}, {"stopped", "STOPPED", C_STOPPED},
	{"time", "TIME", C_TIME},      {"duration", "TIME", C_TIME},    {"status", "STATUS", C_STATUS},
	{"label", "LABEL", C_LABEL},   {"script", "SCRIPT", C_SCRIPT},  {"exit_status", "EXIT", C_EXIT},
	{"tags", "TAGS", C_TAGS},      {"flags", "FLAGS", C_FLAGS},     {"scalars", "SCALARS", C_SCALARS},
	{"dir", "DIR", C_DIR},
};

static const char *const aggregates[] = {"last", "first", "min", "max", "avg", "count"};

typedef struct {
	column_kind kind;
	char *arg;       /* flag or scalar name */
	char agg[8];     /* scalar summary: last, min, … */
	char *header;    /* table: ID, STARTED, flag.lr, val_loss … */
	char *csv_name;  /* csv/tsv: id, started, flag.lr, val_loss … */
} column;

struct cli_columns {
	column *items;
	size_t n;
};

static bool parse_aggregate(column *c, const char *spec)
{
	size_t len = strlen(spec);
	for (size_t i = 0; i < sizeof aggregates / sizeof *aggregates; i++) {
		size_t n = strlen(aggregates[i]);
		if (!strncasecmp(spec, aggregates[i], n) && spec[n] == '(' && len > n + 2 && spec[len - 1] == ')') {
			c->kind = C_SCALAR;
			snprintf(c->agg, sizeof c->agg, "%s", aggregates[i]);
			c->arg = strndup(spec + n + 1, len - n - 2);
			return true;
		}
	}
	return false;
}

static int parse_one(column *c, const char *spec)
{
	snprintf(c->agg, sizeof c->agg, "last");
	c->header = strdup(spec);
	c->csv_name = strdup(spec);
	for (size_t i = 0; i < sizeof attributes / sizeof *attributes; i++)
		if (!strcasecmp(spec, attributes[i].name) ||
		    (!strncasecmp(spec, "attr.", 5) && !strcasecmp(spec + 5, attributes[i].name))) {
			c->kind = attributes[i].kind;
			free(c->header);
			free(c->csv_name);
			c->header = strdup(attributes[i].header);
			c->csv_name = strdup(c->kind == C_INDEX ? "index" : attributes[i].name);
			return c->header && c->csv_name ? 0 : -1;
		}
	if (!strncasecmp(spec, "attr.", 5))
		return cli_error("'%s' is not a run attribute — id, name, started, stopped, time, status, label, script, "
		                 "exit_status, tags, flags, scalars, dir", spec + 5);
	if (!strncasecmp(spec, "flag.", 5) && spec[5]) {
		c->kind = C_FLAG;
		c->arg = strdup(spec + 5);
	} else if (!strncasecmp(spec, "scalar.", 7) && spec[7]) {
		c->kind = C_SCALAR;
		c->arg = strdup(spec + 7);
	} else if (!parse_aggregate(c, spec)) {
		c->kind = C_ANY;
		c->arg = strdup(spec);
	}
	return c->arg && c->header && c->csv_name ? 0 : -1;
}

void cli_columns_free(cli_columns *cols)
{
	if (!cols)
		return;
	for (size_t i = 0; i < cols->n; i++) {
		free(cols->items[i].arg);
		free(cols->items[i].header);
		free(cols->items[i].csv_name);
	}
	free(cols->items);
	free(cols);
}

int cli_columns_parse(cli_columns **out, const char *text)
{
	*out = NULL;
	cli_columns *cols = calloc(1, sizeof *cols);
	char *copy = strdup(text);
	int code = cols && copy ? 0 : cli_error("out of memory");
	char *save = NULL;
	for (char *spec = code ? NULL : strtok_r(copy, ",", &save); spec && !code; spec = strtok_r(NULL, ",", &save)) {
		while (*spec == ' ')
			spec++;
		for (size_t len = strlen(spec); len && spec[len - 1] == ' '; len--)
			spec[len - 1] = '\0';
		if (!*spec)
			continue;
		column *grown = realloc(cols->items, (cols->n + 1) * sizeof *grown);
		if (!grown) {
			code = cli_error("out of memory");
			break;
		}
		cols->items = grown;
		memset(&cols->items[cols->n], 0, sizeof *cols->items);
		int rc = parse_one(&cols->items[cols->n++], spec);
		if (rc < 0)
			code = cli_error("out of memory");
		else if (rc)
			code = rc;
	}
	if (!code && !cols->n)
		code = cli_error("--columns names no column — e.g. --columns id,started,flag.lr,val_loss");
	free(copy);
	if (code) {
		cli_columns_free(cols);
		return code;
	}
	*out = cols;
	return 0;
}

bool cli_columns_need_details(const cli_columns *cols)
{
	for (size_t i = 0; i < cols->n; i++)
		if (cols->items[i].kind >= C_FLAG || cols->items[i].kind == C_NAME || cols->items[i].kind == C_TAGS)
			return true;
	return false;
}

/* ---- cells ---- */

static void add_number(tally_buf *out, double v, bool exact)
{
	char text[40];
	if (exact)
		cli_format_number(text, sizeof text, v);
	else
		snprintf(text, sizeof text, "%.6g", v);
	tally_buf_adds(out, text);
}

static void add_json_value(tally_buf *out, json_t *v, bool exact)
{
	if (json_is_string(v))
		tally_buf_adds(out, json_string_value(v));
	else if (json_is_real(v))
		add_number(out, json_real_value(v), exact);
	else if (json_is_integer(v))
		tally_buf_printf(out, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		tally_buf_adds(out, json_is_true(v) ? "true" : "false");
}

static void add_tags(tally_buf *out, json_t *tags)
{
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		if (i)
			tally_buf_addc(out, ' ');
		tally_buf_adds(out, json_string_value(t) ? json_string_value(t) : "");
	}
}

static void add_attribute(tally_buf *out, const column *c, const tally_run *run, size_t index, int64_t now, bool exact,
                          bool full_ids)
{
	char text[64] = "";
	int64_t start = tally_run_started_ms(run), stop = tally_run_stopped_ms(run);
	switch (c->kind) {
	case C_INDEX: snprintf(text, sizeof text, "%zu", index); break;
	case C_ID: tally_buf_adds(out, exact || full_ids ? tally_run_id(run) : tally_run_id_short(tally_run_id(run))); break;
	case C_DIR: tally_buf_adds(out, tally_run_dir(run)); break;
	case C_STARTED:
	case C_STOPPED: {
		int64_t ms = c->kind == C_STARTED ? start : stop;
		if (ms > 0 && exact)
			tally_format_iso_ms(text, sizeof text, ms);
		else if (ms > 0)
			cli_format_local_time(text, sizeof text, ms, false);
		break;
	}
	case C_TIME:
		if (!strcmp(tally_run_status(run), "running"))
			stop = now;
		if (start > 0 && stop >= start && exact)
			snprintf(text, sizeof text, "%.3f", (double)(stop - start) / 1000.0);
		else if (start > 0 && stop >= start)
			tally_format_duration(text, sizeof text, stop - start);
		break;
	case C_STATUS: tally_buf_adds(out, tally_run_status(run)); break;
	case C_LABEL: tally_buf_adds(out, tally_run_label(run)); break;
	case C_SCRIPT: tally_buf_adds(out, tally_run_script(run)); break;
	case C_EXIT:
		if (tally_run_exit_status(run) >= 0)
			snprintf(text, sizeof text, "%d", tally_run_exit_status(run));
		break;
	case C_FLAGS: tally_buf_adds(out, tally_run_flags_text(run)); break;
	case C_SCALARS: tally_buf_adds(out, tally_run_scalars_text(run)); break;
	default: break;
	}
	tally_buf_adds(out, text);
}

/* The text of column `c` for `run` (index `index` in the listing) into `out`. */
static void add_cell(tally_buf *out, const column *c, const tally_run *run, json_t *summary, size_t index, int64_t now,
                     bool exact, bool full_ids)
{
	if (c->kind < C_FLAG && c->kind != C_NAME && c->kind != C_TAGS) {
		add_attribute(out, c, run, index, now, exact, full_ids);
		return;
	}
	if (c->kind == C_NAME) {
		add_json_value(out, json_object_get(summary, "name"), exact);
		return;
	}
	if (c->kind == C_TAGS) {
		add_tags(out, json_object_get(summary, "tags"));
		return;
	}
	json_t *flag = json_object_get(json_object_get(summary, "flags"), c->arg);
	if (c->kind == C_FLAG || (c->kind == C_ANY && flag)) {
		add_json_value(out, flag, exact);
		return;
	}
	json_t *scalar = json_object_get(json_object_get(summary, "scalars"), c->arg);
	add_json_value(out, json_object_get(scalar, c->agg), exact);
}

/* ---- printing ---- */

typedef struct {
	tally_strlist cells;  /* rows × columns */
	int *width;
	size_t rows;
} grid;

static int fill_grid(grid *g, const cli_columns *cols, tally_run_iter *it, bool exact, bool full_ids)
{
	int64_t now = tally_now_ms();
	tally_buf cell = TALLY_BUF_INIT;
	const tally_run *run;
	int rc;
	while ((rc = tally_run_iter_next(it, &run)) == 0) {
		json_t *summary = json_loads(tally_run_summary_json(run), 0, NULL);
		g->rows++;
		for (size_t i = 0; i < cols->n && rc == 0; i++) {
			tally_buf_clear(&cell);
			add_cell(&cell, &cols->items[i], run, summary, g->rows, now, exact, full_ids);
			if (tally_buf_oom(&cell) || tally_strlist_push(&g->cells, cell.ptr ? cell.ptr : "") < 0)
				rc = TALLY_ENOMEM;
			int w = cli_display_width(g->cells.items[g->cells.n - 1]);
			if (w > g->width[i])
				g->width[i] = w;
		}
		json_decref(summary);
		if (rc)
			break;
	}
	tally_buf_release(&cell);
	return rc < 0 ? rc : 0;
}

int cli_columns_print(const cli_columns *cols, tally_run_iter *it, const char *format, int column_width,
                      bool full_ids, const char *empty)
{
	bool table = !strcmp(format, "table");
	char sep = !strcmp(format, "tsv") ? '\t' : ',';
	grid g = {TALLY_STRLIST_INIT, calloc(cols->n, sizeof(int)), 0};
	if (!g.width)
		return cli_error("out of memory");
	for (size_t i = 0; i < cols->n; i++)
		g.width[i] = cli_display_width(cols->items[i].header);
	int rc = fill_grid(&g, cols, it, !table, full_ids);
	if (rc) {
		free(g.width);
		tally_strlist_release(&g.cells);
		return cli_lib_error(rc);
	}
	if (table && !g.rows)
		fprintf(stderr, "%s\n", empty);
	bool truncate = table && (cli_terminal_width() > 0 || column_width > 0);
	for (size_t i = 0; i < cols->n && column_width > 0; i++)
		if (g.width[i] > column_width && cols->items[i].kind != C_ID && cols->items[i].kind != C_INDEX)
			g.width[i] = column_width;
	for (size_t r = 0; r <= g.rows && (g.rows || !table); r++) {
		for (size_t i = 0; i < cols->n; i++) {
			const char *text = r ? g.cells.items[(r - 1) * cols->n + i]
			                     : table ? cols->items[i].header : cols->items[i].csv_name;
			bool last = i + 1 == cols->n;
			if (!table) {
				if (i)
					fputc(sep, stdout);
				cli_csv_field(stdout, text, sep);
			} else if (truncate) {
				cli_print_cell(stdout, text, g.width[i], last);
				fputs(last ? "" : "  ", stdout);
			} else {
				fputs(text, stdout);
				for (int pad = last ? 0 : g.width[i] - cli_display_width(text) + 2; pad > 0; pad--)
					fputc(' ', stdout);
			}
		}
		fputc('\n', stdout);
	}
	free(g.width);
	tally_strlist_release(&g.cells);
	return EXIT_OK;
}

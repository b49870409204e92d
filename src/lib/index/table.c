/*
 * Runs as a table of typed columns, read from the index (tally_table_*):
 * what R's ls_runs() and Python's tally.runs() turn into data frames without
 * a subprocess, a run directory or a line of JSON.
 *
 * The rows are the iterator's (same query, sort and limit); the flags,
 * scalars and tags of those rows come from their index tables, either one
 * seek per run (a few runs) or one pass over the whole table (many), each
 * row found again by its rid in a small hash.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/index/index.h"

enum { CELL_MISSING, CELL_INTEGER, CELL_NUMBER, CELL_BOOL, CELL_TEXT };

typedef struct {
	double number;
	char *text;
	unsigned char kind;
} cell;

typedef struct {
	char *name;
	tally_column_type type;
	cell *cells;
} table_column;

typedef struct {
	table_column *items;
	size_t n, cap;
	size_t last_hit; /* the column found last: a row's column is mostly it or the next */
} column_list;

struct tally_table {
	size_t rows;
	column_list columns;
};

/* The fixed columns, in order; flag_ and scalar_ columns follow. */
enum { COL_ID, COL_DIR, COL_STATUS, COL_STARTED, COL_STOPPED, COL_EXIT_STATUS, COL_LABEL, COL_SCRIPT,
       COL_TAGS, COL_EPOCHS, N_FIXED };
static const struct {
	const char *name;
	tally_column_type type;
} fixed[N_FIXED] = {
	{"id", TALLY_COLUMN_TEXT},          {"dir", TALLY_COLUMN_TEXT},
	{"status", TALLY_COLUMN_TEXT},      {"started", TALLY_COLUMN_TIME},
	{"stopped", TALLY_COLUMN_TIME},     {"exit_status", TALLY_COLUMN_INTEGER},
	{"label", TALLY_COLUMN_TEXT},       {"script", TALLY_COLUMN_TEXT},
	{"tags", TALLY_COLUMN_TEXT},        {"epochs_completed", TALLY_COLUMN_INTEGER},
};

/* A few rows, or a small share of the index's runs: one seek per run into the
 * flags, scalars and tags tables; otherwise one pass over each table (a seek
 * costs a few microseconds, a row of a pass a fraction of one). */
static bool seek_per_run(sqlite3 *db, size_t rows)
{
	if (rows <= 64)
		return true;
	sqlite3_stmt *st = NULL;
	int64_t runs = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(rid) FROM runs", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		runs = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (int64_t)rows * 16 < runs;
}

/* ---- rid -> row ---- */

typedef struct {
	int64_t *rids;
	size_t *rows;
	size_t mask;
} rid_map;

static size_t rid_slot(const rid_map *m, int64_t rid)
{
	uint64_t h = (uint64_t)rid * 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 20) & m->mask;
	while (m->rids[i] != -1 && m->rids[i] != rid)
		i = (i + 1) & m->mask;
	return i;
}

static int rid_map_init(rid_map *m, const int64_t *rids, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	m->mask = cap - 1;
	m->rids = malloc(cap * sizeof *m->rids);
	m->rows = malloc(cap * sizeof *m->rows);
	if (!m->rids || !m->rows)
		return tally__error_oom();
	memset(m->rids, 0xff, cap * sizeof *m->rids); /* -1: empty */
	for (size_t row = 0; row < n; row++) {
		size_t i = rid_slot(m, rids[row]);
		m->rids[i] = rids[row];
		m->rows[i] = row;
	}
	return 0;
}

/* The row of `rid`, or (size_t)-1 when the table does not hold that run. */
static size_t rid_map_row(const rid_map *m, int64_t rid)
{
	size_t i = rid_slot(m, rid);
	return m->rids[i] == rid ? m->rows[i] : (size_t)-1;
}

static void rid_map_release(rid_map *m)
{
	free(m->rids);
	free(m->rows);
}

/* ---- columns ---- */

static table_column *add_column(tally_table *t, const char *name, tally_column_type type)
{
	column_list *l = &t->columns;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		table_column *items = realloc(l->items, cap * sizeof *items);
		if (!items)
			return NULL;
		l->items = items;
		l->cap = cap;
	}
	table_column *c = &l->items[l->n];
	c->name = strdup(name);
	c->type = type;
	c->cells = calloc(t->rows ? t->rows : 1, sizeof *c->cells);
	if (!c->name || !c->cells) {
		free(c->name);
		free(c->cells);
		return NULL;
	}
	l->n++;
	return c;
}

/* The column PREFIX+NAME, made when it is new. */
static table_column *named_column(tally_table *t, const char *prefix, const char *name)
{
	column_list *l = &t->columns;
	size_t plen = strlen(prefix);
	/* a run's names come sorted, as the columns were made: the last one, or the next */
	for (size_t k = l->last_hit; k < l->n && k <= l->last_hit + 1; k++) {
		const char *have = l->items[k].name;
		if (!strncmp(have, prefix, plen) && !strcmp(have + plen, name)) {
			l->last_hit = k;
			return &l->items[k];
		}
	}
	for (size_t i = N_FIXED; i < l->n; i++) {
		const char *have = l->items[i].name;
		if (!strncmp(have, prefix, plen) && !strcmp(have + plen, name)) {
			l->last_hit = i;
			return &l->items[i];
		}
	}
	tally_buf full = TALLY_BUF_INIT;
	tally_buf_printf(&full, "%s%s", prefix, name);
	table_column *c = tally_buf_oom(&full) ? NULL : add_column(t, full.ptr, TALLY_COLUMN_NUMBER);
	tally_buf_release(&full);
	if (c)
		l->last_hit = l->n - 1;
	return c;
}

static int set_text(cell *c, const char *text)
{
	free(c->text);
	c->text = strdup(text);
	c->kind = c->text ? CELL_TEXT : CELL_MISSING;
	return c->text ? 0 : tally__error_oom();
}

static void set_number(cell *c, double value, unsigned char kind)
{
	c->number = value;
	c->kind = kind;
}

/* A flag value as the index holds it (its JSON type and SQLite value). */
static int set_flag_cell(cell *c, const char *type, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL: c->kind = CELL_MISSING; return 0;
	case SQLITE_INTEGER:
		set_number(c, (double)sqlite3_column_int64(st, col), !strcmp(type, "bool") ? CELL_BOOL : CELL_INTEGER);
		return 0;
	case SQLITE_FLOAT: set_number(c, sqlite3_column_double(st, col), CELL_NUMBER); return 0;
	default: {
		const unsigned char *text = sqlite3_column_text(st, col);
		if (!text) {
			c->kind = CELL_MISSING;
			return 0;
		}
		return set_text(c, (const char *)text);
	}
	}
}

/* A number as text, as short as reads back the same. */
static void number_text(double v, char out[32])
{
	snprintf(out, 32, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, 32, "%.17g", v);
}

/* A flag column's type: what all its values share; text when they differ. */
static int settle_type(table_column *c, size_t rows)
{
	bool any_text = false, any_bool = false, any_number = false, any_real = false;
	for (size_t r = 0; r < rows; r++) {
		switch (c->cells[r].kind) {
		case CELL_TEXT: any_text = true; break;
		case CELL_BOOL: any_bool = true; break;
		case CELL_NUMBER: any_real = true; /* fallthrough */
		case CELL_INTEGER: any_number = true; break;
		default: break;
		}
	}
	if (any_text || (any_bool && any_number)) {
		c->type = TALLY_COLUMN_TEXT;
		for (size_t r = 0; r < rows; r++) {
			cell *x = &c->cells[r];
			char text[32];
			if (x->kind == CELL_BOOL)
				strcpy(text, x->number ? "true" : "false");
			else if (x->kind == CELL_INTEGER || x->kind == CELL_NUMBER)
				number_text(x->number, text);
			else
				continue;
			if (set_text(x, text))
				return TALLY_ENOMEM;
		}
	} else {
		c->type = any_bool ? TALLY_COLUMN_BOOL : any_real ? TALLY_COLUMN_NUMBER : TALLY_COLUMN_INTEGER;
	}
	return 0;
}

/* ---- reading the index ---- */

/* Run `sql` (one seek per run, ?1 = rid, or one pass with the rid first) and hand each row to `take`. */
typedef int (*row_fn)(tally_table *t, size_t row, sqlite3_stmt *st, int first_col);

static int read_children(tally_table *t, sqlite3 *db, bool seek, const rid_map *map, const int64_t *rids,
                         const char *per_run, const char *whole, row_fn take)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, seek ? per_run : whole, -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "index: %s", sqlite3_errmsg(db));
	int rc = 0, step = SQLITE_DONE;
	if (seek) {
		for (size_t row = 0; !rc && row < t->rows; row++) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, rids[row]);
			while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
				rc = take(t, row, st, 0);
			if (!rc && step != SQLITE_DONE)
				break;
		}
	} else {
		while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
			size_t row = rid_map_row(map, sqlite3_column_int64(st, 0));
			if (row != (size_t)-1)
				rc = take(t, row, st, 1);
		}
	}
	if (!rc && step != SQLITE_DONE) /* busy, corrupt, out of memory: no half-filled table */
		rc = tally__error(TALLY_ERROR, "index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static int take_flag(tally_table *t, size_t row, sqlite3_stmt *st, int c)
{
	const char *name = (const char *)sqlite3_column_text(st, c);
	table_column *col = named_column(t, "flag_", name ? name : "");
	if (!col)
		return tally__error_oom();
	const unsigned char *type = sqlite3_column_text(st, c + 1);
	return set_flag_cell(&col->cells[row], type ? (const char *)type : "", st, c + 2);
}

static int take_scalar(tally_table *t, size_t row, sqlite3_stmt *st, int c)
{
	const char *tag = (const char *)sqlite3_column_text(st, c);
	table_column *col = named_column(t, "scalar_", tag ? tag : "");
	if (!col)
		return tally__error_oom();
	if (sqlite3_column_type(st, c + 1) != SQLITE_NULL)
		set_number(&col->cells[row], sqlite3_column_double(st, c + 1), CELL_NUMBER);
	/* epochs completed: the points of the shortest val_ series */
	if (tag && !strncmp(tag, "val_", 4)) {
		cell *epochs = &t->columns.items[COL_EPOCHS].cells[row];
		double count = (double)sqlite3_column_int64(st, c + 2);
		if (epochs->kind == CELL_MISSING || count < epochs->number)
			set_number(epochs, count, CELL_INTEGER);
	}
	return 0;
}

static int take_tag(tally_table *t, size_t row, sqlite3_stmt *st, int c)
{
	cell *tags = &t->columns.items[COL_TAGS].cells[row];
	const char *tag = (const char *)sqlite3_column_text(st, c);
	tally_buf joined = TALLY_BUF_INIT;
	if (tags->kind == CELL_TEXT) {
		tally_buf_adds(&joined, tags->text);
		tally_buf_addc(&joined, ',');
	}
	tally_buf_adds(&joined, tag ? tag : "");
	int rc = tally_buf_oom(&joined) ? tally__error_oom() : set_text(tags, joined.ptr);
	tally_buf_release(&joined);
	return rc;
}

/* The fixed columns' cells of one run (an iterator row or a loaded run). */
static int set_attributes(tally_table *t, size_t row, const tally_run *run)
{
	table_column *c = t->columns.items;
	if (set_text(&c[COL_ID].cells[row], tally_run_id(run)) || set_text(&c[COL_DIR].cells[row], tally_run_dir(run)) ||
	    set_text(&c[COL_STATUS].cells[row], tally_run_status(run)))
		return TALLY_ENOMEM;
	if (tally_run_started_ms(run) > 0)
		set_number(&c[COL_STARTED].cells[row], (double)tally_run_started_ms(run), CELL_NUMBER);
	if (tally_run_stopped_ms(run) > 0)
		set_number(&c[COL_STOPPED].cells[row], (double)tally_run_stopped_ms(run), CELL_NUMBER);
	if (tally_run_exit_status(run) >= 0)
		set_number(&c[COL_EXIT_STATUS].cells[row], tally_run_exit_status(run), CELL_INTEGER);
	if (*tally_run_label(run) && set_text(&c[COL_LABEL].cells[row], tally_run_label(run)))
		return TALLY_ENOMEM;
	if (*tally_run_script(run) && set_text(&c[COL_SCRIPT].cells[row], tally_run_script(run)))
		return TALLY_ENOMEM;
	return 0;
}

/* The iterator's rows: the fixed columns and each row's rid. */
static int read_rows(tally_table *t, tally_store *store, const tally_iter_options *opts, int64_t **rids_out)
{
	/* field by field: a caller built against an older version passes a shorter struct */
	tally_iter_options compact = TALLY_ITER_OPTIONS_INIT;
	if (opts) {
		compact.limit = opts->limit;
		if (opts->version >= 2) {
			compact.where = opts->where;
			compact.sort = opts->sort;
			compact.filter = opts->filter;
		}
		if (opts->version >= 3)
			compact.offset = opts->offset;
	}
	compact.details = TALLY_ITER_COMPACT;
	tally_run_iter *it = NULL;
	int rc = tally_run_iter_new(&it, store, &compact);
	if (rc)
		return rc;
	/* first the rids, to size the columns */
	int64_t *rids = NULL;
	size_t n = 0, cap = 0;
	const tally_run *run;
	while (!rc && (rc = tally_run_iter_next(it, &run)) == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			int64_t *grown = realloc(rids, cap * sizeof *grown);
			if (!grown) {
				rc = tally__error_oom();
				break;
			}
			rids = grown;
		}
		rids[n++] = tally__run_iter_rid(it);
	}
	if (rc == 1)
		rc = 0;
	t->rows = n;
	for (size_t i = 0; !rc && i < N_FIXED; i++)
		if (!add_column(t, fixed[i].name, fixed[i].type))
			rc = tally__error_oom();
	if (!rc)
		rc = tally_run_iter_rewind(it);
	for (size_t row = 0; !rc && row < n; row++) {
		if ((rc = tally_run_iter_next(it, &run)) != 0) {
			if (rc == 1) /* a run gone between the passes: fewer rows */
				t->rows = row, rc = 0;
			break;
		}
		rids[row] = tally__run_iter_rid(it);
		rc = set_attributes(t, row, run);
	}
	tally_run_iter_free(it);
	*rids_out = rids;
	return rc;
}

/* A flag of run.json as a cell, typed as the index types it. */
static int set_json_cell(cell *c, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER: set_number(c, (double)json_integer_value(v), CELL_INTEGER); return 0;
	case JSON_REAL: set_number(c, json_real_value(v), CELL_NUMBER); return 0;
	case JSON_TRUE: set_number(c, 1, CELL_BOOL); return 0;
	case JSON_FALSE: set_number(c, 0, CELL_BOOL); return 0;
	case JSON_STRING: return set_text(c, json_string_value(v));
	default: c->kind = CELL_MISSING; return 0;
	}
}

/* One run's attributes and flags from its metadata: what the index would hold. */
static int read_run_flags(tally_table *t, size_t row, tally_run *run)
{
	int rc = set_attributes(t, row, run);
	if (rc)
		return rc;
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(run->meta, "flags"), name, v) {
		table_column *col = named_column(t, "flag_", name);
		if (!col || (rc = set_json_cell(&col->cells[row], v)))
			return col ? rc : tally__error_oom();
	}
	return 0;
}

/* Its scalars' last values, epochs completed and tags. */
static int read_run_scalars(tally_table *t, size_t row, tally_run *run)
{
	table_column *c = t->columns.items;
	int rc = 0;
	const char *name;
	json_t *v;
	json_t *scalars = json_loads(tally_run_scalars_json(run), 0, NULL);
	json_object_foreach(scalars, name, v) {
		table_column *col = named_column(t, "scalar_", name);
		if (!col) {
			json_decref(scalars);
			return tally__error_oom();
		}
		json_t *last = json_object_get(v, "last");
		if (json_is_number(last))
			set_number(&col->cells[row], json_number_value(last), CELL_NUMBER);
		cell *epochs = &c[COL_EPOCHS].cells[row];
		double count = (double)json_integer_value(json_object_get(v, "count"));
		if (!strncmp(name, "val_", 4) && (epochs->kind == CELL_MISSING || count < epochs->number))
			set_number(epochs, count, CELL_INTEGER);
	}
	json_decref(scalars);
	size_t i;
	json_array_foreach(json_object_get(run->meta, "tags"), i, v) {
		tally_buf joined = TALLY_BUF_INIT;
		cell *tags = &c[COL_TAGS].cells[row];
		if (tags->kind == CELL_TEXT)
			tally_buf_printf(&joined, "%s,", tags->text);
		tally_buf_adds(&joined, json_string_value(v) ? json_string_value(v) : "");
		rc = tally_buf_oom(&joined) ? tally__error_oom() : set_text(tags, joined.ptr);
		tally_buf_release(&joined);
		if (rc)
			return rc;
	}
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(((const table_column *)a)->name, ((const table_column *)b)->name);
}

/* Flags and scalars sorted by name, after the fixed columns; flags typed. */
static int finish_columns(tally_table *t, size_t first_flag, size_t first_scalar)
{
	int rc = 0;
	for (size_t i = first_flag; !rc && i < first_scalar; i++)
		rc = settle_type(&t->columns.items[i], t->rows);
	qsort(t->columns.items + first_flag, first_scalar - first_flag, sizeof(table_column), compare_names);
	qsort(t->columns.items + first_scalar, t->columns.n - first_scalar, sizeof(table_column), compare_names);
	return rc;
}

int tally_table_new(tally_table **out, tally_store *store, const tally_iter_options *opts)
{
	*out = NULL;
	tally_table *t = calloc(1, sizeof *t);
	if (!t)
		return tally__error_oom();
	int64_t *rids = NULL;
	rid_map map = {0};
	int rc = read_rows(t, store, opts, &rids);
	size_t first_flag = t->columns.n;
	if (!rc && t->rows && store->db) {
		rc = rid_map_init(&map, rids, t->rows);
		bool seek = seek_per_run(store->db, t->rows);
		if (!rc)
			rc = read_children(t, store->db, seek, &map, rids, "SELECT name, type, value FROM flags WHERE rid = ?1",
			                   "SELECT rid, name, type, value FROM flags", take_flag);
		size_t first_scalar = t->columns.n;
		if (!rc)
			rc = read_children(t, store->db, seek, &map, rids, "SELECT tag, last, count FROM scalars WHERE rid = ?1",
			                   "SELECT rid, tag, last, count FROM scalars", take_scalar);
		if (!rc)
			rc = read_children(t, store->db, seek, &map, rids, "SELECT tag FROM tags WHERE rid = ?1 ORDER BY tag",
			                   "SELECT rid, tag FROM tags ORDER BY rid, tag", take_tag);
		if (!rc)
			rc = finish_columns(t, first_flag, first_scalar);
	}
	rid_map_release(&map);
	free(rids);
	if (rc) {
		tally_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int tally_table_of_runs(tally_table **out, tally_run *const *runs, size_t n)
{
	*out = NULL;
	tally_table *t = calloc(1, sizeof *t);
	if (!t)
		return tally__error_oom();
	t->rows = n;
	int rc = 0;
	for (size_t i = 0; !rc && i < N_FIXED; i++)
		if (!add_column(t, fixed[i].name, fixed[i].type))
			rc = tally__error_oom();
	for (size_t r = 0; !rc && r < n; r++)
		if (!runs[r] || !runs[r]->meta)
			rc = tally__error(TALLY_EINVALID, "tally_table_of_runs: run %zu is not a loaded run", r);
	/* every run's flags, then every run's scalars: the two groups of columns stay apart */
	size_t first_flag = t->columns.n;
	for (size_t r = 0; !rc && r < n; r++)
		rc = read_run_flags(t, r, runs[r]);
	size_t first_scalar = t->columns.n;
	for (size_t r = 0; !rc && r < n; r++)
		rc = read_run_scalars(t, r, runs[r]);
	if (!rc)
		rc = finish_columns(t, first_flag, first_scalar);
	if (rc) {
		tally_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

size_t tally_table_rows(const tally_table *table)
{
	return table->rows;
}

size_t tally_table_columns(const tally_table *table)
{
	return table->columns.n;
}

const char *tally_table_column_name(const tally_table *table, size_t col)
{
	return col < table->columns.n ? table->columns.items[col].name : NULL;
}

tally_column_type tally_table_column_type(const tally_table *table, size_t col)
{
	return col < table->columns.n ? table->columns.items[col].type : TALLY_COLUMN_TEXT;
}

static const cell *cell_at(const tally_table *table, size_t col, size_t row)
{
	if (col >= table->columns.n || row >= table->rows)
		return NULL;
	return &table->columns.items[col].cells[row];
}

int tally_table_has(const tally_table *table, size_t col, size_t row)
{
	const cell *c = cell_at(table, col, row);
	return c && c->kind != CELL_MISSING;
}

double tally_table_number(const tally_table *table, size_t col, size_t row)
{
	const cell *c = cell_at(table, col, row);
	return c && c->kind != CELL_MISSING && c->kind != CELL_TEXT ? c->number : 0;
}

const char *tally_table_text(const tally_table *table, size_t col, size_t row)
{
	const cell *c = cell_at(table, col, row);
	return c && c->kind == CELL_TEXT ? c->text : NULL;
}

int tally_table_column_numbers(const tally_table *table, size_t col, double *values, unsigned char *has)
{
	if (col >= table->columns.n)
		return tally__error(TALLY_EINVALID, "the table has no column %zu", col);
	const cell *cells = table->columns.items[col].cells;
	for (size_t r = 0; r < table->rows; r++) {
		bool number = cells[r].kind != CELL_MISSING && cells[r].kind != CELL_TEXT;
		if (values)
			values[r] = number ? cells[r].number : 0;
		if (has)
			has[r] = cells[r].kind != CELL_MISSING;
	}
	return 0;
}

int tally_table_column_texts(const tally_table *table, size_t col, const char **texts)
{
	if (col >= table->columns.n)
		return tally__error(TALLY_EINVALID, "the table has no column %zu", col);
	const cell *cells = table->columns.items[col].cells;
	for (size_t r = 0; r < table->rows; r++)
		texts[r] = cells[r].kind == CELL_TEXT ? cells[r].text : NULL;
	return 0;
}

void tally_table_free(tally_table *table)
{
	if (!table)
		return;
	for (size_t i = 0; i < table->columns.n; i++) {
		table_column *c = &table->columns.items[i];
		for (size_t r = 0; r < table->rows; r++)
			free(c->cells[r].text);
		free(c->cells);
		free(c->name);
	}
	free(table->columns.items);
	free(table);
}

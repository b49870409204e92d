/*
 * Completion candidates from the index (tally __complete, and any editor):
 * run references, flag names, scalar tags and tags.  The index is read as it
 * is, never synced or created, so a shell's Tab stays quick at 100,000 runs.
 *
 * Distinct names are found by skipping through an index of the name (one
 * seek per name) rather than by DISTINCT over every row: a few hundred
 * thousand flag rows cost a scan, a dozen names cost a dozen seeks.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/index/index.h"

typedef struct {
	tally_completion *items;
	size_t n, cap, max;
} candidate_list;

static int add(candidate_list *c, const char *value, const char *description)
{
	if (c->n >= c->max)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->items[i].value, value))
			return 0; /* a name that is also an id's random part, say */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		tally_completion *items = realloc(c->items, cap * sizeof *items);
		if (!items)
			return tally__error_oom();
		c->items = items;
		c->cap = cap;
	}
	char *v = strdup(value), *d = strdup(description ? description : "");
	if (!v || !d) {
		free(v);
		free(d);
		return tally__error_oom();
	}
	c->items[c->n++] = (tally_completion){v, d};
	return 0;
}

static bool starts_with(const char *text, const char *prefix)
{
	return text && !strncmp(text, prefix, strlen(prefix));
}

static const char *column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "";
}

/* "completed 11-24 10:07 lr=0.1": what a run is, in a few words. */
static void describe_run(sqlite3_stmt *st, int status_col, tally_buf *out)
{
	tally_buf_clear(out);
	tally_buf_adds(out, column_text(st, status_col));
	time_t started = (time_t)(sqlite3_column_int64(st, status_col + 1) / 1000);
	struct tm tm;
	char when[32];
	if (started > 0 && localtime_r(&started, &tm) && strftime(when, sizeof when, " %m-%d %H:%M", &tm))
		tally_buf_adds(out, when);
	const char *label = column_text(st, status_col + 2);
	if (!*label)
		label = column_text(st, status_col + 3); /* the script */
	if (*label) {
		tally_buf_addc(out, ' ');
		tally_buf_add(out, label, strnlen(label, 60));
	}
}

/* The columns describe_run() reads, after the ones a query names first. */
#define RUN_DESCRIPTION_COLUMNS "status, started, label, script"

static int add_runs(sqlite3 *db, candidate_list *c, const char *sql, const char *prefix, bool short_ids,
                    const char *match_prefix)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->max);
	tally_buf description = TALLY_BUF_INIT;
	int rc = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *value = column_text(st, 0);
		if (short_ids)
			value = tally_run_id_short(value);
		if (match_prefix && !starts_with(value, match_prefix))
			break; /* rows come in the order of the value: past the prefix */
		describe_run(st, 1, &description);
		rc = add(c, value, description.ptr);
	}
	tally_buf_release(&description);
	sqlite3_finalize(st);
	return rc;
}

/* "1", "2", … for the latest runs whose index starts with `prefix` (digits). */
static int add_indexes(sqlite3 *db, candidate_list *c, const char *prefix)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id, " RUN_DESCRIPTION_COLUMNS " FROM runs ORDER BY started DESC, id DESC LIMIT ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, 100);
	tally_buf description = TALLY_BUF_INIT, run = TALLY_BUF_INIT;
	int rc = 0;
	for (int index = 1; rc == 0 && sqlite3_step(st) == SQLITE_ROW; index++) {
		char number[16];
		snprintf(number, sizeof number, "%d", index);
		if (!starts_with(number, prefix))
			continue;
		describe_run(st, 1, &run);
		tally_buf_clear(&description);
		tally_buf_printf(&description, "%s %s", tally_run_id_short(column_text(st, 0)), run.ptr);
		rc = add(c, number, description.ptr);
	}
	tally_buf_release(&description);
	tally_buf_release(&run);
	sqlite3_finalize(st);
	return rc;
}

static bool all_digits(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int complete_runs(sqlite3 *db, candidate_list *c, const char *prefix)
{
	int rc;
	if (!*prefix) /* the latest runs by what tables show of their ids */
		return add_runs(db, c, "SELECT id, " RUN_DESCRIPTION_COLUMNS " FROM runs"
		                       " ORDER BY started DESC, id DESC LIMIT ?2", prefix, true, NULL);
	if (all_digits(prefix)) {
		if ((rc = add_indexes(db, c, prefix)))
			return rc;
		if (strlen(prefix) < 4) /* "2" is an index, "2026" may start an id */
			return 0;
	}
	if ((rc = add_runs(db, c, "SELECT substr(id, 22), " RUN_DESCRIPTION_COLUMNS " FROM runs"
	                          " WHERE substr(id, 22) >= ?1 ORDER BY substr(id, 22) LIMIT ?2",
	                   prefix, false, prefix)))
		return rc;
	if (isdigit((unsigned char)prefix[0]) &&
	    (rc = add_runs(db, c, "SELECT id, " RUN_DESCRIPTION_COLUMNS " FROM runs WHERE id >= ?1 ORDER BY id LIMIT ?2",
	                   prefix, false, prefix)))
		return rc;
	return add_runs(db, c, "SELECT name, " RUN_DESCRIPTION_COLUMNS " FROM runs"
	                       " WHERE name IS NOT NULL AND name >= ?1 ORDER BY name LIMIT ?2",
	                prefix, false, prefix);
}

/* Distinct values of `column` in `table` starting with `prefix`, one index seek each. */
static int complete_names(sqlite3 *db, candidate_list *c, const char *table, const char *column, const char *prefix)
{
	sqlite3_stmt *first = NULL, *next = NULL;
	tally_buf sql = TALLY_BUF_INIT;
	tally_buf_printf(&sql, "SELECT %s FROM %s WHERE %s >= ?1 ORDER BY %s LIMIT 1", column, table, column, column);
	int rc = 0;
	if (sqlite3_prepare_v2(db, sql.ptr, -1, &first, NULL) != SQLITE_OK)
		rc = tally__error(TALLY_ERROR, "index: %s", sqlite3_errmsg(db));
	tally_buf_clear(&sql);
	tally_buf_printf(&sql, "SELECT %s FROM %s WHERE %s > ?1 ORDER BY %s LIMIT 1", column, table, column, column);
	if (!rc && sqlite3_prepare_v2(db, sql.ptr, -1, &next, NULL) != SQLITE_OK)
		rc = tally__error(TALLY_ERROR, "index: %s", sqlite3_errmsg(db));
	tally_buf_release(&sql);
	sqlite3_stmt *st = first;
	if (!rc)
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_TRANSIENT);
	while (!rc && c->n < c->max && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = column_text(st, 0);
		if (!starts_with(name, prefix))
			break;
		if ((rc = add(c, name, "")))
			break;
		/* the next name is the first one above this one (the copy add() kept:
		 * resetting the statement frees the row) */
		sqlite3_reset(next);
		sqlite3_bind_text(next, 1, c->items[c->n - 1].value, -1, SQLITE_TRANSIENT);
		st = next;
	}
	sqlite3_finalize(first);
	sqlite3_finalize(next);
	return rc;
}

/* The index, when it exists with this build's schema; nothing is created
 * (read-write only because a read-only connection to a WAL database fails
 * when its -shm file is missing). */
static sqlite3 *open_index(const tally_store *store)
{
	if (access(store->index_path, R_OK) != 0)
		return NULL;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(store->index_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 200);
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != TALLY_INDEX_SCHEMA_VERSION) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int tally_store_complete(tally_store *store, tally_complete_kind kind, const char *prefix, size_t max,
                         tally_completion **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	sqlite3 *db = open_index(store);
	if (!db)
		return 0;
	candidate_list c = {.max = max};
	int rc;
	switch (kind) {
	case TALLY_COMPLETE_RUNS: rc = complete_runs(db, &c, prefix); break;
	case TALLY_COMPLETE_FLAGS: rc = complete_names(db, &c, "flags", "name", prefix); break;
	case TALLY_COMPLETE_SCALARS: rc = complete_names(db, &c, "scalars", "tag", prefix); break;
	case TALLY_COMPLETE_TAGS: rc = complete_names(db, &c, "tags", "tag", prefix); break;
	default: rc = tally__error(TALLY_EINVALID, "unknown kind of completion %d", (int)kind);
	}
	sqlite3_close(db);
	if (rc) {
		tally_completions_free(c.items, c.n);
		return rc;
	}
	*out = c.items;
	*n_out = c.n;
	return 0;
}

void tally_completions_free(tally_completion *candidates, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(candidates[i].value);
		free(candidates[i].description);
	}
	free(candidates);
}

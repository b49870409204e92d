/*
 * The index (libtally, internal): the SQLite cache of runs, the query
 * language compiled to SQL, and run names.
 */
#ifndef TALLY_LIB_INDEX_H
#define TALLY_LIB_INDEX_H

#include <sqlite3.h>

#include "lib/run/run.h"

/* The layout of the index's tables: an index of another version is rebuilt. */
#define TALLY_INDEX_SCHEMA_VERSION 13

/* ---- the run query language (query.c) ---- */

enum { TALLY_BIND_INT, TALLY_BIND_REAL, TALLY_BIND_TEXT };
typedef struct {
	int type;
	int64_t i;
	double d;
	char *text;
} tally_query_bind;

/* A WHERE clause and ORDER BY over `runs r`, with numbered parameters from
 * TALLY_QUERY_FIRST_PARAM on (?1 is the statement's own LIMIT). */
#define TALLY_QUERY_FIRST_PARAM 2
typedef struct {
	tally_buf where;   /* "" = every run */
	tally_buf order;   /* "" = newest first */
	tally_query_bind *binds;
	size_t n_binds, cap_binds;
	/* Optional: whether any run has a flag (1) and/or a scalar (2) of a name,
	 * so that a bare name compiles to one lookup. */
	int (*resolve)(void *ctx, const char *name);
	void *resolve_ctx;
	/* Optional: consider every flag and scalar name of the runs (for "did you mean"). */
	void (*each_name)(void *ctx, void (*consider)(void *arg, const char *name), void *arg);
	/* Tests of flags and scalars as EXISTS probes per run (cheap when few runs
	 * are looked at: a top-N walk of an index) instead of sets of rids. */
	bool correlated;
	/* Set by tally__query_sort() when the first key is a flag's value or a
	 * scalar's last value: the index of that table can give runs in order. */
	struct {
		const char *table, *key, *column;  /* "scalars", "tag", "last" */
		size_t name_param;
		bool descending;
		size_t rest_at;                    /* where the other keys start in `order` */
	} drive;
	/* Likely mistakes that still compile (a name no run has, a status that
	 * does not exist), a line each, for the caller to show. */
	tally_buf warnings;
} tally_query;

#define TALLY_QUERY_INIT {TALLY_BUF_INIT, TALLY_BUF_INIT, NULL, 0, 0, NULL, NULL, NULL, false, \
                          {NULL, NULL, NULL, 0, false, 0}, TALLY_BUF_INIT}
/* Add a --where expression (ANDed with what is there); TALLY_EINVALID names the column of a mistake. */
int tally__query_where(tally_query *q, const char *expr);
/* Add --sort keys ("-val_acc,started"). */
int tally__query_sort(tally_query *q, const char *keys);
void tally__query_release(tally_query *q);
/* 2026-11-24, today, 'last hour', '3 days ago' … in epoch ms. */
bool tally__query_parse_date(const char *text, int64_t now_ms, int64_t *out);
/* Register tally_regexp(pattern, text) (PCRE2) on an index connection. */
int tally__query_register_functions(sqlite3 *db);

/* ---- the index (index.c) ---- */

/* The index row of the run tally_run_iter_next() handed out last (table.c). */
int64_t tally__run_iter_rid(const tally_run_iter *it);
int tally__index_open(tally_store *store);
/* The signature an index row keeps of run `name`'s run.json and scalars.json
 * ("-;" for a missing file) into `sig`; false when it has no run.json. */
bool tally__index_run_sig(int runs_fd, const char *name, tally_buf *sig);
/* The index's generation: it moves on with every write; -1 without an index. */
int64_t tally__index_generation(tally_store *store);
/* Memos (tally_run_iter_memo_*), kept in the index's state table with their generation. */
int tally__index_memo_get(tally_store *store, int64_t generation, const char *key, char **value);
void tally__index_memo_put(tally_store *store, int64_t generation, const char *key, const char *value);
int tally__index_lookup(tally_store *store, const char *ref, char **dir_name);
int tally__index_nth(tally_store *store, size_t n, char **dir_name);

/* ---- run names (names.c) ---- */

/* The checks a run name passes (TALLY_EINVALID with the reason). */
int tally__check_run_name(const char *name);
/* The directory name of the run named `name` in the (synced) index, or NULL. */
int tally__index_find_name(tally_store *store, const char *name, char **dir_name);
/* Take the lock on the run names of `store` (`*lock_fd`, closed to release
 * it), sync the index and find who holds `name` (`*holder`, a run directory
 * name, or NULL).  On an error nothing is held. */
int tally__name_lock(tally_store *store, const char *name, int *lock_fd, char **holder);

#endif

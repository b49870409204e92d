/*
 * Finding runs: iterating the index newest first, and resolving what a user
 * types to name one run — an index (1 = latest), an id prefix (of the whole
 * id or of its random suffix), or a path to a run directory.
 */
#include "lib/index/index.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"

struct tally_run_iter {
	tally_store *store;
	sqlite3_stmt *st;
	tally_run row;
	tally_buf dir;
	size_t prefix_len;
	int64_t generation;   /* of the index, right after the sync */
	bool has_query;       /* filtered or sorted: its results may depend on the time, no memos */
	int64_t *rids;        /* ... the matching runs, in order */
	size_t n_rids, cap_rids, next_rid;
	size_t offset;        /* runs skipped first (paging) */
	/* for tally_run_iter_total() of a query with a limit: its filters, counted when asked */
	char *count_where, *count_filter;
	bool limited;
	int64_t total;        /* -2 until counted */
};

/* Whether any indexed run has a flag (1) and/or a scalar (2) called `name`. */
static int name_kinds(void *ctx, const char *name)
{
	sqlite3 *db = ctx;
	sqlite3_stmt *st;
	int kinds = 3; /* when the index cannot say: both, the general form */
	if (sqlite3_prepare_v2(db,
	                       "SELECT EXISTS(SELECT 1 FROM flags WHERE name = ?1),"
	                       " EXISTS(SELECT 1 FROM scalars WHERE tag = ?1)",
	                       -1, &st, NULL) != SQLITE_OK)
		return kinds;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		kinds = sqlite3_column_int(st, 0) | sqlite3_column_int(st, 1) << 1;
	sqlite3_finalize(st);
	return kinds;
}

/* Every flag name and scalar tag of the indexed runs, through their indexes. */
static void each_name(void *ctx, void (*consider)(void *arg, const char *name), void *arg)
{
	sqlite3 *db = ctx;
	sqlite3_stmt *st;
	if (!db || sqlite3_prepare_v2(db, "SELECT DISTINCT name FROM flags UNION SELECT DISTINCT tag FROM scalars", -1, &st,
	                              NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW)
		consider(arg, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* The query's warnings into the store's, each once (several iterators may share a store). */
static void pass_warnings(tally_store *store, const tally_query *q)
{
	const char *line = q->warnings.ptr;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		char *one = strndup(line, len);
		if (one && !(store->warnings.ptr && strstr(store->warnings.ptr, one)))
			tally_buf_adds(&store->warnings, one);
		free(one);
		line += len;
	}
}

/* Compile the iterator's where, filter and sort into `q`. */
static int compile_query(tally_query *q, tally_run_iter *it, const tally_iter_options *opts, bool correlated)
{
	q->resolve = name_kinds;
	q->resolve_ctx = it->store->db;
	q->each_name = each_name;
	q->correlated = correlated;
	int rc = 0;
	if (opts->where && (rc = tally__query_where(q, opts->where)))
		return rc;
	if (opts->filter && (rc = tally__query_where(q, opts->filter)))
		return rc;
	if (opts->sort && (rc = tally__query_sort(q, opts->sort)))
		return rc;
	return 0;
}

/* The query's values into its numbered parameters. */
static void bind_query(sqlite3_stmt *st, const tally_query *q)
{
	for (size_t i = 0; i < q->n_binds; i++) {
		int n = (int)i + TALLY_QUERY_FIRST_PARAM;
		const tally_query_bind *b = &q->binds[i];
		if (b->type == TALLY_BIND_INT)
			sqlite3_bind_int64(st, n, b->i);
		else if (b->type == TALLY_BIND_REAL)
			sqlite3_bind_double(st, n, b->d);
		else
			sqlite3_bind_text(st, n, b->text, -1, SQLITE_TRANSIENT);
	}
}

/*
 * The top N by a flag or scalar (the terminal's 20, -n N): the index of that
 * table is walked in order and each run tested as it comes, so the walk
 * stops after N matches, instead of testing every run and sorting them all;
 * then, if N were not found, the runs without that value, as the general
 * query orders them (missing values last).
 */
static void top_n_sql(tally_buf *sql, const tally_query *q)
{
	const char *where = q->where.len ? q->where.ptr : "1", *rest = q->order.ptr + q->drive.rest_at;
	tally_buf_printf(sql,
	                 "SELECT rid FROM (SELECT r.rid FROM %s d JOIN runs r ON r.rid = d.rid"
	                 " WHERE d.%s = ?%zu AND d.%s IS NOT NULL AND (%s)"
	                 " ORDER BY d.%s %s%s, r.started DESC, r.id DESC LIMIT ?1)"
	                 " UNION ALL SELECT rid FROM (SELECT r.rid FROM runs r WHERE NOT EXISTS (SELECT 1 FROM %s d"
	                 " WHERE d.rid = r.rid AND d.%s = ?%zu AND d.%s IS NOT NULL) AND (%s)"
	                 " ORDER BY %s%sr.started DESC, r.id DESC LIMIT ?1) LIMIT ?1",
	                 q->drive.table, q->drive.key, q->drive.name_param, q->drive.column, where, q->drive.column,
	                 q->drive.descending ? "DESC" : "ASC", rest, q->drive.table, q->drive.key, q->drive.name_param,
	                 q->drive.column, where, *rest ? rest + 2 : "", *rest ? ", " : "");
}

/* The statement of an iterator with a query: the same columns, filtered and ordered. */
static int prepare_query(tally_run_iter *it, const tally_iter_options *opts)
{
	tally_query q = TALLY_QUERY_INIT;
	int rc = compile_query(&q, it, opts, false);
	if (!rc && opts->limit && q.drive.table) { /* a top N that an index can give in order */
		tally__query_release(&q);
		q = (tally_query)TALLY_QUERY_INIT;
		rc = compile_query(&q, it, opts, true);
	}
	if (rc)
		goto done;
	pass_warnings(it->store, &q); /* of the query that runs (a top N is compiled twice) */
	/* The matching runs, in order, as rowids: the query runs once even when
	 * the caller goes over the rows twice (a table measures, then prints). */
	tally_buf sql = TALLY_BUF_INIT;
	if (q.correlated)
		top_n_sql(&sql, &q);
	else
		tally_buf_printf(&sql, "SELECT r.rid FROM runs r WHERE %s ORDER BY %s%sr.started DESC, r.id DESC LIMIT ?1",
		                 q.where.len ? q.where.ptr : "1", q.order.len ? q.order.ptr : "", q.order.len ? ", " : "");
	sqlite3_stmt *find = NULL;
	if (tally_buf_oom(&sql))
		rc = tally__error_oom();
	else if (sqlite3_prepare_v2(it->store->db, sql.ptr, -1, &find, NULL) != SQLITE_OK)
		rc = tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db));
	tally_buf_release(&sql);
	if (!rc)
		bind_query(find, &q);
	if (!rc) {
		/* the first offset + limit matches; the iterator starts at offset */
		sqlite3_bind_int64(find, 1, opts->limit && opts->limit + it->offset >= opts->limit && opts->limit + it->offset <= INT64_MAX
		                                ? (sqlite3_int64)(opts->limit + it->offset)
		                                : -1);
		int step;
		while ((step = sqlite3_step(find)) == SQLITE_ROW) {
			if (it->n_rids == it->cap_rids) {
				size_t cap = it->cap_rids ? it->cap_rids * 2 : 256;
				int64_t *grown = realloc(it->rids, cap * sizeof *grown);
				if (!grown) {
					rc = tally__error_oom();
					break;
				}
				it->rids = grown;
				it->cap_rids = cap;
			}
			it->rids[it->n_rids++] = sqlite3_column_int64(find, 0);
		}
		if (!rc && step != SQLITE_DONE)
			rc = tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db));
	}
	sqlite3_finalize(find);
	static const char *const row_by_rid[] = {
		[TALLY_ITER_COMPACT] = "SELECT dir, id, status, started, stopped, exit_status, label, script, flags_text,"
		                       " scalars_text, NULL, NULL, NULL, NULL FROM runs WHERE rid = ?1",
		[TALLY_ITER_DETAILS] = "SELECT r.dir, id, status, started, stopped, exit_status, label, script, flags_text,"
		                       " scalars_text, NULL, NULL, NULL, d.summary_json"
		                       " FROM runs r LEFT JOIN details d ON d.rid = r.rid WHERE r.rid = ?1",
		[TALLY_ITER_SUMMARY_ONLY] = "SELECT r.dir, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
		                            " d.summary_json FROM runs r LEFT JOIN details d ON d.rid = r.rid WHERE r.rid = ?1",
	};
	if (!rc && sqlite3_prepare_v2(it->store->db, row_by_rid[opts->details], -1, &it->st, NULL) != SQLITE_OK)
		rc = tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db));
	it->has_query = true;
done:
	tally__query_release(&q);
	return rc;
}

int tally_run_iter_new(tally_run_iter **out, tally_store *store, const tally_iter_options *opts)
{
	*out = NULL;
	tally_iter_options defaults = TALLY_ITER_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version < 1 || opts->version > TALLY_ITER_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "tally_iter_options version %u is not supported", opts->version);
	if (opts->details < TALLY_ITER_COMPACT || opts->details > TALLY_ITER_SUMMARY_ONLY)
		return tally__error(TALLY_EINVALID, "tally_iter_options details %d is not one of TALLY_ITER_*", opts->details);
	bool query = opts->version >= 2 && (opts->where || opts->sort || opts->filter);
	tally_run_iter *it = calloc(1, sizeof *it);
	if (!it)
		return tally__error_oom();
	it->store = store;
	it->dir = (tally_buf)TALLY_BUF_INIT;
	it->row.store = store;
	it->row.borrowed = true;
	it->row.lock_fd = -1;
	it->offset = opts->version >= 3 ? opts->offset : 0;
	it->total = -2;
	it->limited = opts->limit != 0;
	if (query && it->limited && ((opts->where && !(it->count_where = strdup(opts->where))) ||
	                             (opts->filter && !(it->count_filter = strdup(opts->filter))))) {
		tally_run_iter_free(it);
		return tally__error_oom();
	}
	int rc = tally_store_sync(store, 0, NULL);
	if (rc) {
		tally_run_iter_free(it);
		return rc;
	}
	/* Newest first along the covering index runs_listing; the summary-only
	 * rows read two of its columns, which makes dumping every run as JSON
	 * about a third quicker. */
	static const char *const newest_first[] = {
		[TALLY_ITER_COMPACT] = "SELECT dir, id, status, started, stopped, exit_status, label, script, flags_text,"
		                       " scalars_text, NULL, NULL, NULL, NULL, rid FROM runs ORDER BY started DESC, id DESC LIMIT ?1 OFFSET ?2",
		[TALLY_ITER_DETAILS] = "SELECT r.dir, id, status, started, stopped, exit_status, label, script, flags_text,"
		                       " scalars_text, NULL, NULL, NULL, d.summary_json, r.rid FROM runs r"
		                       " LEFT JOIN details d ON d.rid = r.rid ORDER BY started DESC, id DESC LIMIT ?1 OFFSET ?2",
		[TALLY_ITER_SUMMARY_ONLY] = "SELECT r.dir, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
		                            " d.summary_json, r.rid FROM runs r LEFT JOIN details d ON d.rid = r.rid"
		                            " ORDER BY started DESC, id DESC LIMIT ?1 OFFSET ?2",
	};
	if (store->db && query) {
		if ((rc = prepare_query(it, opts))) {
			tally_run_iter_free(it); /* with the rids gathered before the failure */
			return rc;
		}
	} else if (store->db && sqlite3_prepare_v2(store->db, newest_first[opts->details], -1, &it->st, NULL) != SQLITE_OK) {
		rc = tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(store->db));
		tally_run_iter_free(it);
		return rc;
	}
	if (it->st && !it->has_query) {
		sqlite3_bind_int64(it->st, 1, opts->limit ? (sqlite3_int64)opts->limit : -1);
		sqlite3_bind_int64(it->st, 2, (sqlite3_int64)it->offset);
	}
	it->next_rid = it->offset;
	it->generation = tally__index_generation(store);
	*out = it;
	return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

int tally_run_iter_next(tally_run_iter *it, const tally_run **run)
{
	*run = NULL;
	if (!it->st)
		return 1;
	int s;
	do {
		if (it->has_query) {
			if (it->next_rid >= it->n_rids)
				return 1;
			sqlite3_reset(it->st);
			sqlite3_bind_int64(it->st, 1, it->rids[it->next_rid++]);
		}
		s = sqlite3_step(it->st);
	} while (s == SQLITE_DONE && it->has_query); /* a run removed since the query ran: the next one */
	if (s == SQLITE_DONE)
		return 1;
	if (s != SQLITE_ROW)
		return tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db));
	tally_run *r = &it->row;
	/* The runs directory prefix is built once; each row only appends its name. */
	if (!it->dir.len) {
		tally_buf_adds(&it->dir, it->store->path);
		tally_buf_addc(&it->dir, '/');
		it->prefix_len = it->dir.len;
	}
	tally_buf_truncate(&it->dir, it->prefix_len);
	tally_buf_adds(&it->dir, col(it->st, 0));
	if (tally_buf_oom(&it->dir))
		return tally__error_oom();
	r->dir = it->dir.ptr;
	r->id = (char *)col(it->st, 1);
	r->status = col(it->st, 2);
	r->started_ms = sqlite3_column_int64(it->st, 3);
	r->stopped_ms = sqlite3_column_int64(it->st, 4);
	r->exit_status = sqlite3_column_type(it->st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(it->st, 5);
	r->label = col(it->st, 6);
	r->script = col(it->st, 7);
	r->flags_text = col(it->st, 8);
	r->scalars_text = col(it->st, 9);
	/* flags, scalars and tags JSON are cut from the summary only when asked for */
	for (size_t i = 0; i < sizeof r->owned / sizeof *r->owned; i++) {
		free(r->owned[i]);
		r->owned[i] = NULL;
	}
	r->flags_json = r->scalars_json = r->tags_json = NULL;
	r->summary_json = sqlite3_column_text(it->st, 13) ? col(it->st, 13) : "{}";
	*run = r;
	return 0;
}

int64_t tally__run_iter_rid(const tally_run_iter *it)
{
	if (it->has_query)
		return it->next_rid ? it->rids[it->next_rid - 1] : -1;
	return it->st ? sqlite3_column_int64(it->st, 14) : -1;
}

int tally_run_iter_rewind(tally_run_iter *it)
{
	it->next_rid = it->offset;
	if (it->st && sqlite3_reset(it->st) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db));
	return 0;
}

/* The number of runs that match the iterator's where and filter (its sort and limit aside). */
static int64_t count_matches(tally_run_iter *it)
{
	tally_query q = TALLY_QUERY_INIT;
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.where = it->count_where;
	opts.filter = it->count_filter;
	int64_t total = -1;
	sqlite3_stmt *st = NULL;
	tally_buf sql = TALLY_BUF_INIT;
	if (compile_query(&q, it, &opts, false) == 0) {
		tally_buf_printf(&sql, "SELECT count(*) FROM runs r WHERE %s", q.where.len ? q.where.ptr : "1");
		if (!tally_buf_oom(&sql) && sqlite3_prepare_v2(it->store->db, sql.ptr, -1, &st, NULL) == SQLITE_OK) {
			bind_query(st, &q);
			if (sqlite3_step(st) == SQLITE_ROW)
				total = sqlite3_column_int64(st, 0);
		}
		if (total < 0)
			tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db));
	}
	sqlite3_finalize(st);
	tally_buf_release(&sql);
	tally__query_release(&q);
	return total;
}

int64_t tally_run_iter_total(tally_run_iter *it)
{
	if (it->total != -2)
		return it->total;
	if (!it->st) {
		it->total = 0; /* no index: no runs yet */
	} else if (it->has_query && !it->limited) {
		it->total = (int64_t)it->n_rids; /* every match was gathered */
	} else if (it->count_where || it->count_filter) {
		it->total = count_matches(it);
	} else {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(it->store->db, "SELECT count(*) FROM runs", -1, &st, NULL) != SQLITE_OK)
			return tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(it->store->db)), -1;
		it->total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_finalize(st);
	}
	return it->total;
}

int tally_run_iter_memo_get(tally_run_iter *it, const char *key, char **value)
{
	if (it->has_query || it->offset)
		return 1; /* 'last hour' or duration move with the clock, not with the index */
	return tally__index_memo_get(it->store, it->generation, key, value);
}

void tally_run_iter_memo_put(tally_run_iter *it, const char *key, const char *value)
{
	if (it->has_query || it->offset)
		return;
	tally__index_memo_put(it->store, it->generation, key, value);
}

void tally_run_iter_free(tally_run_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->st);
	free(it->rids);
	free(it->count_where);
	free(it->count_filter);
	for (size_t i = 0; i < sizeof it->row.owned / sizeof *it->row.owned; i++)
		free(it->row.owned[i]);
	tally_buf_release(&it->dir);
	free(it);
}

/* ---- resolving a reference ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool is_run_directory(const char *path)
{
	char *meta = tally_path_join(path, TALLY_META_DIR);
	struct stat st;
	bool yes = meta && stat(meta, &st) == 0 && S_ISDIR(st.st_mode);
	free(meta);
	return yes;
}

static int count_runs(tally_store *store)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	if (store->db && sqlite3_prepare_v2(store->db, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int tally__index_nth(tally_store *store, size_t n, char **dir_name)
{
	sqlite3_stmt *st = NULL;
	*dir_name = NULL;
	if (store->db &&
	    sqlite3_prepare_v2(store->db, "SELECT dir FROM runs ORDER BY started DESC, id DESC LIMIT 1 OFFSET ?1", -1, &st,
	                       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)n - 1);
		if (sqlite3_step(st) == SQLITE_ROW)
			*dir_name = strdup(col(st, 0));
	}
	sqlite3_finalize(st);
	if (*dir_name)
		return 0;
	int total = count_runs(store);
	if (total == 0 && store->is_archive)
		return tally__error(TALLY_ENOTFOUND, "the archive is empty — tally delete moves runs there");
	if (total == 0)
		return tally__error(TALLY_ENOTFOUND, "no runs in '%s' — start one with `tally run SCRIPT`", store->path);
	return tally__error(TALLY_ENOTFOUND, "there is no run %zu — there %s %d run%s", n, total == 1 ? "is" : "are",
	                    total, total == 1 ? "" : "s");
}

/* The run whose id (or directory name) is `ref` exactly, or NULL. */
static int exact_id(tally_store *store, const char *ref, char **dir_name)
{
	sqlite3_stmt *st = NULL;
	*dir_name = NULL;
	if (sqlite3_prepare_v2(store->db, "SELECT dir FROM runs WHERE id = ?1 OR dir = ?1 LIMIT 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(store->db));
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW && !(*dir_name = strdup(col(st, 0))))
		rc = tally__error_oom();
	sqlite3_finalize(st);
	return rc;
}

int tally__index_lookup(tally_store *store, const char *ref, char **dir_name)
{
	sqlite3_stmt *st = NULL;
	*dir_name = NULL;
	if (!store->db)
		return store->is_archive
		     ? tally__error(TALLY_ENOTFOUND, "no run matches '%s' — the archive is empty (tally delete moves runs there)", ref)
		     : tally__error(TALLY_ENOTFOUND, "no run matches '%s' — there are no runs in '%s'", ref, store->path);
	/* A whole id first, then a run's name, then prefixes. */
	int rc = exact_id(store, ref, dir_name);
	if (!rc && !*dir_name)
		rc = tally__index_find_name(store, ref, dir_name);
	if (rc || *dir_name)
		return rc;
	/* Prefix of the id, of its random suffix (after "YYYY-MM-DDTHH-MM-SSZ-"), or of the directory name. */
	if (sqlite3_prepare_v2(store->db,
	                       "SELECT dir, id FROM runs WHERE substr(id, 1, ?1) = ?2 OR substr(id, 22, ?1) = ?2"
	                       " OR substr(dir, 1, ?1) = ?2 ORDER BY started DESC LIMIT 11",
	                       -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(store->db));
	sqlite3_bind_int(st, 1, (int)strlen(ref));
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	tally_buf candidates = TALLY_BUF_INIT;
	int found = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (found++ == 0)
			*dir_name = strdup(col(st, 0));
		if (found <= 10)
			tally_buf_printf(&candidates, "%s%s", found > 1 ? ", " : "", col(st, 1));
		if (!strcmp(col(st, 1), ref) || !strcmp(col(st, 0), ref)) { /* an exact match wins */
			free(*dir_name);
			*dir_name = strdup(col(st, 0));
			found = 1;
			break;
		}
	}
	sqlite3_finalize(st);
	if (found == 0)
		rc = tally__error(TALLY_ENOTFOUND, "no run matches '%s' — see `tally runs`", ref);
	else if (found > 1)
		rc = tally__error(TALLY_EAMBIGUOUS, "'%s' matches %s%d runs: %s%s — type more of the id", ref,
		                  found > 10 ? "more than " : "", found > 10 ? 10 : found, candidates.ptr,
		                  found > 10 ? ", …" : "");
	else if (!*dir_name)
		rc = tally__error_oom();
	if (rc) {
		free(*dir_name);
		*dir_name = NULL;
	}
	tally_buf_release(&candidates);
	return rc;
}

/* Whether `ref` names a run by its directory's path (anywhere). */
static bool is_path_ref(const char *ref)
{
	return ref && (strchr(ref, '/') || !strcmp(ref, ".")) && !all_digits(ref);
}

static int not_a_run_directory(const char *ref)
{
	return tally__error(TALLY_ENOTFOUND, "'%s' is not a run directory (no " TALLY_META_DIR "/ inside)", ref);
}

/* The absolute directory of the run `ref` names, as tally_run_lookup() finds it (malloc'ed). */
static int resolve_dir(tally_store *store, const char *ref, char **dir)
{
	*dir = NULL;
	if (!ref)
		ref = "1";
	if (!*ref)
		return tally__error(TALLY_EINVALID, "empty run reference — give an index, an id prefix or a run directory");
	if (is_path_ref(ref)) {
		if (!is_run_directory(ref))
			return not_a_run_directory(ref);
		*dir = tally_path_absolute(ref);
		return *dir ? 0 : tally__error_oom();
	}
	int rc = tally_store_sync(store, 0, NULL);
	if (rc)
		return rc;
	char *name = NULL;
	if (all_digits(ref) && strlen(ref) < 7) {
		long n = strtol(ref, NULL, 10);
		if (n < 1)
			return tally__error(TALLY_EINVALID, "run index starts at 1 (the latest run)");
		rc = tally__index_nth(store, (size_t)n, &name);
		if (rc == TALLY_ENOTFOUND) { /* past the last run: "2026" may be the start of an id */
			char index_error[512];
			snprintf(index_error, sizeof index_error, "%s", tally_error_last());
			int as_prefix = tally__index_lookup(store, ref, &name);
			rc = as_prefix == TALLY_ENOTFOUND ? tally__error(rc, "%s", index_error) : as_prefix;
		}
	} else {
		rc = tally__index_lookup(store, ref, &name);
	}
	if (rc)
		return rc;
	*dir = tally_path_join(store->path, name);
	free(name);
	return *dir ? 0 : tally__error_oom();
}

int tally_run_lookup(tally_run **out, tally_store *store, const char *ref)
{
	*out = NULL;
	char *dir = NULL;
	int rc = resolve_dir(store, ref, &dir);
	if (!rc)
		rc = tally__run_load_dir(out, store, dir);
	free(dir);
	return rc;
}

/* ---- runs read from their index rows ---- */

/* What a batch of lookups reads index rows with, made at the first need. */
typedef struct {
	tally_store *store;
	sqlite3_stmt *row;
	int runs_fd;
	tally_buf sig;
} row_reader;

/* A row without origin_json is a run whose fields have types the columns
 * do not keep (tally__meta_fields_plain()): read from its directory. */
static const char row_by_dir[] =
	"SELECT r.id, r.status, r.sig, d.summary_json, d.origin_json, r.flags_text, r.scalars_text,"
	" r.started, r.stopped, ifnull(r.exit_status, -1), r.label, r.script"
	" FROM runs r JOIN details d ON d.rid = r.rid WHERE r.dir = ?1";

/*
 * Whether the row the reader just stepped to tells what the directory would:
 * not a live run (its scalars.log and lock change under an unchanged
 * signature), its run.json and scalars.json as they were when indexed (an
 * edit by hand is not in the index until a sync checks), and a scalars.json
 * to speak of (without one the summary is made from scalars.log, which the
 * signature does not cover), and fields of the types the columns keep.
 */
static bool row_is_current(row_reader *rr, const char *name)
{
	const char *status = col(rr->row, 1), *sig = col(rr->row, 2);
	if (!strcmp(status, "running") || !strcmp(status, "queued") || sqlite3_column_type(rr->row, 3) == SQLITE_NULL ||
	    sqlite3_column_type(rr->row, 4) == SQLITE_NULL)
		return false;
	if (!tally__index_run_sig(rr->runs_fd, name, &rr->sig) || tally_buf_oom(&rr->sig) || strcmp(rr->sig.ptr, sig))
		return false;
	return !(rr->sig.len >= 2 && !strcmp(rr->sig.ptr + rr->sig.len - 2, "-;"));
}

/* A run filled from the reader's current row. */
static int run_of_row(tally_run **out, row_reader *rr, const char *dir)
{
	sqlite3_stmt *st = rr->row;
	tally_run *run = tally__run_alloc(rr->store);
	if (!run)
		return tally__error_oom();
	static const struct {
		int slot, column;
	} texts[] = {{TALLY_RUN_OWNED_STATUS, 1}, {5, 3}, {TALLY_RUN_OWNED_ORIGIN, 4}, {0, 5}, {1, 6},
	             {TALLY_RUN_OWNED_LABEL, 10}, {TALLY_RUN_OWNED_SCRIPT, 11}};
	bool oom = !(run->dir = strdup(dir)) || !(run->id = strdup(col(st, 0)));
	for (size_t i = 0; i < sizeof texts / sizeof *texts && !oom; i++)
		oom = !(run->owned[texts[i].slot] = strdup(col(st, texts[i].column)));
	if (oom) {
		tally_run_free(run);
		return tally__error_oom();
	}
	run->status = run->owned[TALLY_RUN_OWNED_STATUS];
	run->summary_json = run->owned[5];
	run->origin_json = run->owned[TALLY_RUN_OWNED_ORIGIN];
	run->flags_text = run->owned[0];
	run->scalars_text = run->owned[1];
	run->label = run->owned[TALLY_RUN_OWNED_LABEL];
	run->script = run->owned[TALLY_RUN_OWNED_SCRIPT];
	run->started_ms = sqlite3_column_int64(st, 7);
	run->stopped_ms = sqlite3_column_int64(st, 8);
	run->exit_status = sqlite3_column_int(st, 9);
	run->from_index = true; /* flags, scalars and tags JSON are cut from the summary when asked for */
	*out = run;
	return 0;
}

/* The run in `dir` from its index row: 0 and `*out`, 1 when the row is
 * missing or not current (the directory must be read), < 0 on an error. */
static int run_from_index(row_reader *rr, const char *dir, tally_run **out)
{
	tally_store *store = rr->store;
	size_t len = strlen(store->path);
	const char *name = dir + len + 1;
	if (!store->db || strncmp(dir, store->path, len) || dir[len] != '/' || strchr(name, '/'))
		return 1; /* a run directory elsewhere */
	if (!rr->row && sqlite3_prepare_v2(store->db, row_by_dir, -1, &rr->row, NULL) != SQLITE_OK)
		return 1;
	if (rr->runs_fd < 0 && (rr->runs_fd = open(store->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 1;
	sqlite3_bind_text(rr->row, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(rr->row) == SQLITE_ROW && row_is_current(rr, name) ? run_of_row(out, rr, dir) : 1;
	sqlite3_reset(rr->row); /* no statement left open across the next lookup's sync */
	return rc;
}

/*
 * The directories `refs` name, up to the first that does not resolve
 * (`*failed_at`, n when none; its error is the last one).  A path is only
 * made absolute: whether it is a run directory is asked when its index row
 * cannot tell (a current row has its run.json).
 */
static int resolve_dirs(tally_store *store, const char *const *refs, size_t n, char **dirs, size_t *failed_at)
{
	*failed_at = n;
	for (size_t i = 0; i < n; i++) {
		int rc = is_path_ref(refs[i]) ? ((dirs[i] = tally_path_absolute(refs[i])) ? 0 : tally__error_oom())
		                              : resolve_dir(store, refs[i], &dirs[i]);
		if (rc) {
			*failed_at = i;
			return rc;
		}
	}
	return 0;
}

/* Run `ref`, in `dir`, from its index row or else from the directory. */
static int lookup_one(row_reader *rr, const char *ref, const char *dir, tally_run **out)
{
	int rc = run_from_index(rr, dir, out);
	if (rc != 1)
		return rc;
	if (is_path_ref(ref) && !is_run_directory(ref))
		return not_a_run_directory(ref);
	return tally__run_load_dir(out, rr->store, dir);
}

int tally_run_lookup_summaries(tally_run **out, tally_store *store, const char *const *refs, size_t n)
{
	row_reader rr = {store, NULL, -1, TALLY_BUF_INIT};
	char **dirs = calloc(n ? n : 1, sizeof *dirs), *resolve_error = NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (!dirs)
		return tally__error_oom();
	/* Every reference resolved first (that may sync the index), then the
	 * rows read in one transaction: one snapshot, its lock taken once, not
	 * per row.  The error is the first reference's that fails, as one by one. */
	size_t failed_at;
	int resolve_rc = resolve_dirs(store, refs, n, dirs, &failed_at), rc = 0;
	if (resolve_rc && !(resolve_error = strdup(tally_error_last())))
		resolve_rc = tally__error_oom();
	bool in_txn = store->db && sqlite3_exec(store->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	for (size_t i = 0; i < failed_at && !rc; i++)
		rc = lookup_one(&rr, refs[i], dirs[i], &out[i]);
	if (in_txn)
		sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
	if (!rc && resolve_rc)
		rc = tally__error(resolve_rc, "%s", resolve_error ? resolve_error : "out of memory");
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	free(resolve_error);
	sqlite3_finalize(rr.row);
	if (rr.runs_fd >= 0)
		close(rr.runs_fd);
	tally_buf_release(&rr.sig);
	for (size_t i = 0; rc && i < n; i++) {
		tally_run_free(out[i]);
		out[i] = NULL;
	}
	return rc;
}

/*
 * libFuzzer target: any text as a --where expression (and as --sort keys).
 * Whatever compiles must be SQL that SQLite accepts against the index's
 * tables, with every parameter number in range: the compiler never emits
 * user text as SQL, so nothing it accepts may fail to prepare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/index/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *index_like_db(void)
{
	static sqlite3 *db;
	if (db)
		return db;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		abort();
	const char *schema =
		"CREATE TABLE runs(rid INTEGER PRIMARY KEY, dir TEXT, id TEXT, started INTEGER, stopped INTEGER,"
		" status TEXT, exit_status INTEGER, label TEXT, script TEXT, host TEXT, flags_text TEXT, scalars_text TEXT,"
		" marked INTEGER, name TEXT, sweep TEXT, trial INTEGER);"
		"CREATE TABLE flags(rid INTEGER, name TEXT, type TEXT, value, PRIMARY KEY(rid, name));"
		"CREATE TABLE scalars(rid INTEGER, tag TEXT, last REAL, last_step INTEGER, first REAL, min REAL, max REAL,"
		" avg REAL, count INTEGER, PRIMARY KEY(rid, tag));"
		"CREATE TABLE tags(rid INTEGER, tag TEXT, PRIMARY KEY(rid, tag));"
		"INSERT INTO runs VALUES(1, 'd', 'i', 1, 2, 'completed', 0, 'l', 's', 'h', '', '', 1, 'n', 'ab12', 3);"
		"INSERT INTO flags VALUES(1, 'lr', 'float', 0.1);"
		"INSERT INTO scalars VALUES(1, 'loss', 0.5, 3, 1.0, 0.5, 1.0, 0.7, 3);"
		"INSERT INTO tags VALUES(1, 'best');";
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK || tally__query_register_functions(db))
		abort();
	return db;
}

static void check(const char *text, bool sort, bool correlated)
{
	tally_query q = TALLY_QUERY_INIT;
	q.correlated = correlated; /* the EXISTS probes of a top N, as well as sets of rids */
	int rc = sort ? tally__query_sort(&q, text) : tally__query_where(&q, text);
	if (rc == 0) {
		tally_buf sql = TALLY_BUF_INIT;
		tally_buf_printf(&sql, "SELECT r.id FROM runs r WHERE %s ORDER BY %s%sr.started LIMIT ?1",
		                 q.where.len ? q.where.ptr : "1", q.order.ptr, q.order.len ? ", " : "");
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(index_like_db(), sql.ptr, -1, &st, NULL) != SQLITE_OK)
			abort(); /* the compiler produced invalid SQL */
		if ((size_t)sqlite3_bind_parameter_count(st) > q.n_binds + TALLY_QUERY_FIRST_PARAM - 1)
			abort(); /* a parameter without a value */
		sqlite3_bind_int64(st, 1, 10);
		for (size_t i = 0; i < q.n_binds; i++) {
			int n = (int)i + TALLY_QUERY_FIRST_PARAM;
			if (q.binds[i].type == TALLY_BIND_TEXT)
				sqlite3_bind_text(st, n, q.binds[i].text, -1, SQLITE_STATIC);
			else if (q.binds[i].type == TALLY_BIND_REAL)
				sqlite3_bind_double(st, n, q.binds[i].d);
			else
				sqlite3_bind_int64(st, n, q.binds[i].i);
		}
		while (sqlite3_step(st) == SQLITE_ROW) {
		}
		sqlite3_finalize(st);
		tally_buf_release(&sql);
	}
	tally__query_release(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	check(text, false, false);
	check(text, true, false);
	check(text, false, true);
	free(text);
	return 0;
}

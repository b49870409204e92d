/*
 * The index: an SQLite cache of what the run directories say, so listing,
 * filtering and sorting 100,000 runs never opens 100,000 directories.
 * Deleting it loses nothing; it is rebuilt from the run directories.
 *
 * Keeping it true without being asked:
 *  - tally never writes the index while it runs a script: it appends the
 *    run's name to a pending list the next sync reads (see below).
 *  - Each row remembers a signature (mtime, size, inode) of its run's
 *    run.json and scalars.json, and the index remembers the runs directory's
 *    own signature.  When the directory changed in a way the pending list
 *    does not explain (a run copied in or removed, or another machine's tally
 *    bumping it after changing a run), a scan checks every run's signature
 *    and re-reads exactly those that moved.  So `tally run; tally runs`
 *    needs no scan.
 *  - Edits made in place (run.json changed by hand) move no directory: every
 *    $TALLY_VERIFY_INTERVAL seconds (60) a pass over the known runs checks
 *    their signatures, VERIFY_SLICE runs per sync in name order, so that no
 *    one command pays for 100,000 stats (with 0: every run, every sync).
 *  - Runs indexed as "running" are re-checked on every sync (their lock tells
 *    whether they still are), because their files change without the
 *    directory changing; so are "queued" ones (a Slurm job starts them).
 *  - A directory mtime within the filesystem's timestamp resolution of "now"
 *    is not trusted (the "racy" case): the next sync compares the listing
 *    with the index (on a network filesystem it scans again).
 *  - When nothing of this applies, a sync reads a few rows and writes nothing.
 * Nothing here depends on SQLite locking across machines: on a network
 * filesystem each machine keeps its own index (store.c).
 */
#include "lib/index/index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/strlist.h"
#include "util/timeutil.h"

#define SCHEMA_VERSION TALLY_INDEX_SCHEMA_VERSION
#define TALLY_STR_(x) #x
#define TALLY_STR(x) TALLY_STR_(x)
#define RACY_NS 2000000000LL
#define RACY_LOCAL_NS 100000000LL

/*
 * `runs` holds what a listing needs, compact, so that scanning 100,000 rows
 * stays fast; `details` holds the JSON texts that only JSON/CSV output,
 * `show` and `compare` need (the summary, and the host and commit).  `flags`, `scalars` and `tags` are normalized for queries.
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS runs("
	"  rid INTEGER PRIMARY KEY, dir TEXT NOT NULL UNIQUE, id TEXT NOT NULL, started INTEGER, stopped INTEGER,"
	"  status TEXT, exit_status INTEGER, label TEXT, script TEXT, host TEXT, flags_text TEXT, scalars_text TEXT,"
	"  sig TEXT, marked INTEGER, name TEXT, sweep TEXT, trial INTEGER);"
	/* Covers a listing, read backwards for newest first, without touching the
	 * table.  Ascending, because runs arrive in start order: appending at its
	 * right edge fills its pages, where a descending index split them half
	 * full and doubled what a listing reads. */
	"CREATE INDEX IF NOT EXISTS runs_listing ON runs(started, id, dir, status, stopped, exit_status,"
	"  label, script, flags_text, scalars_text);"
	"CREATE INDEX IF NOT EXISTS runs_by_id ON runs(id);"
	/* An id's random part (what tables show) completed by prefix (complete.c). */
	"CREATE INDEX IF NOT EXISTS runs_by_suffix ON runs(substr(id, 22));"
	"CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status);"
	"CREATE INDEX IF NOT EXISTS runs_by_name ON runs(name) WHERE name IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep, trial) WHERE sweep IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS details(rid INTEGER PRIMARY KEY, summary_json TEXT, origin_json TEXT);"
	"CREATE TABLE IF NOT EXISTS flags(rid INTEGER, name TEXT, type TEXT, value, PRIMARY KEY(rid, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS scalars(rid INTEGER, tag TEXT, last REAL, last_step INTEGER, first REAL,"
	"  min REAL, max REAL, avg REAL, count INTEGER, PRIMARY KEY(rid, tag)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS tags(rid INTEGER, tag TEXT, PRIMARY KEY(rid, tag)) WITHOUT ROWID;"
	/* For queries: the runs whose flag or scalar passes a test are found from
	 * these (each entry also holds its run), not by a lookup per run. */
	"CREATE INDEX IF NOT EXISTS flags_by_name ON flags(name, value);"
	"CREATE INDEX IF NOT EXISTS scalars_by_tag ON scalars(tag, last);"
	"CREATE INDEX IF NOT EXISTS tags_by_tag ON tags(tag);";

static const char clear_all[] =
	"DELETE FROM runs; DELETE FROM details; DELETE FROM flags; DELETE FROM scalars; DELETE FROM tags;";

static int db_error(tally_store *store, const char *what)
{
	return tally__error(TALLY_ERROR, "index '%s': %s: %s", store->index_path, what,
	                    store->db ? sqlite3_errmsg(store->db) : "cannot open");
}

static int try_open(tally_store *store)
{
	char *dir = strdup(store->index_path);
	if (!dir)
		return tally__error_oom();
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	tally_mkdir_p(dir);
	free(dir);
	/* One connection per store, used by one thread: no per-call mutex needed. */
	if (sqlite3_open_v2(store->index_path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK)
		return db_error(store, "cannot open");
	sqlite3_busy_timeout(store->db, 10000);
	if (tally__query_register_functions(store->db))
		return TALLY_ERROR; /* the message is set */
	/* Checkpointing on close would cost every `tally run` two fsyncs; SQLite's
	 * automatic checkpoints keep the WAL bounded instead. */
	sqlite3_db_config(store->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* No mmap: a listing's scattered pages faulted in one by one measured
	 * slower than read(2) into SQLite's small page cache.  Statement
	 * journals of upserts stay in memory. */
	sqlite3_exec(store->db, "PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
	/* Every process that opens the index first replays the whole WAL (no
	 * connection stays open between tally commands), so keep it short. */
	sqlite3_exec(store->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=64;",
	             NULL, NULL, NULL);
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0)
		return db_error(store, "unreadable");
	if (version == SCHEMA_VERSION)
		return 0;
	if (version != 0) {
		store->index_outdated = true;
		return tally__error(TALLY_ERROR, "index '%s' has schema %d, not %d", store->index_path, version, SCHEMA_VERSION);
	}
	/* A new index: create the schema once (concurrent creators are serialized by the transaction). */
	if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(store->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(store->db, "PRAGMA user_version=" TALLY_STR(SCHEMA_VERSION) "; COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_error(store, "cannot create tables");
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return 0;
}

/*
 * The index is a cache: one that is damaged or of another schema is thrown
 * away and rebuilt.  Other failures (too many open files, a busy or
 * read-only index) are reported and leave it alone: other processes may be
 * using it.
 */
int tally__index_open(tally_store *store)
{
	if (store->db)
		return 0;
	store->index_outdated = false;
	int rc = try_open(store);
	if (rc == 0)
		return 0;
	int code = store->db ? sqlite3_errcode(store->db) : SQLITE_CANTOPEN;
	if (!store->index_outdated && code != SQLITE_CORRUPT && code != SQLITE_NOTADB) {
		if (store->db) {
			sqlite3_close(store->db);
			store->db = NULL;
		}
		return rc;
	}
	if (store->db) {
		sqlite3_close(store->db);
		store->db = NULL;
	}
	unlink(store->index_path);
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s-wal", store->index_path);
	unlink(p.ptr);
	tally_buf_clear(&p);
	tally_buf_printf(&p, "%s-shm", store->index_path);
	unlink(p.ptr);
	tally_buf_release(&p);
	rc = try_open(store);
	if (rc && store->db) {
		sqlite3_close(store->db);
		store->db = NULL;
	}
	return rc;
}

/* ---- signatures ---- */

static void add_file_sig(tally_buf *sig, int dirfd, const char *path)
{
	struct stat st;
	if (fstatat(dirfd, path, &st, 0) == 0)
		tally_buf_printf(sig, "%lld.%09ld:%lld:%llu;", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		                 (long long)st.st_size, (unsigned long long)st.st_ino);
	else
		tally_buf_adds(sig, "-;");
}

/* Signature of a run's indexed files; false when it has no run.json. */
static bool run_sig(int runs_fd, const char *name, tally_buf *sig)
{
	char path[512];
	tally_buf_clear(sig);
	snprintf(path, sizeof path, "%s/" TALLY_META_DIR "/run.json", name);
	add_file_sig(sig, runs_fd, path);
	if (!strcmp(sig->ptr, "-;"))
		return false;
	snprintf(path, sizeof path, "%s/" TALLY_META_DIR "/scalars.json", name);
	add_file_sig(sig, runs_fd, path);
	return true;
}

bool tally__index_run_sig(int runs_fd, const char *name, tally_buf *sig)
{
	return run_sig(runs_fd, name, sig);
}

/* ---- writing rows ---- */

typedef struct {
	sqlite3_stmt *put, *put_details, *del_flags, *del_scalars, *del_tags, *put_flag, *put_scalar, *put_tag;
	sqlite3_stmt *del_details, *del_run;
	sqlite3_stmt **prepared[12];   /* the fields above that writer_prepare() filled */
	size_t n_prepared;
	bool fresh;  /* the tables were just emptied: nothing to delete first */
	size_t rows_written, rows_deleted;
} writer;

/* Finalize exactly what writer_prepare() prepared (a statement left over
 * would keep sqlite3_close() from closing the connection). */
static void writer_release(writer *w)
{
	for (size_t i = 0; i < w->n_prepared; i++) {
		sqlite3_finalize(*w->prepared[i]);
		*w->prepared[i] = NULL;
	}
	w->n_prepared = 0;
}

static int writer_prepare(tally_store *store, writer *w)
{
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} q[] = {
		/* An upsert keeps the row's rid, which `details` is keyed by. */
		{&w->put, "INSERT INTO runs(dir, id, started, stopped, status, exit_status, label, script, host,"
		          " flags_text, scalars_text, sig, marked, name, sweep, trial)"
		          " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
		          " ON CONFLICT(dir) DO UPDATE SET id=excluded.id, started=excluded.started, stopped=excluded.stopped,"
		          " status=excluded.status, exit_status=excluded.exit_status, label=excluded.label,"
		          " script=excluded.script, host=excluded.host, flags_text=excluded.flags_text,"
		          " scalars_text=excluded.scalars_text, sig=excluded.sig, marked=excluded.marked,"
		          " name=excluded.name, sweep=excluded.sweep, trial=excluded.trial RETURNING rid"},
		{&w->put_details, "INSERT OR REPLACE INTO details(rid, summary_json, origin_json) VALUES(?1,?2,?3)"},
		{&w->del_flags, "DELETE FROM flags WHERE rid=(SELECT rid FROM runs WHERE dir=?1)"},
		{&w->del_scalars, "DELETE FROM scalars WHERE rid=(SELECT rid FROM runs WHERE dir=?1)"},
		{&w->del_tags, "DELETE FROM tags WHERE rid=(SELECT rid FROM runs WHERE dir=?1)"},
		{&w->del_details, "DELETE FROM details WHERE rid=(SELECT rid FROM runs WHERE dir=?1)"},
		{&w->del_run, "DELETE FROM runs WHERE dir=?1"},
		{&w->put_flag, "INSERT OR REPLACE INTO flags(rid, name, type, value) VALUES(?1,?2,?3,?4)"},
		{&w->put_scalar, "INSERT OR REPLACE INTO scalars(rid, tag, last, last_step, first, min, max, avg, count)"
		                 " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"},
		{&w->put_tag, "INSERT OR REPLACE INTO tags(rid, tag) VALUES(?1,?2)"},
	};
	_Static_assert(sizeof q / sizeof *q <= sizeof w->prepared / sizeof *w->prepared, "writer.prepared too small");
	for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
		w->prepared[w->n_prepared++] = q[i].st;
		if (sqlite3_prepare_v2(store->db, q[i].sql, -1, q[i].st, NULL) != SQLITE_OK) {
			int rc = db_error(store, "cannot prepare");
			writer_release(w);
			return rc;
		}
	}
	return 0;
}

static void step_reset(sqlite3_stmt *st)
{
	sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void bind_json_value(sqlite3_stmt *st, int col, json_t *v)
{
	if (!v) {
		sqlite3_bind_null(st, col);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_INTEGER: sqlite3_bind_int64(st, col, json_integer_value(v)); break;
	case JSON_REAL: sqlite3_bind_double(st, col, json_real_value(v)); break;
	case JSON_TRUE: sqlite3_bind_int(st, col, 1); break;
	case JSON_FALSE: sqlite3_bind_int(st, col, 0); break;
	case JSON_STRING: sqlite3_bind_text(st, col, json_string_value(v), -1, SQLITE_TRANSIENT); break;
	default: sqlite3_bind_null(st, col);
	}
}


/* The normalized rows of run `rid` (runs.rid: integers keep query joins cheap). */
static void put_children(writer *w, const char *dir, sqlite3_int64 rid, json_t *meta, json_t *scalars)
{
	sqlite3_stmt *dels[] = {w->del_flags, w->del_scalars, w->del_tags};
	for (size_t i = 0; i < 3 && !w->fresh; i++) {
		sqlite3_bind_text(dels[i], 1, dir, -1, SQLITE_STATIC);
		step_reset(dels[i]);
	}
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(meta, "flags"), name, v) {
		sqlite3_bind_int64(w->put_flag, 1, rid);
		sqlite3_bind_text(w->put_flag, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(w->put_flag, 3, tally__json_type_name(v), -1, SQLITE_STATIC);
		bind_json_value(w->put_flag, 4, v);
		step_reset(w->put_flag);
	}
	json_object_foreach(scalars, name, v) {
		static const char *const cols[] = {"last", "last_step", "first", "min", "max", "avg", "count"};
		sqlite3_bind_int64(w->put_scalar, 1, rid);
		sqlite3_bind_text(w->put_scalar, 2, name, -1, SQLITE_STATIC);
		for (int c = 0; c < 7; c++)
			bind_json_value(w->put_scalar, 3 + c, json_object_get(v, cols[c]));
		step_reset(w->put_scalar);
	}
	size_t i;
	json_array_foreach(json_object_get(meta, "tags"), i, v) {
		if (!json_is_string(v))
			continue;
		sqlite3_bind_int64(w->put_tag, 1, rid);
		sqlite3_bind_text(w->put_tag, 2, json_string_value(v), -1, SQLITE_STATIC);
		step_reset(w->put_tag);
	}
}

static int put_row(writer *w, const char *dir, json_t *meta, json_t *scalars, const char *sig)
{
	char *flags_text = tally__flags_text(json_object_get(meta, "flags"));
	char *scalars_text = tally__scalars_text(scalars);
	char *summary = tally__summary_json(meta, scalars);
	char *origin = tally__origin_json(meta);
	int rc = 0;
	if (!flags_text || !scalars_text || !summary || !origin) {
		rc = tally__error_oom();
		goto done;
	}
	sqlite3_stmt *st = w->put;
	sqlite3_bind_text(st, 1, dir, -1, SQLITE_STATIC);
	bind_json_value(st, 2, json_object_get(meta, "id"));
	bind_json_value(st, 3, json_object_get(meta, "started_ms"));
	bind_json_value(st, 4, json_object_get(meta, "stopped_ms"));
	bind_json_value(st, 5, json_object_get(meta, "status"));
	bind_json_value(st, 6, json_object_get(meta, "exit_status"));
	bind_json_value(st, 7, json_object_get(meta, "label"));
	bind_json_value(st, 8, json_object_get(meta, "script"));
	bind_json_value(st, 9, json_object_get(meta, "host"));
	sqlite3_bind_text(st, 10, flags_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, scalars_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, sig, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 13, json_is_true(json_object_get(meta, "marked")));
	bind_json_value(st, 14, json_object_get(meta, "name"));
	json_t *sweep = json_object_get(meta, "sweep"); /* a trial of a sweep: {"id", "trial"} */
	bind_json_value(st, 15, json_is_string(json_object_get(sweep, "id")) ? json_object_get(sweep, "id") : NULL);
	bind_json_value(st, 16, json_is_integer(json_object_get(sweep, "trial")) ? json_object_get(sweep, "trial") : NULL);
	sqlite3_int64 rid = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		rid = sqlite3_column_int64(st, 0);
	else
		rc = TALLY_ERROR;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	st = w->put_details;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, summary, -1, SQLITE_STATIC);
	/* none for a run whose fields the columns would not keep as they are: it is looked up from its directory */
	if (tally__meta_fields_plain(meta))
		sqlite3_bind_text(st, 3, origin, -1, SQLITE_STATIC);
	if (!rc && sqlite3_step(st) != SQLITE_DONE)
		rc = TALLY_ERROR;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!rc) {
		put_children(w, dir, rid, meta, scalars);
		w->rows_written++;
	}
done:
	free(flags_text);
	free(scalars_text);
	free(summary);
	free(origin);
	return rc;
}

static void get_state(tally_store *store, const char *key, tally_buf *out);
static void set_state(tally_store *store, const char *key, const char *value);

/* Follow before→after links from `sig` as far as the pending runs go. */
static void follow_chain(tally_pending_run *runs, size_t n, tally_buf *sig)
{
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t i = 0; i < n; i++) {
			if (!runs[i].used && runs[i].before[0] && !strcmp(runs[i].before, sig->ptr)) {
				runs[i].used = true;
				tally_buf_clear(sig);
				tally_buf_adds(sig, runs[i].after);
				moved = true;
			}
		}
	}
}

/* ---- syncing ---- */

static void warn_skipped(tally_store *store, const char *name, const char *why)
{
	tally_buf_printf(&store->warnings, "skipped %s: %s\n", name, why);
}

/* (Re)load one run directory into the index; false when it cannot be read. */
static bool index_one(tally_store *store, writer *w, const char *name, const char *sig)
{
	char *dir = tally_path_join(store->path, name);
	json_t *meta = NULL;
	bool ok = false;
	if (dir && tally__meta_load(&meta, dir, store->host) == 0) {
		json_t *scalars = tally__scalars_summary_load(dir);
		ok = put_row(w, name, meta, scalars, sig) == 0;
		json_decref(scalars);
	} else if (dir) {
		warn_skipped(store, name, tally_error_last());
	}
	json_decref(meta);
	free(dir);
	return ok;
}

/* Whether `name` holds a .tally folder (a run, even if a broken one). */
static bool has_meta_dir(int runs_fd, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/" TALLY_META_DIR, name);
	return fstatat(runs_fd, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static int list_run_dirs(tally_store *store, int runs_fd, tally_strlist *out)
{
	int fd = fcntl(runs_fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return tally__error_errno(TALLY_ERROR, "cannot read runs directory '%s' — check its permissions", store->path);
	}
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d)))
		if (tally__is_run_dir_name(e->d_name) && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN))
			rc = tally_strlist_push(out, e->d_name) < 0 ? tally__error_oom() : 0;
	closedir(d);
	tally_strlist_sort(out);
	return rc;
}

/* Forget a run (its statements are the writer's, prepared once per sync: a
 * scan may drop thousands of rows). */
static void delete_run_row(writer *w, const char *name)
{
	sqlite3_stmt *order[] = {w->del_flags, w->del_scalars, w->del_tags, w->del_details, w->del_run};
	for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
		sqlite3_bind_text(order[i], 1, name, -1, SQLITE_STATIC);
		step_reset(order[i]);
	}
	w->rows_deleted++;
}

/* A run directory the index does not know (or must re-read). */
static void index_new(tally_store *store, writer *w, int runs_fd, const char *name, tally_buf *sig, size_t *skipped)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/" TALLY_META_DIR "/run.json", name);
	if (fstatat(runs_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		delete_run_row(w, name); /* a pending run that was moved away (tally delete) */
		return;
	}
	if (run_sig(runs_fd, name, sig)) {
		if (!index_one(store, w, name, sig->ptr))
			++*skipped;
	} else if (fstatat(runs_fd, path, &st, 0) < 0 && errno != ENOENT && errno != ENOTDIR) {
		warn_skipped(store, name, strerror(errno)); /* e.g. a run directory we may not read */
		++*skipped;
	} else if (has_meta_dir(runs_fd, name)) {
		warn_skipped(store, name, "no " TALLY_META_DIR "/run.json (incomplete or damaged run)");
		++*skipped;
	}
}

/*
 * Merge the runs directory's listing with the index's rows (both sorted by
 * name): new directories are read, vanished ones dropped, and every known
 * run whose signature moved (edited by hand, by another machine) re-read.
 */
static int scan(tally_store *store, writer *w, int runs_fd, size_t *skipped)
{
	tally_strlist dirs = TALLY_STRLIST_INIT, known = TALLY_STRLIST_INIT, sigs = TALLY_STRLIST_INIT;
	tally_buf sig = TALLY_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc = list_run_dirs(store, runs_fd, &dirs);
	if (rc)
		goto done;
	if (sqlite3_prepare_v2(store->db, "SELECT dir, sig FROM runs ORDER BY dir", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(store, "cannot scan");
		goto done;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *s = (const char *)sqlite3_column_text(st, 1);
		if (tally_strlist_push(&known, name ? name : "") < 0 || tally_strlist_push(&sigs, s ? s : "") < 0) {
			rc = tally__error_oom();
			goto done;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	/* SQLite's ORDER BY uses its own collation (bytewise for TEXT): same as strcmp. */
	size_t i = 0, k = 0;
	while (i < dirs.n || k < known.n) {
		int c = i >= dirs.n ? 1 : k >= known.n ? -1 : strcmp(dirs.items[i], known.items[k]);
		if (c < 0) {
			index_new(store, w, runs_fd, dirs.items[i++], &sig, skipped);
		} else if (c > 0) {
			delete_run_row(w, known.items[k++]);
		} else {
			const char *name = dirs.items[i];
			if (!run_sig(runs_fd, name, &sig)) {
				delete_run_row(w, name);
				index_new(store, w, runs_fd, name, &sig, skipped);
			} else if (strcmp(sig.ptr, sigs.items[k]) && !index_one(store, w, name, sig.ptr)) {
				delete_run_row(w, name);
				++*skipped;
			}
			i++, k++;
		}
	}
done:
	sqlite3_finalize(st);
	tally_strlist_release(&dirs);
	tally_strlist_release(&known);
	tally_strlist_release(&sigs);
	tally_buf_release(&sig);
	return rc;
}

/*
 * One slice of the periodic pass: the known runs after `cursor` in name
 * order, at most VERIFY_SLICE of them and no more than VERIFY_SLICE_MS of
 * checking once VERIFY_SLICE_MIN are done (two stats a run: on a slow
 * filesystem 2,000 of them would add tens of ms to whichever command runs
 * during the pass), re-read where their signature moved.  `next` gets where
 * the following slice starts; returns true when the pass reached the last run.
 */
#define VERIFY_SLICE 2000
#define VERIFY_SLICE_MIN 250
#define VERIFY_SLICE_MS 4
static bool verify_slice(tally_store *store, writer *w, int runs_fd, const char *cursor, tally_buf *next,
                         size_t *skipped)
{
	tally_strlist names = TALLY_STRLIST_INIT, sigs = TALLY_STRLIST_INIT;
	tally_buf sig = TALLY_BUF_INIT;
	sqlite3_stmt *st = NULL;
	bool oom = false;
	if (sqlite3_prepare_v2(store->db, "SELECT dir, sig FROM runs WHERE dir > ?1 ORDER BY dir LIMIT ?2", -1, &st,
	                       NULL) != SQLITE_OK)
		return true;
	sqlite3_bind_text(st, 1, cursor, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, VERIFY_SLICE);
	while (!oom && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *s = (const char *)sqlite3_column_text(st, 1);
		oom = tally_strlist_push(&names, name ? name : "") < 0 || tally_strlist_push(&sigs, s ? s : "") < 0;
	}
	sqlite3_finalize(st);
	/* the rows are collected first: re-reading a run rewrites them */
	int64_t deadline = tally_now_ms() + VERIFY_SLICE_MS;
	size_t checked = 0;
	for (; checked < names.n && !oom; checked++) {
		if (checked >= VERIFY_SLICE_MIN && checked % 64 == 0 && tally_now_ms() > deadline)
			break;
		size_t i = checked;
		if (!run_sig(runs_fd, names.items[i], &sig)) {
			delete_run_row(w, names.items[i]);
			index_new(store, w, runs_fd, names.items[i], &sig, skipped);
		} else if (strcmp(sig.ptr, sigs.items[i]) && !index_one(store, w, names.items[i], sig.ptr)) {
			delete_run_row(w, names.items[i]);
			++*skipped;
		}
	}
	tally_buf_clear(next);
	if (checked)
		tally_buf_adds(next, names.items[checked - 1]);
	bool done = oom || (checked == names.n && names.n < VERIFY_SLICE);
	tally_strlist_release(&names);
	tally_strlist_release(&sigs);
	tally_buf_release(&sig);
	return done;
}

/*
 * Runs the index believes are running may have ended (their files changed)
 * or lost their supervisor (their lock is free).  With `apply` false this
 * only tells whether any needs re-reading, without writing anything.
 */
static bool recheck_running(tally_store *store, writer *w, int runs_fd, bool apply)
{
	sqlite3_stmt *st = NULL;
	tally_buf sig = TALLY_BUF_INIT;
	tally_strlist names = TALLY_STRLIST_INIT;
	bool stale = false;
	if (sqlite3_prepare_v2(store->db, "SELECT dir, sig, host, status FROM runs WHERE status IN ('running', 'queued')", -1, &st, NULL) != SQLITE_OK)
		return true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *old_sig = (const char *)sqlite3_column_text(st, 1);
		const char *host = (const char *)sqlite3_column_text(st, 2);
		if (!name)
			continue;
		bool changed = !run_sig(runs_fd, name, &sig) || !old_sig || strcmp(sig.ptr, old_sig);
		bool queued = !strcmp((const char *)sqlite3_column_text(st, 3), "queued"); /* no supervisor yet */
		if (!changed && !queued && host && !strcmp(host, store->host)) {
			/* Same host: a free lock means the supervisor is gone. */
			char path[512];
			snprintf(path, sizeof path, "%s/" TALLY_META_DIR "/lock", name);
			int fd = openat(runs_fd, path, O_RDONLY | O_CLOEXEC);
			if ((fd < 0 && errno == ENOENT) || (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0))
				changed = true;
			if (fd >= 0)
				close(fd);
		}
		if (changed) {
			stale = true;
			if (!apply || tally_strlist_push(&names, name) < 0)
				break;
		}
	}
	sqlite3_finalize(st);
	for (size_t i = 0; apply && i < names.n; i++) {
		if (run_sig(runs_fd, names.items[i], &sig))
			index_one(store, w, names.items[i], sig.ptr);
		else
			delete_run_row(w, names.items[i]);
	}
	tally_strlist_release(&names);
	tally_buf_release(&sig);
	return stale;
}

static void get_state(tally_store *store, const char *key, tally_buf *out)
{
	sqlite3_stmt *st = NULL;
	tally_buf_clear(out);
	if (sqlite3_prepare_v2(store->db, "SELECT value FROM state WHERE key=?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			tally_buf_adds(out, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
}

static void set_state(tally_store *store, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(store->db, "INSERT OR REPLACE INTO state(key, value) VALUES(?1, ?2)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

/* ---- memos: small texts derived from the index, valid for one generation ---- */

int64_t tally__index_generation(tally_store *store)
{
	if (!store->db)
		return -1;
	tally_buf value = TALLY_BUF_INIT;
	get_state(store, "generation", &value);
	int64_t gen = value.len ? strtoll(value.ptr, NULL, 10) : 0;
	tally_buf_release(&value);
	return gen;
}

int tally__index_memo_get(tally_store *store, int64_t generation, const char *key, char **value)
{
	*value = NULL;
	if (!store->db || generation < 0)
		return 1;
	tally_buf name = TALLY_BUF_INIT, text = TALLY_BUF_INIT;
	tally_buf_printf(&name, "memo:%s", key);
	get_state(store, name.ptr, &text);
	char *end;
	int rc = 1;
	if (text.len && strtoll(text.ptr, &end, 10) == generation && *end == ' ')
		rc = (*value = strdup(end + 1)) ? 0 : tally__error_oom();
	tally_buf_release(&name);
	tally_buf_release(&text);
	return rc;
}

void tally__index_memo_put(tally_store *store, int64_t generation, const char *key, const char *value)
{
	if (!store->db || generation < 0)
		return;
	tally_buf name = TALLY_BUF_INIT, text = TALLY_BUF_INIT;
	tally_buf_printf(&name, "memo:%s", key);
	tally_buf_printf(&text, "%lld %s", (long long)generation, value);
	/* A memo is an optimization: never wait for a busy index to store one. */
	sqlite3_busy_timeout(store->db, 0);
	if (!tally_buf_oom(&name) && !tally_buf_oom(&text))
		set_state(store, name.ptr, text.ptr);
	sqlite3_busy_timeout(store->db, 10000);
	tally_buf_release(&name);
	tally_buf_release(&text);
}

/*
 * How often every run's signature is checked even when the runs directory
 * did not change ($TALLY_VERIFY_INTERVAL seconds, default 60): the bound on
 * how long an edit made inside a run directory by hand can go unnoticed.
 */
static int64_t verify_interval_ms(void)
{
	const char *env = getenv("TALLY_VERIFY_INTERVAL");
	if (env && *env) {
		char *end;
		double secs = strtod(env, &end);
		if (!*end && secs >= 0)
			return secs > 1e9 ? (int64_t)1e12 : (int64_t)(secs * 1000.0);
	}
	return 60 * 1000;
}

/*
 * After a sync that found the runs directory too recent to trust ("racy"),
 * what it could have missed is an entry added or removed in the same tick:
 * the listing tells that, without the stats of every run a scan costs
 * (100,000 runs: ~30 ms instead of ~1 s).  Only on a local filesystem, where
 * every change tally makes to a run also goes through the pending list.
 */
static int relist(tally_store *store, writer *w, int runs_fd, size_t *skipped)
{
	tally_strlist dirs = TALLY_STRLIST_INIT, known = TALLY_STRLIST_INIT;
	tally_buf sig = TALLY_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc = list_run_dirs(store, runs_fd, &dirs);
	if (!rc && sqlite3_prepare_v2(store->db, "SELECT dir FROM runs ORDER BY dir", -1, &st, NULL) != SQLITE_OK)
		rc = db_error(store, "cannot list the index");
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (tally_strlist_push(&known, name ? name : "") < 0)
			rc = tally__error_oom();
	}
	sqlite3_finalize(st);
	for (size_t i = 0, k = 0; !rc && (i < dirs.n || k < known.n);) {
		int c = i >= dirs.n ? 1 : k >= known.n ? -1 : strcmp(dirs.items[i], known.items[k]);
		if (c < 0)
			index_new(store, w, runs_fd, dirs.items[i++], &sig, skipped);
		else if (c > 0)
			delete_run_row(w, known.items[k++]);
		else
			i++, k++;
	}
	tally_strlist_release(&dirs);
	tally_strlist_release(&known);
	tally_buf_release(&sig);
	return rc;
}

/* The runs directory's signature, and whether it is too recent to trust. */
static void dir_signature(tally_store *store, int runs_fd, tally_buf *sig, bool *racy)
{
	struct stat st;
	tally_buf_clear(sig);
	if (fstat(runs_fd, &st) < 0) {
		*racy = true;
		return;
	}
	int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	char text[64];
	tally__format_dir_sig(&st, text);
	tally_buf_adds(sig, text);
	/* A change within the same timestamp tick as our scan could be missed: don't
	 * trust it yet.  Local filesystems tick in milliseconds; network ones may
	 * keep seconds. */
	int64_t window = store->network_fs ? RACY_NS : RACY_LOCAL_NS;
	*racy = tally_now_ms() * 1000000LL - mtime_ns < window;
}

int tally_store_sync(tally_store *store, int force, size_t *skipped_out)
{
	size_t skipped = 0;
	writer w = {0};
	tally_buf dir_sig = TALLY_BUF_INIT, stored = TALLY_BUF_INIT, verified = TALLY_BUF_INIT;
	tally_buf cursor = TALLY_BUF_INIT, next = TALLY_BUF_INIT;
	tally_buf pending_text = TALLY_BUF_INIT;
	tally_pending_run *pending = NULL;
	size_t n_pending = 0, pending_bytes = 0;
	bool racy = false, in_txn = false;
	int rc = 0;

	tally_buf_clear(&store->warnings);
	if (skipped_out)
		*skipped_out = 0;
	int runs_fd = open(store->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (runs_fd < 0) {
		if (errno == ENOENT)
			return 0; /* no runs yet */
		return tally__error_errno(TALLY_ERROR, "cannot open runs directory '%s'", store->path);
	}
	/* Slurm jobs that ended without their tally recording it: recorded now,
	 * before the runs are read (nothing to do without Slurm runs). */
	tally__slurm_refresh(store);
	if ((rc = tally__index_open(store)))
		goto done;
	dir_signature(store, runs_fd, &dir_sig, &racy);
	get_state(store, "runs_dir_sig", &stored);
	/* "racy:SIG": the last sync saw SIG too soon after a change to trust it */
	bool was_racy = !strncmp(stored.ptr ? stored.ptr : "", "racy:", 5);
	if (was_racy) {
		char *rest = strdup(stored.ptr + 5);
		tally_buf_clear(&stored);
		tally_buf_adds(&stored, rest ? rest : "");
		free(rest);
	}
	/* Runs this machine created since the last sync, and whether they explain
	 * every change of the runs directory. */
	n_pending = tally__pending_read(store, &pending, &pending_text, &pending_bytes);
	if (force)
		n_pending = 0; /* a rebuild reads every run anyway; the list is just dropped */
	if (n_pending && !store->network_fs)
		follow_chain(pending, n_pending, &stored);
	bool dir_changed = strcmp(stored.ptr, dir_sig.ptr) != 0;
	get_state(store, "verified_ms", &verified);
	int64_t now = tally_now_ms();
	int64_t since = now - strtoll(verified.ptr, NULL, 10);
	bool verify_due = since < 0 || since >= verify_interval_ms(); /* < 0: the clock went back */
	get_state(store, "verify_cursor", &cursor);
	bool pass_under_way = cursor.len > 0;
	/* The common case writes nothing: same directory, no running run has moved,
	 * and the last check of every run is recent. */
	if (!force && !dir_changed && !was_racy && !verify_due && !pass_under_way && !pending_bytes &&
	    !recheck_running(store, &w, runs_fd, false))
		goto done;

	if ((rc = writer_prepare(store, &w)))
		goto done;
	if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(store, "busy");
		goto done;
	}
	in_txn = true;
	if (force) {
		sqlite3_exec(store->db, clear_all, NULL, NULL, NULL);
		w.fresh = true;
	}
	/* A change of the directory the pending list does not explain triggers a
	 * check of every run: that is how copies, removals and other machines'
	 * runs are seen.  Time alone starts a pass in slices (edits in place). */
	/* Racy but unchanged since (a sync right after a run, say): only the listing
	 * is compared, for entries made in the same tick (see relist()). */
	bool relist_only = was_racy && !dir_changed && !store->network_fs;
	bool verify = force || dir_changed || (was_racy && !relist_only) ||
	              (verify_due && verify_interval_ms() == 0);
	bool pass_done = false;
	if (verify) {
		/* A scan may rewrite every page of the index: keep them in memory
		 * (up to 64 MiB), for the scan only — a listing that reads the whole
		 * index through so big a cache pays a page fault per page. */
		sqlite3_exec(store->db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
		rc = scan(store, &w, runs_fd, &skipped);
		sqlite3_exec(store->db, "PRAGMA cache_size=-2000", NULL, NULL, NULL);
		pass_done = true;
	} else {
		tally_buf sig = TALLY_BUF_INIT;
		for (size_t i = 0; i < n_pending; i++)
			index_new(store, &w, runs_fd, pending[i].name, &sig, &skipped);
		tally_buf_release(&sig);
		if (relist_only && (rc = relist(store, &w, runs_fd, &skipped)))
			goto done;
		if (verify_due || pass_under_way) {
			pass_done = verify_slice(store, &w, runs_fd, cursor.ptr ? cursor.ptr : "", &next, &skipped);
			if (!pass_done)
				set_state(store, "verify_cursor", next.ptr ? next.ptr : "");
		}
	}
	w.fresh = false;
	if (!rc)
		recheck_running(store, &w, runs_fd, true);
	/* A changed run moves the generation on: memos of older ones are stale. */
	if (w.rows_written || w.rows_deleted || force)
		sqlite3_exec(store->db,
		             "INSERT INTO state(key, value) VALUES('generation', 1)"
		             " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
		             NULL, NULL, NULL);
	if (racy) {
		tally_buf mark = TALLY_BUF_INIT;
		tally_buf_printf(&mark, "racy:%s", dir_sig.ptr ? dir_sig.ptr : "");
		set_state(store, "runs_dir_sig", mark.ptr ? mark.ptr : "racy:");
		tally_buf_release(&mark);
	} else {
		set_state(store, "runs_dir_sig", dir_sig.ptr);
	}
	if (pass_done && !rc) {
		if (cursor.len)
			set_state(store, "verify_cursor", "");
		char stamp[32];
		snprintf(stamp, sizeof stamp, "%lld", (long long)now);
		set_state(store, "verified_ms", stamp);
	}
done:
	if (in_txn && sqlite3_exec(store->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
		rc = db_error(store, "cannot commit");
	/* What the pending list said is in the index now: only then is it dropped. */
	if (in_txn && !rc && pending_bytes)
		tally__pending_drop(store, pending_bytes);
	/* After a scan the WAL may hold the whole index: fold it in now, or every
	 * later process would re-read it to rebuild the WAL's hash table. */
	if (in_txn && !rc && w.rows_written > 64)
		sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	close(runs_fd);
	writer_release(&w);
	tally_buf_release(&dir_sig);
	tally_buf_release(&stored);
	tally_buf_release(&verified);
	tally_buf_release(&cursor);
	tally_buf_release(&next);
	tally_buf_release(&pending_text);
	free(pending);
	if (skipped_out)
		*skipped_out = skipped;
	return rc;
}

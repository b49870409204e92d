/*
 * Internals of libtally shared between its files (never installed).
 * Public names are tally_*; cross-file internals are tally__*.
 */
#ifndef TALLY_INTERNAL_H
#define TALLY_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tally.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/strlist.h"

/* Reals with 15 significant digits: 0.1 stays "0.1", and any decimal a user
 * or a script wrote with up to 15 digits reads back exactly. */
#define TALLY_JSON_REALS JSON_REAL_PRECISION(15)

/* ---- errors (error.c) ---- */

/* Set the thread's last error and return `code`, so `return tally__error(...)` reads well. */
int tally__error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with ": <strerror(errno)>" appended. */
int tally__error_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tally__error_oom(void);

/* A JSON string for text from the system (paths, argv, environment): bytes
 * that are not UTF-8 become U+FFFD, since JSON cannot hold them. */
json_t *tally__json_text(const char *s);
/* TALLY_EINVALID unless `value` is UTF-8 text; `what` names it in the message. */
int tally__check_text(const char *what, const char *value);

/* ---- project configuration (config.c) ---- */

typedef struct {
	char *ext;      /* file extension without the dot: "py", "R" */
	char **argv;    /* the interpreter command, NULL-terminated */
} tally_interpreter;

typedef struct {
	char *project_dir;         /* absolute */
	char *runs_dir;            /* as written in tally.yml, or NULL */
	tally_interpreter *interpreters;
	size_t n_interpreters;
	int64_t source_max_file_size;  /* bytes */
	int64_t source_max_files;
	char **source_exclude;     /* fnmatch patterns, NULL-terminated */
	char *flags_dest;          /* `flags-dest:` for every script, or NULL */
	char **extra_args;         /* `extra-args:` appended to every command (templates), NULL-terminated */
	int64_t system_metrics_ms; /* `system-metrics:` sampling interval; 0 = off */
	char *text;                /* the file's text, for the per-script settings (tally__config_script_flags) */
	char *path;                /* tally.yml's path */
} tally_config;

/* Load `project_dir`/tally.yml (absent = defaults).  Malformed YAML is an error. */
int tally__config_load(tally_config *cfg, const char *project_dir);
void tally__config_release(tally_config *cfg);
/* The interpreter argv configured for extension `ext`, or NULL. */
char *const *tally__config_interpreter(const tally_config *cfg, const char *ext);
/* Split a command string on blanks into a NULL-terminated argv (no shell involved). */
char **tally__split_command(const char *command);
void tally__argv_free(char **argv);

/* ---- flags (flags.c) ---- */

typedef enum { TALLY_FLAG_STRING, TALLY_FLAG_INT, TALLY_FLAG_FLOAT, TALLY_FLAG_BOOL, TALLY_FLAG_NULL } tally_flag_type;

typedef struct {
	char *name;
	char *text;   /* the value as the script receives it */
	tally_flag_type type;
	int64_t i;
	double f;
	bool b;
} tally_flag;

typedef struct {
	tally_flag *items;
	size_t count;
} tally_flag_list;

/* Parse "NAME=VALUE" (YAML-style value) into `out`.  TALLY_EINVALID with a message. */
int tally__flag_parse_assignment(tally_flag *out, const char *arg);
/* Parse a YAML scalar `text` into a typed flag value (name untouched). */
int tally__flag_parse_value(tally_flag *out, const char *text);
/* Add or replace (same name) a flag; takes ownership of `flag`'s strings. */
int tally__flag_list_set(tally_flag_list *list, tally_flag *flag);
void tally__flag_list_release(tally_flag_list *list);
void tally__flag_release(tally_flag *flag);
const char *tally__flag_type_name(tally_flag_type type);
json_t *tally__flag_to_json(const tally_flag *flag);
/* "FLAG_" + upper-cased name with non-alphanumerics as '_' */
char *tally__flag_env_name(const char *name);
/* Render a JSON flag value the way `name=value` text shows it. */
void tally__flag_json_text(tally_buf *out, json_t *value);
/* A YAML flow list "[a, b, 'c,d']" into typed values (names NULL); TALLY_EINVALID with a message. */
int tally__flag_parse_list(tally_flag_list *out, const char *text);
/* NAME=VALUE text that types back to the JSON `value` (strings single-quoted, 3.0 stays a float). */
void tally__flag_assignment_text(tally_buf *out, const char *name, json_t *value);

/* SHA-256 of `data` as 64 hex digits (source.c). */
int tally__sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- the store (store.c) ---- */

struct tally_store {
	char *path;            /* absolute runs directory */
	char *index_path;
	char *pending_path;    /* runs created here that the index has not seen yet */
	bool network_fs;       /* runs directory shared over the network: other machines write */
	bool index_outdated;   /* the index was written with another schema: rebuild it */
	sqlite3 *db;           /* opened lazily by index.c */
	tally_buf warnings;
	char host[256];
	/* The runs directory's signature just before and after this process
	 * created a run: lets the write-through record a change it explains. */
	char sig_before[64], sig_after[64];
	/* Runs were moved in or out (tally delete): the directory is fsync'ed once, when the store is freed. */
	bool fsync_on_free;
	bool is_archive;       /* RUNS/.archive (tally_store_open_archive): names are not claimed there */
};

#define TALLY_META_DIR ".tally"
#define TALLY_ID_MAX 64

/* Create a fresh run directory with a unique time-ordered id (mkdir, never check-then-create). */
int tally__store_new_run_dir(tally_store *store, char id[TALLY_ID_MAX], char **dir_out);
/* The signature of a directory ("mtime_ns:inode:nlink:size") into `out` ("" on failure). */
struct stat;
void tally__format_dir_sig(const struct stat *st, char out[64]);
void tally__dir_sig(int dirfd, const char *path, char out[64]);
/* Tell other tallies sharing the runs directory that something changed. */
void tally__store_touch(tally_store *store);
/* Named runs (names.c): the checks a name passes; the name's lock, taken
 * (and its holder archived with `replace`) before the named run is created,
 * released by closing `*lock_fd` once its run.json is written. */
int tally__check_run_name(const char *name);
int tally__name_claim(tally_store *store, const char *name, bool replace, int *lock_fd);
/* The directory name of the run named `name` in the (synced) index, or NULL. */
int tally__index_find_name(tally_store *store, const char *name, char **dir_name);
/* The file name part of the run directory, when `dir` is directly inside the store. */
bool tally__is_run_dir_name(const char *name);

/* ---- run metadata (meta.c) ---- */

/* Read `dir`/.tally/run.json.  A run whose supervisor is gone (lock free, status
 * still "running", same host) is reported — and, when writable, recorded — as
 * terminated.  TALLY_ECORRUPT/ENOTFOUND with a message naming the run. */
int tally__meta_load(json_t **out, const char *dir, const char *host);
/* Write `dir`/.tally/run.json atomically; `flags` TALLY_DURABLE to fsync it. */
int tally__meta_save(const char *dir, json_t *meta, int flags);
/* Read `dir`/.tally/scalars.json (an empty object when absent). */
json_t *tally__scalars_summary_load(const char *dir);
/* Open and lock `dir`/.tally/lock for the life of a run.  Returns the fd or -1. */
int tally__meta_lock(const char *dir);

/* ---- scalars (scalars.c) ---- */

typedef struct tally_scalar_log tally_scalar_log;

typedef struct {
	double first, last, min, max, sum;
	int64_t first_step, last_step, min_step, max_step, count;
} tally_scalar_summary;

/* Open (create) the append-only scalar log of a run directory for writing. */
int tally__scalar_log_open(tally_scalar_log **out, const char *dir);
int tally__scalar_log_append(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms);
/* The same for a point read from the run's own event files: not mirrored. */
int tally__scalar_log_import(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms);
/* Also write every appended point to a TensorBoard event file (.tally/events.out.tfevents.*). */
int tally__scalar_log_mirror_tfevents(tally_scalar_log *log);
/* Push buffered records to the file (they are then visible to readers). */
int tally__scalar_log_flush(tally_scalar_log *log);
/* Write the per-tag summary (scalars.json) atomically, if anything changed
 * (`flags` TALLY_DURABLE to fsync it). */
int tally__scalar_log_write_summary(tally_scalar_log *log, int flags);
/* A per-tag integer the output parser keeps (INT64_MIN initially); NULL if the tag is refused. */
int64_t *tally__scalar_log_mark(tally_scalar_log *log, const char *tag, size_t len);
void tally__scalar_log_free(tally_scalar_log *log);

typedef int (*tally_scalar_cb)(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms);
/* Read every intact record of `dir`'s scalar log; a torn or corrupt tail is
 * ignored (`*truncated` set).  Stops early when `cb` returns non-zero. */
int tally__scalar_log_read(const char *dir, tally_scalar_cb cb, void *ctx, bool *truncated);

/* Reads a log as it grows: each call hands the intact records added since the last. */
typedef struct tally_scalar_cursor tally_scalar_cursor;
int tally__scalar_cursor_open(tally_scalar_cursor **out, const char *dir);
int tally__scalar_cursor_read(tally_scalar_cursor *c, tally_scalar_cb cb, void *ctx);
/* Whether the log ends in a torn or damaged record (so far). */
bool tally__scalar_cursor_damaged(const tally_scalar_cursor *c);
void tally__scalar_cursor_free(tally_scalar_cursor *c);

json_t *tally__scalar_summary_json(const tally_scalar_summary *s);
/* The per-tag summary computed from the log itself (NULL when it holds no point). */
json_t *tally__scalar_log_summarize(const char *dir);
uint32_t tally__crc32c(uint32_t crc, const void *data, size_t len);
/* The same without the CPU's crc32 instruction (tests compare the two). */
uint32_t tally__crc32c_portable(uint32_t crc, const void *data, size_t len);

/* ---- output line parsing for scalars (outparse.c) ---- */

typedef struct tally_outparse tally_outparse;

/* `ignore` is a list of names (flag names) that are never scalars.  `patterns`
 * (NULL: the defaults) are "key\tPATTERN", "step\tPATTERN" or "tag:NAME\tPATTERN". */
int tally__outparse_new(tally_outparse **out, const tally_flag_list *ignore, char *const *patterns);
/* Whether `pattern` works as an output-scalars rule of `kind` ("key", "step" or a tag);
 * TALLY_EINVALID with the reason in `err`. */
int tally__outparse_check_pattern(const char *kind, const char *pattern, char *err, size_t err_size);
/* Feed one complete line (no terminator); found scalars go to `log`. */
void tally__outparse_line(tally_outparse *p, const char *line, size_t len, tally_scalar_log *log, int64_t time_ms);
/*
 * What a line (after leading blanks) must look like to hold a scalar, so
 * that the recorder skips nearly every line of a chatty log without a call:
 * `first` the bytes it may start with (NULL: any); with `digits_progress`,
 * a line starting with a digit matters only if it looks like a progress line.
 */
typedef struct {
	const uint8_t *first;
	bool digits_progress;
} tally_outparse_filter;
tally_outparse_filter tally__outparse_filter(const tally_outparse *p);

/* "1875/1875 " — how a Keras progress line starts. */
static inline bool tally__progress_line(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		i++;
	if (i == 0 || i >= len || line[i] != '/')
		return false;
	size_t j = ++i;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		i++;
	return i > j && i < len && (line[i] == ' ' || line[i] == '\t');
}
void tally__outparse_free(tally_outparse *p);

/* ---- the scalar file a script may append JSON lines to (scalarfile.c) ---- */

typedef struct tally_scalar_file tally_scalar_file;
int tally__scalar_file_new(tally_scalar_file **out, const char *run_dir);
const char *tally__scalar_file_path(const tally_scalar_file *f);
/* Read what was appended since the last call; `final`: the script has ended. */
void tally__scalar_file_poll(tally_scalar_file *f, tally_scalar_log *log, bool final);
size_t tally__scalar_file_skipped(const tally_scalar_file *f);
void tally__scalar_file_free(tally_scalar_file *f);

/* ---- annotations edited after the fact (edit.c) ---- */

/* flock(.tally/edit.lock) of a run: the fd (close to unlock), or -1. */
int tally__meta_edit_lock(const char *dir);
/* Take label, tags, marked and comments from the run.json on disk into `meta`
 * (call under the edit lock, before writing `meta` over it). */
void tally__meta_merge_annotations(json_t *meta, const char *dir);

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
} tally_query;

#define TALLY_QUERY_INIT {TALLY_BUF_INIT, TALLY_BUF_INIT, NULL, 0, 0, NULL, NULL, false, {NULL, NULL, NULL, 0, false, 0}}
/* Add a --where expression (ANDed with what is there); TALLY_EINVALID names the column of a mistake. */
int tally__query_where(tally_query *q, const char *expr);
/* Add --sort keys ("-val_acc,started"). */
int tally__query_sort(tally_query *q, const char *keys);
void tally__query_release(tally_query *q);
/* 2026-11-24, today, 'last hour', '3 days ago' … in epoch ms. */
bool tally__query_parse_date(const char *text, int64_t now_ms, int64_t *out);
/* Register tally_regexp(pattern, text) (PCRE2) on an index connection. */
int tally__query_register_functions(sqlite3 *db);

/* ---- system metrics of a running run (sysmetrics.c) ---- */

#define TALLY_SYSTEM_METRICS_MS 5000  /* default sampling interval */

typedef struct tally_sysmetrics tally_sysmetrics;
/* Sample the process tree of `root` (started at `started_ms`) and the GPUs. */
int tally__sysmetrics_new(tally_sysmetrics **out, pid_t root, int64_t started_ms);
/* Log one sample of every `sys/...` scalar into `log`. */
void tally__sysmetrics_sample(tally_sysmetrics *m, tally_scalar_log *log, int64_t now_ms);
void tally__sysmetrics_free(tally_sysmetrics *m);

/* ---- TensorBoard event files (tfevents.c) ---- */

/* TFRecord's checksum: CRC-32C rotated right by 15 bits plus a constant. */
uint32_t tally__tfrecord_masked_crc(const void *data, size_t len);

/* Decodes the scalars of one event file's record stream. */
typedef struct tally_tfevents_decoder tally_tfevents_decoder;
/* `prefix` goes before every tag ("train/"). */
int tally__tfevents_decoder_new(tally_tfevents_decoder **out, const char *prefix);
/* Decode the complete records at the start of `buf`, handing each scalar
 * to `cb`; returns the bytes consumed (an unfinished record is left). */
size_t tally__tfevents_decode(tally_tfevents_decoder *d, const unsigned char *buf, size_t len, tally_scalar_cb cb,
                              void *ctx);
/* Damaged records met so far (a lost framing counts once). */
size_t tally__tfevents_decoder_bad(const tally_tfevents_decoder *d);
void tally__tfevents_decoder_free(tally_tfevents_decoder *d);

/* Follows every event file below a run directory (not through links). */
typedef struct tally_tfevents_reader tally_tfevents_reader;
int tally__tfevents_reader_new(tally_tfevents_reader **out, const char *run_dir);
/* Look for new event files and read what was appended into `log` (a few MB
 * per file unless `final`).  Files there when the reader was made are never read. */
void tally__tfevents_reader_poll(tally_tfevents_reader *r, tally_scalar_log *log, bool final);
/* Damaged records skipped so far; a line per file not reported yet is appended to `warnings`. */
size_t tally__tfevents_reader_report(tally_tfevents_reader *r, tally_buf *warnings);
void tally__tfevents_reader_free(tally_tfevents_reader *r);

/* One Event record holding a scalar (simple_value), or the file_version record. */
void tally__tfevents_encode_scalar(tally_buf *out, const char *tag, int64_t step, double value, int64_t time_ms);
void tally__tfevents_encode_version(tally_buf *out, int64_t time_ms);
/* An event file written as points come; created with the first one. */
typedef struct tally_tfevents_writer tally_tfevents_writer;
int tally__tfevents_writer_new(tally_tfevents_writer **out, const char *path);
void tally__tfevents_writer_add(tally_tfevents_writer *w, const char *tag, int64_t step, double value, int64_t time_ms);
int tally__tfevents_writer_flush(tally_tfevents_writer *w);
void tally__tfevents_writer_free(tally_tfevents_writer *w);

/* ---- output recording (output.c) ---- */

typedef struct tally_output tally_output;

enum { TALLY_STREAM_STDOUT = 0, TALLY_STREAM_STDERR = 1 };

int tally__output_open(tally_output **out, const char *dir, tally_outparse *parser, tally_scalar_log *log);
typedef int (*tally_output_visitor)(void *ctx, int stream, const char *data, size_t len, int64_t time_ms);
/* Every recorded chunk of the selected streams (bit masks 1 << TALLY_STREAM_*), in order. */
int tally__output_read(const char *dir, int streams, tally_output_visitor visit, void *ctx);
/* Record one chunk read from the child: raw bytes, index record, scalar lines. */
int tally__output_chunk(tally_output *o, int stream, const char *data, size_t len, int64_t time_ms);
/* Flush partial lines and close the files. */
int tally__output_close(tally_output *o);
/* The last `max_lines` lines of a run's recorded output (appended to `out`). */
int tally__output_tail(const char *dir, size_t max_lines, tally_buf *out);

/* ---- source snapshot and git state (source.c) ---- */

typedef struct {
	const tally_config *cfg;
	const char *project_dir;
	const char *runs_dir;
	const char *run_dir;
	/* the script's own rules (front matter `sourcecode:`): NULL-terminated, may be NULL */
	char *const *exclude;
	char *const *include;     /* copied even if large, binary or excluded */
	/* tally reproduce --run: the sources are the files this run's snapshot
	 * lists (.tally/sources.json), copied from it; git is not asked */
	const char *sources_from;
} tally_snapshot_request;

/* Copy the project's source files into the run, link the other entries,
 * write .tally/sources.json, and set "sources", "source_digest" and "git" in `meta`. */
int tally__snapshot(const tally_snapshot_request *req, json_t *meta);
/* In a git work tree, start libgit2's (slow) initialization in the background; tally__snapshot() waits for it. */
void tally__git_init_begin(const char *project_dir);
/* Wait for and undo a tally__git_init_begin() that no snapshot used. */
void tally__git_init_abandon(void);
/* A relative path with no empty, "." or ".." component (a path inside a run, from sources.json). */
bool tally__plain_path(const char *rel);

/* ---- runs (run.c) ---- */

struct tally_run {
	tally_store *store;       /* borrowed */
	char *id;
	char *dir;                /* absolute */
	json_t *meta;             /* run.json (NULL for rows of an index iterator) */
	json_t *scalars;          /* scalars.json, loaded lazily */
	char *json_text;          /* cache for tally_run_json() */
	/* Rows served by the index point into SQLite's memory (`borrowed`). */
	bool borrowed;
	const char *status, *label, *script, *flags_text, *scalars_text, *flags_json, *scalars_json, *tags_json,
	    *summary_json;
	int64_t started_ms, stopped_ms;
	int exit_status;
	char *owned[6];           /* texts rendered from `meta` for the fields above */
	/* Writer state while this process owns the run. */
	int lock_fd;
	tally_scalar_log *log;
	int64_t last_flush_ms;    /* C API: when points were last pushed to disk */
	tally_flag_list flags;
	pthread_t dir_sync_thread; /* tally__run_sync_dirs_early() */
	bool dir_sync_pending;
};

tally_run *tally__run_alloc(tally_store *store);
/* Load a run from its directory (absolute path). */
int tally__run_load_dir(tally_run **out, tally_store *store, const char *dir);
/* Create the directory, lock and initial run.json of a new run. */
int tally__run_start(tally_run **out, tally_store *store, json_t *meta);
/* Start making the run's new directory entries durable on a thread, while
 * the script runs; tally__run_end() waits for it (or does it itself). */
void tally__run_sync_dirs_early(tally_run *run);
/* Record the end: status, exit status/signal, stopped; release the lock. */
int tally__run_end(tally_run *run, const char *status, int exit_status, int signal, const char *reason);
/* Fill the cheap fields (status, label, …) from `meta` (after loading or changing it). */
void tally__run_refresh_fields(tally_run *run);
/* A new run.json object with what every run records (id and times come later). */
json_t *tally__meta_base(const tally_store *store, const char *script, const char *const *argv);
/* "lr=0.05 epochs=20" from a flags object */
char *tally__flags_text(json_t *flags);
/* "loss=0.31 val_acc=0.93" from a scalars summary object */
char *tally__scalars_text(json_t *scalars);
/* The compact JSON object `tally runs --format json` prints for a run (without "dir"). */
char *tally__summary_json(json_t *meta, json_t *scalars);

/* ---- the index (index.c) ---- */

int tally__index_open(tally_store *store);
/* The index's generation: it moves on with every write; -1 without an index. */
int64_t tally__index_generation(tally_store *store);
/* Memos (tally_run_iter_memo_*), kept in the index's state table with their generation. */
int tally__index_memo_get(tally_store *store, int64_t generation, const char *key, char **value);
void tally__index_memo_put(tally_store *store, int64_t generation, const char *key, const char *value);
/* Write one run's current state into the index (best effort: the index is a cache). */
/* Tell the index, without opening it, that this process created run `dir_name`. */
void tally__index_note_new_run(tally_store *store, const char *dir_name);
void tally__index_note_changed_run(tally_store *store, const char *dir_name);
int tally__index_lookup(tally_store *store, const char *ref, char **dir_name);
int tally__index_nth(tally_store *store, size_t n, char **dir_name);

#endif

/*
 * tally.h — the public API of libtally.
 *
 * libtally knows everything about runs: the run store (a directory of run
 * directories plus an SQLite index that is only a cache), launching and
 * supervising a tracked run, flags and scalars.  The `tally` command-line
 * tool is built on this header alone; a C or C++ training program can link
 * libtally to become a tracked run and log scalars without printing them.
 *
 * Conventions (after libgit2):
 *  - Handles are opaque.  Constructors take `**out` first and return an int:
 *    0 on success or a negative TALLY_E* code.
 *  - On failure the message is in tally_error_last() (thread-local, owned by
 *    the library, valid until the next failing call on the same thread).
 *  - Every object that is allocated has a `_free`; `_free(NULL)` does nothing.
 *  - The library never prints and never exits.
 */
#ifndef TALLY_H
#define TALLY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. */
enum {
	TALLY_OK = 0,
	TALLY_ERROR = -1,      /**< generic failure */
	TALLY_ENOTFOUND = -3,  /**< no such run, script or file */
	TALLY_EEXISTS = -4,    /**< something with that name already exists */
	TALLY_EAMBIGUOUS = -5, /**< a run reference matches several runs */
	TALLY_EINVALID = -6,   /**< bad user input (flag syntax, option value) */
	TALLY_ENOMEM = -7,     /**< out of memory */
	TALLY_ECORRUPT = -8,   /**< a run's metadata cannot be read */
	TALLY_ELOCKED = -9,    /**< the run is held by another process */
};

/** The message of the last failing call on this thread ("" if none). */
const char *tally_error_last(void);

/** The library's version string, e.g. "0.1.0". */
const char *tally_version(void);

/* ------------------------------------------------------------------ */
/* The store                                                           */
/* ------------------------------------------------------------------ */

typedef struct tally_store tally_store;

/**
 * Open the runs directory `runs_dir`.  NULL resolves it the usual way:
 * $TALLY_RUNS_DIR, then `runs-dir:` in ./tally.yml, then ./runs.  The
 * directory is created when it does not exist.  The index is opened lazily.
 */
int tally_store_open(tally_store **out, const char *runs_dir);

/** The absolute path of the store's runs directory (lives as long as `store`). */
const char *tally_store_path(const tally_store *store);

/** Where the store keeps its index (lives as long as `store`). */
const char *tally_store_index_path(const tally_store *store);

void tally_store_free(tally_store *store);

/**
 * Bring the index up to date with the run directories.  Cheap when nothing
 * changed; a full rebuild when `force` is non-zero.  Runs whose metadata
 * cannot be read are skipped; their count is stored in `*skipped` when
 * non-NULL, and each is described by tally_store_warnings().
 */
int tally_store_sync(tally_store *store, int force, size_t *skipped);

/** Newline-separated warnings of the last sync ("" if none); lives as long as `store`. */
const char *tally_store_warnings(const tally_store *store);

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

typedef struct tally_run tally_run;

/** Options for creating a run from a program that tracks itself. */
typedef struct {
	unsigned int version;     /**< TALLY_RUN_OPTIONS_VERSION */
	const char *script;       /**< what is being run (shown in listings); may be NULL */
	const char *label;        /**< may be NULL */
	const char *const *tags;  /**< NULL-terminated, may be NULL */
	const char *const *argv;  /**< the command line to record, NULL-terminated, may be NULL */
} tally_run_options;

#define TALLY_RUN_OPTIONS_VERSION 1
#define TALLY_RUN_OPTIONS_INIT {TALLY_RUN_OPTIONS_VERSION, NULL, NULL, NULL, NULL}

/**
 * Create a new run in `store` for the calling process: a run directory with
 * status "running", held by a lock until tally_run_finish() or exit (if the
 * process dies, readers see the run as terminated).  The run's directory is
 * tally_run_dir(); the process's working directory is not changed.
 */
int tally_run_create(tally_run **out, tally_store *store, const tally_run_options *opts);

/**
 * Record a flag (hyperparameter) of a run created with tally_run_create().
 * `value` is parsed YAML-style: "3" is an int, "0.1" a float, "true" a
 * bool, anything else (or a quoted value) a string.
 */
int tally_run_set_flag(tally_run *run, const char *name, const char *value);

/**
 * Append one scalar point (tag, step, value) to the run's scalar log.
 * Cheap enough to call per step; the summary is kept up to date.
 */
int tally_log_scalar(tally_run *run, const char *tag, double value, int64_t step);

/**
 * Finish a run created with tally_run_create(): status "completed" when
 * `exit_status` is 0, "error" otherwise.  The run stays valid for reading.
 */
int tally_run_finish(tally_run *run, int exit_status);

/**
 * Find one run by reference: an index ("1" = latest), a unique id prefix
 * (of the whole id or of its random suffix), or a run directory path.
 * TALLY_EAMBIGUOUS lists the candidates in the error message.
 */
int tally_run_lookup(tally_run **out, tally_store *store, const char *ref);

/**
 * Look up `n` runs, `out[i]` as tally_run_lookup() finds `refs[i]`, for
 * reading many runs' summaries (tally compare): a run whose index row is
 * current — run.json and scalars.json unchanged since it was indexed, the
 * run not running or queued — is filled from the index without opening its
 * directory: its fields, tally_run_summary_json() and
 * tally_run_origin_json() read as from the directory; tally_run_json()
 * reads run.json when first asked.  Other runs are read from their
 * directories.  For reading only: change runs found by tally_run_lookup().
 * On an error (that of the first reference that fails) `out` holds nothing.
 */
int tally_run_lookup_summaries(tally_run **out, tally_store *store, const char *const *refs, size_t n);

void tally_run_free(tally_run *run);

const char *tally_run_id(const tally_run *run);
/** The random part of a run id ("k8f0th" of "2026-12-06T20-02-31Z-k8f0th"), which
 *  names the run wherever a RUN is taken; `id` itself when it has another shape.
 *  Points into `id`. */
const char *tally_run_id_short(const char *id);
const char *tally_run_dir(const tally_run *run);
/** "running", "completed", "error", "terminated", "pending" or "queued". */
const char *tally_run_status(const tally_run *run);
/** Milliseconds since the epoch (UTC); 0 when unknown or still running. */
int64_t tally_run_started_ms(const tally_run *run);
int64_t tally_run_stopped_ms(const tally_run *run);
/** Everything recorded about the run as one JSON object (lives as long as `run`). */
const char *tally_run_json(const tally_run *run);

/** Called for each scalar point; a non-zero return stops the reading. */
typedef int (*tally_scalar_visitor)(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms);

/**
 * Every scalar point of the run, in the order it was logged (a torn last
 * record of a run that crashed is left out).  Readable while the run writes.
 */
int tally_run_scalar_points(const tally_run *run, tally_scalar_visitor visit, void *ctx);

/** What tally_run_write_event_file() found or did. */
typedef enum {
	TALLY_EVENT_FILE_NONE,    /**< the run has no scalars of its own: no file */
	TALLY_EVENT_FILE_WRITTEN, /**< made, or brought up to date */
	TALLY_EVENT_FILE_CURRENT, /**< up to date already */
	TALLY_EVENT_FILE_LIVE,    /**< the run writes its own as it goes (tally.yml `tensorboard: on`, format-1 runs) */
} tally_event_file_state;

/**
 * Write the run's scalars (not those read from its own event files) as a
 * TensorBoard event file in its .tally/, or append what it lacks (`*points`:
 * the points added), so that `tensorboard --logdir RUNS_DIR` shows the run.
 */
int tally_run_write_event_file(const tally_run *run, tally_event_file_state *state, int64_t *points);
/** Remove the event file tally_run_write_event_file() made (`*removed`: there was one). */
int tally_run_remove_event_file(const tally_run *run, int *removed);

/** Follows a run's scalar log while it is written (tally watch). */
typedef struct tally_scalar_cursor tally_scalar_cursor;
int tally_run_scalar_cursor(tally_scalar_cursor **out, const tally_run *run);
/** Hand the points logged since the previous call (all, the first time) to `visit`. */
int tally_scalar_cursor_next(tally_scalar_cursor *c, tally_scalar_visitor visit, void *ctx);
void tally_scalar_cursor_free(tally_scalar_cursor *c);

/** Whether the run's supervising process is alive right now (its lock is held). */
int tally_run_is_live(const tally_run *run);
/** Whether the run was sent to Slurm (run.json's "slurm" names its job). */
int tally_run_is_slurm(const tally_run *run);
/**
 * A Slurm run still under way: run.json (read now) says queued or running
 * and its job has not left Slurm's queue (one squeue call); a job that left
 * without its tally recording the end is reconciled now, so this turns 0.
 */
int tally_run_in_slurm(const tally_run *run);

/* Annotations, edited in run.json under a lock (concurrent edits are all kept)
 * and seen by queries at once.  `run` is updated too. */
/** Set the label; NULL or "" clears it. */
int tally_run_set_label(tally_run *run, const char *label);
/** Add and remove tags (NULL-terminated lists, either may be NULL). */
int tally_run_change_tags(tally_run *run, const char *const *add, const char *const *remove);
/** Mark (1) or unmark (0) a run. */
int tally_run_set_marked(tally_run *run, int marked);
/** Add a comment, with the user, host and time. */
int tally_run_add_comment(tally_run *run, const char *text);
/** Delete comment `index` (1 = the first). */
int tally_run_delete_comment(tally_run *run, size_t index);

/* Managing runs (tally delete / restore / purge / stop). */
/** The archive of `store` (RUNS/.archive): a runs directory of its own, where deleted runs wait. */
int tally_store_open_archive(tally_store **out, tally_store *store);
/**
 * Move a finished run, which must sit directly in its store, into the store
 * `to` (one rename: the archive, or back).  A live run is TALLY_ELOCKED; an
 * id already in `to` TALLY_EEXISTS.  `run` then points at its new place.
 * Both directories are fsync'ed when their stores are freed (once for a
 * batch of moves).
 */
int tally_run_move(tally_run *run, tally_store *to);
/** Remove a finished run's directory for good. */
int tally_run_remove(tally_run *run);
/**
 * Stop a live run of this host: `hard` 0 sends SIGTERM to its supervising
 * tally, which passes it to the script's process group and records the run
 * as terminated; `hard` 1 sends SIGKILL to the script's process group.
 */
int tally_run_stop(tally_run *run, int hard);

/* Moving runs between machines and directories (tally export / import / copy). */
/**
 * Export finished runs into `dest`: a .tar.gz/.tgz, .tar or .zip file (which
 * must not exist yet; written whole or not at all), or a directory (each run
 * becomes DEST/ID; ids present there already are listed in `*skipped`, one
 * "ID\n" line each, malloc'ed, NULL when none).  Links to project entries
 * are left out; NULL slots in `runs` are skipped.
 */
int tally_export(tally_run *const *runs, size_t n, const char *dest, size_t *exported, char **skipped);

typedef struct {
	unsigned int version;   /**< TALLY_IMPORT_OPTIONS_VERSION */
	uint64_t max_bytes;     /**< refuse input unpacking to more (0: no limit but the disk's free space) */
	uint64_t max_entries;   /**< refuse input with more files and directories */
} tally_import_options;
#define TALLY_IMPORT_OPTIONS_VERSION 1
#define TALLY_IMPORT_OPTIONS_INIT {TALLY_IMPORT_OPTIONS_VERSION, 0, 10000000}

/**
 * Import the runs in `src` (a file tally_export() made, or a directory of
 * runs, or one run directory) into `store` with their ids.  Hostile input
 * (absolute paths, "..", links or hard links leading out of a run, devices,
 * more than the limits) is TALLY_EINVALID and nothing is imported.  Runs whose
 * id (or name) is taken here are not imported: `*skipped` has an
 * "ID: reason\n" line for each (malloc'ed, NULL when none).
 */
/** Other tools whose runs tally_import_foreign() reads. */
typedef enum {
	TALLY_FOREIGN_TFRUNS, /**< tfruns: RUN/tfruns.d/ (flags, metrics, evaluation, properties, source.tar.gz) */
	TALLY_FOREIGN_GUILD,  /**< Guild AI: RUN/.guild/ (attrs, output, sourcecode, event files) */
} tally_foreign_kind;

/**
 * Turn another tool's runs into runs of `store`, their ids and times kept:
 * `src` is one such run directory or a directory of them.  The script's
 * files are copied; flags, status, times, command, label and tags, console
 * output, metrics (tfruns' metrics.json and evaluation.json; Guild's event
 * files) and the source code become tally's.  The originals are only read.
 * A run that cannot be read, or whose id is taken here, is left out with an
 * "ID: reason\n" line in `*skipped` (malloc'ed, NULL when none).
 */
int tally_import_foreign(tally_store *store, tally_foreign_kind kind, const char *src, size_t *imported,
                         char **skipped);

int tally_import(tally_store *store, const char *src, const tally_import_options *opts, size_t *imported,
                 char **skipped);

/**
 * Copy a finished run's directory to DIR/ID, or DIR/`name` (tfruns'
 * copy_run); `files_only`: only what the script produced — no .tally/, no
 * source snapshot, no links to the project (copy_run_files).
 */
int tally_run_copy(const tally_run *run, const char *dir, const char *name, int files_only);

/** Which recorded streams tally_run_output() hands out. */
enum { TALLY_OUTPUT_STDOUT = 1, TALLY_OUTPUT_STDERR = 2, TALLY_OUTPUT_BOTH = 3 };
/** Called per recorded chunk: `stream` 0 is stdout, 1 stderr; non-zero stops the reading. */
typedef int (*tally_output_chunk_visitor)(void *ctx, int stream, const char *data, size_t len, int64_t time_ms);
/** The run's recorded console output, chunk by chunk in arrival order, of the chosen streams. */
int tally_run_output(const tally_run *run, int streams, tally_output_chunk_visitor visit, void *ctx);

/** The last `max_lines` lines of the run's console output, in a new string (caller frees). */
int tally_run_output_tail(const tally_run *run, size_t max_lines, char **out);

/**
 * The files the run produced (its source snapshot, links to project entries
 * and tally's own metadata left out), as a new JSON array of
 * {"path","size"} (caller frees).  At most `max` entries (0 = 10,000).
 */
int tally_run_files_json(const tally_run *run, size_t max, char **out);

/* ------------------------------------------------------------------ */
/* Iterating runs (served by the index)                                */
/* ------------------------------------------------------------------ */

typedef struct tally_run_iter tally_run_iter;

/** What to iterate. */
typedef struct {
	unsigned int version;  /**< TALLY_ITER_OPTIONS_VERSION */
	size_t limit;          /**< at most this many runs; 0 = all */
	int details;           /**< TALLY_ITER_COMPACT, _DETAILS or _SUMMARY_ONLY */
	const char *where;     /**< (version 2) a query, e.g. "val_acc > 0.9 and lr < 0.1"; NULL = all */
	const char *sort;      /**< (version 2) sort keys, e.g. "-val_acc,started"; NULL = newest first */
	const char *filter;    /**< (version 2) another query ANDed with `where` (a CLI's shorthand options) */
	size_t offset;         /**< (version 3) skip this many runs first (paging: offset, then limit) */
} tally_iter_options;

/** `details`: compact rows (no JSON fields), every field, or only the id,
 * the directory and the JSON summary (the quickest way to dump all runs:
 * the other fields read as empty). */
enum { TALLY_ITER_COMPACT = 0, TALLY_ITER_DETAILS = 1, TALLY_ITER_SUMMARY_ONLY = 2 };

#define TALLY_ITER_OPTIONS_VERSION 3
#define TALLY_ITER_OPTIONS_INIT {TALLY_ITER_OPTIONS_VERSION, 0, 1, NULL, NULL, NULL, 0}

/**
 * Iterate the runs of `store`, newest first, after syncing the index.
 * `where` and `sort` use the query language of `tally runs --where/--sort`
 * (see `tally help runs`); a mistake in them is TALLY_EINVALID with the
 * column in the message.
 * `opts` NULL means all runs with details.  Each tally_run_iter_next()
 * hands out a run that stays valid until the next call or
 * tally_run_iter_free().  Without `details`, the JSON accessors return
 * empty values — listing 100,000 runs then reads only compact rows.
 */
int tally_run_iter_new(tally_run_iter **out, tally_store *store, const tally_iter_options *opts);

/** 0 and a run in `*run`; 1 at the end; negative on error. */
int tally_run_iter_next(tally_run_iter *it, const tally_run **run);

/**
 * Start over from the first run, for a second pass (e.g. measure column
 * widths, then print) without holding every row in memory.  Runs recorded
 * in between may show up in the second pass.
 */
int tally_run_iter_rewind(tally_run_iter *it);

/**
 * Memos: a small text derived from what the iterator lists (a table's
 * column widths, say), kept in the index and handed back only while no run
 * changed since.  get: 0 and a malloc'ed text, 1 when there is none (or it
 * is stale), negative on error.  put: best effort, never waits for a busy
 * index.  `key` should name everything the text depends on (e.g. a limit).
 */
int tally_run_iter_memo_get(tally_run_iter *it, const char *key, char **value);
void tally_run_iter_memo_put(tally_run_iter *it, const char *key, const char *value);

/**
 * How many runs match the iterator's query (or how many there are, without
 * one), whatever its offset and limit: the total a pager shows.  Counted on
 * the first call when the iterator has a limit.  -1 on an error.
 */
int64_t tally_run_iter_total(tally_run_iter *it);

void tally_run_iter_free(tally_run_iter *it);

/* ------------------------------------------------------------------ */
/* Runs as a table (data frames: R's ls_runs(), pandas)                */
/* ------------------------------------------------------------------ */

typedef struct tally_table tally_table;

/** A column's type; every column may also have missing cells. */
typedef enum {
	TALLY_COLUMN_TEXT,    /**< tally_table_text() */
	TALLY_COLUMN_NUMBER,  /**< tally_table_number(): a double */
	TALLY_COLUMN_INTEGER, /**< tally_table_number(): a whole number */
	TALLY_COLUMN_BOOL,    /**< tally_table_number(): 0 or 1 */
	TALLY_COLUMN_TIME,    /**< tally_table_number(): milliseconds since 1970 (UTC) */
} tally_column_type;

/**
 * The runs `opts` selects (as tally_run_iter_new(): query, sort, limit), one
 * row each in that order, as columns read straight from the index (no run
 * directory, no JSON): id, dir, status, started, stopped, exit_status,
 * label, script, tags (comma-separated), epochs_completed (points in the
 * shortest val_ series), then flag_NAME for every flag of these runs (typed:
 * integer, number, bool or text when the runs disagree) and scalar_TAG
 * (the last value) for every scalar, each group sorted by name.
 */
int tally_table_new(tally_table **out, tally_store *store, const tally_iter_options *opts);
/**
 * The same columns for runs already at hand (tally_run_lookup() of their
 * directories), read from their run.json and scalar summaries instead of
 * the index: for a run that just ended, without syncing the index first.
 */
int tally_table_of_runs(tally_table **out, tally_run *const *runs, size_t n);
size_t tally_table_rows(const tally_table *table);
size_t tally_table_columns(const tally_table *table);
const char *tally_table_column_name(const tally_table *table, size_t column);
tally_column_type tally_table_column_type(const tally_table *table, size_t column);
/** 1 when the cell holds a value, 0 when it is missing (NA). */
int tally_table_has(const tally_table *table, size_t column, size_t row);
/** A number, integer, bool or time cell (0 when missing). */
double tally_table_number(const tally_table *table, size_t column, size_t row);
/** A text cell (NULL when missing); lives as long as `table`. */
const char *tally_table_text(const tally_table *table, size_t column, size_t row);
/**
 * A whole column at once (for bindings, where a call per cell costs more
 * than the cell): `values[row]` as tally_table_number() gives it and
 * `has[row]` 1 or 0, for every row; either may be NULL.  TALLY_EINVALID for a
 * column that does not exist.
 */
int tally_table_column_numbers(const tally_table *table, size_t column, double *values, unsigned char *has);
/** The same for text: `texts[row]` as tally_table_text() gives it. */
int tally_table_column_texts(const tally_table *table, size_t column, const char **texts);
void tally_table_free(tally_table *table);

/* ------------------------------------------------------------------ */
/* Completion (shells, editors)                                        */
/* ------------------------------------------------------------------ */

/** What tally_store_complete() offers. */
typedef enum {
	TALLY_COMPLETE_RUNS,    /**< run references: ids' random parts, names, recent indexes */
	TALLY_COMPLETE_FLAGS,   /**< flag names any run has */
	TALLY_COMPLETE_SCALARS, /**< scalar tags any run has */
	TALLY_COMPLETE_TAGS,    /**< tags (tally tag) any run has */
} tally_complete_kind;

/** A candidate: the text to insert and a few words about it ("" when none). */
typedef struct {
	char *value;
	char *description;
} tally_completion;

/**
 * Candidates starting with `prefix`, at most `max`, from the index as it is:
 * nothing is synced or created, so this stays quick at 100,000 runs (a run
 * recorded since the last command that read the index may be missing).
 * For TALLY_COMPLETE_RUNS an empty prefix gives the latest runs, digits the
 * recent indexes ("1" = latest), anything else ids' random parts, whole ids
 * and names.  A runs directory without an index gives none.  Free the array
 * with tally_completions_free().
 */
int tally_store_complete(tally_store *store, tally_complete_kind kind, const char *prefix, size_t max,
                         tally_completion **out, size_t *n_out);
void tally_completions_free(tally_completion *candidates, size_t n);

/** Fields of an indexed run, cheap to read (no JSON parsing). */
const char *tally_run_label(const tally_run *run);       /**< "" when none */
const char *tally_run_script(const tally_run *run);      /**< "" when none */
/** Exit status, or -1 when the run has none (still running, killed by a signal). */
int tally_run_exit_status(const tally_run *run);
/** `name=value` pairs separated by spaces, e.g. "lr=0.05 epochs=20". */
const char *tally_run_flags_text(const tally_run *run);
/** Last value of each scalar but the sys/... metrics, e.g. "loss=0.31 val_acc=0.93". */
const char *tally_run_scalars_text(const tally_run *run);
/** The flags as a JSON object of typed values. */
const char *tally_run_flags_json(const tally_run *run);
/** Scalar summaries: tag → {"last","last_step","first","min","max","avg","count",...}. */
const char *tally_run_scalars_json(const tally_run *run);
/** Tags as a JSON array of strings. */
const char *tally_run_tags_json(const tally_run *run);
/**
 * The run as one compact JSON object — id, status, started, stopped,
 * exit_status, label, script, tags, flags, scalars; name, sweep, marked and
 * comments (their count) when it has them — without its directory
 * (for runs looked up and iterator rows with details; "{}" for other rows).
 */
const char *tally_run_summary_json(const tally_run *run);
/**
 * Where the run was made, which the summary leaves out: {"host", "commit"}
 * (git's commit), each as run.json records it and only when it does, as
 * compact JSON (for runs looked up; "{}" for iterator rows).
 */
const char *tally_run_origin_json(const tally_run *run);

/* ------------------------------------------------------------------ */
/* Launching a tracked run                                             */
/* ------------------------------------------------------------------ */

/**
 * The flags `script` declares — detected from its code (R and Python globals,
 * tfruns flags(), argparse, click), its `#|` annotations and front matter —
 * as JSON text (malloc'ed): {"origin", "declared", "dest", "language",
 * "flags": [{"name", "type", "default": {"type", "text", "value"},
 * "description", "min", "max", "choices", "required", "line", …}]}.
 */
int tally_describe_flags(const char *script, char **json_out);

/** What `tally run` asks for. */
typedef struct {
	unsigned int version;          /**< TALLY_LAUNCH_OPTIONS_VERSION */
	const char *script;            /**< script path, or NULL with `command` */
	const char *const *command;    /**< `-- CMD ARGS…`, NULL-terminated; or NULL */
	const char *const *flag_args;  /**< "NAME=VALUE" strings, NULL-terminated; or NULL */
	const char *interpreter;       /**< overrides the one chosen by extension; may be NULL */
	const char *label;
	const char *const *tags;       /**< NULL-terminated, may be NULL */
	const char *comment;
	int quiet;                     /**< record without echoing output */
	int echo_fd;                   /**< where live output goes (normally 1); stderr goes to 2 */
	const char *project_dir;       /**< NULL: the current directory */
	const char *flags_file;        /**< YAML flag values (below the command line); may be NULL */
	int force_flags;               /**< accept flags the script does not declare */
	int no_system_metrics;         /**< (version 3) no sys/... scalars, whatever tally.yml says */
	const char *name;              /**< (version 4) a unique name for the run (run-manager); may be NULL */
	int replace;                   /**< (version 4) archive the run holding `name` instead of failing */
	int notify_fd;                 /**< (version 4) when > 0: "ok ID\n" is written there as soon as
	                                    the run exists; then the descriptor is pointed at /dev/null */
	const char *reproduce_from;    /**< (version 4) an earlier run's directory: its source snapshot
	                                    is the new run's sources, its git state recorded, and the
	                                    new run's `reproduces` says its id (tally reproduce --run) */
	const char *sweep_id;          /**< (version 5) the sweep this run is a trial of; may be NULL */
	long sweep_trial;              /**< (version 5) with sweep_id: the trial's number (from 1) */
	int check_only;                /**< (version 5) check everything, create nothing: 0 when a launch
	                                    with these options would start */
} tally_launch_options;

/* Not to be grown: tally_sweep_options embeds it by value (its later fields would move). */
#define TALLY_LAUNCH_OPTIONS_VERSION 5
#define TALLY_LAUNCH_OPTIONS_INIT \
	{TALLY_LAUNCH_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 1, NULL, NULL, 0, 0, NULL, 0, -1, NULL, NULL, 0, 0}

/**
 * Validate everything (script, interpreter, flags) before creating anything;
 * then create the run directory, snapshot the sources, start the child in
 * its own process group with the run directory as working directory, record
 * its output and scalars while echoing them, and finish the run's metadata
 * truthfully however the child ends.  SIGINT/SIGTERM/SIGHUP received by the
 * caller during the run are forwarded to the child's process group.
 *
 * On success `*out` is the finished run and `*exit_code` the value a shell
 * would report for the child (128+signal when it was killed).  A failure
 * before the run exists returns an error and leaves nothing behind.
 */
int tally_launch(tally_run **out, int *exit_code, tally_store *store,
                 const tally_launch_options *opts);

/**
 * Run the queued run in `run_dir` (made by tally_slurm_submit() or a Slurm sweep), as
 * the batch job it was queued for does: from its project directory (this
 * process changes into it), with the options recorded in its
 * .tally/launch.json, in the same run.  Then as tally_launch().  A run that
 * is no longer queued (a requeued job) is run again as a new run.
 */
int tally_launch_queued(tally_run **out, int *exit_code, tally_store *store, const char *run_dir, int quiet);

/** How runs go to Slurm (tally run/tune --executor slurm). */
typedef struct {
	unsigned int version;          /**< TALLY_SLURM_OPTIONS_VERSION */
	const char *const *options;    /**< sbatch options ("--partition=gpu --time=2:00:00"), NULL-terminated,
	                                    each split into words as a shell would (quotes, backslashes; nothing
	                                    expanded); after tally.yml's `slurm:`, the script's and its #SBATCH lines */
	unsigned int gpus;             /**< GPUs per run (--gres=gpu:N); 0: none asked */
	const char *tally;             /**< the tally program the jobs run, at the same path on the nodes */
	const char *job_name;          /**< NULL: "tally" */
} tally_slurm_options;

#define TALLY_SLURM_OPTIONS_VERSION 1

/**
 * Create the run "queued" (checked as tally_launch() checks it) and submit
 * it with sbatch; `*job_id` (malloc'ed) is Slurm's job id.  The job's tally
 * runs it on a compute node (tally_launch_queued()).  A failed submission
 * leaves nothing behind; without Slurm's commands on PATH, one error says so.
 */
int tally_slurm_submit(tally_run **out, char **job_id, tally_store *store, const tally_launch_options *launch,
                       const tally_slurm_options *slurm);

/* ------------------------------------------------------------------ */
/* Diffs of runs (libgit2)                                             */
/* ------------------------------------------------------------------ */

/** One file of a diff. */
typedef struct {
	const char *path;        /**< the file (in run B; in run A when removed) */
	const char *old_path;    /**< where it was in run A (renamed), else the same as path */
	const char *change;      /**< "added", "removed", "modified" or "renamed" */
	int binary;              /**< no line diff: a binary file */
	size_t additions, deletions;
	const char *patch;       /**< the unified diff (git's format), "" when none */
} tally_file_diff;

typedef int (*tally_file_diff_visitor)(void *ctx, const tally_file_diff *d);

/**
 * The source snapshots of two runs compared file by file (what each run's
 * .tally/sources.json lists, read from the run): every added, removed,
 * renamed (same content, another path) and modified file, in path order,
 * handed to `visit` with its unified diff (`context` lines around changes).
 * Returns 0, or the visitor's non-zero value, or a negative error.
 */
int tally_diff_sources(const tally_run *a, const tally_run *b, unsigned context, tally_file_diff_visitor visit,
                       void *ctx);

/** A unified diff of two texts, labelled `a_label` and `b_label` ("-" lines from a). */
int tally_diff_texts(const char *a, size_t a_len, const char *a_label, const char *b, size_t b_len,
                     const char *b_label, unsigned context, tally_file_diff_visitor visit, void *ctx);

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

/**
 * Which way scalar `tag` is better, from its name: 1 larger (acc, auc,
 * precision, recall, f1), -1 smaller (loss, err, mse, mae, rmse,
 * perplexity), 0 not known.  Comparisons mark the best value by it.
 */
int tally_scalar_direction(const char *tag);

/**
 * Write a self-contained HTML report to `path` (atomically): of one run
 * (n == 1: summary, flags, scalars, a chart per scalar with its val_
 * counterpart, console output, source code, files and images), or a
 * comparison of n runs (flags and scalars side by side with differences
 * marked, overlaid charts, source and output diffs).  No script, no network,
 * no file besides itself; every text from a run is escaped.
 */
int tally_report_write(const tally_run *const *runs, size_t n, const char *path);

/* ------------------------------------------------------------------ */
/* Sweeps: one script over a search space, each trial a tracked run    */
/* ------------------------------------------------------------------ */

typedef struct tally_sweep tally_sweep;

/**
 * NAME=VALUE text that `tally run` types back to `json_value` (a JSON scalar:
 * "0.1", "3.0", "\"007\"", "true"): strings single-quoted, 3.0 kept a float.
 * malloc'ed into `*out`.
 */
int tally_flag_assignment(char **out, const char *name, const char *json_value);

/** Whether the text after NAME= is a search space ([a,b], uniform[a:b], …) rather than one value. */
int tally_flag_is_search_space(const char *value);
/**
 * Whether `assignment` ("NAME=VALUE") makes a sweep of `script` (may be NULL):
 * a search space, except a plain list ([128, 64]) given to a flag the script
 * declares as taking a list, which is that flag's value.
 */
int tally_flag_is_sweep(const char *script, const char *assignment);

/** What to sweep. */
typedef struct {
	unsigned int version;          /**< TALLY_SWEEP_OPTIONS_VERSION */
	tally_launch_options launch;   /**< the trials' script or command, label, tags…  Its flag_args mix
	                                    fixed values (epochs=5) and search spaces: [a,b], choice[a,b],
	                                    range[a:b:step], linspace[a:b:n], logspace[a:b:n], uniform[a:b],
	                                    loguniform[a:b], randint[a:b], lograndint[a:b] */
	const char *strategy;          /**< "grid", "random", "tpe" (Bayesian search), or NULL: grid when
	                                    every space is a list and neither `sample` nor `max_trials` is
	                                    set, else random */
	double sample;                 /**< 0 < sample <= 1: that share of the grid (at least one trial); 0: unset */
	uint64_t max_trials;           /**< 0: unset (every grid point; 20 random draws) */
	uint64_t seed;                 /**< with `has_seed`; otherwise a fresh seed (recorded) */
	int has_seed;
	const char *trials_file;       /**< one trial per row (.csv, .yml, .json) instead of search spaces */
	const char *objective;         /**< the scalar to optimize; NULL: the first of val_loss, loss logged */
	int maximize;                  /**< larger objective is better */
	/* version 2: TPE's settings and pruning (0 or NULL: the default) */
	int multivariate;              /**< tpe: model the flags jointly rather than one by one */
	long startup_trials;           /**< tpe: random trials before the model takes over (10) */
	long candidates;               /**< tpe: draws scored per proposal (24) */
	const char *prune;             /**< NULL, "median" or "asha": stop hopeless trials early (needs `objective`) */
	long prune_startup;            /**< median: trials that must complete before any is pruned (5) */
	long prune_warmup;             /**< median: steps before a trial can be pruned (0) */
	long prune_min_step;           /**< asha: the first rung's step (1/100 of the longest completed trial) */
	long prune_factor;             /**< asha: the reduction factor, 2 or more (3) */
	double prune_grace;            /**< seconds between a pruned trial's SIGTERM and SIGKILL (10) */
} tally_sweep_options;

#define TALLY_SWEEP_OPTIONS_VERSION 2

/**
 * Plan a sweep: parse the search spaces, pick its trials, and check every
 * value against the script's declared flags (types, min/max, choices).
 * Nothing is written: tally_sweep_execute() records and runs it.
 */
int tally_sweep_plan(tally_sweep **out, tally_store *store, const tally_sweep_options *opts);

/** An existing sweep by id or unique id prefix (to resume or show it). */
int tally_sweep_open(tally_sweep **out, tally_store *store, const char *ref);

/** The sweeps of `store`, newest first, as a JSON array of summaries (malloc'ed). */
int tally_sweep_list(tally_store *store, char **json_out);

void tally_sweep_free(tally_sweep *sweep);

const char *tally_sweep_id(const tally_sweep *sweep);          /**< "" until it is recorded */
/** running, completed, interrupted (stopped or killed: resumable), failed (--fail-fast), or queued
 *  (detached: its controller waits in Slurm's queue). */
const char *tally_sweep_status(const tally_sweep *sweep);
/** "20 trials (random from 6 × continuous)" */
const char *tally_sweep_describe(const tally_sweep *sweep);
/** The objective's scalar ("" when none is set and no trial logged val_loss or loss). */
const char *tally_sweep_objective(const tally_sweep *sweep, int *maximize);
/** The record (space, options, seed, trials and their runs' state) as JSON text. */
const char *tally_sweep_json(tally_sweep *sweep);

/** One trial and, once it ran, its run. */
typedef struct {
	const char *flags_json;        /**< the values it runs with, {"lr": 0.01, …} */
	const char *run_id;            /**< its latest run, NULL before it ran */
	const char *status;            /**< pending, running, completed, error, terminated or pruned */
	int has_objective;             /**< completed, with the objective: it counts for the best */
	double objective;              /**< the objective scalar's last value */
	int64_t duration_ms;           /**< -1 when unknown */
	int logged_objective;          /**< its run logged the objective, also when it failed (`objective` is the last value) */
} tally_sweep_trial;

size_t tally_sweep_trial_count(const tally_sweep *sweep);
/** Trial `i` (from 0); its texts stay valid until the sweep changes or is freed. */
int tally_sweep_trial_get(const tally_sweep *sweep, size_t i, tally_sweep_trial *out);
/** The best trial so far (index from 0), or -1. */
long tally_sweep_best(const tally_sweep *sweep);

enum {
	TALLY_SWEEP_STARTED,           /**< the trials to run are known */
	TALLY_SWEEP_TRIAL_STARTED,
	TALLY_SWEEP_TRIAL_ENDED,
	TALLY_SWEEP_TICK,              /**< about once a second while trials run */
	TALLY_SWEEP_ENDED,
};

/** Where a running sweep stands, handed to the progress callback. */
typedef struct {
	int event;                     /**< TALLY_SWEEP_* */
	long trial;                    /**< the trial an event concerns (from 0), else -1 */
	const char *run_id;            /**< its run (NULL if none was created) */
	const char *error;             /**< TRIAL_ENDED without a run: why it did not start */
	size_t total, completed, failed, running, pending;
	size_t done_before;            /**< trials completed (or pruned) before this execution (resume) */
	int64_t eta_ms;                /**< -1 while unknown */
	size_t pruned;                 /**< (exec version 2) trials stopped early by the pruner (not in `failed`) */
	long best;                     /**< (exec version 2) the best trial so far (from 0), or -1 */
} tally_sweep_progress;

/** How to run it. */
typedef struct {
	unsigned int version;          /**< TALLY_SWEEP_EXEC_VERSION */
	unsigned int parallel;         /**< trials at a time (0 = 1, or one per GPU) */
	const char *const *gpus;       /**< NULL-terminated GPU ids; worker k gets CUDA_VISIBLE_DEVICES=gpus[k] */
	int fail_fast;                 /**< stop starting trials after one fails */
	int retry_failed;              /**< run trials whose run failed again (terminated ones always are) */
	int echo;                      /**< trials' output to this process's stdout/stderr */
	void (*progress)(void *ctx, tally_sweep *sweep, const tally_sweep_progress *p);
	void *ctx;
	const char *executor;          /**< (version 3) "local" or "slurm"; NULL: as the sweep began, else local */
	const tally_slurm_options *slurm; /**< (version 3) with "slurm": how trials are submitted (a resume
	                                    without it submits as the sweep did) */
} tally_sweep_exec_options;

/* Version 2: the progress callback's tally_sweep_progress has `pruned` and `best`
 * (a library that only knows version 1 refuses version 2 rather than leave them unset).
 * Version 3: `executor` and `slurm`. */
#define TALLY_SWEEP_EXEC_VERSION 3

/**
 * Record the sweep (a new one) and run its trials that have not completed,
 * `parallel` at a time, each as a tracked run linked to the sweep.  A trial
 * that fails is recorded and the sweep goes on.  SIGINT/SIGTERM/SIGHUP stop
 * it: running trials get the signal and end as terminated; the sweep is
 * then "interrupted" and tally_sweep_execute() on tally_sweep_open() of it
 * resumes.  Returns 0 when the sweep ran to its end (whatever the trials'
 * outcome) or was stopped; negative on errors.
 */
int tally_sweep_execute(tally_sweep *sweep, const tally_sweep_exec_options *opts);

/**
 * Record the sweep and submit its controller to Slurm as a job of its own
 * (one core), which runs `tally tune --resume ID` there: `opts` must name
 * the "slurm" executor.  The sweep is "queued" until the job starts it;
 * `*job_id` (malloc'ed) is the controller's job.  Nothing runs here.
 */
int tally_sweep_detach(tally_sweep *sweep, const tally_sweep_exec_options *opts, char **job_id);

/* ------------------------------------------------------------------ */
/* The web view (tally view)                                           */
/* ------------------------------------------------------------------ */

typedef struct tally_view tally_view;

typedef struct {
	unsigned int version;  /**< TALLY_VIEW_OPTIONS_VERSION */
	const char *host;      /**< the address to listen on; NULL: 127.0.0.1 */
	unsigned int port;     /**< 0: any free port */
	const char *token;     /**< required of every request; NULL: none on loopback, a random one elsewhere */
} tally_view_options;

#define TALLY_VIEW_OPTIONS_VERSION 1
#define TALLY_VIEW_OPTIONS_INIT {TALLY_VIEW_OPTIONS_VERSION, NULL, 0, NULL}

/**
 * Serve the runs of `store` to browsers (the page and the JSON API of
 * docs/view.md) on threads of their own, until tally_view_stop().
 * libmicrohttpd is loaded now; TALLY_ERROR when it cannot be, or when the
 * address cannot be listened on.
 */
int tally_view_start(tally_view **out, tally_store *store, const tally_view_options *opts);
/** The URL to open, with the token when there is one. */
const char *tally_view_url(const tally_view *view);
/** Stop serving: event streams end, requests in progress finish. */
void tally_view_stop(tally_view *view);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_H */

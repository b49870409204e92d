/*
 * One run (libtally, internal): run.json and its locks, the run handle,
 * output recording, the source snapshot and git state, system metrics.
 */
#ifndef TALLY_LIB_RUN_H
#define TALLY_LIB_RUN_H

#include <pthread.h>

#include "lib/flags/flags.h"
#include "lib/scalars/scalars.h"
#include "lib/store/store.h"

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
/* flock(.tally/edit.lock) of a run: the fd (close to unlock), or -1. */
int tally__meta_edit_lock(const char *dir);
/* Why a sweep's pruner asked the run in `dir` to stop (.tally/prune.json), malloc'ed; NULL if it did not. */
char *tally__meta_prune_reason(const char *dir);
/* Take label, tags, marked and comments from the run.json on disk into `meta`
 * (call under the edit lock, before writing `meta` over it). */
void tally__meta_merge_annotations(json_t *meta, const char *dir);

/* ---- output recording (output.c) ---- */

typedef struct tally_output tally_output;

enum { TALLY_STREAM_STDOUT = 0, TALLY_STREAM_STDERR = 1 };

int tally__output_open(tally_output **out, const char *dir, tally_outparse *parser, tally_scalar_log *log);
typedef int (*tally_output_visitor)(void *ctx, int stream, const char *data, size_t len, int64_t time_ms);
/* Every recorded chunk of the selected streams (bit masks 1 << TALLY_STREAM_*), in order. */
int tally__output_read(const char *dir, int streams, tally_output_visitor visit, void *ctx);
/* The same for the bytes from `from` to `to` (offsets in the output), and the output's size. */
int tally__output_read_range(const char *dir, int streams, uint64_t from, uint64_t to, tally_output_visitor visit,
                             void *ctx, uint64_t *size);
/* Record one chunk read from the child: raw bytes, index record, scalar lines. */
int tally__output_chunk(tally_output *o, int stream, const char *data, size_t len, int64_t time_ms);
/* Write the buffered index records (readers of a live run see times and streams). */
int tally__output_flush(tally_output *o);
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

/* ---- system metrics of a running run (sysmetrics.c) ---- */

typedef struct tally_sysmetrics tally_sysmetrics;
/* Sample the process tree of `root` (started at `started_ms`) and the GPUs. */
int tally__sysmetrics_new(tally_sysmetrics **out, pid_t root, int64_t started_ms);
/* Log one sample of every `sys/...` scalar into `log`. */
void tally__sysmetrics_sample(tally_sysmetrics *m, tally_scalar_log *log, int64_t now_ms);
void tally__sysmetrics_free(tally_sysmetrics *m);

/* ---- runs (run.c) ---- */

/* The slots of tally_run.owned that are not the ones refresh_fields() numbers 0 to 5. */
enum { TALLY_RUN_OWNED_ORIGIN = 6, TALLY_RUN_OWNED_STATUS, TALLY_RUN_OWNED_LABEL, TALLY_RUN_OWNED_SCRIPT,
       TALLY_RUN_OWNED_N };

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
	    *summary_json, *origin_json;
	int64_t started_ms, stopped_ms;
	int exit_status;
	/* Texts rendered from `meta` for the fields above; a run read from its
	 * index row (tally_run_lookup_summaries()) owns its status, label and
	 * script too, and has no `meta` until tally_run_json() reads run.json. */
	char *owned[TALLY_RUN_OWNED_N];
	bool from_index;
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
/* The user running tally ($LOGNAME, $USER…, else the account's name, as getpass.getuser()), or NULL. */
const char *tally__user_name(void);
/* A new run.json object with what every run records (id and times come later). */
json_t *tally__meta_base(const tally_store *store, const char *script, const char *const *argv);
/* "lr=0.05 epochs=20" from a flags object */
char *tally__flags_text(json_t *flags);
/* "loss=0.31 val_acc=0.93" from a scalars summary object */
char *tally__scalars_text(json_t *scalars);
/* The compact JSON object `tally runs --format json` prints for a run (without "dir"). */
char *tally__summary_json(json_t *meta, json_t *scalars);
/* What run.json says of where the run was made that the summary leaves out:
 * {"host", "commit"} (git's), each as recorded and only when recorded. */
char *tally__origin_json(json_t *meta);
/* Whether the fields a run handle reads of run.json (label, script: text;
 * started_ms, stopped_ms, exit_status: integers; each may be absent or null)
 * have the types the index's columns keep: a run whose fields do not is
 * looked up from its directory, not its index row. */
bool tally__meta_fields_plain(json_t *meta);

/* ---- runs that go through Slurm (slurmrun.c) ---- */

/* RUNS/.slurm: batch scripts, job logs, and active/ID for each unfinished Slurm run. */
#define TALLY_SLURM_DIR ".slurm"
/* Create a run that waits in Slurm's queue: its directory, .tally/launch.json
 * (what its job launches), and run.json from `meta` with status "queued". */
int tally__run_queue(char id[TALLY_ID_MAX], char **dir_out, tally_store *store, json_t *meta, json_t *launch);
/* Merge `fields` into the "slurm" object of a run that is still queued. */
int tally__run_note_slurm(const char *dir, json_t *fields);
/* The job's tally takes the queued run in `dir` over: its lock, id, queued
 * time, job and annotations kept, the rest from `meta` (TALLY_EEXISTS when it
 * is no longer queued: a requeued job). */
int tally__run_adopt(tally_run **out, tally_store *store, const char *dir, json_t *meta);
/* A requeued Slurm job started its run again as `new_id`: the run in `dir`,
 * the earlier attempt, says so ("requeued_as") and ends terminated. */
void tally__run_note_requeue(tally_store *store, const char *dir, const char *new_id);
/* The new attempt's run.json: the job as the earlier one recorded it, restarted. */
void tally__run_requeue_meta(json_t *meta, const char *old_dir);
/* The run a requeued job's trial goes on in: `id`, or the last run its "requeued_as" leads to (malloc'ed). */
char *tally__run_requeued_as(const char *runs_dir, const char *id);
/* A queued run that never got its job (its submitter died before sbatch
 * answered, or `known_gone`: the caller knows it did) ends terminated; true if so. */
bool tally__run_drop_unsubmitted(const char *dir, const char *host, bool known_gone);
/* A queued run whose job could not launch it: status error, `why` the reason. */
void tally__run_fail_queued(const char *dir, const char *why);
/* Make a Slurm run's status truthful from what Slurm says of its job;
 * `*final` once neither the run nor its job will change any more. */
int tally__slurm_reconcile(const char *dir, const char *host, const char *runs_dir, bool *final);
/* Reconcile the store's active Slurm runs whose jobs left the queue. */
void tally__slurm_refresh(tally_store *store);

#endif

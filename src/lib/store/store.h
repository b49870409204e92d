/*
 * The runs directory (libtally, internal): opening it, run ids, directory
 * signatures, and the pending list that tells the index about new runs.
 */
#ifndef TALLY_LIB_STORE_H
#define TALLY_LIB_STORE_H

#include <sqlite3.h>

#include "lib/core/core.h"

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

/* Create the runs directory if it is not there, with a .gitignore that keeps
 * git (and so the source snapshot) out of it. */
int tally__store_create(tally_store *store);
/* Create a fresh run directory with a unique time-ordered id (mkdir, never check-then-create). */
int tally__store_new_run_dir(tally_store *store, char id[TALLY_ID_MAX], char **dir_out);
/* The signature of a directory ("mtime_ns:inode:nlink:size") into `out` ("" on failure). */
struct stat;
void tally__format_dir_sig(const struct stat *st, char out[64]);
void tally__dir_sig(int dirfd, const char *path, char out[64]);
/* Tell other tallies sharing the runs directory that something changed. */
void tally__store_touch(tally_store *store);
/* The file name part of the run directory, when `dir` is directly inside the store. */
bool tally__is_run_dir_name(const char *name);

/* ---- the pending list (pending.c) ---- */

/* Tell the index, without opening it, that this process created run
 * `dir_name` (with the runs directory's signatures around it, `sig_before`
 * and `sig_after`), or moved it in or out. */
void tally__store_note_new_run(tally_store *store, const char *dir_name);
/* A run changed in place (an annotation): the next sync re-reads it. */
void tally__store_note_changed_run(tally_store *store, const char *dir_name);

/* One line of the pending list, cut in place in the text it was read from. */
typedef struct {
	char *name, *before, *after;
	bool used;
} tally_pending_run;
/* The pending runs into `*out` (free it), their text into `text`, and the
 * bytes read into `*consumed` (for tally__pending_drop()); returns how many. */
size_t tally__pending_read(tally_store *store, tally_pending_run **out, tally_buf *text, size_t *consumed);
/* Remove the first `consumed` bytes of the pending list, keeping lines appended since. */
void tally__pending_drop(tally_store *store, size_t consumed);

#endif

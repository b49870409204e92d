/*
 * Moving runs about: into the runs directory's archive and back (tally
 * delete / restore), out of it for good (tally purge), and stopping a live
 * run (tally stop).
 *
 * The archive is `RUNS/.archive`, itself a runs directory with its own
 * index: a dot-name is never taken for a run, so archived runs drop out of
 * every listing, and `tally runs --archived` is a listing of that store.
 * A move is one rename(2) inside one filesystem, so a run is always wholly
 * in one place; both stores' pending lists are told, with the directories'
 * signatures around the rename, so neither index needs a scan to notice.
 */
#include "lib/manage/manage.h"
#include "lib/slurm/slurm.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"

#define ARCHIVE_DIR ".archive"

int tally_store_open_archive(tally_store **out, tally_store *store)
{
	char *path = tally_path_join(store->path, ARCHIVE_DIR);
	if (!path)
		return tally__error_oom();
	int rc = tally_store_open(out, path);
	free(path);
	if (!rc)
		(*out)->is_archive = true;
	return rc;
}

/* The run's directory name when it sits directly in `store`, else NULL. */
static const char *name_in_store(const tally_run *run, const tally_store *store)
{
	size_t n = strlen(store->path);
	if (strncmp(run->dir, store->path, n) || run->dir[n] != '/' || strchr(run->dir + n + 1, '/'))
		return NULL;
	return run->dir + n + 1;
}

static int refuse_live(const tally_run *run, const char *what)
{
	return tally__error(TALLY_ELOCKED, "run %s is still %s — stop it first (tally stop %s), or %s it with --force",
	                    run->id, strcmp(tally_run_status(run), "queued") ? "running" : "queued", run->id, what);
}

/* Live here, or sent to Slurm and still queued or running there (its job would
 * start, or go on, with its run gone). */
static bool in_use(const tally_run *run)
{
	const char *status = tally_run_status(run);
	return tally_run_is_live(run) || ((!strcmp(status, "queued") || !strcmp(status, "running")) &&
	                                  tally_run_is_slurm(run) && tally_run_in_slurm(run)); /* as of now */
}

int tally_run_move(tally_run *run, tally_store *to)
{
	const char *name = name_in_store(run, run->store);
	if (!name)
		return tally__error(TALLY_EINVALID, "run %s is not in the runs directory '%s' — move it there first", run->id,
		                    run->store->path);
	if (in_use(run))
		return refuse_live(run, "delete");
	struct stat st;
	int rc = tally__store_create(to);
	if (rc)
		return rc;
	/* Back from the archive: a name taken meanwhile by another run stays with that one. */
	const char *run_name = json_string_value(json_object_get(run->meta, "name"));
	int name_lock = -1;
	if (run_name && !to->is_archive && (rc = tally__name_claim(to, run_name, false, &name_lock)))
		return rc;
	char *target = tally_path_join(to->path, name);
	if (!target) {
		if (name_lock >= 0)
			close(name_lock);
		return tally__error_oom();
	}
	/* Edits (tally tag …) wait while the run moves, and then find it gone. */
	int lock = tally__meta_edit_lock(run->dir);
	tally__dir_sig(AT_FDCWD, run->store->path, run->store->sig_before);
	tally__dir_sig(AT_FDCWD, to->path, to->sig_before);
	if (lstat(target, &st) == 0)
		rc = tally__error(TALLY_EEXISTS, "'%s' already exists — a run with id %s is there already", target, run->id);
	else if (rename(run->dir, target) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot move run %s to '%s'", run->id, to->path);
	if (lock >= 0)
		close(lock);
	if (rc) {
		if (name_lock >= 0)
			close(name_lock);
		free(target);
		return rc;
	}
	tally__dir_sig(AT_FDCWD, run->store->path, run->store->sig_after);
	tally__dir_sig(AT_FDCWD, to->path, to->sig_after);
	/* The name is noted before the run's own fields change below. */
	tally__store_note_new_run(run->store, name);
	tally__store_note_new_run(to, name);
	if (name_lock >= 0)
		close(name_lock);
	/* One fsync per directory for a whole batch of moves, when the stores are freed. */
	run->store->fsync_on_free = to->fsync_on_free = true;
	tally__store_touch(run->store);
	tally__store_touch(to);
	free(run->dir);
	run->dir = target;
	run->store = to;
	return 0;
}

int tally_run_remove(tally_run *run)
{
	const char *name = name_in_store(run, run->store);
	if (!name)
		return tally__error(TALLY_EINVALID, "run %s is not in the runs directory '%s'", run->id, run->store->path);
	if (in_use(run))
		return refuse_live(run, "purge");
	/* First out of sight under a dot-name (one rename), then removed: a crash
	 * halfway leaves a hidden leftover, never half a run that looks whole. */
	tally_buf doomed = TALLY_BUF_INIT;
	tally_buf_printf(&doomed, "%s/.purging-%s", run->store->path, name);
	if (tally_buf_oom(&doomed))
		return tally__error_oom();
	tally__dir_sig(AT_FDCWD, run->store->path, run->store->sig_before);
	int rc = 0;
	tally_remove_tree(doomed.ptr); /* what a purge of this id that crashed left */
	if (rename(run->dir, doomed.ptr) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot remove run %s", run->id);
	else {
		tally__dir_sig(AT_FDCWD, run->store->path, run->store->sig_after);
		tally__store_note_new_run(run->store, name);
		tally__store_touch(run->store);
		if (tally_remove_tree(doomed.ptr) < 0)
			rc = tally__error_errno(TALLY_ERROR, "run %s is gone from the listing but '%s' could not be removed fully",
			                        run->id, doomed.ptr);
	}
	tally_buf_release(&doomed);
	return rc;
}

/* The supervising tally's pid, when the run is live on this host. */
static int supervisor_pid(const tally_run *run, pid_t *pid)
{
	json_t *meta = NULL;
	int rc = tally__meta_load(&meta, run->dir, run->store->host);
	if (rc)
		return rc;
	const char *host = json_string_value(json_object_get(meta, "host"));
	json_int_t p = json_integer_value(json_object_get(meta, "pid"));
	if (host && strcmp(host, run->store->host))
		rc = tally__error(TALLY_EINVALID, "run %s runs on host %s — stop it there", run->id, host);
	else if (p <= 1 || p > INT_MAX) /* kill(-1) or a truncated pid would signal other processes */
		rc = tally__error(TALLY_ECORRUPT, "run %s records no process id", run->id);
	*pid = (pid_t)p;
	json_decref(meta);
	return rc;
}

/* The script's process (group leader): the supervisor's child, from /proc. */
static pid_t script_pid(pid_t supervisor)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)supervisor, (int)supervisor);
	tally_buf text = TALLY_BUF_INIT;
	pid_t child = tally_read_file(&text, path, 4096) == 0 && text.ptr ? (pid_t)strtol(text.ptr, NULL, 10) : 0;
	tally_buf_release(&text);
	return child;
}

/* A run sent to Slurm that is queued or running: its job is cancelled (Slurm
 * sends SIGTERM, then SIGKILL after its KillWait), a queued one recorded as
 * terminated at once.  1 when the run is no Slurm run. */
static int stop_slurm_run(tally_run *run)
{
	json_t *meta = NULL;
	int rc = tally__meta_load(&meta, run->dir, run->store->host);
	if (rc)
		return rc;
	const char *job = json_string_value(json_object_get(json_object_get(meta, "slurm"), "job"));
	const char *status = json_string_value(json_object_get(meta, "status"));
	bool unsubmitted = !job && !strcmp(status, "queued") && json_object_get(meta, "slurm");
	json_decref(meta);
	if (unsubmitted) /* its submission never reached Slurm: nothing to cancel */
		return tally__run_drop_unsubmitted(run->dir, run->store->host, true) ? 0 : 1;
	meta = NULL;
	if ((rc = tally__meta_load(&meta, run->dir, run->store->host)))
		return rc;
	job = json_string_value(json_object_get(json_object_get(meta, "slurm"), "job"));
	status = json_string_value(json_object_get(meta, "status"));
	if (!job || (strcmp(status, "queued") && strcmp(status, "running"))) {
		json_decref(meta);
		return 1;
	}
	bool final = false;
	rc = tally__slurm_cancel(job, NULL);
	if (!rc)
		rc = tally__slurm_reconcile(run->dir, run->store->host, run->store->path, &final);
	json_decref(meta);
	return rc;
}

int tally_run_stop(tally_run *run, int hard)
{
	int slurm = stop_slurm_run(run);
	if (slurm <= 0)
		return slurm;
	if (!tally_run_is_live(run))
		return tally__error(TALLY_EINVALID, "run %s is not running", run->id);
	pid_t pid;
	int rc = supervisor_pid(run, &pid);
	if (rc)
		return rc;
	/* Still live after the lock check: the pid is the supervisor's (it holds
	 * the lock for the run's whole life), not a recycled one. */
	if (!hard) {
		/* The supervisor passes it on to the script's process group and records the run as terminated. */
		if (kill(pid, SIGTERM) < 0)
			return tally__error_errno(TALLY_ERROR, "cannot signal run %s (process %d)", run->id, (int)pid);
		return 0;
	}
	pid_t child = script_pid(pid);
	if (child <= 1)
		return tally__error(TALLY_ERROR, "cannot find the script's process of run %s", run->id);
	if (killpg(child, SIGKILL) < 0 && errno != ESRCH)
		return tally__error_errno(TALLY_ERROR, "cannot kill run %s (process group %d)", run->id, (int)child);
	return 0;
}

/* ---- claiming a run name (names.c has the lock; --replace archives the holder) ---- */

/* Archive the run `dir_name` of `store` so that its name is free. */
static int archive_holder(tally_store *store, const char *dir_name, const char *name)
{
	char *dir = tally_path_join(store->path, dir_name);
	tally_run *old = NULL;
	tally_store *archive = NULL;
	int rc = dir ? tally__run_load_dir(&old, store, dir) : tally__error_oom();
	if (!rc && in_use(old))
		rc = tally__error(TALLY_ELOCKED, "the run named '%s' (%s) is still running — stop it before replacing it", name,
		                  old->id);
	if (!rc)
		rc = tally_store_open_archive(&archive, store);
	if (!rc)
		rc = tally_run_move(old, archive);
	tally_run_free(old);
	tally_store_free(archive);
	free(dir);
	return rc;
}

int tally__name_claim(tally_store *store, const char *name, bool replace, int *lock_fd)
{
	char *holder = NULL;
	int fd = -1;
	int rc = tally__name_lock(store, name, &fd, &holder);
	if (!rc && holder && !replace)
		rc = tally__error(TALLY_EEXISTS, "run name '%s' is taken by run %s — choose another, or --replace archives it",
		                  name, holder);
	else if (!rc && holder)
		rc = archive_holder(store, holder, name);
	free(holder);
	if (rc && fd >= 0) {
		close(fd);
		fd = -1;
	}
	*lock_fd = fd;
	return rc;
}

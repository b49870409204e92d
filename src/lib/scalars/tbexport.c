/*
 * TensorBoard event files on demand (tally tensorboard).
 *
 * A run keeps its scalars once, in its compact scalar log.  For TensorBoard,
 * its own points (not those read from the script's own event files, which
 * TensorBoard finds by itself) are written out as
 * .tally/events.out.tfevents.<seconds>.<host>.tally, and brought up to date
 * by appending, as TensorBoard expects an event file to grow.
 * .tally/events.json says how far the file goes: {"file", "bytes", "points"}
 * (the own points in it).  It is written before a new file is made (0 bytes)
 * and after each append, without fsync: after a crash the file is cut back to
 * `bytes`, or written anew when it is shorter — it can always be made again
 * from the log.
 *
 * An event file in .tally/ without events.json was written as the run went
 * (tally.yml `tensorboard: on`, or any run of format 1) and is left alone.
 */
#include "lib/scalars/scalars.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/timeutil.h"

#define STATE_FILE "events.json"
#define WRITE_CHUNK (1 << 20)

/* What events.json says, or zeros. */
typedef struct {
	char *file;      /* the event file's name in .tally/, NULL when there is no valid state */
	int64_t bytes;
	int64_t points;
	int64_t log_bytes; /* scalars.log's size when exported: unchanged, nothing to read (-1: unknown) */
} export_state;

static char *meta_path(const char *run_dir, const char *name)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_META_DIR "/%s", run_dir, name);
	return tally_buf_oom(&p) ? (tally_buf_release(&p), NULL) : tally_buf_detach(&p);
}

/* Our naming, and nothing that could lead out of .tally/. */
static bool is_own_event_file(const char *name)
{
	size_t n = strlen(name);
	return !strncmp(name, "events.out.tfevents.", 20) && n > 26 && !strcmp(name + n - 6, ".tally") &&
	       !strchr(name, '/');
}

static void load_state(const char *run_dir, export_state *st)
{
	memset(st, 0, sizeof *st);
	char *path = meta_path(run_dir, STATE_FILE);
	json_t *j = path ? json_load_file(path, 0, NULL) : NULL;
	free(path);
	const char *file = json_string_value(json_object_get(j, "file"));
	json_t *bytes = json_object_get(j, "bytes"), *points = json_object_get(j, "points");
	json_t *log_bytes = json_object_get(j, "log_bytes");
	st->log_bytes = json_is_integer(log_bytes) ? json_integer_value(log_bytes) : -1;
	if (file && is_own_event_file(file) && json_is_integer(bytes) && json_is_integer(points) &&
	    json_integer_value(bytes) >= 0 && json_integer_value(points) >= 0) {
		st->file = strdup(file);
		st->bytes = json_integer_value(bytes);
		st->points = json_integer_value(points);
	}
	json_decref(j);
}

static int save_state(const char *run_dir, const export_state *st)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:I}", "file", st->file, "bytes", (json_int_t)st->bytes, "points",
	                      (json_int_t)st->points, "log_bytes", (json_int_t)st->log_bytes);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *path = meta_path(run_dir, STATE_FILE);
	int rc = 0;
	if (!text || !path)
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path, text, strlen(text), 0) < 0) /* derived: no fsync */
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s' — is the runs directory writable?", path);
	free(path);
	free(text);
	json_decref(j);
	return rc;
}

/* Whether .tally/ holds an event file of ours other than `except`. */
static bool has_other_event_file(const char *run_dir, const char *except)
{
	char *dir = meta_path(run_dir, "");
	DIR *d = dir ? opendir(dir) : NULL;
	free(dir);
	bool found = false;
	for (struct dirent *e; d && !found && (e = readdir(d));)
		found = is_own_event_file(e->d_name) && (!except || strcmp(e->d_name, except));
	if (d)
		closedir(d);
	return found;
}

static char *new_file_name(void)
{
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	host[strcspn(host, "/")] = 0;
	tally_buf name = TALLY_BUF_INIT;
	/* TensorBoard's own naming: events.out.tfevents.<seconds>.<host>[suffix] */
	tally_buf_printf(&name, "events.out.tfevents.%lld.%s.tally", (long long)(tally_now_ms() / 1000), host);
	return tally_buf_oom(&name) ? (tally_buf_release(&name), NULL) : tally_buf_detach(&name);
}

/* The points after the first `skip` own points go to `fd`, a megabyte at a time. */
typedef struct {
	int fd;
	tally_buf out;
	int64_t skip, seen;
	bool failed;
} export_sink;

static bool sink_write(export_sink *e)
{
	if (e->failed || tally_buf_oom(&e->out) || tally_write_all(e->fd, e->out.ptr, e->out.len) < 0)
		e->failed = true;
	tally_buf_clear(&e->out);
	return !e->failed;
}

static int export_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	export_sink *e = ctx;
	if (e->seen++ < e->skip)
		return 0;
	tally__tfevents_encode_scalar(&e->out, tag, step, value, time_ms);
	return e->out.len >= WRITE_CHUNK && !sink_write(e);
}

/* Append the points not in the file yet; the state says where the file ends. */
static int append_points(const char *run_dir, const char *path, int fd, export_state *st, int64_t *points)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot read '%s' — is the run directory intact?", path);
	if (sb.st_size < st->bytes) /* lost what events.json counts: write it all again */
		st->bytes = st->points = 0;
	if ((sb.st_size != st->bytes && ftruncate(fd, (off_t)st->bytes) < 0) || lseek(fd, (off_t)st->bytes, SEEK_SET) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot write '%s' — is the disk full?", path);
	export_sink e = {fd, TALLY_BUF_INIT, st->points, 0, false};
	if (st->bytes == 0)
		tally__tfevents_encode_version(&e.out, tally_now_ms());
	bool truncated;
	int rc = tally__scalar_log_read_own(run_dir, export_point, &e, &truncated);
	if (!rc && e.out.len)
		sink_write(&e);
	tally_buf_release(&e.out);
	if (!rc && e.failed)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s' — is the disk full?", path);
	off_t end = lseek(fd, 0, SEEK_CUR);
	if (rc || end < 0) {
		/* leave the file as events.json describes it */
		if (ftruncate(fd, (off_t)st->bytes) < 0) {
			/* the next export cuts it back */
		}
		return rc ? rc : tally__error_errno(TALLY_ERROR, "cannot write '%s' — is the disk full?", path);
	}
	*points = e.seen > st->points ? e.seen - st->points : 0;
	st->bytes = end;
	st->points = e.seen > st->points ? e.seen : st->points;
	return 0;
}

/* The size of a file in .tally/, -1 when there is none. */
static int64_t meta_file_size(const char *run_dir, const char *name)
{
	char *path = meta_path(run_dir, name);
	struct stat sb;
	int64_t size = path && stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
	free(path);
	return size;
}

/* Export with .tally/ locked (flock on the folder itself: two exports of a run take turns).
 * `log_bytes`: scalars.log's size, -1 when there is none, taken before the lock
 * (a log grown since is read further than that: it is only ever re-read). */
static int export_locked(const char *run_dir, int64_t log_bytes, tally_event_file_state *state, int64_t *points)
{
	export_state st;
	load_state(run_dir, &st);
	if (!st.file && has_other_event_file(run_dir, NULL)) {
		*state = TALLY_EVENT_FILE_LIVE;
		return 0;
	}
	/* Nothing new since the last export, or no scalars at all: no file is read or written
	 * (tally tensorboard over 100,000 runs costs a few stats a run). */
	if (!st.file && log_bytes < 0) {
		*state = TALLY_EVENT_FILE_NONE;
		return 0;
	}
	if (st.file && log_bytes >= 0 && st.log_bytes == log_bytes && meta_file_size(run_dir, st.file) == st.bytes) {
		free(st.file);
		*state = TALLY_EVENT_FILE_CURRENT;
		return 0;
	}
	bool fresh = !st.file;
	if (fresh && !(st.file = new_file_name()))
		return tally__error_oom();
	int rc = 0;
	/* events.json first: a file of ours is never there without it, even if
	 * this export is cut short (it would pass for one the run wrote itself) */
	if (fresh && (rc = save_state(run_dir, &st))) {
		free(st.file);
		return rc;
	}
	char *path = meta_path(run_dir, st.file);
	int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666) : -1;
	if (!path)
		rc = tally__error_oom();
	else if (fd < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s' — is the runs directory writable?", path);
	int64_t before = st.bytes, log_before = st.log_bytes;
	if (!rc)
		rc = append_points(run_dir, path, fd, &st, points);
	st.log_bytes = log_bytes; /* what was read reached at least this far */
	if (fd >= 0)
		close(fd);
	if ((rc && fresh) || (!rc && st.points == 0)) {
		/* nothing written (or no scalars of its own): no file, no state */
		char *state_path = meta_path(run_dir, STATE_FILE);
		if (path)
			unlink(path);
		if (state_path)
			unlink(state_path);
		free(state_path);
		if (!rc)
			*state = TALLY_EVENT_FILE_NONE;
	} else if (!rc && (*points || st.bytes != before || fresh)) {
		rc = save_state(run_dir, &st);
		*state = TALLY_EVENT_FILE_WRITTEN;
	} else if (!rc) {
		if (log_before != st.log_bytes) /* nothing new, but the log's size is known now */
			rc = save_state(run_dir, &st);
		*state = TALLY_EVENT_FILE_CURRENT;
	}
	free(path);
	free(st.file);
	return rc;
}

static int lock_meta_dir(const char *run_dir, int *fd)
{
	char *dir = meta_path(run_dir, "");
	*fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = 0;
	if (!dir)
		rc = tally__error_oom();
	else if (*fd < 0 || flock(*fd, LOCK_EX) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot open '%s' — is the run directory intact?", dir);
	free(dir);
	return rc;
}

int tally__tfevents_export(const char *run_dir, tally_event_file_state *state, int64_t *points)
{
	*state = TALLY_EVENT_FILE_NONE;
	*points = 0;
	/* No scalar log and no export of ours: nothing to write, lock or list (tally
	 * tensorboard over 100,000 runs, most without scalars, costs two stats a run).
	 * Event files of the run's own without a log hold no scalars. */
	int64_t log_bytes = meta_file_size(run_dir, "scalars.log");
	if (log_bytes < 0 && meta_file_size(run_dir, STATE_FILE) < 0)
		return 0;
	int fd;
	int rc = lock_meta_dir(run_dir, &fd);
	if (!rc)
		rc = export_locked(run_dir, log_bytes, state, points);
	if (fd >= 0)
		close(fd); /* and the lock with it */
	return rc;
}

int tally__tfevents_export_remove(const char *run_dir, bool *removed)
{
	*removed = false;
	int fd;
	int rc = lock_meta_dir(run_dir, &fd);
	export_state st;
	if (!rc)
		load_state(run_dir, &st);
	if (!rc && st.file) {
		char *path = meta_path(run_dir, st.file), *state_path = meta_path(run_dir, STATE_FILE);
		if (!path || !state_path)
			rc = tally__error_oom();
		else if ((unlink(path) < 0 && errno != ENOENT) || unlink(state_path) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot remove '%s' — is the runs directory writable?", path);
		else
			*removed = true;
		free(path);
		free(state_path);
		free(st.file);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

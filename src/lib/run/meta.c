/*
 * run.json — the truth about a run — and the lock that makes its status
 * truthful.
 *
 * The supervising process holds an flock(2) on .tally/lock for the whole life
 * of the run.  The kernel drops that lock when the process dies in any way
 * (SIGKILL, crash, reboot), so a reader that can take the lock while run.json
 * still says "running" knows the supervisor is gone — no PID is trusted, so
 * PID reuse cannot fool it.  Locks do not travel between machines reliably,
 * so a run started on another host is reported as its run.json says.
 *
 * Annotations (label, tags, mark, comments: edit.c) are changed under a
 * second lock, .tally/edit.lock, which the supervisor also takes for its
 * final write, keeping what was annotated meanwhile.
 */
#include "lib/run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/timeutil.h"

#define META_MAX_BYTES (16 << 20)

static char *meta_path(const char *dir, const char *file)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_META_DIR "/%s", dir, file);
	return tally_buf_detach(&p);
}

static json_t *parse_json_file(const char *path, json_error_t *err, int *errno_out)
{
	tally_buf text = TALLY_BUF_INIT;
	json_t *root = NULL;
	*errno_out = 0;
	if (tally_read_file(&text, path, META_MAX_BYTES) < 0)
		*errno_out = errno;
	else
		root = json_loadb(text.ptr, text.len, 0, err);
	tally_buf_release(&text);
	return root;
}

int tally__meta_lock(const char *dir)
{
	char *path = meta_path(dir, "lock");
	if (!path)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Latest activity in a run whose supervisor died: the newest of its logs. */
static int64_t last_activity_ms(const char *dir)
{
	static const char *const files[] = {"output", "scalars.log", "run.json"};
	int64_t best = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *p = meta_path(dir, files[i]);
		struct stat st;
		if (p && stat(p, &st) == 0) {
			int64_t ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
			if (ms > best)
				best = ms;
		}
		free(p);
	}
	return best;
}

char *tally__meta_prune_reason(const char *dir)
{
	char *path = meta_path(dir, "prune.json");
	tally_buf text = TALLY_BUF_INIT;
	char *reason = NULL;
	if (path && !tally_read_regular_file(&text, path, 64 * 1024)) {
		json_t *request = json_loadb(text.ptr ? text.ptr : "", text.len, 0, NULL);
		const char *why = json_string_value(json_object_get(request, "reason"));
		reason = strdup(why ? why : "pruned by the sweep");
		json_decref(request);
	}
	tally_buf_release(&text);
	free(path);
	return reason;
}

/* The supervisor is gone: the run ended then, as terminated (or as pruned,
 * when its sweep's pruner had asked it to stop). */
static void mark_terminated(json_t *meta, const char *dir)
{
	char iso[40];
	int64_t stopped = last_activity_ms(dir);
	tally_format_iso_ms(iso, sizeof iso, stopped);
	char *pruned = tally__meta_prune_reason(dir);
	json_object_set_new(meta, "status", json_string(pruned ? "pruned" : "terminated"));
	json_object_set_new(meta, "stopped", json_string(iso));
	json_object_set_new(meta, "stopped_ms", json_integer(stopped));
	json_object_set_new(meta, "stop_reason",
	                    pruned ? json_string(pruned)
	                           : json_string("the tally process supervising the run ended without recording it "
	                                         "(killed, crashed, or the machine restarted)"));
	free(pruned);
}

/*
 * A "running" run on this host whose lock we can take has lost its
 * supervisor.  Re-read run.json under the lock (the supervisor may have
 * finished between our read and our lock) and record the truth.
 */
static json_t *reconcile_status(json_t *meta, const char *dir, const char *host)
{
	const char *status = json_string_value(json_object_get(meta, "status"));
	const char *run_host = json_string_value(json_object_get(meta, "host"));
	if (!status || strcmp(status, "running") || (run_host && strcmp(run_host, host)))
		return meta;
	char *lock = meta_path(dir, "lock");
	int fd = lock ? open(lock, O_RDONLY | O_CLOEXEC) : -1;
	free(lock);
	if (fd < 0 && errno != ENOENT)
		return meta; /* can't tell (no permission, no file descriptors left): report as recorded */
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd); /* still held: really running */
		return meta;
	}
	/* Lock free (or no lock file at all): the supervisor is gone. */
	char *path = meta_path(dir, "run.json");
	json_error_t err;
	int read_errno;
	json_t *fresh = path ? parse_json_file(path, &err, &read_errno) : NULL;
	if (fresh && json_is_object(fresh)) {
		json_decref(meta);
		meta = fresh;
		fresh = NULL;
	}
	json_decref(fresh);
	status = json_string_value(json_object_get(meta, "status"));
	if (status && !strcmp(status, "running")) {
		mark_terminated(meta, dir);
		tally__meta_save(dir, meta, TALLY_DURABLE); /* best effort: a read-only copy still reports the truth */
	}
	free(path);
	if (fd >= 0)
		close(fd);
	return meta;
}

int tally__meta_load(json_t **out, const char *dir, const char *host)
{
	*out = NULL;
	char *path = meta_path(dir, "run.json");
	if (!path)
		return tally__error_oom();
	json_error_t err;
	int read_errno;
	json_t *meta = parse_json_file(path, &err, &read_errno);
	int rc = 0;
	if (!meta && read_errno == ENOENT)
		rc = tally__error(TALLY_ENOTFOUND, "'%s' is not a tally run (no " TALLY_META_DIR "/run.json)", dir);
	else if (!meta && read_errno)
		rc = tally__error(TALLY_ECORRUPT, "cannot read '%s': %s", path, strerror(read_errno));
	else if (!meta)
		rc = tally__error(TALLY_ECORRUPT, "corrupt run metadata '%s' (line %d: %s)", path, err.line, err.text);
	else if (!json_is_object(meta) || !json_is_string(json_object_get(meta, "id")) ||
	         !json_is_string(json_object_get(meta, "status")))
		rc = tally__error(TALLY_ECORRUPT, "corrupt run metadata '%s' (missing id or status)", path);
	free(path);
	if (rc) {
		json_decref(meta);
		return rc;
	}
	*out = reconcile_status(meta, dir, host);
	return 0;
}

int tally__meta_save(const char *dir, json_t *meta, int flags)
{
	char *text = json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	char *path = meta_path(dir, "run.json");
	int rc = 0;
	if (!text || !path)
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path, text, strlen(text), flags) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", path);
	free(text);
	free(path);
	return rc;
}

/*
 * scalars.json is derived data: when it is missing or damaged (a run killed
 * before its first summary, a torn copy) it is rebuilt from scalars.log, so
 * the scalars a run printed are never lost with it.
 */
json_t *tally__scalars_summary_load(const char *dir)
{
	char *path = meta_path(dir, "scalars.json");
	json_error_t err;
	int read_errno;
	json_t *s = path ? parse_json_file(path, &err, &read_errno) : NULL;
	free(path);
	if (!json_is_object(s)) {
		json_decref(s);
		s = tally__scalar_log_summarize(dir);
		if (!s)
			s = json_object();
	}
	return s;
}

/* ---- the edit lock: annotations made after the fact (edit.c) ---- */

/* The fields that edits own: the supervisor's final write keeps them from disk. */
static const char *const annotation_keys[] = {"label", "tags", "marked", "comments"};

int tally__meta_edit_lock(const char *dir)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/edit.lock", dir);
	int fd = tally_buf_oom(&path) ? -1 : open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	tally_buf_release(&path);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void tally__meta_merge_annotations(json_t *meta, const char *dir)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/run.json", dir);
	json_t *disk = tally_buf_oom(&path) ? NULL : json_load_file(path.ptr, 0, NULL);
	tally_buf_release(&path);
	for (size_t i = 0; json_is_object(disk) && i < sizeof annotation_keys / sizeof *annotation_keys; i++) {
		json_t *v = json_object_get(disk, annotation_keys[i]);
		if (v)
			json_object_set(meta, annotation_keys[i], v);
		else
			json_object_del(meta, annotation_keys[i]);
	}
	json_decref(disk);
}

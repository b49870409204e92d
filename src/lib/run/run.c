/*
 * A run: its directory, its run.json, and — while this process owns it —
 * the lock and the scalar log.
 */
#include "lib/run/run.h"

#include <sys/file.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/timeutil.h"

tally_run *tally__run_alloc(tally_store *store)
{
	tally_run *run = calloc(1, sizeof *run);
	if (!run)
		return NULL;
	run->store = store;
	run->lock_fd = -1;
	run->exit_status = -1;
	return run;
}

static const char *str_or_empty(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

char *tally__flags_text(json_t *flags)
{
	tally_buf out = TALLY_BUF_INIT;
	const char *name;
	json_t *value;
	json_object_foreach(flags, name, value) {
		tally_buf_printf(&out, "%s%s=", out.len ? " " : "", name);
		tally__flag_json_text(&out, value);
	}
	return tally_buf_detach(&out);
}

char *tally__scalars_text(json_t *scalars)
{
	tally_buf out = TALLY_BUF_INIT;
	const char *tag;
	json_t *summary;
	json_object_foreach(scalars, tag, summary) {
		json_t *last = json_object_get(summary, "last");
		if (!strncmp(tag, "sys/", 4))
			continue; /* system metrics would crowd every listing; `tally scalars` has them */
		if (json_is_number(last))
			tally_buf_printf(&out, "%s%s=%.6g", out.len ? " " : "", tag, json_number_value(last));
		else if (json_is_string(last))
			tally_buf_printf(&out, "%s%s=%s", out.len ? " " : "", tag, json_string_value(last));
	}
	return tally_buf_detach(&out);
}

char *tally__summary_json(json_t *meta, json_t *scalars)
{
	static const char *const keys[] = {"id", "status", "started", "stopped", "exit_status", "label", "script"};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		json_t *v = json_object_get(meta, keys[i]);
		json_object_set(o, keys[i], v ? v : json_null());
	}
	if (json_is_string(json_object_get(meta, "name"))) /* only named runs have the key */
		json_object_set(o, "name", json_object_get(meta, "name"));
	if (json_is_object(json_object_get(meta, "sweep"))) /* only trials of a sweep: {"id", "trial"} */
		json_object_set(o, "sweep", json_object_get(meta, "sweep"));
	if (json_is_true(json_object_get(meta, "marked")))
		json_object_set_new(o, "marked", json_true());
	size_t comments = json_array_size(json_object_get(meta, "comments"));
	if (comments)
		json_object_set_new(o, "comments", json_integer((json_int_t)comments));
	json_t *tags = json_object_get(meta, "tags"), *flags = json_object_get(meta, "flags");
	json_object_set_new(o, "tags", json_is_array(tags) ? json_incref(tags) : json_array());
	json_object_set_new(o, "flags", json_is_object(flags) ? json_incref(flags) : json_object());
	json_object_set_new(o, "scalars", json_is_object(scalars) ? json_incref(scalars) : json_object());
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_decref(o);
	return text;
}

char *tally__origin_json(json_t *meta)
{
	json_t *o = json_object(), *host = json_object_get(meta, "host");
	json_t *commit = json_object_get(json_object_get(meta, "git"), "commit");
	if (host)
		json_object_set(o, "host", host);
	if (commit)
		json_object_set(o, "commit", commit);
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_decref(o);
	return text;
}

static bool absent_or(json_t *v, bool (*is)(const json_t *))
{
	return !v || json_is_null(v) || is(v);
}

static bool is_string(const json_t *v) { return json_is_string(v); }
static bool is_integer(const json_t *v) { return json_is_integer(v); }

bool tally__meta_fields_plain(json_t *meta)
{
	return absent_or(json_object_get(meta, "label"), is_string) && absent_or(json_object_get(meta, "script"), is_string) &&
	       absent_or(json_object_get(meta, "started_ms"), is_integer) &&
	       absent_or(json_object_get(meta, "stopped_ms"), is_integer) &&
	       absent_or(json_object_get(meta, "exit_status"), is_integer);
}

void tally__run_refresh_fields(tally_run *run)
{
	json_t *m = run->meta;
	for (size_t i = 0; i < sizeof run->owned / sizeof *run->owned; i++) {
		free(run->owned[i]);
		run->owned[i] = NULL;
	}
	if (!run->scalars)
		run->scalars = run->dir ? tally__scalars_summary_load(run->dir) : json_object();
	json_t *flags = json_object_get(m, "flags");
	json_t *tags = json_object_get(m, "tags");
	run->status = str_or_empty(json_object_get(m, "status"));
	run->label = str_or_empty(json_object_get(m, "label"));
	run->script = str_or_empty(json_object_get(m, "script"));
	run->started_ms = json_integer_value(json_object_get(m, "started_ms"));
	run->stopped_ms = json_integer_value(json_object_get(m, "stopped_ms"));
	json_t *exit_status = json_object_get(m, "exit_status");
	run->exit_status = json_is_integer(exit_status) ? (int)json_integer_value(exit_status) : -1;
	run->owned[0] = tally__flags_text(flags);
	run->owned[1] = tally__scalars_text(run->scalars);
	run->owned[2] = json_is_object(flags) ? json_dumps(flags, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS) : strdup("{}");
	run->owned[3] = json_dumps(run->scalars, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	run->owned[4] = json_is_array(tags) ? json_dumps(tags, JSON_COMPACT) : strdup("[]");
	run->owned[5] = tally__summary_json(m, run->scalars);
	run->owned[TALLY_RUN_OWNED_ORIGIN] = tally__origin_json(m);
	run->flags_text = run->owned[0] ? run->owned[0] : "";
	run->scalars_text = run->owned[1] ? run->owned[1] : "";
	run->flags_json = run->owned[2] ? run->owned[2] : "{}";
	run->scalars_json = run->owned[3] ? run->owned[3] : "{}";
	run->tags_json = run->owned[4] ? run->owned[4] : "[]";
	run->summary_json = run->owned[5] ? run->owned[5] : "{}";
	run->origin_json = run->owned[TALLY_RUN_OWNED_ORIGIN] ? run->owned[TALLY_RUN_OWNED_ORIGIN] : "{}";
	run->from_index = false;
	free(run->json_text);
	run->json_text = NULL;
}

const char *tally__user_name(void)
{
	/* As Python's getpass.getuser(): the environment first, then the account
	 * (cron, containers and sudo often leave $USER unset). */
	static const char *const vars[] = {"LOGNAME", "USER", "LNAME", "USERNAME"};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return v;
	}
	/* getpwuid_r into this thread's own copy: tally view edits runs on several threads */
	static _Thread_local char name[256];
	char buf[4096];
	struct passwd pw, *found = NULL;
	if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) || !found || !found->pw_name || !*found->pw_name)
		return NULL;
	snprintf(name, sizeof name, "%s", found->pw_name);
	return name;
}

json_t *tally__meta_base(const tally_store *store, const char *script, const char *const *argv)
{
	json_t *m = json_object();
	json_object_set_new(m, "format", json_integer(TALLY_RUN_FORMAT));
	json_object_set_new(m, "id", json_string(""));
	json_object_set_new(m, "status", json_string("running"));
	json_object_set_new(m, "script", script ? tally__json_text(script) : json_null());
	json_t *cmd = json_array();
	for (const char *const *a = argv; a && *a; a++)
		json_array_append_new(cmd, tally__json_text(*a));
	json_object_set_new(m, "command", cmd);
	json_object_set_new(m, "flags", json_object());
	json_object_set_new(m, "label", json_string(""));
	json_object_set_new(m, "tags", json_array());
	json_object_set_new(m, "host", json_string(store->host));
	const char *user = tally__user_name();
	json_object_set_new(m, "user", user ? tally__json_text(user) : json_null());
	struct utsname u;
	if (uname(&u) == 0) {
		json_t *platform = json_object();
		json_object_set_new(platform, "system", json_string(u.sysname));
		json_object_set_new(platform, "release", json_string(u.release));
		json_object_set_new(platform, "machine", json_string(u.machine));
		json_object_set_new(m, "platform", platform);
	}
	json_object_set_new(m, "pid", json_integer(getpid()));
	json_object_set_new(m, "tally_version", json_string(tally_version()));
	char cwd[PATH_MAX];
	json_object_set_new(m, "project_dir", getcwd(cwd, sizeof cwd) ? tally__json_text(cwd) : json_null());
	return m;
}

int tally__run_start(tally_run **out, tally_store *store, json_t *meta)
{
	char id[TALLY_ID_MAX];
	char *dir = NULL, *meta_dir = NULL;
	tally_run *run = NULL;
	int rc;

	*out = NULL;
	if ((rc = tally__store_new_run_dir(store, id, &dir)))
		return rc;
	run = tally__run_alloc(store);
	meta_dir = tally_path_join(dir, TALLY_META_DIR);
	if (!run || !meta_dir) {
		rc = tally__error_oom();
		goto fail;
	}
	run->dir = dir;
	dir = NULL;
	if (mkdir(meta_dir, 0777) < 0) {
		rc = tally__error_errno(TALLY_ERROR, "cannot create '%s'", meta_dir);
		goto fail;
	}
	/* The lock comes before run.json says "running", so no reader ever sees
	 * a running run without its supervisor's lock. */
	if ((run->lock_fd = tally__meta_lock(run->dir)) < 0) {
		rc = tally__error_errno(TALLY_ERROR, "cannot lock '%s'", run->dir);
		goto fail;
	}
	int64_t now = tally_now_ms();
	char iso[40];
	tally_format_iso_ms(iso, sizeof iso, now);
	json_object_set_new(meta, "id", json_string(id));
	json_object_set_new(meta, "started", json_string(iso));
	json_object_set_new(meta, "started_ms", json_integer(now));
	run->meta = json_incref(meta);
	if (!(run->id = strdup(id))) {
		rc = tally__error_oom();
		goto fail;
	}
	/* Not fsync'ed: a process that dies leaves the page cache behind, so this
	 * survives kill -9 as it is; durability against power loss is given to
	 * the run as a whole when it ends (tally__run_end). */
	if ((rc = tally__meta_save(run->dir, meta, 0)))
		goto fail;
	tally__run_refresh_fields(run);
	tally__store_note_new_run(store, id);
	free(meta_dir);
	*out = run;
	return 0;
fail:
	if (run && run->dir)
		tally_remove_tree(run->dir); /* nothing half-made is left behind */
	else if (dir)
		tally_remove_tree(dir);
	free(dir);
	free(meta_dir);
	tally_run_free(run);
	return rc;
}

static void *sync_dirs_main(void *arg)
{
	tally_run *run = arg;
	tally_fsync_dir(run->dir);
	tally_fsync_dir(run->store->path);
	return NULL;
}

void tally__run_sync_dirs_early(tally_run *run)
{
	if (run->dir_sync_pending)
		return;
	/* Signals stay with the threads that handle them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* Two fsyncs need no 8 MiB stack: a small one is mapped and cleared faster. */
	pthread_attr_t attr;
	bool attr_ok = pthread_attr_init(&attr) == 0;
	if (attr_ok)
		pthread_attr_setstacksize(&attr, 64 * 1024);
	run->dir_sync_pending = pthread_create(&run->dir_sync_thread, attr_ok ? &attr : NULL, sync_dirs_main, run) == 0;
	if (attr_ok)
		pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The run's directories are new: their own entries must reach the disk too. */
static void sync_dirs_finish(tally_run *run)
{
	if (run->dir_sync_pending) {
		pthread_join(run->dir_sync_thread, NULL);
		run->dir_sync_pending = false;
	} else {
		sync_dirs_main(run);
	}
}

int tally__run_end(tally_run *run, const char *status, int exit_status, int signal, const char *reason)
{
	int64_t now = tally_now_ms();
	char iso[40];
	int rc = 0;
	tally_format_iso_ms(iso, sizeof iso, now);
	json_object_set_new(run->meta, "status", json_string(status));
	json_object_set_new(run->meta, "stopped", json_string(iso));
	json_object_set_new(run->meta, "stopped_ms", json_integer(now));
	json_object_set_new(run->meta, "exit_status", exit_status >= 0 ? json_integer(exit_status) : json_null());
	json_object_set_new(run->meta, "signal", signal > 0 ? json_integer(signal) : json_null());
	if (reason)
		json_object_set_new(run->meta, "stop_reason", tally__json_text(reason));
	if (run->log) {
		int lrc = tally__scalar_log_flush(run->log);
		if (!lrc)
			lrc = tally__scalar_log_write_summary(run->log, TALLY_DURABLE);
		if (lrc)
			rc = lrc;
		json_decref(run->scalars);
		run->scalars = tally__scalars_summary_load(run->dir);
	}
	/* Annotations edited while the run went (tally label, tag…) are kept. */
	int edit_lock = tally__meta_edit_lock(run->dir);
	tally__meta_merge_annotations(run->meta, run->dir);
	int mrc = tally__meta_save(run->dir, run->meta, TALLY_DURABLE);
	if (edit_lock >= 0)
		close(edit_lock);
	if (mrc)
		rc = mrc;
	sync_dirs_finish(run);
	tally__run_refresh_fields(run);
	/* No index update here: the next sync re-reads runs it saw running. */
	tally__store_touch(run->store);
	if (run->lock_fd >= 0) {
		close(run->lock_fd);
		run->lock_fd = -1;
	}
	return rc;
}

int tally__run_load_dir(tally_run **out, tally_store *store, const char *dir)
{
	*out = NULL;
	json_t *meta = NULL;
	int rc = tally__meta_load(&meta, dir, store->host);
	if (rc)
		return rc;
	tally_run *run = tally__run_alloc(store);
	if (!run || !(run->dir = strdup(dir)) || !(run->id = strdup(json_string_value(json_object_get(meta, "id"))))) {
		json_decref(meta);
		tally_run_free(run);
		return tally__error_oom();
	}
	run->meta = meta;
	tally__run_refresh_fields(run);
	*out = run;
	return 0;
}

/* ---- the public C API for programs that track themselves ---- */

int tally_run_create(tally_run **out, tally_store *store, const tally_run_options *opts)
{
	*out = NULL;
	if (opts && opts->version != TALLY_RUN_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "tally_run_options version %u is not supported", opts->version);
	int rc = opts && opts->label ? tally__check_text("the label", opts->label) : 0;
	for (const char *const *t = opts ? opts->tags : NULL; !rc && t && *t; t++)
		rc = tally__check_text("a tag", *t);
	if (rc)
		return rc;
	json_t *meta = tally__meta_base(store, opts ? opts->script : NULL, opts ? opts->argv : NULL);
	if (!meta)
		return tally__error_oom();
	if (opts && opts->label)
		json_object_set_new(meta, "label", json_string(opts->label));
	for (const char *const *t = opts ? opts->tags : NULL; t && *t; t++)
		json_array_append_new(json_object_get(meta, "tags"), json_string(*t));
	tally_run *run = NULL;
	rc = tally__run_start(&run, store, meta);
	json_decref(meta);
	if (rc)
		return rc;
	if ((rc = tally__scalar_log_open(&run->log, run->dir))) {
		tally__run_end(run, "error", -1, 0, tally_error_last());
		tally_run_free(run);
		return rc;
	}
	*out = run;
	return 0;
}

int tally_run_set_flag(tally_run *run, const char *name, const char *value)
{
	tally_buf arg = TALLY_BUF_INIT;
	tally_flag flag;
	tally_buf_printf(&arg, "%s=%s", name, value);
	if (tally_buf_oom(&arg))
		return tally__error_oom();
	int rc = tally__flag_parse_assignment(&flag, arg.ptr);
	tally_buf_release(&arg);
	if (rc)
		return rc;
	json_object_set_new(json_object_get(run->meta, "flags"), flag.name, tally__flag_to_json(&flag));
	tally__flag_release(&flag);
	if ((rc = tally__meta_save(run->dir, run->meta, 0)))
		return rc;
	tally__run_refresh_fields(run);
	return 0;
}

/* A program logging through the C API is not supervised by `tally run`:
 * its points and summary reach the disk at least this often. */
#define LIVE_FLUSH_MS 2000

int tally_log_scalar(tally_run *run, const char *tag, double value, int64_t step)
{
	if (!run->log)
		return tally__error(TALLY_EINVALID, "run '%s' is not open for logging", run->id);
	int64_t now = tally_now_ms();
	int rc = tally__scalar_log_append(run->log, tag, step, value, now);
	if (!rc && now - run->last_flush_ms >= LIVE_FLUSH_MS) {
		run->last_flush_ms = now;
		if (!(rc = tally__scalar_log_flush(run->log)))
			rc = tally__scalar_log_write_summary(run->log, 0);
	}
	return rc;
}

int tally_run_finish(tally_run *run, int exit_status)
{
	if (run->lock_fd < 0)
		return tally__error(TALLY_EINVALID, "run '%s' is already finished", run->id);
	int rc = tally__run_end(run, exit_status == 0 ? "completed" : "error", exit_status, 0, NULL);
	tally__scalar_log_free(run->log);
	run->log = NULL;
	return rc;
}

void tally_run_free(tally_run *run)
{
	if (!run)
		return;
	if (run->dir_sync_pending)
		pthread_join(run->dir_sync_thread, NULL);
	if (run->log) {
		/* Freed while still open: flush what was logged; the lock's release
		 * makes readers see the run as terminated. */
		tally__scalar_log_flush(run->log);
		tally__scalar_log_write_summary(run->log, 0);
		tally__scalar_log_free(run->log);
	}
	if (run->lock_fd >= 0)
		close(run->lock_fd);
	json_decref(run->meta);
	json_decref(run->scalars);
	for (size_t i = 0; i < sizeof run->owned / sizeof *run->owned; i++)
		free(run->owned[i]);
	tally__flag_list_release(&run->flags);
	free(run->json_text);
	if (!run->borrowed) {
		free(run->id);
		free(run->dir);
	}
	free(run);
}

const char *tally_run_id(const tally_run *run) { return run->id; }
const char *tally_run_dir(const tally_run *run) { return run->dir; }
const char *tally_run_status(const tally_run *run) { return run->status ? run->status : ""; }
int64_t tally_run_started_ms(const tally_run *run) { return run->started_ms; }
int64_t tally_run_stopped_ms(const tally_run *run) { return run->stopped_ms; }
const char *tally_run_label(const tally_run *run) { return run->label ? run->label : ""; }
const char *tally_run_script(const tally_run *run) { return run->script ? run->script : ""; }
int tally_run_exit_status(const tally_run *run) { return run->exit_status; }
const char *tally_run_flags_text(const tally_run *run) { return run->flags_text ? run->flags_text : ""; }
const char *tally_run_scalars_text(const tally_run *run) { return run->scalars_text ? run->scalars_text : ""; }
/*
 * Index rows carry only the run's summary JSON; its parts are cut out the
 * first time one is asked for (the cache is logically const).
 */
static void split_summary(const tally_run *run)
{
	tally_run *r = (tally_run *)run;
	if (r->flags_json || !r->summary_json)
		return;
	json_t *summary = json_loads(r->summary_json, 0, NULL);
	json_t *flags = json_object_get(summary, "flags"), *scalars = json_object_get(summary, "scalars"),
	       *tags = json_object_get(summary, "tags");
	r->owned[2] = json_is_object(flags) ? json_dumps(flags, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS) : NULL;
	r->owned[3] = json_is_object(scalars) ? json_dumps(scalars, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS) : NULL;
	r->owned[4] = json_is_array(tags) ? json_dumps(tags, JSON_COMPACT) : NULL;
	json_decref(summary);
	r->flags_json = r->owned[2] ? r->owned[2] : "{}";
	r->scalars_json = r->owned[3] ? r->owned[3] : "{}";
	r->tags_json = r->owned[4] ? r->owned[4] : "[]";
}

const char *tally_run_flags_json(const tally_run *run)
{
	split_summary(run);
	return run->flags_json ? run->flags_json : "{}";
}

const char *tally_run_scalars_json(const tally_run *run)
{
	split_summary(run);
	return run->scalars_json ? run->scalars_json : "{}";
}

const char *tally_run_tags_json(const tally_run *run)
{
	split_summary(run);
	return run->tags_json ? run->tags_json : "[]";
}
const char *tally_run_summary_json(const tally_run *run) { return run->summary_json ? run->summary_json : "{}"; }
const char *tally_run_origin_json(const tally_run *run) { return run->origin_json ? run->origin_json : "{}"; }

const char *tally_run_json(const tally_run *run)
{
	tally_run *r = (tally_run *)run; /* the cache is logically const */
	if (!r->meta && r->from_index && tally__meta_load(&r->meta, r->dir, r->store->host))
		r->meta = NULL; /* run.json gone since it was indexed: "{}", as for an iterator's row */
	if (!r->json_text && r->meta)
		r->json_text = json_dumps(r->meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	return r->json_text ? r->json_text : "{}";
}

int tally_run_scalar_points(const tally_run *run, tally_scalar_visitor visit, void *ctx)
{
	bool truncated = false;
	return tally__scalar_log_read(run->dir, visit, ctx, &truncated);
}

int tally_run_write_event_file(const tally_run *run, tally_event_file_state *state, int64_t *points)
{
	return tally__tfevents_export(run->dir, state, points);
}

int tally_run_remove_event_file(const tally_run *run, int *removed)
{
	bool was = false;
	int rc = tally__tfevents_export_remove(run->dir, &was);
	*removed = was;
	return rc;
}

int tally_run_scalar_cursor(tally_scalar_cursor **out, const tally_run *run)
{
	return tally__scalar_cursor_open(out, run->dir);
}

int tally_scalar_cursor_next(tally_scalar_cursor *c, tally_scalar_visitor visit, void *ctx)
{
	return tally__scalar_cursor_read(c, visit, ctx);
}

void tally_scalar_cursor_free(tally_scalar_cursor *c)
{
	tally__scalar_cursor_free(c);
}

int tally_run_is_live(const tally_run *run)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/lock", run->dir);
	int fd = tally_buf_oom(&path) ? -1 : open(path.ptr, O_RDONLY | O_CLOEXEC);
	tally_buf_release(&path);
	if (fd < 0)
		return 0;
	int live = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return live;
}

int tally_run_is_slurm(const tally_run *run)
{
	json_t *meta = run->meta;
	if (!meta && tally__meta_load(&meta, run->dir, run->store->host))
		return 0;
	int slurm = json_is_string(json_object_get(json_object_get(meta, "slurm"), "job"));
	if (meta != run->meta)
		json_decref(meta);
	return slurm;
}

int tally_run_output(const tally_run *run, int streams, tally_output_chunk_visitor visit, void *ctx)
{
	return tally__output_read(run->dir, streams, visit, ctx);
}

int tally_run_output_tail(const tally_run *run, size_t max_lines, char **out)
{
	tally_buf buf = TALLY_BUF_INIT;
	*out = NULL;
	int rc = tally__output_tail(run->dir, max_lines, &buf);
	if (rc) {
		tally_buf_release(&buf);
		return rc;
	}
	if (!(*out = tally_buf_detach(&buf)))
		return tally__error_oom();
	return 0;
}

typedef struct {
	json_t *files;
	json_t *sources;   /* path → true */
	size_t max;
} file_walk;

static void walk_files(file_walk *w, const char *root, const char *rel)
{
	char *abs = rel[0] ? tally_path_join(root, rel) : strdup(root);
	DIR *d = abs ? opendir(abs) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)) && json_array_size(w->files) < w->max) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (!rel[0] && !strcmp(e->d_name, TALLY_META_DIR)))
			continue;
		char *child_rel = rel[0] ? tally_path_join(rel, e->d_name) : strdup(e->d_name);
		char *child_abs = child_rel ? tally_path_join(root, child_rel) : NULL;
		struct stat st;
		if (child_abs && lstat(child_abs, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				walk_files(w, root, child_rel);
			else if (S_ISREG(st.st_mode) && !json_object_get(w->sources, child_rel)) {
				json_t *f = json_object();
				json_object_set_new(f, "path", tally__json_text(child_rel));
				json_object_set_new(f, "size", json_integer((json_int_t)st.st_size));
				json_array_append_new(w->files, f);
			}
		}
		free(child_rel);
		free(child_abs);
	}
	if (d)
		closedir(d);
	free(abs);
}

int tally_run_files_json(const tally_run *run, size_t max, char **out)
{
	*out = NULL;
	file_walk w = {json_array(), json_object(), max ? max : 10000};
	tally_buf path = TALLY_BUF_INIT, text = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/sources.json", run->dir);
	if (tally_read_file(&text, path.ptr, 64 << 20) == 0) {
		json_t *manifest = json_loadb(text.ptr, text.len, 0, NULL);
		size_t i;
		json_t *entry;
		json_array_foreach(manifest, i, entry)
			if (json_is_string(json_object_get(entry, "path")))
				json_object_set_new(w.sources, json_string_value(json_object_get(entry, "path")), json_true());
		json_decref(manifest);
	}
	walk_files(&w, run->dir, "");
	*out = json_dumps(w.files, JSON_COMPACT);
	json_decref(w.files);
	json_decref(w.sources);
	tally_buf_release(&path);
	tally_buf_release(&text);
	return *out ? 0 : tally__error_oom();
}

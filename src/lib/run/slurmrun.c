/*
 * Runs that go through Slurm.  The submitting tally creates the run ahead of
 * time, "queued", with what its job will launch (.tally/launch.json); the
 * job's tally on a compute node adopts it (tally__run_adopt) and from then
 * on writes it alone.  Slurm may end a job without its tally recording the
 * end (cancelled while queued, time limit, node lost): reconciling asks
 * Slurm how the job ended and records that, so no run stays "queued" or
 * "running" for good.  Active Slurm runs are listed as empty files in
 * RUNS/.slurm/active/ (one per run, so nodes never share a file), and every
 * index sync reconciles those whose jobs left the queue.
 */
#include "lib/run/run.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/slurm/slurm.h"
#include "util/timeutil.h"

static char *active_path(const tally_store *store, const char *id)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_SLURM_DIR "/active%s%s", store->path, id ? "/" : "", id ? id : "");
	return tally_buf_detach(&p);
}

static void set_active(const tally_store *store, const char *id, bool active)
{
	char *path = active_path(store, id);
	if (path && active && tally_mkdir_p_parent(path) == 0)
		tally_write_file_atomic(path, "", 0, 0);
	else if (path && !active)
		unlink(path);
	free(path);
}

static char *file_in_meta(const char *dir, const char *name)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_META_DIR "/%s", dir, name);
	return tally_buf_detach(&p);
}

/* `key` and `key_ms` ("started", "stopped") set to now. */
static void set_time_now(json_t *meta, const char *key)
{
	int64_t now = tally_now_ms();
	char iso[40], key_ms[32];
	tally_format_iso_ms(iso, sizeof iso, now);
	snprintf(key_ms, sizeof key_ms, "%s_ms", key);
	json_object_set_new(meta, key, json_string(iso));
	json_object_set_new(meta, key_ms, json_integer(now));
}

/* A run that ended without its tally recording it (a job requeued, failed, cancelled…). */
static void mark_ended(json_t *meta, const char *status, const char *why)
{
	json_object_set_new(meta, "status", json_string(status));
	json_object_set_new(meta, "stop_reason", tally__json_text(why));
	set_time_now(meta, "stopped");
}

static json_t *read_meta_raw(const char *dir)
{
	char *path = file_in_meta(dir, "run.json");
	tally_buf text = TALLY_BUF_INIT;
	json_t *meta = path && !tally_read_file(&text, path, 16u << 20) ? json_loadb(text.ptr, text.len, 0, NULL) : NULL;
	tally_buf_release(&text);
	free(path);
	if (meta && !json_is_object(meta)) {
		json_decref(meta);
		meta = NULL;
	}
	return meta;
}

/*
 * A writer that does not own the run (the submitter, the job's tally taking
 * it over, a reconciler) changes run.json under both of its locks: the run's
 * lock, waited for up to `wait_ms` (tally watch probes it for a moment), so
 * that its owner's writes never race ours, and the edit lock, so that tally
 * label/tag/comment do not write back a run.json read before ours.  The run's
 * lock fd, or -1 when someone still holds it; *edit is -1 or the edit lock.
 */
static int lock_run(const char *dir, int wait_ms, int *edit)
{
	int64_t until = tally_now_ms() + wait_ms;
	int lock;
	while ((lock = tally__meta_lock(dir)) < 0 && tally_now_ms() < until)
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	*edit = lock >= 0 ? tally__meta_edit_lock(dir) : -1;
	return lock;
}

static void unlock_run(int lock, int edit)
{
	if (edit >= 0)
		close(edit);
	if (lock >= 0)
		close(lock);
}

/* How long a writer waits for a reader's brief hold of the run's lock. */
#define LOCK_WAIT_MS 3000

static bool status_is(json_t *meta, const char *status)
{
	const char *s = json_string_value(json_object_get(meta, "status"));
	return s && !strcmp(s, status);
}

int tally__run_queue(char id[TALLY_ID_MAX], char **dir_out, tally_store *store, json_t *meta, json_t *launch)
{
	char *dir = NULL, *meta_dir = NULL, *launch_path = NULL, *text = NULL;
	int rc = tally__store_new_run_dir(store, id, &dir);
	if (rc)
		return rc;
	meta_dir = tally_path_join(dir, TALLY_META_DIR);
	launch_path = file_in_meta(dir, "launch.json");
	text = json_dumps(launch, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	if (!meta_dir || !launch_path || !text)
		rc = tally__error_oom();
	else if (mkdir(meta_dir, 0777) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot create '%s'", meta_dir);
	/* Not fsync'ed, as a run's start is not (tally__run_start): a killed tally leaves the page
	 * cache behind, and two fsyncs a trial were most of the cost of queueing a sweep. */
	else if (tally_write_file_atomic(launch_path, text, strlen(text), 0) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", launch_path);
	if (!rc) {
		json_object_set_new(meta, "id", json_string(id));
		json_object_set_new(meta, "status", json_string("queued"));
		/* started is the submission until the job starts (listings sort by it) */
		set_time_now(meta, "started");
		json_object_set(meta, "queued", json_object_get(meta, "started"));
		/* who submits it: a queued run whose submitter died before sbatch answered has no job */
		json_t *slurm = json_object_get(meta, "slurm");
		if (json_is_object(slurm))
			json_object_set(slurm, "submitter_pid", json_object_get(meta, "pid"));
		json_object_del(meta, "pid");
		rc = tally__meta_save(dir, meta, 0);
	}
	if (!rc) {
		set_active(store, id, true);
		tally__store_note_new_run(store, id);
		*dir_out = dir;
		dir = NULL;
	} else {
		tally_remove_tree(dir);
	}
	free(dir);
	free(meta_dir);
	free(launch_path);
	free(text);
	return rc;
}

int tally__run_note_slurm(const char *dir, json_t *fields)
{
	/* the lock: a job that already started owns run.json (and noted its job itself) */
	int edit, lock = lock_run(dir, LOCK_WAIT_MS, &edit);
	if (lock < 0)
		return 0;
	json_t *meta = read_meta_raw(dir);
	int rc = 0;
	if (meta && status_is(meta, "queued")) {
		json_t *slurm = json_object_get(meta, "slurm");
		if (!json_is_object(slurm))
			json_object_set_new(meta, "slurm", slurm = json_object());
		json_object_update(slurm, fields);
		rc = tally__meta_save(dir, meta, 0);
	}
	json_decref(meta);
	unlock_run(lock, edit);
	return rc;
}

/* The job as Slurm describes it to its batch script. */
static void note_job_start(json_t *meta)
{
	json_t *slurm = json_object_get(meta, "slurm");
	if (!json_is_object(slurm))
		json_object_set_new(meta, "slurm", slurm = json_object());
	const char *array_job = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
	const char *job = getenv("SLURM_JOB_ID"), *node = getenv("SLURMD_NODENAME");
	/* A job submitted from inside an array job inherits SLURM_ARRAY_*: they are this
	 * job's only when they name the array it was submitted as.  (Without that record
	 * yet, the task's own id serves: squeue and scancel take it too.) */
	const char *recorded = json_string_value(json_object_get(slurm, "job_id"));
	if (!recorded || !array_job || strcmp(recorded, array_job))
		array_job = task = NULL;
	const char *partition = getenv("SLURM_JOB_PARTITION");
	char id[64] = "";
	if (array_job && task)
		snprintf(id, sizeof id, "%s_%s", array_job, task);
	else if (job)
		snprintf(id, sizeof id, "%s", job);
	if (id[0])
		json_object_set_new(slurm, "job", json_string(id));
	/* job_id is the array's (what scancel of the whole sweep takes); a task has an id of its own too */
	if (array_job && task) {
		json_object_set_new(slurm, "job_id", json_string(array_job));
		json_object_set_new(slurm, "array_index", json_integer(strtoll(task, NULL, 10)));
		if (job)
			json_object_set_new(slurm, "task_job_id", json_string(job));
	} else if (job) {
		json_object_set_new(slurm, "job_id", json_string(job));
	}
	if (node)
		json_object_set_new(slurm, "node", json_string(node));
	if (partition)
		json_object_set_new(slurm, "partition", json_string(partition));
	json_object_set_new(slurm, "state", json_string("RUNNING"));
}

void tally__run_requeue_meta(json_t *meta, const char *old_dir)
{
	json_t *old = read_meta_raw(old_dir);
	json_t *slurm = json_object_get(old, "slurm");
	if (json_is_object(slurm))
		json_object_set_new(meta, "slurm", json_deep_copy(slurm));
	note_job_start(meta);
	json_t *restarts = json_object_get(json_object_get(meta, "slurm"), "restarts");
	json_object_set_new(json_object_get(meta, "slurm"), "restarts", json_integer(json_integer_value(restarts) + 1));
	json_decref(old);
}

char *tally__run_requeued_as(const char *runs_dir, const char *id)
{
	char *last = strdup(id);
	for (int hops = 0; last && hops < 100; hops++) { /* a chain, never a loop */
		char *dir = tally_path_join(runs_dir, last);
		json_t *meta = dir ? read_meta_raw(dir) : NULL;
		const char *next = json_string_value(json_object_get(meta, "requeued_as"));
		char *copy = next ? strdup(next) : NULL;
		json_decref(meta);
		free(dir);
		if (!copy)
			break;
		free(last);
		last = copy;
	}
	return last;
}

void tally__run_note_requeue(tally_store *store, const char *dir, const char *new_id)
{
	set_active(store, new_id, true);
	int edit, lock = lock_run(dir, LOCK_WAIT_MS, &edit);
	if (lock < 0)
		return; /* its tally still holds it (a lock a lost node kept): reconciling records the end later */
	json_t *meta = read_meta_raw(dir);
	if (meta) {
		const char *job = json_string_value(json_object_get(json_object_get(meta, "slurm"), "job"));
		tally_buf why = TALLY_BUF_INIT;
		tally_buf_printf(&why, "Slurm requeued job %s; the trial goes on in run %s", job ? job : "?", new_id);
		json_object_set_new(meta, "requeued_as", json_string(new_id));
		bool unfinished = status_is(meta, "queued") || status_is(meta, "running");
		if (!tally_buf_oom(&why) && unfinished)
			mark_ended(meta, "terminated", why.ptr);
		else if (!tally_buf_oom(&why)) /* it recorded its end (a SIGTERM): why it came */
			json_object_set_new(meta, "stop_reason", json_string(why.ptr));
		tally__meta_save(dir, meta, TALLY_DURABLE);
		tally_buf_release(&why);
	}
	json_decref(meta);
	unlock_run(lock, edit);
}

/* A queued run without a job whose submitter is gone: on this host its pid is dead;
 * elsewhere, an hour after submission (an sbatch never takes that long). */
#define UNSUBMITTED_AFTER_MS (3600 * 1000LL)

static bool submitter_gone(json_t *meta, const char *host)
{
	const char *run_host = json_string_value(json_object_get(meta, "host"));
	json_int_t pid = json_integer_value(json_object_get(json_object_get(meta, "slurm"), "submitter_pid"));
	if (run_host && !strcmp(run_host, host) && pid > 1 && pid <= INT_MAX)
		return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	json_int_t queued = json_integer_value(json_object_get(meta, "started_ms"));
	return tally_now_ms() - queued > UNSUBMITTED_AFTER_MS;
}

bool tally__run_drop_unsubmitted(const char *dir, const char *host, bool known_gone)
{
	int edit, lock = lock_run(dir, LOCK_WAIT_MS, &edit);
	if (lock < 0)
		return false;
	json_t *meta = read_meta_raw(dir);
	bool dropped = meta && status_is(meta, "queued") &&
	               !json_object_get(json_object_get(meta, "slurm"), "job") && (known_gone || submitter_gone(meta, host));
	if (dropped) {
		mark_ended(meta, "terminated", "it never reached Slurm: the tally that submitted it stopped before sbatch "
		                               "answered");
		dropped = !tally__meta_save(dir, meta, TALLY_DURABLE);
	}
	json_decref(meta);
	unlock_run(lock, edit);
	return dropped;
}

void tally__run_fail_queued(const char *dir, const char *why)
{
	int edit, lock = lock_run(dir, LOCK_WAIT_MS, &edit);
	if (lock < 0)
		return;
	json_t *meta = read_meta_raw(dir);
	if (meta && status_is(meta, "queued")) {
		mark_ended(meta, "error", why);
		tally__meta_save(dir, meta, TALLY_DURABLE);
	}
	json_decref(meta);
	unlock_run(lock, edit);
}

int tally__run_adopt(tally_run **out, tally_store *store, const char *dir, json_t *meta)
{
	*out = NULL;
	int edit, lock = lock_run(dir, LOCK_WAIT_MS, &edit);
	if (lock < 0)
		return tally__error(TALLY_ELOCKED, "run '%s' is already being run by another tally", dir);
	json_t *queued = read_meta_raw(dir);
	int rc = 0;
	if (!queued || !json_is_string(json_object_get(queued, "id")))
		rc = tally__error(TALLY_ECORRUPT, "'%s' is not a queued tally run (no readable run.json)", dir);
	else if (!status_is(queued, "queued"))
		rc = tally__error(TALLY_EEXISTS, "run %s is no longer queued (it is %s)",
		                  json_string_value(json_object_get(queued, "id")),
		                  json_string_value(json_object_get(queued, "status")));
	tally_run *run = rc ? NULL : tally__run_alloc(store);
	if (!rc && (!run || !(run->dir = strdup(dir)) || !(run->id = strdup(json_string_value(json_object_get(queued, "id"))))))
		rc = tally__error_oom();
	if (rc) {
		tally_run_free(run);
		json_decref(queued);
		unlock_run(lock, edit);
		return rc;
	}
	/* what the submission knew stays: id, queued time, the job, annotations */
	static const char *const kept[] = {"id", "queued", "slurm", "name", "label", "tags", "comments", "marked", NULL};
	for (const char *const *k = kept; *k; k++)
		if (json_object_get(queued, *k))
			json_object_set(meta, *k, json_object_get(queued, *k));
	set_time_now(meta, "started");
	note_job_start(meta);
	json_decref(queued);
	run->lock_fd = lock; /* held for the run's life; the edit lock only while taking it over */
	run->meta = json_incref(meta);
	rc = tally__meta_save(dir, meta, 0);
	unlock_run(-1, edit);
	if (rc) {
		tally_run_free(run);
		return rc;
	}
	tally__run_refresh_fields(run);
	tally__store_touch(store);
	*out = run;
	return 0;
}

/* ---- how a job ended, as a run's status ---- */

typedef struct {
	const char *state, *status, *why;
} ending;

static const ending endings[] = {
	{"CANCELLED", "terminated", "was cancelled in Slurm (scancel, tally stop, or an administrator)"},
	{"TIMEOUT", "terminated", "reached its Slurm time limit"},
	{"PREEMPTED", "terminated", "was preempted by Slurm"},
	{"DEADLINE", "terminated", "reached its Slurm deadline"},
	{"NODE_FAIL", "error", "lost its node (NODE_FAIL)"},
	{"BOOT_FAIL", "error", "failed: its node did not boot (BOOT_FAIL)"},
	{"OUT_OF_MEMORY", "error", "ran out of memory (OUT_OF_MEMORY)"},
	{NULL, NULL, NULL},
};

static void record_ending(json_t *meta, const char *job, const tally_slurm_job *j, const char *logs)
{
	const char *status = json_string_value(json_object_get(meta, "status"));
	bool unfinished = !strcmp(status, "queued") || !strcmp(status, "running");
	const ending *e = endings;
	while (e->state && strcmp(e->state, j->state))
		e++;
	tally_buf why = TALLY_BUF_INIT;
	const char *new_status = NULL;
	if (e->state && (unfinished || !strcmp(status, "terminated"))) {
		new_status = e->status;
		tally_buf_printf(&why, "Slurm job %s %s", job, e->why);
		if (!strcmp(e->state, "TIMEOUT") && j->time_limit[0])
			tally_buf_printf(&why, " of %s", j->time_limit);
		if (j->node[0] && strcmp(e->state, "CANCELLED"))
			tally_buf_printf(&why, " on %s", j->node);
	} else if (unfinished && !j->known) {
		new_status = "terminated";
		tally_buf_printf(&why, "Slurm job %s left the queue and Slurm no longer says how it ended "
		                       "(no accounting, and it ended longer than MinJobAge ago)", job);
	} else if (unfinished) {
		new_status = "error";
		tally_buf_printf(&why, "Slurm job %s ended (%s) without %s — see %s", job, j->state,
		                 !strcmp(status, "queued") ? "starting the run" : "its tally recording the end", logs);
	}
	if (new_status && !tally_buf_oom(&why) && unfinished) {
		mark_ended(meta, new_status, why.ptr);
	} else if (new_status && !tally_buf_oom(&why)) { /* ended by a signal: Slurm says which */
		json_object_set_new(meta, "status", json_string(new_status));
		json_object_set_new(meta, "stop_reason", json_string(why.ptr));
	}
	tally_buf_release(&why);
	json_t *slurm = json_object_get(meta, "slurm");
	json_object_set_new(slurm, "state", json_string(j->known ? j->state : "UNKNOWN"));
	if (j->reason[0])
		json_object_set_new(slurm, "reason", json_string(j->reason));
	if (j->node[0] && !json_object_get(slurm, "node"))
		json_object_set_new(slurm, "node", json_string(j->node));
}

int tally__slurm_reconcile(const char *dir, const char *host, const char *runs_dir, bool *final)
{
	*final = false;
	json_t *meta = NULL;
	int rc = tally__meta_load(&meta, dir, host);
	if (rc)
		return rc;
	json_t *slurm = json_object_get(meta, "slurm");
	const char *job = json_string_value(json_object_get(slurm, "job"));
	const char *state = json_string_value(json_object_get(slurm, "state"));
	const char *status = json_string_value(json_object_get(meta, "status"));
	bool recorded = !strcmp(status, "completed") || !strcmp(status, "error") || !strcmp(status, "pruned");
	if (!job || (state && tally__slurm_state_final(state) && !status_is(meta, "queued") && !status_is(meta, "running"))) {
		*final = !job || recorded || status_is(meta, "terminated");
		json_decref(meta);
		return 0;
	}
	char job_copy[64];
	snprintf(job_copy, sizeof job_copy, "%s", job);
	json_decref(meta);
	tally_slurm_job j;
	if ((rc = tally__slurm_job_info(&j, job_copy)))
		return rc;
	if (j.known && !tally__slurm_state_final(j.state))
		return 0; /* still queued, running or completing */
	int edit, lock = lock_run(dir, 0, &edit);
	if (lock < 0)
		return 0; /* its tally still holds the run: it records the end itself */
	meta = read_meta_raw(dir);
	if (meta && json_is_object(json_object_get(meta, "slurm")) && json_is_string(json_object_get(meta, "status"))) {
		char logs[600];
		snprintf(logs, sizeof logs, "%s/" TALLY_SLURM_DIR "/slurm-%s.out", runs_dir, job_copy);
		record_ending(meta, job_copy, &j, logs);
		rc = tally__meta_save(dir, meta, TALLY_DURABLE);
		*final = !rc;
	}
	json_decref(meta);
	unlock_run(lock, edit);
	return rc;
}

static bool run_json_exists(const char *dir)
{
	char *path = file_in_meta(dir, "run.json");
	bool exists = path && (access(path, F_OK) == 0 || errno != ENOENT);
	free(path);
	return exists;
}

/* A long-lived process (tally view syncs for every request) asks Slurm at most this often. */
#define REFRESH_EVERY_MS 2000

void tally__slurm_refresh(tally_store *store)
{
	static _Atomic int64_t last_ms;
	char *path = active_path(store, NULL);
	DIR *d = path ? opendir(path) : NULL;
	free(path);
	if (!d)
		return; /* no Slurm run was ever submitted here: the common case costs one open */
	int64_t now = tally_now_ms(), last = last_ms;
	if (last && now - last < REFRESH_EVERY_MS && now >= last) {
		closedir(d);
		return;
	}
	last_ms = now;
	tally_strlist ids = TALLY_STRLIST_INIT, jobs = TALLY_STRLIST_INIT, active = TALLY_STRLIST_INIT;
	struct dirent *e;
	while ((e = readdir(d)))
		if (tally__is_run_dir_name(e->d_name))
			tally_strlist_push(&ids, e->d_name);
	closedir(d);
	/* the jobs of runs not yet recorded as ended by Slurm */
	char **job_of = calloc(ids.n ? ids.n : 1, sizeof *job_of);
	for (size_t i = 0; job_of && i < ids.n; i++) {
		char *dir = tally_path_join(store->path, ids.items[i]);
		json_t *meta = dir ? read_meta_raw(dir) : NULL;
		const char *job = json_string_value(json_object_get(json_object_get(meta, "slurm"), "job"));
		if (!meta && dir && !run_json_exists(dir))
			set_active(store, ids.items[i], false); /* removed, or never more than a directory */
		else if (job && (job_of[i] = strdup(job)))
			tally_strlist_push(&jobs, job);
		else if (meta && !job && dir && tally__run_drop_unsubmitted(dir, store->host, false))
			set_active(store, ids.items[i], false);
		json_decref(meta);
		free(dir);
	}
	if (job_of && jobs.n && !tally__slurm_active(&active, &jobs)) {
		tally_strlist_sort(&active);
		for (size_t i = 0; i < ids.n; i++) {
			if (!job_of[i] || tally_strlist_has_sorted(&active, job_of[i]))
				continue;
			char *dir = tally_path_join(store->path, ids.items[i]);
			bool final = false;
			if (dir && !tally__slurm_reconcile(dir, store->host, store->path, &final) && final)
				set_active(store, ids.items[i], false);
			free(dir);
		}
	}
	for (size_t i = 0; job_of && i < ids.n; i++)
		free(job_of[i]);
	free(job_of);
	tally_strlist_release(&ids);
	tally_strlist_release(&jobs);
	tally_strlist_release(&active);
}

int tally_run_in_slurm(const tally_run *run)
{
	json_t *meta = read_meta_raw(run->dir);
	const char *job = json_string_value(json_object_get(json_object_get(meta, "slurm"), "job"));
	bool under_way = job && (status_is(meta, "queued") || status_is(meta, "running"));
	tally_strlist jobs = TALLY_STRLIST_INIT, active = TALLY_STRLIST_INIT;
	if (under_way && !tally_strlist_push(&jobs, job) && !tally__slurm_active(&active, &jobs) && !active.n) {
		bool final = false;
		tally__slurm_reconcile(run->dir, run->store->host, run->store->path, &final);
		under_way = !final;
	}
	tally_strlist_release(&jobs);
	tally_strlist_release(&active);
	json_decref(meta);
	return under_way;
}

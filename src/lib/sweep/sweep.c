/*
 * A sweep's record and its trials' state.
 *
 * A sweep lives in RUNS/.sweeps/ID/: sweep.json (its space, options, seed
 * and the list of trials, written atomically) and a lock file that the
 * process running it holds, so that "running" is never believed of a sweep
 * whose process died (it reads as interrupted).  Its trials are ordinary
 * runs whose run.json says {"sweep": {"id", "trial"}}: which trials have
 * run, and how they ended, is read from the runs (through the index), never
 * from a copy kept in the sweep — so a sweep killed at any moment loses
 * nothing and resumes without running a completed trial twice.
 */
#include "lib/sweep/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/slurm/slurm.h"
#include "util/fsutil.h"
#include "util/strlist.h"
#include "util/timeutil.h"

#define SWEEPS_DIR ".sweeps"

/* ---- the record in memory ---- */

tally_sweep *tally__sweep_alloc(tally_store *store)
{
	tally_sweep *s = calloc(1, sizeof *s);
	if (s) {
		s->store = store;
		s->lock_fd = -1;
		strcpy(s->status, "planned");
	}
	return s;
}

const char *tally__sweep_rec_str(const tally_sweep *s, const char *key)
{
	const char *v = json_string_value(json_object_get(s->record, key));
	return v ? v : "";
}

json_t *tally__sweep_rec_trials(const tally_sweep *s)
{
	return json_object_get(s->record, "trials");
}

json_t *tally__sweep_trial_flags(const tally_sweep *s, size_t i)
{
	return json_object_get(json_array_get(tally__sweep_rec_trials(s), i), "flags");
}

static void release_trials(tally_sweep *s)
{
	for (size_t i = 0; i < s->n_trials; i++) {
		free(s->trials[i].run_id);
		free(s->trials[i].flags_text);
	}
	free(s->trials);
	s->trials = NULL;
	s->n_trials = 0;
}

int tally__sweep_alloc_trials(tally_sweep *s)
{
	release_trials(s);
	size_t n = json_array_size(tally__sweep_rec_trials(s));
	s->trials = calloc(n ? n : 1, sizeof *s->trials);
	if (!s->trials)
		return tally__error_oom();
	s->n_trials = n;
	for (size_t i = 0; i < n; i++) {
		strcpy(s->trials[i].status, "pending");
		s->trials[i].duration_ms = -1;
		s->trials[i].flags_text = json_dumps(tally__sweep_trial_flags(s, i), JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
		if (!s->trials[i].flags_text)
			return tally__error_oom();
	}
	return 0;
}

void tally__sweep_load_objective(tally_sweep *s)
{
	json_t *o = json_object_get(s->record, "objective");
	const char *scalar = json_string_value(json_object_get(o, "scalar"));
	snprintf(s->objective, sizeof s->objective, "%s", scalar ? scalar : "");
	s->maximize = !strcmp(json_string_value(json_object_get(o, "goal")) ? json_string_value(json_object_get(o, "goal")) : "",
	                      "maximize");
}

int tally__sweep_save_record(tally_sweep *s, bool durable)
{
	char *text = json_dumps(s->record, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	char *path = tally_path_join(s->dir, "sweep.json");
	int rc = 0;
	if (!text || !path)
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path, text, strlen(text), durable ? TALLY_DURABLE : 0) < 0)
		rc = tally__error(TALLY_ERROR, "cannot write '%s': %s", path, strerror(errno));
	free(text);
	free(path);
	return rc;
}

/* ---- the record on disk ---- */

static char *sweeps_root(const tally_store *store)
{
	return tally_path_join(store->path, SWEEPS_DIR);
}

/* Whether runs in the index say they are trials of sweep `id`. */
static bool id_has_runs(tally_store *store, const char *id)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (store->db && sqlite3_prepare_v2(store->db, "SELECT 1 FROM runs WHERE sweep = ?1 LIMIT 1", -1, &st, NULL) ==
	                     SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* A new RUNS/.sweeps/ID: four hex digits, more if those keep colliding
 * (with another sweep, or with the runs of a sweep whose record is gone). */
int tally__sweep_create_dir(tally_sweep *s)
{
	char *root = sweeps_root(s->store);
	if (!root || tally_mkdir_p(root) < 0) {
		int rc = root ? tally__error(TALLY_ERROR, "cannot create '%s': %s", root, strerror(errno)) : tally__error_oom();
		free(root);
		return rc;
	}
	tally_rng rng;
	tally_rng_seed(&rng, tally_rng_fresh_seed());
	int rc = tally_store_sync(s->store, 0, NULL);
	if (rc) {
		free(root);
		return rc;
	}
	rc = TALLY_ERROR;
	for (int attempt = 0; attempt < 200; attempt++) {
		int digits = attempt < 50 ? 4 : attempt < 100 ? 6 : 8;
		snprintf(s->id, sizeof s->id, "%0*llx", digits,
		         (unsigned long long)tally_rng_below(&rng, UINT64_C(1) << (4 * digits)));
		if (!strspn(s->id, "abcdef")) /* never all digits: that would read as a run index */
			s->id[0] = "abcdef"[tally_rng_below(&rng, 6)];
		free(s->dir);
		s->dir = tally_path_join(root, s->id);
		if (!s->dir) {
			rc = tally__error_oom();
			break;
		}
		if (mkdir(s->dir, 0777) == 0) {
			if (!id_has_runs(s->store, s->id)) {
				rc = 0;
				break;
			}
			rmdir(s->dir); /* runs of an earlier sweep of that id (its record deleted): not this one's */
			continue;
		}
		if (errno != EEXIST) {
			rc = tally__error(TALLY_ERROR, "cannot create '%s': %s", s->dir, strerror(errno));
			break;
		}
	}
	free(root);
	if (rc)
		s->id[0] = '\0';
	return rc;
}

static bool valid_sweep_id(const char *id)
{
	size_t n = strlen(id);
	return n >= 4 && n < 16 && strspn(id, "0123456789abcdef") == n;
}

/* Absent, or an array of strings. */
static bool strings_or_absent(json_t *v)
{
	size_t i;
	json_t *e;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
	return true;
}

/* What the scheduler reads of a record has the shape it expects: a record
 * edited by hand is refused, not half used. */
static bool record_valid(json_t *r)
{
	json_t *trials = json_object_get(r, "trials"), *v;
	size_t i;
	if (!json_is_array(trials) || !json_is_string(json_object_get(r, "status")) ||
	    (!json_is_string(json_object_get(r, "script")) && !json_array_size(json_object_get(r, "command"))) ||
	    !strings_or_absent(json_object_get(r, "command")) || !strings_or_absent(json_object_get(r, "tags")) ||
	    !strings_or_absent(json_object_get(r, "fixed_flags")))
		return false;
	json_array_foreach(trials, i, v) if (!json_is_object(json_object_get(v, "flags"))) return false;
	json_array_foreach(json_object_get(r, "space"), i, v) {
		if (!json_is_string(json_object_get(v, "flag")) || !json_is_string(json_object_get(v, "spec")))
			return false;
	}
	return true;
}

/* Read `dir`/sweep.json into the sweep. */
static int load_record(tally_sweep *s, const char *id)
{
	char *root = sweeps_root(s->store);
	s->dir = root ? tally_path_join(root, id) : NULL;
	free(root);
	char *path = s->dir ? tally_path_join(s->dir, "sweep.json") : NULL;
	if (!path)
		return tally__error_oom();
	json_error_t err;
	s->record = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	int rc = 0;
	if (!s->record)
		rc = tally__error(TALLY_ECORRUPT, "sweep %s: cannot read %s: %s", id, path, err.text);
	else if (!record_valid(s->record))
		rc = tally__error(TALLY_ECORRUPT, "sweep %s: %s is not a sweep record (edited by hand?)", id, path);
	free(path);
	if (rc)
		return rc;
	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->status, sizeof s->status, "%s", tally__sweep_rec_str(s, "status"));
	free(s->describe);
	s->describe = strdup(tally__sweep_rec_str(s, "description"));
	tally__sweep_load_objective(s);
	return s->describe ? tally__sweep_alloc_trials(s) : tally__error_oom();
}

/* A "running" record whose process no longer holds the lock was killed. */
static void check_liveness(tally_sweep *s)
{
	if (strcmp(s->status, "running") || strcmp(tally__sweep_rec_str(s, "host"), s->store->host))
		return; /* another machine's sweep: its lock is not ours to test */
	char *path = tally_path_join(s->dir, "lock");
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0)
		strcpy(s->status, "interrupted");
	if (fd >= 0)
		close(fd);
	free(path);
}

/* A detached sweep still "queued" whose controller job left Slurm without
 * starting it (cancelled or failed while pending) is interrupted: nothing will
 * start it, and `tally tune --resume ID` takes it as such.  Slurm not answering
 * (or not here) leaves it queued. */
static void check_controller(tally_sweep *s)
{
	if (strcmp(s->status, "queued"))
		return;
	const char *job = json_string_value(json_object_get(json_object_get(s->record, "controller"), "job"));
	if (!job)
		return;
	tally_slurm_job info;
	if (tally__slurm_job_info(&info, job) == 0 && (!info.known || tally__slurm_state_final(info.state)))
		strcpy(s->status, "interrupted");
}

int tally_sweep_open(tally_sweep **out, tally_store *store, const char *ref)
{
	*out = NULL;
	char *root = sweeps_root(store);
	if (!root)
		return tally__error_oom();
	DIR *d = opendir(root);
	tally_strlist matches = TALLY_STRLIST_INIT;
	struct dirent *e;
	bool exact = false;
	while (d && (e = readdir(d)) && !exact) {
		if (!valid_sweep_id(e->d_name) || strncmp(e->d_name, ref, strlen(ref)))
			continue;
		if (!strcmp(e->d_name, ref)) {
			tally_strlist_release(&matches);
			exact = true;
		}
		tally_strlist_push(&matches, e->d_name);
	}
	if (d)
		closedir(d);
	free(root);
	int rc = 0;
	if (!*ref || !matches.n)
		rc = tally__error(TALLY_ENOTFOUND, "no sweep '%s' — `tally sweeps` lists them", ref);
	else if (matches.n > 1)
		rc = tally__error(TALLY_EAMBIGUOUS, "sweep '%s' is ambiguous: %s, %s%s — give more of its id", ref,
		                  matches.items[0], matches.items[1], matches.n > 2 ? ", …" : "");
	tally_sweep *s = rc ? NULL : tally__sweep_alloc(store);
	if (!rc && !s)
		rc = tally__error_oom();
	if (!rc && !(rc = load_record(s, matches.items[0]))) {
		check_liveness(s);
		check_controller(s);
		rc = tally__sweep_refresh_trials(s);
	}
	tally_strlist_release(&matches);
	if (rc) {
		tally_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void tally_sweep_free(tally_sweep *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	release_trials(s);
	json_decref(s->record);
	free(s->dir);
	free(s->describe);
	free(s->json_text);
	free(s);
}

/* ---- changing a running sweep's record ---- */

int tally__sweep_lock(tally_sweep *s)
{
	char *path = tally_path_join(s->dir, "lock");
	if (!path)
		return tally__error_oom();
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	int rc = 0;
	if (s->lock_fd < 0)
		rc = tally__error(TALLY_ERROR, "cannot open '%s': %s", path, strerror(errno));
	else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = tally__error(TALLY_ELOCKED, "sweep %s is running already (pid %lld on %s) — wait for it, or stop it",
		                  s->id, (long long)json_integer_value(json_object_get(s->record, "pid")), tally__sweep_rec_str(s, "host"));
	free(path);
	if (rc && s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	return rc;
}

int tally__sweep_set_status(tally_sweep *s, const char *status, bool durable)
{
	snprintf(s->status, sizeof s->status, "%s", status);
	json_object_set_new(s->record, "status", json_string(status));
	char iso[40];
	tally_format_iso_ms(iso, sizeof iso, tally_now_ms());
	json_object_set_new(s->record, strcmp(status, "running") ? "ended" : "resumed", json_string(iso));
	if (!json_object_get(s->record, "created"))
		json_object_set_new(s->record, "created", json_string(iso));
	json_object_set_new(s->record, "pid", json_integer(getpid()));
	json_object_set_new(s->record, "host", json_string(s->store->host));
	return tally__sweep_save_record(s, durable);
}

/* Add a proposed trial to the record (written before it starts) and to the states. */
int tally__sweep_append_trial(tally_sweep *s, json_t *values)
{
	tally_trial_state *grown = realloc(s->trials, (s->n_trials + 1) * sizeof *grown);
	if (!grown) {
		json_decref(values);
		return tally__error_oom();
	}
	s->trials = grown;
	tally_trial_state *t = &s->trials[s->n_trials];
	memset(t, 0, sizeof *t);
	strcpy(t->status, "pending");
	t->duration_ms = -1;
	t->flags_text = json_dumps(values, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_t *trial = json_object();
	json_object_set_new(trial, "flags", values);
	json_array_append_new(tally__sweep_rec_trials(s), trial);
	s->n_trials++;
	return t->flags_text ? tally__sweep_save_record(s, false) : tally__error_oom();
}

/* ---- the trials' state, from their runs ---- */

/* Without --minimize/--maximize: the first of these a completed trial logged. */
static const char *const default_objectives[] = {"val_loss", "loss"};

static void set_objective(tally_sweep *s, const char *scalar)
{
	snprintf(s->objective, sizeof s->objective, "%s", scalar);
	json_object_set_new(json_object_get(s->record, "objective"), "scalar", json_string(s->objective));
}

/* The default objective, from the completed trials in the index. */
static void find_objective(tally_sweep *s)
{
	if (s->objective[0])
		return;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->store->db,
	                       "SELECT s.tag FROM runs r JOIN scalars s ON s.rid = r.rid WHERE r.sweep = ?1"
	                       " AND r.status = 'completed' AND s.tag IN (?2, ?3) ORDER BY s.tag = ?2 DESC LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, default_objectives[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, default_objectives[1], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		set_objective(s, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void reset_trial(tally_trial_state *t)
{
	free(t->run_id);
	t->run_id = NULL;
	strcpy(t->status, "pending");
	t->has_objective = t->logged_objective = false;
	t->duration_ms = -1;
}

/*
 * The trials' state from their runs (through the index).  A trial is
 * completed when one of its runs completed; otherwise its latest run tells
 * (an interrupted retry of a failed trial is terminated: run again).
 */
int tally__sweep_refresh_trials(tally_sweep *s)
{
	if (!s->id[0])
		return 0;
	int rc = tally_store_sync(s->store, 0, NULL);
	if (rc)
		return rc;
	if (!s->store->db)
		return tally__error(TALLY_ERROR, "sweep %s: the runs index is not available", s->id);
	find_objective(s);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->store->db,
	                       "SELECT r.trial, r.id, r.status, r.started, r.stopped, sc.last, sc.last_step FROM runs r"
	                       " LEFT JOIN scalars sc ON sc.rid = r.rid AND sc.tag = ?2"
	                       " WHERE r.sweep = ?1 ORDER BY r.started, r.id",
	                       -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "sweep %s: index query failed: %s", s->id, sqlite3_errmsg(s->store->db));
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->objective, -1, SQLITE_STATIC);
	for (size_t i = 0; i < s->n_trials; i++)
		reset_trial(&s->trials[i]);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_int64 trial = sqlite3_column_int64(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 2);
		if (trial < 1 || (size_t)trial > s->n_trials || !status)
			continue;
		tally_trial_state *t = &s->trials[trial - 1];
		if (!strcmp(t->status, "completed"))
			continue; /* done: a later run of it (a retry that failed) does not undo that */
		free(t->run_id);
		if (!(t->run_id = strdup((const char *)sqlite3_column_text(st, 1))))
			rc = tally__error_oom();
		snprintf(t->status, sizeof t->status, "%s", status);
		t->duration_ms = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1
		               : sqlite3_column_int64(st, 4) - sqlite3_column_int64(st, 3);
		t->logged_objective = sqlite3_column_type(st, 5) != SQLITE_NULL;
		t->has_objective = t->logged_objective && !strcmp(status, "completed");
		t->objective = sqlite3_column_double(st, 5);
		t->objective_step = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * A trial's run that just ended, read from its directory: no index sync,
 * which right after a run was created would rescan the whole runs directory
 * (its mtime is too recent to trust) — once per trial, that made a sweep
 * quadratic.
 */
void tally__sweep_read_trial_run(tally_sweep *s, size_t trial, const char *run_id)
{
	tally_trial_state *t = &s->trials[trial];
	if (!strcmp(t->status, "completed"))
		return;
	char *dir = tally_path_join(s->store->path, run_id);
	tally_run *run = NULL;
	if (!dir || tally__run_load_dir(&run, s->store, dir)) {
		tally_buf_printf(&s->store->warnings, "sweep %s, trial %zu: %s\n", s->id, trial + 1,
		                 dir ? tally_error_last() : "out of memory");
		free(dir);
		return;
	}
	free(dir);
	reset_trial(t);
	t->run_id = strdup(run_id);
	snprintf(t->status, sizeof t->status, "%s", tally_run_status(run));
	int64_t started = tally_run_started_ms(run), stopped = tally_run_stopped_ms(run);
	t->duration_ms = stopped > 0 && stopped >= started ? stopped - started : -1;
	json_t *scalars = json_loads(tally_run_scalars_json(run), 0, NULL);
	for (size_t i = 0; !s->objective[0] && !strcmp(t->status, "completed") && i < 2; i++)
		if (json_object_get(scalars, default_objectives[i]))
			set_objective(s, default_objectives[i]);
	json_t *last = json_object_get(json_object_get(scalars, s->objective), "last");
	t->logged_objective = s->objective[0] && json_is_number(last);
	t->has_objective = t->logged_objective && !strcmp(t->status, "completed");
	t->objective = json_number_value(last);
	t->objective_step = json_integer_value(json_object_get(json_object_get(scalars, s->objective), "last_step"));
	json_decref(scalars);
	tally_run_free(run);
}

/* ---- reading a sweep ---- */

const char *tally_sweep_id(const tally_sweep *s)
{
	return s->id;
}

const char *tally_sweep_status(const tally_sweep *s)
{
	return s->status;
}

const char *tally_sweep_describe(const tally_sweep *s)
{
	return s->describe ? s->describe : "";
}

const char *tally_sweep_objective(const tally_sweep *s, int *maximize)
{
	if (maximize)
		*maximize = s->maximize;
	return s->objective;
}

size_t tally_sweep_trial_count(const tally_sweep *s)
{
	return s->n_trials;
}

int tally_sweep_trial_get(const tally_sweep *s, size_t i, tally_sweep_trial *out)
{
	if (i >= s->n_trials)
		return tally__error(TALLY_ENOTFOUND, "sweep %s has no trial %zu", s->id, i + 1);
	const tally_trial_state *t = &s->trials[i];
	out->flags_json = t->flags_text;
	out->run_id = t->run_id;
	out->status = t->status;
	out->has_objective = t->has_objective;
	out->objective = t->objective;
	out->duration_ms = t->duration_ms;
	out->logged_objective = t->logged_objective;
	return 0;
}

long tally_sweep_best(const tally_sweep *s)
{
	long best = -1;
	for (size_t i = 0; i < s->n_trials; i++) {
		const tally_trial_state *t = &s->trials[i];
		if (!t->has_objective || isnan(t->objective))
			continue;
		double b = best >= 0 ? s->trials[best].objective : 0;
		if (best < 0 || (s->maximize ? t->objective > b : t->objective < b))
			best = (long)i;
	}
	return best;
}

const char *tally_sweep_json(tally_sweep *s)
{
	json_t *o = json_deep_copy(s->record);
	json_object_set_new(o, "id", s->id[0] ? json_string(s->id) : json_null());
	json_object_set_new(o, "status", json_string(s->status));
	json_object_set_new(o, "description", json_string(tally_sweep_describe(s)));
	json_t *trials = json_object_get(o, "trials");
	for (size_t i = 0; i < s->n_trials; i++) {
		json_t *t = json_array_get(trials, i);
		const tally_trial_state *st = &s->trials[i];
		json_object_set_new(t, "trial", json_integer((json_int_t)i + 1));
		json_object_set_new(t, "status", json_string(st->status));
		json_object_set_new(t, "run", st->run_id ? json_string(st->run_id) : json_null());
		json_object_set_new(t, "objective", st->has_objective && isfinite(st->objective) ? json_real(st->objective)
		                                                                                 : json_null());
		if (st->logged_objective && isfinite(st->objective)) { /* also a pruned or failed trial's */
			json_object_set_new(t, "last_value", json_real(st->objective));
			json_object_set_new(t, "last_step", json_integer(st->objective_step));
		}
	}
	long best = tally_sweep_best(s);
	json_object_set_new(o, "best_trial", best >= 0 ? json_integer(best + 1) : json_null());
	json_object_set_new(o, "best_run", best >= 0 ? json_string(s->trials[best].run_id) : json_null());
	free(s->json_text);
	s->json_text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_decref(o);
	return s->json_text ? s->json_text : "{}";
}

static int by_created_desc(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return strcmp(json_string_value(json_object_get(*y, "created")) ? json_string_value(json_object_get(*y, "created")) : "",
	              json_string_value(json_object_get(*x, "created")) ? json_string_value(json_object_get(*x, "created")) : "");
}

int tally_sweep_list(tally_store *store, char **json_out)
{
	*json_out = NULL;
	char *root = sweeps_root(store);
	if (!root)
		return tally__error_oom();
	DIR *d = opendir(root);
	free(root);
	json_t **items = NULL;
	size_t n = 0;
	struct dirent *e;
	int rc = 0;
	tally_buf skipped = TALLY_BUF_INIT; /* told once every sync (which restarts the warnings) is done */
	while (!rc && d && (e = readdir(d))) {
		if (!valid_sweep_id(e->d_name))
			continue;
		tally_sweep *s = NULL;
		if (tally_sweep_open(&s, store, e->d_name)) { /* a damaged record: reported, not fatal */
			tally_buf_printf(&skipped, "skipped %s\n", tally_error_last()); /* the message names the sweep */
			continue;
		}
		json_t *summary = json_object(), **grown = realloc(items, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = tally__error_oom();
			json_decref(summary);
			tally_sweep_free(s);
			break;
		}
		items = grown;
		size_t completed = 0, failed = 0, pruned = 0;
		for (size_t i = 0; i < s->n_trials; i++) {
			completed += !strcmp(s->trials[i].status, "completed");
			pruned += !strcmp(s->trials[i].status, "pruned");
			failed += !strcmp(s->trials[i].status, "error") || !strcmp(s->trials[i].status, "terminated");
		}
		long best = tally_sweep_best(s);
		json_object_set_new(summary, "id", json_string(s->id));
		json_object_set(summary, "created", json_object_get(s->record, "created"));
		json_object_set_new(summary, "status", json_string(s->status));
		json_object_set(summary, "script", json_object_get(s->record, "script"));
		json_object_set(summary, "strategy", json_object_get(s->record, "strategy"));
		json_object_set_new(summary, "description", json_string(tally_sweep_describe(s)));
		json_object_set_new(summary, "trials", json_integer((json_int_t)s->n_trials));
		json_object_set_new(summary, "completed", json_integer((json_int_t)completed));
		json_object_set_new(summary, "failed", json_integer((json_int_t)failed));
		json_object_set_new(summary, "pruned", json_integer((json_int_t)pruned));
		json_object_set(summary, "optimizer", json_object_get(s->record, "optimizer"));
		json_object_set(summary, "pruner", json_object_get(s->record, "pruner"));
		json_object_set_new(summary, "objective", s->objective[0] ? json_string(s->objective) : json_null());
		json_object_set_new(summary, "goal", json_string(s->maximize ? "maximize" : "minimize"));
		json_object_set_new(summary, "best_run", best >= 0 ? json_string(s->trials[best].run_id) : json_null());
		json_object_set_new(summary, "best_value", best >= 0 && isfinite(s->trials[best].objective)
		                                               ? json_real(s->trials[best].objective) : json_null());
		items[n++] = summary;
		tally_sweep_free(s);
	}
	if (d)
		closedir(d);
	if (skipped.len)
		tally_buf_adds(&store->warnings, skipped.ptr);
	tally_buf_release(&skipped);
	if (n > 1)
		qsort(items, n, sizeof *items, by_created_desc);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
	if (!rc && !(*json_out = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS)))
		rc = tally__error_oom();
	json_decref(list);
	return rc;
}


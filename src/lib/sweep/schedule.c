/*
 * The scheduler: runs a sweep's trials that have not completed, `parallel`
 * at a time.  It takes each trial from the plan (grid, random, a trials
 * file) or asks a sequential strategy for the next one with the results so
 * far, and hands it to an executor (executor-local.c, executor-slurm.c) in
 * a free slot; the executor tells it when a trial ended, and the trial's run
 * says how.  A batch system's executor gets a slot for every planned trial
 * and submits them together (its array's %N keeps --parallel), and on
 * resume it takes over the trials a killed sweep left queued or running.
 *
 * SIGINT, SIGTERM and SIGHUP stop the sweep: they are forwarded once to the
 * running trials, which end as terminated, and the sweep is recorded as
 * interrupted (a later tally_sweep_execute() resumes it).  Signals reach the
 * loop through a self-pipe that the executor's wait also watches; SIGCHLD
 * writes to it too, so a local trial's end wakes the loop at once.
 */
#include "lib/sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/scalars/scalars.h"
#include "lib/slurm/slurm.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

#define WATCH_EVERY_MS 100 /* how often a pruner reads the running trials' points */

/* A place for one trial at a time. */
typedef struct {
	bool busy;
	size_t trial;
	int64_t started_ms;
	/* with a pruner: the trial's scalars, read as its run logs them */
	tally_scalar_cursor *cursor;
	int prune_signals;       /* SIGTERMs sent since the pruner stopped it */
	int64_t prune_signal_ms; /* when the last one went */
} slot;

typedef struct {
	tally_sweep *s;
	const tally_sweep_exec_options *o;
	slot *slots;
	unsigned n_slots;
	const tally_executor *executor;
	void *executor_state;
	size_t *todo;            /* planned trials to run, in order */
	size_t n_todo, next_todo;
	size_t *adopt;           /* trials whose runs are still queued or running in a batch system */
	size_t n_adopt;
	size_t running, completed, failed, done_before;
	int64_t finished_ms_total;
	size_t finished_count;
	bool stopping, failed_fast;
	int stop_signal;
	/* A sequential strategy, asked for each trial as slots free. */
	const tally_strategy *strategy;
	void *strategy_state;
	tally_space space;
	uint64_t budget;
	bool exhausted;
	/* A pruner, watching the running trials' objective. */
	tally_pruner *pruner;
	int64_t grace_ms;
	size_t pruned;
	long best;               /* the best trial so far, kept as trials end */
} scheduler;

static size_t count_strings(const char *const *list)
{
	size_t n = 0;
	while (list && list[n])
		n++;
	return n;
}

/* ---- signals ---- */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;
	if (write(signal_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
	errno = saved;
}

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
#define N_HANDLED (sizeof handled_signals / sizeof *handled_signals)

/* The dispositions the signals had before the sweep took them (trials get them back). */
static struct sigaction saved_actions[N_HANDLED];

static int install_signals(void)
{
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return tally__error(TALLY_ERROR, "cannot create a pipe: %s", strerror(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_HANDLED; i++) {
		sigaction(handled_signals[i], NULL, &saved_actions[i]);
		/* ignored when the sweep started (nohup): stays ignored; SIGCHLD is always needed */
		if (saved_actions[i].sa_handler == SIG_IGN && handled_signals[i] != SIGCHLD)
			continue;
		sigaction(handled_signals[i], &sa, NULL);
	}
	return 0;
}

static void restore_signals(void)
{
	for (size_t i = 0; i < N_HANDLED; i++)
		sigaction(handled_signals[i], &saved_actions[i], NULL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	signal_pipe[0] = signal_pipe[1] = -1;
}

/* In a trial's process, before anything else: the signals as they were
 * before the sweep, and neither the self-pipe nor the sweep's lock (which
 * must stay the sweep process's alone, or a dead sweep would look alive). */
static void trial_process_setup(void *ctx)
{
	scheduler *x = ctx;
	for (size_t i = 0; i < N_HANDLED; i++)
		sigaction(handled_signals[i], &saved_actions[i], NULL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	if (x->s->lock_fd >= 0)
		close(x->s->lock_fd);
}

/* Read the signals that came; stop signals stop the sweep and go on to the trials. */
static void take_signals(scheduler *x)
{
	unsigned char sigs[64];
	ssize_t got;
	while ((got = read(signal_pipe[0], sigs, sizeof sigs)) > 0)
		for (ssize_t i = 0; i < got; i++)
			if (sigs[i] != SIGCHLD) {
				x->stopping = true;
				x->stop_signal = sigs[i];
				x->executor->signal(x->executor_state, sigs[i]);
			}
}

/* ---- progress ---- */

static void emit(scheduler *x, int event, long trial, const char *run_id, const char *error)
{
	if (!x->o->progress)
		return;
	tally_sweep_progress p = {event, trial, run_id, error, x->s->n_trials, x->completed, x->failed, x->running,
	                          0, x->done_before, -1, x->pruned, x->best};
	p.pending = x->n_todo - x->next_todo;
	if (x->strategy && !x->exhausted && x->budget > x->s->n_trials) { /* still to be proposed */
		p.pending += (size_t)(x->budget - x->s->n_trials);
		p.total = (size_t)x->budget;
	}
	if (x->finished_count) { /* the trials still to start, in rounds, after the running ones' rest */
		int64_t avg = x->finished_ms_total / (int64_t)x->finished_count, now = tally_now_ms(), rest = 0;
		for (unsigned w = 0; w < x->n_slots; w++)
			if (x->slots[w].busy && avg - (now - x->slots[w].started_ms) > rest)
				rest = avg - (now - x->slots[w].started_ms);
		p.eta_ms = rest + avg * (int64_t)((p.pending + x->n_slots - 1) / x->n_slots);
	}
	x->o->progress(x->o->ctx, x->s, &p);
}

/* ---- starting and ending trials ---- */

/* The seam between the sweep and the way its trials run: the trial's
 * launch options from the record, handed to the executor. */
static int start_trial(scheduler *x, unsigned w, size_t trial)
{
	tally_trial_launch tl;
	int rc = tally__trial_launch_init(&tl, x->s, trial);
	const char *const *gpus = x->o->gpus;
	tally_trial_start start = {w, trial, &tl.opts, x->s->store->path,
	                           gpus && gpus[0] ? gpus[w % count_strings(gpus)] : NULL};
	if (!rc)
		rc = x->executor->start(x->executor_state, &start);
	tally__trial_launch_release(&tl);
	if (rc)
		return rc;
	x->slots[w] = (slot){.busy = true, .trial = trial, .started_ms = tally_now_ms()};
	x->running++;
	emit(x, TALLY_SWEEP_TRIAL_STARTED, (long)trial, NULL, NULL);
	return 0;
}

static void pruner_trial_ended(scheduler *x, slot *k, const tally_trial_end *end);

/* Keep the best trial as trials end: tally_sweep_best() walks them all, too
 * much for every progress event of a sweep of a million trials.  Ties go to
 * the earlier trial, as there. */
static void update_best(scheduler *x, size_t trial)
{
	const tally_trial_state *t = &x->s->trials[trial];
	if (!t->has_objective || isnan(t->objective))
		return;
	if (x->best >= 0) {
		double b = x->s->trials[x->best].objective;
		bool better = x->s->maximize ? t->objective > b : t->objective < b;
		if (!better && !(t->objective == b && (long)trial < x->best))
			return;
	}
	x->best = (long)trial;
}

static void trial_ended(void *ctx, const tally_trial_end *end)
{
	scheduler *x = ctx;
	slot *k = &x->slots[end->slot];
	x->running--;
	if (end->run_id)
		tally__sweep_read_trial_run(x->s, end->trial, end->run_id);
	const char *status = x->s->trials[end->trial].status;
	bool ok = !end->error && !strcmp(status, "completed"), pruned = !end->error && !strcmp(status, "pruned");
	pruner_trial_ended(x, k, end);
	update_best(x, end->trial);
	if (ok)
		x->completed++;
	else if (pruned)
		x->pruned++;
	else
		x->failed++;
	x->finished_ms_total += tally_now_ms() - k->started_ms;
	x->finished_count++;
	if (!ok && !pruned && x->o->fail_fast && !x->stopping) { /* a pruned trial ended as meant */
		x->stopping = true;
		x->failed_fast = true;
	}
	k->busy = false;
	emit(x, TALLY_SWEEP_TRIAL_ENDED, (long)end->trial, end->run_id, end->error);
}

/* ---- pruning: hopeless trials stopped early ---- */

typedef struct {
	scheduler *x;
	size_t trial;
	bool any;
} point_sink;

static int take_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	point_sink *k = ctx;
	(void)time_ms;
	if (!strcmp(tag, k->x->s->objective)) {
		k->any = true;
		tally__pruner_report(k->x->pruner, k->trial, step, k->x->s->maximize ? -value : value);
	}
	return 0;
}

static char *run_dir(const scheduler *x, const char *run_id)
{
	return tally_path_join(x->s->store->path, run_id);
}

/* The objective's points that trial `w` logged since the last look; whether there were any. */
static bool read_new_points(scheduler *x, slot *k, const char *run_id)
{
	if (!k->cursor) {
		char *dir = run_id ? run_dir(x, run_id) : NULL;
		if (!dir || tally__scalar_cursor_open(&k->cursor, dir))
			k->cursor = NULL;
		free(dir);
		if (!k->cursor)
			return false;
	}
	point_sink sink = {x, k->trial, false};
	tally__scalar_cursor_read(k->cursor, take_point, &sink);
	return sink.any;
}

/* ASHA's estimated first rung, kept in the record so that a resumed sweep uses the same rungs. */
static void remember_min_step(scheduler *x)
{
	json_t *settings = json_object_get(x->s->record, "pruner");
	const char *name = json_string_value(json_object_get(settings, "name"));
	if (!name || strcmp(name, "asha") || json_is_integer(json_object_get(settings, "min_step")) ||
	    json_object_get(settings, "min_step_estimated"))
		return;
	int64_t step = tally__pruner_min_step(x->pruner);
	if (step > 0) {
		json_object_set_new(settings, "min_step_estimated", json_integer(step));
		tally__sweep_save_record(x->s, false);
	}
}

/* The trials that ran before this execution (a resumed sweep) count too. */
static int start_pruner(scheduler *x)
{
	json_t *settings = json_object_get(x->s->record, "pruner");
	if (!json_is_object(settings))
		return 0;
	int rc = tally__pruner_new(&x->pruner, settings, x->s->objective, x->s->maximize);
	double grace = json_number_value(json_object_get(settings, "grace_seconds"));
	x->grace_ms = (int64_t)((grace > 0 && grace <= 86400 ? grace : TALLY_PRUNE_GRACE_S) * 1000);
	for (size_t i = 0; !rc && i < x->s->n_trials; i++) {
		const tally_trial_state *t = &x->s->trials[i];
		if (!t->run_id || (strcmp(t->status, "completed") && strcmp(t->status, "pruned")))
			continue;
		char *dir = run_dir(x, t->run_id);
		bool truncated;
		point_sink sink = {x, i, false};
		if (dir)
			tally__scalar_log_read(dir, take_point, &sink, &truncated);
		free(dir);
		if (!strcmp(t->status, "completed"))
			tally__pruner_completed(x->pruner, i);
	}
	for (size_t i = 0; !rc && i < x->s->n_trials; i++)
		if (x->s->trials[i].run_id && !strcmp(x->s->trials[i].status, "pruned"))
			tally__pruner_replay(x->pruner, i);
	for (size_t i = 0; !rc && i < x->s->n_trials; i++)
		if (x->s->trials[i].run_id && !strcmp(x->s->trials[i].status, "completed"))
			tally__pruner_replay(x->pruner, i);
	if (!rc)
		remember_min_step(x);
	return rc;
}

/*
 * Stop the trial in slot `w`: its run is told why (.tally/prune.json, which
 * makes its tally record it as pruned), then its tally gets SIGTERM, which
 * it passes on to the script.  A script that outlives the grace period gets
 * two more, which its tally turns into SIGKILL.
 */
static void prune_trial(scheduler *x, unsigned w, const char *run_id, const char *why)
{
	char *dir = run_dir(x, run_id);
	json_t *meta = NULL;
	/* ended meanwhile (its last points came with its end): nothing to stop, and its end stands */
	bool running = dir && !tally__meta_load(&meta, dir, x->s->store->host) &&
	               !strcmp(json_string_value(json_object_get(meta, "status")) ? json_string_value(json_object_get(meta,
	                       "status")) : "", "running");
	json_decref(meta);
	if (!running) {
		free(dir);
		return;
	}
	char *path = tally_path_join(dir, TALLY_META_DIR "/prune.json");
	json_t *request = json_object();
	json_object_set(request, "pruner", json_object_get(json_object_get(x->s->record, "pruner"), "name"));
	json_object_set_new(request, "sweep", json_string(x->s->id));
	json_object_set_new(request, "reason", json_string(why));
	char *text = json_dumps(request, JSON_INDENT(2));
	if (!path || !text || tally_write_file_atomic(path, text, strlen(text), 0))
		tally_buf_printf(&x->s->store->warnings, "sweep %s: trial %zu is stopped as terminated: %s\n", x->s->id,
		                 x->slots[w].trial + 1, path && text ? tally_error_last() : "out of memory");
	free(text);
	json_decref(request);
	free(path);
	free(dir);
	x->executor->signal_trial(x->executor_state, w, SIGTERM);
	x->slots[w].prune_signals = 1;
	x->slots[w].prune_signal_ms = tally_now_ms();
}

/* Read what the running trials logged; stop the hopeless ones, and those that ignore being stopped. */
static void watch_trials(scheduler *x)
{
	int64_t now = tally_now_ms();
	for (unsigned w = 0; x->pruner && w < x->n_slots; w++) {
		slot *k = &x->slots[w];
		if (!k->busy)
			continue;
		if (k->prune_signals) {
			int64_t due = k->prune_signals == 1 ? x->grace_ms : 250; /* the third one spaced from the second */
			if (k->prune_signals < 3 && now - k->prune_signal_ms >= due) {
				x->executor->signal_trial(x->executor_state, w, SIGTERM);
				k->prune_signals++;
				k->prune_signal_ms = now;
			}
			continue;
		}
		if (x->stopping) /* stopped trials end as terminated, not pruned */
			continue;
		const char *run_id = x->executor->run_of(x->executor_state, w);
		char rule[512], why[600];
		if (read_new_points(x, k, run_id) && tally__pruner_check(x->pruner, k->trial, rule, sizeof rule)) {
			const char *name = json_string_value(json_object_get(json_object_get(x->s->record, "pruner"), "name"));
			snprintf(why, sizeof why, "pruned by the %s rule: %s", name && !strcmp(name, "asha") ? "ASHA" : "median",
			         rule);
			prune_trial(x, w, run_id, why);
		}
	}
}

/* A trial ended: its last points, and a completed one's curve counts from now on. */
static void pruner_trial_ended(scheduler *x, slot *k, const tally_trial_end *end)
{
	if (x->pruner && end->run_id) {
		read_new_points(x, k, end->run_id);
		if (!strcmp(x->s->trials[end->trial].status, "completed")) {
			tally__pruner_completed(x->pruner, end->trial);
			tally__pruner_replay(x->pruner, end->trial); /* the rungs it passed between two looks */
			remember_min_step(x);
		}
	}
	tally__scalar_cursor_free(k->cursor);
	k->cursor = NULL;
	k->prune_signals = 0;
}

/* ---- sequential strategies: trials proposed while the sweep runs ---- */

static int load_space(const tally_sweep *s, tally_space *space)
{
	size_t i;
	json_t *dim;
	json_array_foreach(json_object_get(s->record, "space"), i, dim) {
		const char *flag = json_string_value(json_object_get(dim, "flag"));
		const char *spec = json_string_value(json_object_get(dim, "spec"));
		tally_dim d;
		int rc = tally__dim_parse(&d, flag ? flag : "", spec ? spec : "");
		if (!rc)
			rc = tally__space_add(space, &d);
		if (rc)
			return rc;
	}
	return 0;
}

static int start_strategy(scheduler *x)
{
	const tally_strategy *st = tally__strategy_find(tally__sweep_rec_str(x->s, "strategy"));
	if (!st || !st->sequential)
		return 0; /* its trials are all in the record */
	x->budget = (uint64_t)json_integer_value(json_object_get(x->s->record, "max_trials"));
	int rc = load_space(x->s, &x->space);
	if (!rc)
		rc = st->start(&x->strategy_state, &x->space, x->budget,
		               (uint64_t)json_integer_value(json_object_get(x->s->record, "seed")),
		               json_object_get(x->s->record, "optimizer"));
	if (!rc)
		x->strategy = st;
	return rc;
}

static void stop_strategy(scheduler *x)
{
	if (x->strategy && x->strategy_state)
		x->strategy->stop(x->strategy_state);
	tally__space_release(&x->space);
}

/* Every trial so far, as the strategy sees them (the objective oriented: smaller is better). */
static tally_trial_result *trial_results(const tally_sweep *s)
{
	tally_trial_result *all = calloc(s->n_trials ? s->n_trials : 1, sizeof *all);
	for (size_t i = 0; all && i < s->n_trials; i++) {
		const tally_trial_state *t = &s->trials[i];
		tally_trial_result *r = &all[i];
		r->flags = tally__sweep_trial_flags(s, i);
		bool completed = !strcmp(t->status, "completed"), pruned = !strcmp(t->status, "pruned");
		r->outcome = !strcmp(t->status, "pending") || !strcmp(t->status, "running") || !strcmp(t->status, "queued")
		           ? TALLY_TRIAL_RUNNING
		           : completed && t->has_objective ? TALLY_TRIAL_COMPLETED
		           : pruned ? TALLY_TRIAL_PRUNED : TALLY_TRIAL_FAILED;
		r->has_objective = (completed && t->has_objective) || (pruned && t->logged_objective);
		r->objective = s->maximize ? -t->objective : t->objective;
		r->step = t->objective_step;
	}
	return all;
}

/* The next trial to start: a planned one not yet run, else the strategy's
 * next proposal; -1 when there is none for now. */
static long next_trial(scheduler *x, int *rc)
{
	if (x->next_todo < x->n_todo)
		return (long)x->todo[x->next_todo++];
	if (!x->strategy || x->exhausted || x->s->n_trials >= x->budget)
		return -1;
	tally_trial_result *all = trial_results(x->s);
	json_t *values = NULL;
	int r = all ? x->strategy->next(x->strategy_state, all, x->s->n_trials, &values) : tally__error_oom();
	free(all);
	if (r == 1) { /* nothing now: for good once no trial is left to report */
		x->exhausted = !x->running;
		return -1;
	}
	if (r < 0 || (r = tally__sweep_append_trial(x->s, values)) < 0) {
		*rc = r;
		return -1;
	}
	return (long)x->s->n_trials - 1;
}

static bool more_to_start(const scheduler *x)
{
	return x->next_todo < x->n_todo || (x->strategy && !x->exhausted && x->s->n_trials < x->budget);
}

/* ---- the sweep's run ---- */

/* Which trials still need a run: never ran, terminated, or (asked) failed. */
static int list_todo(scheduler *x)
{
	tally_sweep *s = x->s;
	x->todo = malloc((s->n_trials ? s->n_trials : 1) * sizeof *x->todo);
	if (!x->todo || (x->executor->adopt && !(x->adopt = malloc((s->n_trials ? s->n_trials : 1) * sizeof *x->adopt))))
		return tally__error_oom();
	for (size_t i = 0; i < s->n_trials; i++) {
		const char *st = s->trials[i].status;
		if (!strcmp(st, "completed") || !strcmp(st, "pruned")) /* a pruned trial ended as meant */
			x->done_before++;
		else if (!strcmp(st, "pending") || !strcmp(st, "terminated") || (!strcmp(st, "error") && x->o->retry_failed))
			x->todo[x->n_todo++] = i;
		else if ((!strcmp(st, "queued") || !strcmp(st, "running")) && x->adopt)
			x->adopt[x->n_adopt++] = i;
		else if (!strcmp(st, "error"))
			x->failed++;
	}
	x->completed = 0;
	return 0;
}

/* Resuming while a trial's run still goes (its supervisor outlived a killed
 * sweep, say) would leave it uncounted, or run it twice. */
static int check_none_running(tally_sweep *s)
{
	int rc = tally__sweep_refresh_trials(s);
	for (size_t i = 0; !rc && i < s->n_trials; i++)
		if (!strcmp(s->trials[i].status, "running"))
			rc = tally__error(TALLY_ELOCKED, "trial %zu of sweep %s is still running (run %s) — wait for it to end, "
			                  "or stop it (tally stop %s), then resume", i + 1, s->id, s->trials[i].run_id,
			                  s->trials[i].run_id);
	if (rc) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	return rc;
}

/* How the sweep sends trials to Slurm, as sweep.json keeps it for a resume. */
static json_t *slurm_record(const tally_slurm_options *o)
{
	json_t *r = json_object();
	json_object_set_new(r, "options", tally__strings_json(o->options));
	json_object_set_new(r, "gpus", json_integer(o->gpus));
	json_object_set_new(r, "tally", json_string(o->tally));
	return r;
}

/* The executor asked for, else the one the sweep ran with (a resume), else local;
 * a resume goes on as the sweep began. */
static int choose_executor(tally_sweep *s, const tally_sweep_exec_options *o, const tally_executor **out,
                           tally_slurm_options *slurm, tally_strlist *words)
{
	const char *asked = o->version >= 3 ? o->executor : NULL;
	const char *recorded = tally__sweep_rec_str(s, "executor");
	if (asked && *recorded && strcmp(asked, recorded))
		return tally__error(TALLY_EINVALID, "sweep %s runs its trials with the %s executor — resume it without "
		                    "--executor %s", s->id, recorded, asked);
	const char *name = asked ? asked : *recorded ? recorded : "local";
	if (!(*out = tally__executor_find(name)))
		return tally__error(TALLY_EINVALID, "unknown executor '%s' — use local or slurm", name);
	if (strcmp(name, "slurm"))
		return 0;
	int rc = tally__slurm_check(); /* before the sweep is recorded: without Slurm nothing is made */
	if (rc)
		return rc;
	if (o->gpus && o->gpus[0])
		return tally__error(TALLY_EINVALID, "--gpus picks local GPUs — with --executor slurm, ask Slurm for them "
		                    "(--gpus-per-trial N)");
	if (o->version >= 3 && o->slurm) {
		*slurm = *o->slurm;
		return 0;
	}
	/* a resume: as recorded */
	json_t *r = json_object_get(s->record, "slurm");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(r, "options"), i, v) if (tally_strlist_push(words, json_string_value(v)) < 0) return tally__error_oom();
	slurm->options = words->n ? (const char *const *)words->items : NULL;
	slurm->gpus = (unsigned)json_integer_value(json_object_get(r, "gpus"));
	slurm->tally = json_string_value(json_object_get(r, "tally"));
	if (!slurm->tally)
		return tally__error(TALLY_ECORRUPT, "sweep %s records no tally program for its Slurm jobs", s->id);
	return 0;
}

/* Record the sweep as running (a new one gets its id and directory first). */
static int begin(tally_sweep *s, const tally_sweep_exec_options *o, unsigned parallel, const tally_executor *executor)
{
	int rc;
	bool fresh = !s->id[0];
	if (fresh) {
		if ((rc = tally__sweep_create_dir(s)))
			return rc;
		json_object_set_new(s->record, "id", json_string(s->id));
	}
	/* a batch system's trials left queued or running are taken over (list_todo), not refused */
	if ((rc = tally__sweep_lock(s)) || (!fresh && !executor->adopt && (rc = check_none_running(s))) ||
	    (!fresh && executor->adopt && (rc = tally__sweep_refresh_trials(s))))
		return rc;
	json_object_set_new(s->record, "executor", json_string(executor->name));
	if (o->version >= 3 && o->slurm)
		json_object_set_new(s->record, "slurm", slurm_record(o->slurm));
	json_object_set_new(s->record, "parallel", json_integer(parallel));
	json_object_set_new(s->record, "gpus", tally__strings_json(o->gpus));
	json_object_set_new(s->record, "fail_fast", json_boolean(o->fail_fast));
	return tally__sweep_set_status(s, "running", true);
}

/* The trials a killed sweep left queued or running, watched in the first slots. */
static int adopt_trials(scheduler *x)
{
	unsigned w = 0;
	for (size_t i = 0; i < x->n_adopt; i++) {
		size_t trial = x->adopt[i];
		int rc = w < x->n_slots ? x->executor->adopt(x->executor_state, w, trial, x->s->trials[trial].run_id)
		                        : tally__error(TALLY_ELOCKED, "more than %u trials of sweep %s are still queued or "
		                                       "running — resume it once fewer are", x->n_slots, x->s->id);
		if (rc == 1) { /* never submitted: it runs again */
			x->todo[x->n_todo++] = trial;
			continue;
		}
		if (rc)
			return rc;
		x->slots[w++] = (slot){.busy = true, .trial = trial, .started_ms = tally_now_ms()};
		x->running++;
		emit(x, TALLY_SWEEP_TRIAL_STARTED, (long)trial, x->s->trials[trial].run_id, NULL);
	}
	return 0;
}

/* Start trials in the free slots, wait for news, until nothing is left to run. */
static int run_trials(scheduler *x)
{
	int rc = adopt_trials(x);
	int64_t last_tick = tally_now_ms();
	for (;;) {
		for (unsigned w = 0; w < x->n_slots && !x->stopping && !rc; w++) {
			if (x->slots[w].busy)
				continue;
			long trial = next_trial(x, &rc);
			if (trial < 0)
				break;
			rc = start_trial(x, w, (size_t)trial);
		}
		if (x->executor->submit) { /* what was started goes off together, even after a failed start */
			int src = x->executor->submit(x->executor_state, trial_ended, x);
			rc = rc ? rc : src;
		}
		if (rc)
			x->stopping = true;
		if (!x->running && (x->stopping || !more_to_start(x)))
			break;
		/* a pruner reads the running trials' points as they come */
		x->executor->wait(x->executor_state, signal_pipe[0], x->pruner ? WATCH_EVERY_MS : 1000, trial_ended, x);
		take_signals(x);
		watch_trials(x);
		if (tally_now_ms() - last_tick >= 1000) {
			last_tick = tally_now_ms();
			emit(x, TALLY_SWEEP_TICK, -1, NULL, NULL);
		}
	}
	return rc;
}

int tally_sweep_execute(tally_sweep *s, const tally_sweep_exec_options *o)
{
	if (!o || o->version < 1 || o->version > TALLY_SWEEP_EXEC_VERSION)
		return tally__error(TALLY_EINVALID, "unsupported tally_sweep_exec_options version");
	unsigned parallel = o->parallel ? o->parallel : o->gpus && o->gpus[0] ? (unsigned)count_strings(o->gpus) : 1;
	if (parallel > TALLY_SWEEP_MAX_PARALLEL)
		return tally__error(TALLY_EINVALID, "--parallel %u is more than %d", parallel, TALLY_SWEEP_MAX_PARALLEL);
	const tally_executor *executor = NULL;
	tally_slurm_options slurm = {TALLY_SLURM_OPTIONS_VERSION, NULL, 0, NULL, NULL};
	tally_strlist slurm_words = TALLY_STRLIST_INIT;
	int rc = choose_executor(s, o, &executor, &slurm, &slurm_words);
	if (!rc)
		rc = begin(s, o, parallel, executor);
	if (rc) {
		tally_strlist_release(&slurm_words);
		return rc;
	}
	scheduler x = {.s = s, .o = o, .n_slots = parallel, .executor = executor};
	tally_executor_env env = {parallel, o->echo != 0, trial_process_setup, &x,
	                          s->store->path, parallel, &slurm, s->id};
	bool signals = false;
	rc = list_todo(&x);
	if (!rc)
		rc = start_strategy(&x);
	if (!rc && executor->queues_all && !x.strategy) /* every planned trial submitted at once */
		x.n_slots = env.slots = (unsigned)(x.n_todo + x.n_adopt < 1 ? 1
		                                   : x.n_todo + x.n_adopt > TALLY_SWEEP_MAX_PARALLEL ? TALLY_SWEEP_MAX_PARALLEL
		                                   : x.n_todo + x.n_adopt);
	else if (!rc && x.n_adopt > x.n_slots)
		x.n_slots = env.slots = (unsigned)(x.n_adopt > TALLY_SWEEP_MAX_PARALLEL ? TALLY_SWEEP_MAX_PARALLEL : x.n_adopt);
	if (!rc && !(x.slots = calloc(x.n_slots, sizeof *x.slots)))
		rc = tally__error_oom();
	x.best = tally_sweep_best(s);
	if (!rc)
		rc = start_pruner(&x);
	if (!rc && !(rc = install_signals()))
		signals = true;
	if (!rc && !(rc = x.executor->open(&x.executor_state, &env))) {
		emit(&x, TALLY_SWEEP_STARTED, -1, NULL, NULL);
		rc = run_trials(&x);
		x.executor->close(x.executor_state);
		const char *status = x.stop_signal || rc ? "interrupted" : x.failed_fast ? "failed" : "completed";
		int src = tally__sweep_set_status(s, status, true);
		emit(&x, TALLY_SWEEP_ENDED, -1, NULL, NULL);
		rc = rc ? rc : src;
	}
	if (signals)
		restore_signals();
	stop_strategy(&x);
	tally__pruner_free(x.pruner);
	for (unsigned w = 0; x.slots && w < x.n_slots; w++)
		tally__scalar_cursor_free(x.slots[w].cursor);
	free(x.slots);
	free(x.todo);
	free(x.adopt);
	tally_strlist_release(&slurm_words);
	close(s->lock_fd);
	s->lock_fd = -1;
	return rc;
}

/* ---- the controller as a Slurm job (tally tune --detach) ---- */

/* `tally tune --resume ID` as the controller job runs it. */
static int controller_script(char **path_out, tally_sweep *s, const tally_sweep_exec_options *o, const char *tally,
                             const char *dir)
{
	char parallel[24];
	snprintf(parallel, sizeof parallel, "%u", o->parallel ? o->parallel : 1);
	const char *argv[] = {tally, "tune", "--resume", s->id, "--runs-dir", s->store->path, "--yes", "--parallel",
	                      parallel, o->fail_fast ? "--fail-fast" : NULL, NULL};
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/sweep-%s.sh", dir, s->id);
	int rc = tally_buf_oom(&path) ? tally__error_oom()
	       : tally__slurm_write_script(path.ptr, argv, "Written by tally: the controller of a sweep (tally tune --detach).");
	if (!rc)
		*path_out = tally_buf_detach(&path);
	tally_buf_release(&path);
	return rc;
}

/* The trials' --slurm options that suit the controller too (account, partition,
 * QOS…): not their GPUs, nor their time limit, which a whole sweep outlasts. */
static int controller_options(tally_strlist *out, const char *const *options)
{
	static const char *const trial_only[] = {"--gres", "--gpus", "-G", "--time", "-t", "--cpus-per-gpu",
	                                         "--mem-per-gpu", NULL};
	tally_strlist words = TALLY_STRLIST_INIT;
	int rc = 0;
	for (const char *const *o = options; !rc && o && *o; o++)
		rc = tally__slurm_split_options(&words, *o, "--slurm");
	for (size_t i = 0; !rc && i < words.n; i++) {
		const char *w = words.items[i];
		bool skip = false;
		for (const char *const *t = trial_only; *t && !skip; t++) {
			size_t len = strlen(*t);
			skip = !strncmp(w, *t, len) && (w[len] == '\0' || w[len] == '=' || w[len] == '-' || (w[1] != '-' && w[len]));
			if (skip && w[len] == '\0')
				i++; /* "--time 10": its value too */
		}
		if (!skip && tally_strlist_push(out, w) < 0)
			rc = tally__error_oom();
	}
	tally_strlist_release(&words);
	return rc;
}

int tally_sweep_detach(tally_sweep *s, const tally_sweep_exec_options *o, char **job_id)
{
	*job_id = NULL;
	if (!o || o->version < 3 || o->version > TALLY_SWEEP_EXEC_VERSION || !o->slurm)
		return tally__error(TALLY_EINVALID, "tally_sweep_detach() needs exec options version 3 with Slurm's");
	const tally_executor *executor = NULL;
	tally_slurm_options slurm;
	tally_strlist words = TALLY_STRLIST_INIT, options = TALLY_STRLIST_INIT;
	int rc = choose_executor(s, o, &executor, &slurm, &words);
	tally_strlist_release(&words);
	if (!rc && strcmp(executor->name, "slurm"))
		rc = tally__error(TALLY_EINVALID, "a detached sweep's trials go to Slurm: give the executor slurm");
	if (!rc && !s->id[0] && !(rc = tally__sweep_create_dir(s)))
		json_object_set_new(s->record, "id", json_string(s->id));
	if (!rc) /* a sweep running elsewhere is not sent off a second time */
		rc = tally__sweep_lock(s);
	if (rc)
		return rc;
	json_object_set_new(s->record, "executor", json_string("slurm"));
	json_object_set_new(s->record, "slurm", slurm_record(o->slurm));
	json_object_set_new(s->record, "parallel", json_integer(o->parallel ? o->parallel : 1));
	json_object_set_new(s->record, "fail_fast", json_boolean(o->fail_fast));
	char *dir = tally_path_join(s->store->path, ".slurm"), *script = NULL;
	char name[48], output[64];
	snprintf(name, sizeof name, "--job-name=tally-sweep-%s", s->id);
	snprintf(output, sizeof output, "sweep-%s-%%j.out", s->id);
	tally_buf out_path = TALLY_BUF_INIT;
	tally_buf_printf(&out_path, "--output=%s/%s", dir ? dir : "", output);
	rc = !dir || tally_buf_oom(&out_path) ? tally__error_oom()
	   : tally_mkdir_p(dir) < 0          ? tally__error_errno(TALLY_ERROR, "cannot create '%s'", dir)
	                                      : controller_script(&script, s, o, o->slurm->tally, dir);
	/* one core, without the trials' GPUs or partition: the cluster's defaults for a light job */
	const char *own[] = {name, out_path.ptr, "--ntasks=1", "--cpus-per-task=1", NULL};
	for (const char *const *w = own; !rc && *w; w++)
		rc = tally_strlist_push(&options, *w) < 0 ? tally__error_oom() : 0;
	if (!rc)
		rc = controller_options(&options, o->slurm->options);
	if (!rc && !(rc = tally__sweep_set_status(s, "queued", true)))
		rc = tally__slurm_submit(job_id, &options, script);
	if (!rc) {
		json_t *controller = json_object();
		json_object_set_new(controller, "job", json_string(*job_id));
		tally_buf log = TALLY_BUF_INIT;
		tally_buf_printf(&log, "%s/sweep-%s-%s.out", dir, s->id, *job_id);
		json_object_set_new(controller, "log", json_string(log.ptr ? log.ptr : ""));
		tally_buf_release(&log);
		json_object_set_new(s->record, "controller", controller);
		rc = tally__sweep_save_record(s, true);
	} else if (s->dir) {
		tally__sweep_set_status(s, "interrupted", true); /* recorded, not submitted: tally tune --resume runs it */
	}
	tally_buf_release(&out_path);
	tally_strlist_release(&options);
	free(script);
	free(dir);
	close(s->lock_fd); /* the controller job takes it when it starts */
	s->lock_fd = -1;
	return rc;
}

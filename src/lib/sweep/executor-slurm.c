/*
 * The Slurm executor: each trial is a queued run (it exists, status
 * "queued", from the moment it is handed over) and a Slurm job task that
 * runs it on a compute node.  Trials handed over together — every trial of
 * a grid or random plan at once, or the few a sequential optimizer proposes
 * as others end — are submitted as one job array, whose %N keeps --parallel.
 *
 * The sweep never waits on a child process here: every TALLY_SLURM_POLL
 * seconds (2) one squeue call says which jobs left the queue, and for those
 * the run, reconciled with what Slurm says of the job, tells how the trial
 * ended.  Nothing here signals a process: stopping is scancel.
 */
#include "lib/sweep/sweep.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/launch/submit.h"
#include "lib/slurm/slurm.h"
#include "util/timeutil.h"

#define DEFAULT_POLL_MS 2000

typedef struct {
	tally_run *run;        /* the queued run, NULL when the slot is free */
	size_t trial;
	bool submitted;
} slurm_slot;

typedef struct {
	tally_executor_env env;
	tally_store *store;
	slurm_slot *slots;
	unsigned *pending;     /* slots whose runs wait for the next submit */
	size_t n_pending;
	int poll_ms;
	int64_t next_poll_ms;
} slurm_executor;

static int poll_interval_ms(void)
{
	const char *text = getenv("TALLY_SLURM_POLL");
	char *end;
	double seconds = text ? strtod(text, &end) : 0;
	return text && end != text && !*end && seconds >= 0.05 && seconds <= 3600 ? (int)(seconds * 1000)
	                                                                          : DEFAULT_POLL_MS;
}

static int slurm_open(void **state, const tally_executor_env *env)
{
	int rc = tally__slurm_check();
	if (rc)
		return rc;
	if (!env->slurm || !env->slurm->tally || !env->runs_dir)
		return tally__error(TALLY_EINVALID, "the Slurm executor needs its options");
	slurm_executor *x = calloc(1, sizeof *x);
	unsigned n = env->slots ? env->slots : 1;
	if (!x || !(x->slots = calloc(n, sizeof *x->slots)) || !(x->pending = calloc(n, sizeof *x->pending))) {
		if (x)
			free(x->slots);
		free(x);
		return tally__error_oom();
	}
	x->env = *env;
	x->poll_ms = poll_interval_ms();
	if ((rc = tally_store_open(&x->store, env->runs_dir))) {
		free(x->pending);
		free(x->slots);
		free(x);
		return rc;
	}
	*state = x;
	return 0;
}

/* The trial becomes a queued run now; it is submitted with the others at the next submit. */
static int slurm_start(void *state, const tally_trial_start *t)
{
	slurm_executor *x = state;
	tally_run *run = NULL;
	int rc = tally__launch_queue(&run, x->store, t->launch);
	if (rc)
		return rc;
	x->slots[t->slot] = (slurm_slot){run, t->trial, false};
	x->pending[x->n_pending++] = t->slot;
	return 0;
}

static void free_slot(slurm_slot *k)
{
	tally_run_free(k->run);
	*k = (slurm_slot){NULL, 0, false};
}

static int slurm_submit(void *state, tally_trial_ended_cb ended, void *ctx)
{
	slurm_executor *x = state;
	if (!x->n_pending)
		return 0;
	tally_run **runs = calloc(x->n_pending, sizeof *runs);
	if (!runs)
		return tally__error_oom();
	for (size_t i = 0; i < x->n_pending; i++)
		runs[i] = x->slots[x->pending[i]].run;
	const tally_slurm_options *o = x->env.slurm;
	tally_slurm_batch b = {runs, x->n_pending, o->options, o->gpus, x->env.throttle, o->tally, x->env.job_name};
	char *job = NULL;
	int rc = tally__slurm_submit_batch(&job, x->store, &b);
	free(job);
	free(runs);
	char why[1024];
	snprintf(why, sizeof why, "%s", rc ? tally_error_last() : "");
	for (size_t i = 0; i < x->n_pending; i++) {
		unsigned w = x->pending[i];
		slurm_slot *k = &x->slots[w];
		if (!rc) {
			k->submitted = true;
			continue;
		}
		tally__slurm_discard_queued(x->store, k->run); /* nothing is left of a refused submission */
		size_t trial = k->trial;
		free_slot(k);
		tally_trial_end end = {w, trial, NULL, why};
		ended(ctx, &end);
	}
	x->n_pending = 0;
	if (rc)
		rc = tally__error(rc, "%s", why);
	return rc;
}

static const char *job_of(const slurm_slot *k)
{
	return json_string_value(json_object_get(json_object_get(k->run->meta, "slurm"), "job"));
}

/* One squeue for every submitted trial; those whose job left the queue,
 * once their run says how they ended, are reported. */
static void poll_jobs(slurm_executor *x, tally_trial_ended_cb ended, void *ctx)
{
	tally_strlist jobs = TALLY_STRLIST_INIT, active = TALLY_STRLIST_INIT;
	for (unsigned w = 0; w < x->env.slots; w++)
		if (x->slots[w].run && x->slots[w].submitted && job_of(&x->slots[w]))
			tally_strlist_push(&jobs, job_of(&x->slots[w]));
	if (!jobs.n || tally__slurm_active(&active, &jobs)) {
		tally_strlist_release(&jobs);
		tally_strlist_release(&active);
		return; /* squeue failed (a busy controller): ask again next time */
	}
	tally_strlist_sort(&active); /* a lookup per trial, not a walk: a thousand trials poll in a blink */
	for (unsigned w = 0; w < x->env.slots; w++) {
		slurm_slot *k = &x->slots[w];
		const char *job = k->run && k->submitted ? job_of(k) : NULL;
		bool final = false;
		if (!job || tally_strlist_has_sorted(&active, job))
			continue;
		if (tally__slurm_reconcile(k->run->dir, x->store->host, x->store->path, &final)) {
			/* the run is gone or unreadable (deleted meanwhile): the trial ended without one */
			char why[1024];
			snprintf(why, sizeof why, "%s", tally_error_last());
			size_t trial = k->trial;
			free_slot(k);
			tally_trial_end end = {w, trial, NULL, why};
			ended(ctx, &end);
			continue;
		}
		if (!final)
			continue;
		/* a requeued job went on in a run of its own: that one tells how the trial ended */
		char run_id[TALLY_ID_MAX];
		char *last = tally__run_requeued_as(x->store->path, k->run->id);
		snprintf(run_id, sizeof run_id, "%s", last ? last : k->run->id);
		free(last);
		size_t trial = k->trial;
		free_slot(k);
		tally_trial_end end = {w, trial, run_id, NULL};
		ended(ctx, &end);
	}
	tally_strlist_release(&jobs);
	tally_strlist_release(&active);
}

static void slurm_wait(void *state, int wake_fd, int timeout_ms, tally_trial_ended_cb ended, void *ctx)
{
	slurm_executor *x = state;
	int64_t now = tally_now_ms();
	int64_t until_poll = x->next_poll_ms - now;
	if (until_poll > 0) {
		struct pollfd fd = {wake_fd, POLLIN, 0};
		poll(&fd, 1, until_poll < timeout_ms ? (int)until_poll : timeout_ms);
		now = tally_now_ms();
	}
	if (now < x->next_poll_ms)
		return;
	x->next_poll_ms = now + x->poll_ms;
	poll_jobs(x, ended, ctx);
}

/* Jobs of the trials, each array once: cancelling an array's job cancels its tasks. */
static void cancel_all(slurm_executor *x)
{
	tally_strlist ids = TALLY_STRLIST_INIT;
	for (unsigned w = 0; w < x->env.slots; w++) {
		slurm_slot *k = &x->slots[w];
		const char *job = k->run && k->submitted ? json_string_value(json_object_get(json_object_get(k->run->meta, "slurm"), "job_id")) : NULL;
		bool seen = false;
		for (size_t i = 0; job && i < ids.n && !seen; i++)
			seen = !strcmp(ids.items[i], job);
		if (job && !seen)
			tally_strlist_push(&ids, job);
	}
	for (size_t i = 0; i < ids.n; i++)
		tally__slurm_cancel(ids.items[i], NULL);
	tally_strlist_release(&ids);
	x->next_poll_ms = 0; /* see them end */
}

static void slurm_signal(void *state, int sig)
{
	(void)sig; /* whatever stops the sweep cancels its jobs: queued ones never start, running ones get SIGTERM */
	cancel_all(state);
}

/* A pruned trial: its batch step (the trial's tally) gets the signal, as a local trial's tally would. */
static void slurm_signal_trial(void *state, unsigned slot, int sig)
{
	slurm_executor *x = state;
	slurm_slot *k = slot < x->env.slots ? &x->slots[slot] : NULL;
	if (k && k->run && k->submitted && job_of(k))
		tally__slurm_cancel(job_of(k), sig == SIGKILL ? "KILL" : "TERM");
}

static const char *slurm_run_of(void *state, unsigned slot)
{
	slurm_executor *x = state;
	return slot < x->env.slots && x->slots[slot].run ? x->slots[slot].run->id : NULL;
}

static int slurm_adopt(void *state, unsigned slot, size_t trial, const char *run_id)
{
	slurm_executor *x = state;
	tally_run *run = NULL;
	char *dir = tally_path_join(x->store->path, run_id);
	int rc = dir ? tally__run_load_dir(&run, x->store, dir) : tally__error_oom();
	free(dir);
	if (rc)
		return rc;
	json_t *slurm = json_object_get(run->meta, "slurm");
	if (json_is_object(slurm) && !json_object_get(slurm, "job") && !strcmp(tally_run_status(run), "queued")) {
		/* queued by the killed sweep, which died before sbatch answered: it runs again */
		tally__run_drop_unsubmitted(run->dir, x->store->host, true);
		tally_run_free(run);
		return 1;
	}
	if (!json_is_object(slurm)) {
		tally_run_free(run);
		return tally__error(TALLY_ELOCKED, "trial %zu's run %s is still running outside Slurm — wait for it to end, "
		                    "or stop it (tally stop %s), then resume", trial + 1, run_id, run_id);
	}
	x->slots[slot] = (slurm_slot){run, trial, true};
	x->next_poll_ms = 0;
	return 0;
}

static void slurm_close(void *state)
{
	slurm_executor *x = state;
	if (!x)
		return;
	for (unsigned w = 0; w < x->env.slots; w++)
		free_slot(&x->slots[w]);
	tally_store_free(x->store);
	free(x->pending);
	free(x->slots);
	free(x);
}

static const tally_executor slurm_executor_ops = {
	.name = "slurm",
	.open = slurm_open,
	.start = slurm_start,
	.wait = slurm_wait,
	.signal = slurm_signal,
	.signal_trial = slurm_signal_trial,
	.run_of = slurm_run_of,
	.close = slurm_close,
	.submit = slurm_submit,
	.adopt = slurm_adopt,
	.queues_all = true,
};

const tally_executor *tally__executor_slurm(void)
{
	return &slurm_executor_ops;
}

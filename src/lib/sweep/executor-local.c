/*
 * The local executor: each trial runs in a forked child that calls
 * tally_launch(), as `tally run -q` would.  The child is its own process
 * group (a terminal's Ctrl-C reaches the sweep, which forwards it once),
 * dies with the sweep (PR_SET_PDEATHSIG, so a killed sweep's trials end as
 * terminated rather than running on unseen), and reports the run's id
 * through a pipe ("ok ID", or "error MESSAGE" when no run was created) as
 * soon as the run exists.  Forking rather than exec'ing tally keeps a
 * trivial trial at a few milliseconds.
 */
#include "lib/sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "util/fsutil.h"

typedef struct {
	pid_t pid;               /* the trial's supervisor (a forked tally_launch), or 0 */
	int report_fd;           /* "ok ID" or "error MESSAGE" from it, or -1 */
	size_t trial;
	tally_buf report;
	char run_id[TALLY_ID_MAX];
} local_slot;

typedef struct {
	tally_executor_env env;
	local_slot *slots;
} local_executor;

static int local_open(void **state, const tally_executor_env *env)
{
	local_executor *x = calloc(1, sizeof *x);
	if (!x || !(x->slots = calloc(env->slots ? env->slots : 1, sizeof *x->slots))) {
		free(x);
		return tally__error_oom();
	}
	x->env = *env;
	for (unsigned i = 0; i < env->slots; i++) {
		x->slots[i].report_fd = -1;
		x->slots[i].report = (tally_buf)TALLY_BUF_INIT;
	}
	*state = x;
	return 0;
}

/* The child: the trial as `tally run -q` would run it from the project
 * directory, its run linked to the sweep.  Signals are blocked on entry. */
static void trial_child(local_executor *x, const tally_trial_start *t, int report_w, const sigset_t *mask,
                        pid_t parent)
{
	if (x->env.child_setup)
		x->env.child_setup(x->env.ctx);
	setpgid(0, 0); /* the terminal's Ctrl-C reaches the sweep, which forwards it once */
#ifdef __linux__
	/* The sweep killed (even by SIGKILL): its trials end, as terminated. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(143);
#else
	(void)parent;
#endif
	sigprocmask(SIG_SETMASK, mask, NULL);
	for (unsigned w = 0; w < x->env.slots; w++)
		if (x->slots[w].report_fd >= 0)
			close(x->slots[w].report_fd);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		if (!x->env.echo) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
	}
	if (t->gpu)
		setenv("CUDA_VISIBLE_DEVICES", t->gpu, 1);
	tally_store *store = NULL;
	int exit_code = 1;
	/* the script and a command's paths are relative to the project, wherever the sweep resumes */
	const char *project = t->launch->project_dir;
	int rc = project && *project && chdir(project) < 0
	       ? tally__error(TALLY_ENOTFOUND, "cannot enter the project directory '%s': %s", project, strerror(errno))
	       : tally_store_open(&store, t->runs_dir);
	if (!rc) {
		tally_launch_options opts = *t->launch;
		opts.quiet = !x->env.echo;
		opts.notify_fd = report_w;
		tally_run *run = NULL;
		rc = tally_launch(&run, &exit_code, store, &opts);
		tally_run_free(run);
	}
	if (rc) { /* the report pipe is still open only when no run was created */
		char line[1200];
		int n = snprintf(line, sizeof line, "error %s\n", tally_error_last());
		tally_write_all(report_w, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	}
	_exit(rc ? 126 : exit_code);
}

static int local_start(void *state, const tally_trial_start *t)
{
	local_executor *x = state;
	local_slot *k = &x->slots[t->slot];
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		return tally__error(TALLY_ERROR, "cannot create a pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t parent = getpid();
	/* Blocked across fork(): the child must not run the sweep's handlers,
	 * nor take a signal before it is in a group of its own. */
	sigset_t block, old;
	sigfillset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		trial_child(x, t, report[1], &old, parent);
	}
	int fork_errno = errno;
	if (pid > 0)
		setpgid(pid, pid); /* also from here: no race with a forwarded signal */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		return tally__error(TALLY_ERROR, "cannot start a trial: %s", strerror(fork_errno));
	}
	close(report[1]);
	k->pid = pid;
	k->report_fd = report[0];
	k->trial = t->trial;
	tally_buf_clear(&k->report);
	return 0;
}

static void read_report(local_slot *k)
{
	char buf[512];
	ssize_t n = read(k->report_fd, buf, sizeof buf);
	if (n > 0) {
		tally_buf_add(&k->report, buf, (size_t)n);
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	close(k->report_fd); /* the run exists (its id came), or the child is gone */
	k->report_fd = -1;
}

/* The trial in slot `w` ended with `wait_status`: what its report said. */
static void end_trial(local_executor *x, unsigned w, int wait_status, tally_trial_ended_cb ended, void *ctx)
{
	local_slot *k = &x->slots[w];
	while (k->report_fd >= 0)
		read_report(k);
	const char *text = k->report.ptr ? k->report.ptr : "";
	char *nl = k->report.ptr ? strchr(k->report.ptr, '\n') : NULL;
	if (nl)
		*nl = '\0';
	char run_id[TALLY_ID_MAX] = "";
	const char *error = NULL;
	if (!strncmp(text, "ok ", 3))
		snprintf(run_id, sizeof run_id, "%s", text + 3);
	else if (!strncmp(text, "error ", 6))
		error = text + 6;
	else
		error = WIFSIGNALED(wait_status) ? "the trial's tally process was killed" : "the trial did not start";
	k->pid = 0;
	tally_trial_end end = {w, k->trial, run_id[0] ? run_id : NULL, error};
	ended(ctx, &end);
}

static void local_wait(void *state, int wake_fd, int timeout_ms, tally_trial_ended_cb ended, void *ctx)
{
	local_executor *x = state;
	struct pollfd fds[TALLY_SWEEP_MAX_PARALLEL + 1];
	nfds_t n = 0;
	fds[n++] = (struct pollfd){wake_fd, POLLIN, 0};
	for (unsigned w = 0; w < x->env.slots; w++)
		if (x->slots[w].report_fd >= 0)
			fds[n++] = (struct pollfd){x->slots[w].report_fd, POLLIN, 0};
	if (poll(fds, n, timeout_ms) > 0)
		for (nfds_t i = 1; i < n; i++)
			if (fds[i].revents)
				for (unsigned w = 0; w < x->env.slots; w++)
					if (x->slots[w].report_fd == fds[i].fd)
						read_report(&x->slots[w]);
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (unsigned w = 0; w < x->env.slots; w++)
			if (x->slots[w].pid == pid)
				end_trial(x, w, status, ended, ctx);
}

static void local_signal(void *state, int sig)
{
	local_executor *x = state;
	for (unsigned w = 0; w < x->env.slots; w++)
		if (x->slots[w].pid > 0)
			kill(x->slots[w].pid, sig);
}

static void local_signal_trial(void *state, unsigned slot, int sig)
{
	local_executor *x = state;
	if (slot < x->env.slots && x->slots[slot].pid > 0)
		kill(x->slots[slot].pid, sig);
}

/* The run's id from the report ("ok ID\n"), once it came. */
static const char *local_run_of(void *state, unsigned slot)
{
	local_executor *x = state;
	local_slot *k = &x->slots[slot];
	if (slot >= x->env.slots || !k->pid || k->report.len < 4 || strncmp(k->report.ptr, "ok ", 3))
		return NULL;
	char *nl = memchr(k->report.ptr, '\n', k->report.len);
	if (!nl)
		return NULL;
	size_t len = (size_t)(nl - k->report.ptr) - 3;
	if (len >= sizeof k->run_id)
		return NULL;
	memcpy(k->run_id, k->report.ptr + 3, len);
	k->run_id[len] = '\0';
	return k->run_id;
}

static void local_close(void *state)
{
	local_executor *x = state;
	if (!x)
		return;
	for (unsigned w = 0; w < x->env.slots; w++) {
		if (x->slots[w].report_fd >= 0)
			close(x->slots[w].report_fd);
		tally_buf_release(&x->slots[w].report);
	}
	free(x->slots);
	free(x);
}

static const tally_executor local_executor_ops = {
	.name = "local",
	.open = local_open,
	.start = local_start,
	.wait = local_wait,
	.signal = local_signal,
	.signal_trial = local_signal_trial,
	.run_of = local_run_of,
	.close = local_close,
};

const tally_executor *tally__executor_find(const char *name)
{
	if (!strcmp(name, local_executor_ops.name))
		return &local_executor_ops;
	return !strcmp(name, "slurm") ? tally__executor_slurm() : NULL;
}

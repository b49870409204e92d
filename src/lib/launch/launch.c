/*
 * Launching a tracked run: validate, create the run, snapshot the sources,
 * start the child in the run directory, record its output and scalars while
 * echoing them, and record how it ended — truthfully, whatever happens.
 *
 * Nothing passes through a shell: the child is exec'd with an argv.  The
 * child gets its own process group so that Ctrl-C and SIGTERM reach the
 * script and everything it started; when tally runs in the foreground of a
 * terminal the child's group is made the terminal's foreground group (as a
 * shell does), so Ctrl-C goes straight to the script.
 */
#include "lib/manage/manage.h"
#include "lib/flags/flagdefs.h"
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "lib/launch/submit.h"
#include "lib/slurm/slurm.h"
#include "util/fsutil.h"
#include "util/strlist.h"
#include "util/timeutil.h"

extern char **environ;

#define READ_CHUNK (256 * 1024)
#define SUMMARY_EVERY_MS 2000
#define FLUSH_EVERY_MS 100
#define TFEVENTS_EVERY_MS 2000  /* how often the run directory is searched for event files */
#define DRAIN_AFTER_EXIT_MS 2000

/* ---- argv building ---- */

/*
 * Whether `cmd` can be run: a path, or a name found on $PATH.  `*program`
 * (malloc'ed) is then what the child execs at once for a bare name, instead
 * of trying every $PATH entry before it (each failed execve in the child
 * delays the script); NULL when the name has a '/', or a relative entry comes
 * first: the child then searches, from the run directory, as execvp does.
 */
static bool find_program(const char *cmd, char **program)
{
	*program = NULL;
	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	bool relative;
	char *found = tally_search_path(cmd, &relative);
	if (!found)
		return false;
	if (relative)
		free(found);
	else
		*program = found;
	return true;
}

static const char *file_extension(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	return dot && dot != base ? dot + 1 : "";
}

static const char *default_interpreter(const char *ext)
{
	if (!strcmp(ext, "py"))
		return "python3";
	if (!strcmp(ext, "R") || !strcmp(ext, "r"))
		return "Rscript";
	if (!strcmp(ext, "sh"))
		return "bash";
	return NULL;
}

/*
 * The script as the child sees it: relative to the project when it lies
 * inside (its copy in the run directory is what runs), absolute otherwise.
 */
static char *script_path_for_child(const char *script, const char *project_dir)
{
	char *abs = realpath(script, NULL), *proj = realpath(project_dir, NULL), *out = NULL;
	if (abs && proj) {
		size_t n = strlen(proj);
		if (!strncmp(abs, proj, n) && abs[n] == '/')
			out = strdup(abs + n + 1);
		else
			out = strdup(abs);
	}
	free(abs);
	free(proj);
	return out;
}

/*
 * The child starts in the run directory, so a program named by a relative
 * path ("../bin/train", "venv/bin/python") is made absolute from here first.
 */
static int push_program(tally_strlist *argv, const char *program)
{
	char *abs = strchr(program, '/') && program[0] != '/' ? tally_path_absolute(program) : NULL;
	int rc = tally_strlist_push(argv, abs ? abs : program) < 0 ? tally__error_oom() : 0;
	free(abs);
	return rc;
}

/* Validate the script and pick the command that runs it; nothing is created yet. */
static int build_command(tally_strlist *argv, char **program, const tally_launch_options *opts,
                         const tally_config *cfg, const char *project_dir)
{
	*program = NULL;
	if (opts->command) {
		if (!opts->command[0])
			return tally__error(TALLY_EINVALID, "no command after '--' — give the program to run");
		if (!find_program(opts->command[0], program))
			return tally__error(TALLY_ENOTFOUND, "command '%s' not found — check its name or PATH", opts->command[0]);
		if (push_program(argv, opts->command[0]))
			return TALLY_ENOMEM;
		for (const char *const *a = opts->command + 1; *a; a++)
			if (tally_strlist_push(argv, *a) < 0)
				return tally__error_oom();
		return 0;
	}
	struct stat st;
	if (stat(opts->script, &st) < 0)
		return tally__error(TALLY_ENOTFOUND, "script '%s' not found — check the path", opts->script);
	if (!S_ISREG(st.st_mode))
		return tally__error(TALLY_EINVALID, "'%s' is not a file — give a script to run", opts->script);
	if (access(opts->script, R_OK) < 0)
		return tally__error_errno(TALLY_EINVALID, "cannot read script '%s'", opts->script);

	const char *ext = file_extension(opts->script);
	char **interp = NULL;
	char *const *configured = tally__config_interpreter(cfg, ext);
	if (opts->interpreter && !(interp = tally__split_command(opts->interpreter)))
		return tally__error(TALLY_EINVALID, "empty --interpreter — name a program, e.g. --interpreter ~/venv/bin/python");
	int rc = 0;
	char *child_script = script_path_for_child(opts->script, project_dir);
	if (!child_script) {
		rc = tally__error_oom();
		goto done;
	}
	char *const *use = interp ? interp : configured;
	const char *builtin = default_interpreter(ext);
	if (use) {
		rc = push_program(argv, use[0]);
		for (char *const *a = use + 1; *a && !rc; a++)
			rc = tally_strlist_push(argv, *a) < 0 ? tally__error_oom() : 0;
	} else if (builtin) {
		rc = tally_strlist_push(argv, builtin) < 0 ? tally__error_oom() : 0;
	} else if (!(st.st_mode & 0111)) {
		rc = tally__error(TALLY_EINVALID,
		                  "don't know how to run '%s' — make it executable, or name an interpreter with "
		                  "--interpreter or in tally.yml",
		                  opts->script);
		goto done;
	}
	if (!rc && argv->n && !find_program(argv->items[0], program))
		rc = tally__error(TALLY_ENOTFOUND,
		                  "interpreter '%s' not found — install it, or set one with --interpreter or tally.yml",
		                  argv->items[0]);
	if (!rc) {
		/* An executable run by itself needs a path, not a bare name. */
		bool bare_exec = argv->n == 0 && !strchr(child_script, '/');
		tally_buf s = TALLY_BUF_INIT;
		tally_buf_printf(&s, "%s%s", bare_exec ? "./" : "", child_script);
		rc = tally_buf_oom(&s) || tally_strlist_push(argv, s.ptr) < 0 ? tally__error_oom() : 0;
		tally_buf_release(&s);
	}
done:
	free(child_script);
	tally__argv_free(interp);
	return rc;
}

static int parse_flags(tally_flag_list *flags, const char *const *args)
{
	for (const char *const *a = args; a && *a; a++) {
		tally_flag f;
		int rc = tally__flag_parse_assignment(&f, *a);
		if (rc)
			return rc;
		if ((rc = tally__flag_list_set(flags, &f))) {
			tally__flag_release(&f);
			return rc;
		}
	}
	return 0;
}

/* ---- the environment ---- */

static bool secret_name(const char *entry)
{
	static const char *const words[] = {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"};
	const char *eq = strchr(entry, '=');
	size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
	for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= len; i++)
			if (!strncasecmp(entry + i, words[w], wl))
				return true;
	}
	return false;
}

static int save_environment(const char *run_dir)
{
	json_t *env = json_object();
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || secret_name(*e))
			continue;
		char *name = strndup(*e, (size_t)(eq - *e));
		if (name && tally_utf8_valid(name))
			json_object_set_new(env, name, tally__json_text(eq + 1));
		free(name);
	}
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/env.json", run_dir);
	char *text = json_dumps(env, JSON_INDENT(1) | JSON_SORT_KEYS);
	int rc = 0;
	if (!text || tally_buf_oom(&path))
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path.ptr, text, strlen(text), 0) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", path.ptr);
	free(text);
	tally_buf_release(&path);
	json_decref(env);
	return rc;
}

/*
 * env.json is written while the script starts (on the other core, as it
 * were): the script does not need it.  A failure is a warning; the run goes
 * on.  run.json with the flags and the snapshot is written before the start,
 * so a run killed at once still says what it ran, and a script's own first
 * `tally label` of its run is never overwritten.
 */
static void record_while_starting(tally_run *run, tally_store *store)
{
	if (save_environment(run->dir))
		tally_buf_printf(&store->warnings, "%s\n", tally_error_last());
}

static bool env_overridden(const char *entry, const tally_strlist *extra)
{
	const char *eq = strchr(entry, '=');
	size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
	for (size_t i = 0; i < extra->n; i++)
		if (!strncmp(extra->items[i], entry, len) && extra->items[i][len] == '=')
			return true;
	return false;
}

static int build_child_env(tally_strlist *envp, const tally_run *run, const tally_flag_list *flags,
                           const tally_scalar_file *scalar_file)
{
	tally_strlist extra = TALLY_STRLIST_INIT;
	tally_buf kv = TALLY_BUF_INIT;
	int rc = 0;
#define ADD_ENV(...)                                   \
	do {                                               \
		tally_buf_clear(&kv);                          \
		tally_buf_printf(&kv, __VA_ARGS__);            \
		if (tally_buf_oom(&kv) || tally_strlist_push(&extra, kv.ptr) < 0) \
			rc = -1;                                   \
	} while (0)
	ADD_ENV("TALLY_RUN_DIR=%s", run->dir);
	ADD_ENV("TALLY_RUN_ID=%s", run->id);
	ADD_ENV("RUN_DIR=%s", run->dir);
	ADD_ENV("TALLY_SCALARS=%s", tally__scalar_file_path(scalar_file));
	ADD_ENV("PYTHONUNBUFFERED=1");
	for (size_t i = 0; i < flags->count; i++) {
		char *name = tally__flag_env_name(flags->items[i].name);
		if (!name)
			rc = -1;
		else
			ADD_ENV("%s=%s", name, flags->items[i].text);
		free(name);
	}
#undef ADD_ENV
	for (char **e = environ; *e && !rc; e++)
		if (!env_overridden(*e, &extra) && tally_strlist_push(envp, *e) < 0)
			rc = -1;
	for (size_t i = 0; i < extra.n && !rc; i++)
		if (tally_strlist_push(envp, extra.items[i]) < 0)
			rc = -1;
	tally_strlist_release(&extra);
	tally_buf_release(&kv);
	return rc ? tally__error_oom() : 0;
}

/* ---- signals: a self-pipe turns them into poll(2) events ---- */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(signal_pipe[1], &b, 1) < 0) {
		/* pipe full: the loop is already awake */
	}
	errno = saved;
}

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

typedef struct {
	struct sigaction old[4];
	struct sigaction old_chld, old_pipe, old_ttou, old_cont;
} saved_signals;

/* Signals ignored when tally started (nohup, a shell's background job): the
 * script inherits them ignored, and tally does not forward them. */
static sigset_t inherited_ignored;

static int install_signals(saved_signals *saved)
{
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot create a pipe");
	sigemptyset(&inherited_ignored);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction cur;
		if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
			sigaddset(&inherited_ignored, sig);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < 4; i++) {
		sigaction(forwarded_signals[i], NULL, &saved->old[i]);
		if (!sigismember(&inherited_ignored, forwarded_signals[i]))
			sigaction(forwarded_signals[i], &sa, NULL);
	}
	sigaction(SIGCONT, &sa, &saved->old_cont); /* "fg" after a Ctrl-Z: see handle_signals */
	sa.sa_flags = SA_RESTART; /* stops too: a Ctrl-Z'd script is followed (follow_stop) */
	sigaction(SIGCHLD, &sa, &saved->old_chld);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, &saved->old_pipe);
	sigaction(SIGTTOU, &sa, &saved->old_ttou);
	return 0;
}

static void restore_signals(const saved_signals *saved)
{
	for (size_t i = 0; i < 4; i++)
		sigaction(forwarded_signals[i], &saved->old[i], NULL);
	sigaction(SIGCHLD, &saved->old_chld, NULL);
	sigaction(SIGPIPE, &saved->old_pipe, NULL);
	sigaction(SIGTTOU, &saved->old_ttou, NULL);
	sigaction(SIGCONT, &saved->old_cont, NULL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	signal_pipe[0] = signal_pipe[1] = -1;
}

/* ---- the child ---- */

typedef struct {
	pid_t pid;
	int out_fd, err_fd;
	int tty_fd;          /* the terminal whose foreground group we handed over, or -1 */
} child_proc;

static bool in_terminal_foreground(void)
{
	return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

#if TALLY_HAVE_SPAWN_TTY
/* posix_spawn() (a vfork-style clone in glibc) rather than fork(): copying
 * tally's page tables and taking copy-on-write faults until exec measured
 * ~4 ms of a run's ~15 ms overhead.  Returns 0 or an errno value; exec
 * failures are reported here too. */
static int spawn_child(pid_t *pid, const char *program, char **argv, char **envp, const char *dir, int out_w,
                       int err_w, bool take_tty)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t actions;
	sigset_t to_default, none;
	short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
	int rc;

	sigfillset(&to_default);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&inherited_ignored, sig))
			sigdelset(&to_default, sig);
	sigemptyset(&none);
	if ((rc = posix_spawnattr_init(&attr)))
		return rc;
	if ((rc = posix_spawn_file_actions_init(&actions))) {
		posix_spawnattr_destroy(&attr);
		return rc;
	}
	if (!(rc = posix_spawnattr_setflags(&attr, flags)) && !(rc = posix_spawnattr_setpgroup(&attr, 0)) &&
	    !(rc = posix_spawnattr_setsigdefault(&attr, &to_default)) &&
	    !(rc = posix_spawnattr_setsigmask(&attr, &none)) &&
	    !(rc = posix_spawn_file_actions_adddup2(&actions, out_w, STDOUT_FILENO)) &&
	    !(rc = posix_spawn_file_actions_adddup2(&actions, err_w, STDERR_FILENO)) &&
	    !(rc = posix_spawn_file_actions_addchdir_np(&actions, dir)) &&
	    /* glibc's child blocks every signal until exec, SIGTTOU included, so a
	     * background group may take the terminal without being stopped. */
	    !(rc = take_tty ? posix_spawn_file_actions_addtcsetpgrp_np(&actions, STDIN_FILENO) : 0))
		rc = program ? posix_spawn(pid, program, &actions, &attr, argv, envp)
		             : posix_spawnp(pid, argv[0], &actions, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	return rc;
}
#else
static void child_exec(const char *program, char **argv, char **envp, const char *dir, int out_w, int err_w,
                       int exec_err_w, bool take_tty)
{
	/* Only async-signal-safe calls until exec.  The terminal is taken while
	 * SIGTTOU is still ignored (inherited): a background group calling
	 * tcsetpgrp() with the default action would be stopped for good. */
	setpgid(0, 0);
	if (take_tty)
		tcsetpgrp(STDIN_FILENO, getpid());
	struct sigaction dfl, ign;
	memset(&dfl, 0, sizeof dfl);
	memset(&ign, 0, sizeof ign);
	dfl.sa_handler = SIG_DFL;
	ign.sa_handler = SIG_IGN;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, sigismember(&inherited_ignored, sig) ? &ign : &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(out_w, STDOUT_FILENO) < 0 || dup2(err_w, STDERR_FILENO) < 0 || chdir(dir) < 0)
		goto fail;
	environ = envp;
	if (program)
		execv(program, argv);
	execvp(argv[0], argv); /* also what a script without #! needs: execvp runs it with /bin/sh */
fail:;
	int e = errno;
	if (write(exec_err_w, &e, sizeof e) < 0) {
		/* nothing more can be done */
	}
	_exit(127);
}

/* fork + exec; an exec failure comes back through a close-on-exec pipe. */
static int spawn_child(pid_t *pid, const char *program, char **argv, char **envp, const char *dir, int out_w,
                       int err_w, bool take_tty)
{
	int ex[2];
	if (pipe2(ex, O_CLOEXEC) < 0)
		return errno;
	*pid = fork();
	if (*pid == 0)
		child_exec(program, argv, envp, dir, out_w, err_w, ex[1], take_tty);
	int rc = *pid < 0 ? errno : 0;
	close(ex[1]);
	if (*pid > 0) {
		int exec_errno = 0;
		ssize_t n;
		do
			n = read(ex[0], &exec_errno, sizeof exec_errno);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof exec_errno) {
			while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
				;
			*pid = -1;
			rc = exec_errno;
		}
	}
	close(ex[0]);
	return rc;
}
#endif

static int start_child(child_proc *c, const char *program, char **argv, char **envp, const char *dir)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	c->pid = -1;
	c->tty_fd = -1;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		int rc = tally__error_errno(TALLY_ERROR, "cannot create pipes");
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0) close(out[i]);
			if (err[i] >= 0) close(err[i]);
		}
		return rc;
	}
#ifdef F_SETPIPE_SZ
	/* Fewer wake-ups for chatty scripts; larger pipes measured slower (cache). */
	fcntl(out[0], F_SETPIPE_SZ, 256 << 10);
	fcntl(err[0], F_SETPIPE_SZ, 256 << 10);
#endif
	bool take_tty = in_terminal_foreground();
	pid_t pid = -1;
	int spawn_errno = spawn_child(&pid, program, argv, envp, dir, out[1], err[1], take_tty);
	if (spawn_errno && take_tty) /* put in the background meanwhile: run without the terminal */
		spawn_errno = spawn_child(&pid, program, argv, envp, dir, out[1], err[1], take_tty = false);
	close(out[1]);
	close(err[1]);
	if (spawn_errno) {
		if (take_tty) /* the child may have taken it before its exec failed */
			tcsetpgrp(STDIN_FILENO, getpgrp());
		close(out[0]);
		close(err[0]);
		errno = spawn_errno;
		return tally__error_errno(TALLY_ENOTFOUND, "cannot run '%s' — check that it exists and is executable",
		                          argv[0]);
	}
	c->pid = pid;
	setpgid(c->pid, c->pid); /* harmless after exec; makes sure the group exists */
	if (take_tty) {
		tcsetpgrp(STDIN_FILENO, c->pid);
		c->tty_fd = STDIN_FILENO;
	}
	c->out_fd = out[0];
	c->err_fd = err[0];
	return 0;
}

/* ---- supervising ---- */

typedef struct {
	tally_output *output;
	tally_run *run;
	tally_scalar_file *scalar_file;  /* $TALLY_SCALARS, read as the run goes */
	tally_tfevents_reader *tfevents; /* the script's TensorBoard event files */
	tally_sysmetrics *sys;           /* sys/... scalars, or NULL when off */
	int64_t sys_every_ms;
	int echo_fd[2];      /* -1: not echoed */
	char *chunk;
	int interrupted;     /* the first signal forwarded to the child, 0 if none */
	int interrupts;      /* SIGINTs and SIGTERMs received so far */
	int wait_status;
	bool reaped;
	bool unflushed;      /* output came since the last flush */
} supervisor;

static void echo(supervisor *s, int stream, const char *data, size_t len)
{
	if (s->echo_fd[stream] >= 0 && tally_write_all(s->echo_fd[stream], data, len) < 0)
		s->echo_fd[stream] = -1; /* the terminal went away: keep recording */
}

/* Read what one pipe has; returns false at end of file. */
static bool pump(supervisor *s, int *fd, int stream)
{
	ssize_t n = read(*fd, s->chunk, READ_CHUNK);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return false;
	}
	int64_t now = tally_now_ms();
	echo(s, stream, s->chunk, (size_t)n);
	tally__output_chunk(s->output, stream, s->chunk, (size_t)n, now);
	s->unflushed = true;
	return true;
}

/* Continued by "fg" (we own the terminal): hand it to the script.  After
 * "bg" we don't: taking it would leave the user's shell without one. */
static void give_terminal_if_foreground(const child_proc *c)
{
	if (c->tty_fd >= 0 && tcgetpgrp(c->tty_fd) == getpgrp())
		tcsetpgrp(c->tty_fd, c->pid);
}

/* Give the terminal back to tally's group, but only if the script has it. */
static void take_terminal_back(const child_proc *c)
{
	if (c->tty_fd >= 0 && tcgetpgrp(c->tty_fd) == c->pid)
		tcsetpgrp(c->tty_fd, getpgrp());
}

/*
 * The script was stopped (Ctrl-Z at the terminal): do what a shell's job
 * control expects of a foreground job — take the terminal back, stop
 * ourselves so the shell regains control, and when continued ("fg") hand the
 * terminal back and continue the script.
 */
static void follow_stop(const child_proc *c)
{
	if (c->tty_fd < 0)
		return; /* stopped by someone else: whoever stopped it continues it */
	take_terminal_back(c);
	struct sigaction dfl, old;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &dfl, &old);
	raise(SIGTSTP);            /* returns once we are continued */
	sigaction(SIGTSTP, &old, NULL);
	give_terminal_if_foreground(c);
	killpg(c->pid, SIGCONT);
}

/* Whether the script has exited (reaping it if so); a stop is followed as a shell would. */
static bool exited(supervisor *s, const child_proc *c)
{
	int status;
	while (!s->reaped && waitpid(c->pid, &status, WNOHANG | WUNTRACED) == c->pid) {
		if (WIFSTOPPED(status)) {
			follow_stop(c);
			continue;
		}
		s->wait_status = status;
		s->reaped = true;
	}
	return s->reaped;
}

/*
 * Signals for the run go to the script's process group.  A script may catch
 * or miss an interrupt (bash ignores a SIGINT that lands just as a command
 * exits normally), so repeating it escalates, as with docker or cargo: the
 * second interrupt sends SIGTERM, the third SIGKILL.
 */
static void handle_signals(supervisor *s, const child_proc *c)
{
	unsigned char sigs[64];
	ssize_t n = read(signal_pipe[0], sigs, sizeof sigs);
	for (ssize_t i = 0; i < n; i++) {
		if (sigs[i] == SIGCHLD)
			continue;
		if (sigs[i] == SIGCONT) { /* tally itself was continued, maybe by "fg" */
			give_terminal_if_foreground(c);
			continue;
		}
		/* A signal for a script that already exited forwards nothing and
		 * changes nothing: the run ended as it ended (a sweep's pruner may
		 * have decided just too late). */
		if (s->reaped || exited(s, c))
			continue;
		if (!s->interrupted)
			s->interrupted = sigs[i];
		int sig = sigs[i];
		if (sigs[i] == SIGINT || sigs[i] == SIGTERM)
			sig = ++s->interrupts >= 3 ? SIGKILL : s->interrupts == 2 ? SIGTERM : sigs[i];
		killpg(c->pid, sig);
	}
	exited(s, c);
}

static void supervise(supervisor *s, child_proc *c)
{
	int64_t last_summary = tally_now_ms(), last_file_read = last_summary, last_tfevents = last_summary, exited_at = 0;
	int64_t last_flush = last_summary;
	/* the first sample after a second: a run shorter than that pays nothing */
	int64_t next_sys = last_summary + (s->sys_every_ms < 1000 ? s->sys_every_ms : 1000);
	for (;;) {
		struct pollfd fds[3] = {{c->out_fd, POLLIN, 0}, {c->err_fd, POLLIN, 0}, {signal_pipe[0], POLLIN, 0}};
		if (c->out_fd < 0 && c->err_fd < 0 && s->reaped)
			break;
		/* output waiting to be flushed: wake for the flush, so readers (a sweep's pruner) see it in time */
		int timeout = s->reaped ? 100 : 1000;
		if (s->unflushed) {
			int64_t due = last_flush + FLUSH_EVERY_MS - tally_now_ms();
			timeout = due <= 0 ? 0 : due < timeout ? (int)due : timeout;
		}
		int ready = poll(fds, 3, timeout);
		if (ready < 0 && errno != EINTR)
			break;
		if (fds[2].revents)
			handle_signals(s, c);
		if (fds[0].revents)
			pump(s, &c->out_fd, TALLY_STREAM_STDOUT);
		if (fds[1].revents)
			pump(s, &c->err_fd, TALLY_STREAM_STDERR);
		int64_t now = tally_now_ms();
		if (s->reaped && !exited_at)
			exited_at = now;
		/* A background process of the script may keep the pipes open forever. */
		if (exited_at && ready == 0 && now - exited_at > DRAIN_AFTER_EXIT_MS)
			break;
		if (ready == 0 || now - last_file_read >= 1000) {
			tally__scalar_file_poll(s->scalar_file, s->run->log, false);
			last_file_read = now;
		}
		if (s->sys && !s->reaped && now >= next_sys) {
			tally__sysmetrics_sample(s->sys, s->run->log, now);
			next_sys = now + s->sys_every_ms;
		}
		if (now - last_tfevents >= TFEVENTS_EVERY_MS) {
			tally__tfevents_reader_poll(s->tfevents, s->run->log, false);
			last_tfevents = now;
		}
		/* Points and output times become visible to readers (tally watch, tally view) within a fraction of a second. */
		if (now - last_flush >= FLUSH_EVERY_MS) {
			tally__scalar_log_flush(s->run->log);
			tally__output_flush(s->output);
			last_flush = now;
			s->unflushed = false;
		}
		if (now - last_summary >= SUMMARY_EVERY_MS) {
			tally__scalar_log_flush(s->run->log);
			tally__scalar_log_write_summary(s->run->log, 0);
			last_summary = now;
		}
	}
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	while (!s->reaped) {
		if (waitpid(c->pid, &s->wait_status, 0) == c->pid)
			s->reaped = true;
		else if (errno != EINTR)
			break;
	}
	take_terminal_back(c);
	tally__scalar_file_poll(s->scalar_file, s->run->log, true); /* what came last */
	tally__tfevents_reader_poll(s->tfevents, s->run->log, true);
}

static const char *final_status(const supervisor *s, int *exit_code, int *exit_status, int *sig)
{
	*exit_status = -1;
	*sig = 0;
	if (!s->reaped) {
		*exit_code = 1;
		return "error";
	}
	if (WIFSIGNALED(s->wait_status)) {
		*sig = WTERMSIG(s->wait_status);
		*exit_code = 128 + *sig;
		return "terminated";
	}
	*exit_status = WEXITSTATUS(s->wait_status);
	*exit_code = *exit_status;
	if (*exit_status == 0)
		return "completed";
	return s->interrupted ? "terminated" : "error";
}

/* ---- putting it together ---- */

static json_t *launch_meta(const tally_store *store, const tally_launch_options *opts, const tally_strlist *argv,
                           const tally_resolved_flags *flags, const char *label)
{
	json_t *meta = tally__meta_base(store, opts->script, (const char *const *)argv->items);
	json_t *jflags = json_object_get(meta, "flags");
	json_t *types = json_object(), *sources = json_object();
	for (size_t i = 0; i < flags->values.count; i++) {
		const tally_flag *f = &flags->values.items[i];
		json_object_set_new(jflags, f->name, tally__flag_to_json(f));
		json_object_set_new(types, f->name, json_string(tally__flag_type_name(f->type)));
		json_object_set_new(sources, f->name, json_string(tally__flag_origin_name(flags->origins[i])));
	}
	json_object_set_new(meta, "flag_types", types);
	json_object_set_new(meta, "flag_sources", sources);
	if (label && *label)
		json_object_set_new(meta, "label", json_string(label));
	for (const char *const *t = opts->tags; t && *t; t++)
		json_array_append_new(json_object_get(meta, "tags"), json_string(*t));
	if (opts->comment) {
		char iso[40];
		tally_format_iso_ms(iso, sizeof iso, tally_now_ms());
		json_t *c = json_object();
		json_object_set_new(c, "text", json_string(opts->comment));
		json_object_set(c, "user", json_object_get(meta, "user"));
		json_object_set(c, "host", json_object_get(meta, "host"));
		json_object_set_new(c, "time", json_string(iso));
		json_t *list = json_array();
		json_array_append_new(list, c);
		json_object_set_new(meta, "comments", list);
	}
	return meta;
}

/* Record an error that happened after the run was created, and end the run. */
static int fail_run(tally_run *run, int rc)
{
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", tally_error_last());
	tally__run_end(run, "error", -1, 0, msg);
	return tally__error(rc, "%s", msg);
}

/*
 * The script's declared flags, the values given (flags file, command line)
 * checked against them, and the label: all before any run exists.
 */
static int plan_flags(tally_script_flags *sf, tally_resolved_flags *resolved, char **label,
                      const tally_launch_options *opts, const tally_config *cfg, const char *project_dir)
{
	tally_flag_list given = {NULL, 0}, from_file = {NULL, 0};
	int rc = 0;
	if (opts->script) {
		const char *base = strrchr(opts->script, '/') ? strrchr(opts->script, '/') + 1 : opts->script;
		char *rel = script_path_for_child(opts->script, project_dir);
		rc = tally__script_flags_detect(sf, opts->script, base);
		if (!rc)
			rc = tally__apply_config_flags(sf, cfg, rel);
		free(rel);
	}
	if (!rc)
		rc = parse_flags(&given, opts->flag_args);
	if (!rc && opts->flags_file)
		rc = tally__flags_file_load(&from_file, opts->flags_file);
	if (!rc)
		rc = tally__flags_resolve(resolved, sf, &from_file, &given, opts->force_flags);
	if (!rc && opts->label)
		rc = tally__label_expand(label, opts->label, resolved);
	else if (!rc && !(*label = tally__flags_default_label(resolved)))
		rc = tally__error_oom();
	tally__flag_list_release(&given);
	tally__flag_list_release(&from_file);
	return rc;
}

/* The variables of tally.yml's extra-args templates (flags too): run_dir, run_id, project_dir. */
static int expand_one(char **out, const char *tmpl, const char *run_dir, const char *run_id, const char *project_dir,
                      const tally_resolved_flags *flags)
{
	const char *vars[] = {"run_dir", run_dir, "run_id", run_id, "project_dir", project_dir, NULL, NULL};
	int rc = tally__template_expand(out, tmpl, flags, vars);
	if (rc) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s", tally_error_last());
		rc = tally__error(rc, "tally.yml extra-args: %s", msg);
	}
	return rc;
}

/* Before the run exists: every template must expand (with stand-in values). */
static int check_extra_args(const tally_config *cfg, const tally_resolved_flags *flags)
{
	for (char **a = cfg->extra_args; a && *a; a++) {
		char *out = NULL;
		int rc = expand_one(&out, *a, "/", "x", "/", flags);
		free(out);
		if (rc)
			return rc;
	}
	return 0;
}

static int expand_extra_args(tally_strlist *argv, size_t from, tally_run *run, const char *project_dir,
                             const tally_resolved_flags *flags)
{
	bool changed = false;
	for (size_t i = from; i < argv->n; i++) {
		char *out = NULL;
		int rc = expand_one(&out, argv->items[i], run->dir, run->id, project_dir, flags);
		if (rc)
			return rc;
		changed = changed || strcmp(out, argv->items[i]);
		free(argv->items[i]);
		argv->items[i] = out;
	}
	if (changed) { /* the command as it ran */
		json_t *cmd = json_array();
		for (size_t i = 0; i < argv->n; i++)
			json_array_append_new(cmd, tally__json_text(argv->items[i]));
		json_object_set_new(run->meta, "command", cmd);
	}
	return 0;
}

/* Before the run exists: a script outside the project has no copy in the run to rewrite. */
static int check_globals_reachable(const tally_launch_options *opts, const char *project_dir,
                                   const tally_script_flags *sf, const tally_resolved_flags *resolved)
{
	if (!opts->script || !tally__flags_globals_to_rewrite(sf, resolved))
		return 0;
	char *rel = script_path_for_child(opts->script, project_dir);
	int rc = !rel ? tally__error_oom()
	       : rel[0] == '/' ? tally__error(TALLY_EINVALID, "cannot set the globals of '%s', which lies outside the "
	                                                      "project directory — run tally from its project",
	                                      opts->script)
	                      : 0;
	free(rel);
	return rc;
}

/* The parser of scalars in output lines: the script's rules (or the defaults),
 * and never a flag's name as a scalar. */
static int new_output_parser(tally_outparse **out, const tally_flag_list *flags, const tally_script_flags *sf)
{
	const char **names = calloc(flags->count ? flags->count : 1, sizeof *names);
	if (!names)
		return tally__error_oom();
	for (size_t i = 0; i < flags->count; i++)
		names[i] = flags->items[i].name;
	int rc = tally__outparse_new(out, names, flags->count, sf->output_patterns.n ? sf->output_patterns.items : NULL);
	free(names);
	return rc;
}

/* Globals and flags files: written into the run once its sources are there. */
static int deliver_flags(const tally_run *run, const tally_launch_options *opts, const char *project_dir,
                         const tally_script_flags *sf, const tally_resolved_flags *resolved)
{
	int rc = tally__flags_write_file(run->dir, sf, resolved);
	if (rc || !opts->script || !tally__flags_globals_to_rewrite(sf, resolved))
		return rc;
	/* inside the project: check_globals_reachable() refused the rest */
	char *rel = script_path_for_child(opts->script, project_dir);
	rc = rel ? tally__flags_rewrite_globals(run->dir, rel, sf, resolved) : tally__error_oom();
	free(rel);
	return rc;
}

/* tally reproduce --run: which run this one re-creates, and that run's git state (git is not asked). */
static void note_reproduced(json_t *meta, const char *dir, const char *host)
{
	json_t *original = NULL;
	if (tally__meta_load(&original, dir, host))
		return;
	json_object_set(meta, "reproduces", json_object_get(original, "id"));
	if (json_object_get(original, "git"))
		json_object_set(meta, "git", json_object_get(original, "git"));
	json_decref(original);
}

/* ---- runs queued for a batch job (Slurm) ---- */

static void set_string(json_t *obj, const char *key, const char *value)
{
	if (value)
		json_object_set_new(obj, key, tally__json_text(value));
}

static json_t *strings_array(const char *const *list)
{
	json_t *a = json_array();
	for (const char *const *p = list; p && *p; p++)
		json_array_append_new(a, tally__json_text(*p));
	return a;
}

/* What the job's tally_launch_queued() needs to launch the run as this one would have been. */
static json_t *launch_json(const tally_launch_options *opts, const char *project_dir)
{
	json_t *l = json_object();
	set_string(l, "script", opts->script);
	if (opts->command)
		json_object_set_new(l, "command", strings_array(opts->command));
	json_object_set_new(l, "flag_args", strings_array(opts->flag_args));
	set_string(l, "interpreter", opts->interpreter);
	set_string(l, "label", opts->label);
	json_object_set_new(l, "tags", strings_array(opts->tags));
	set_string(l, "comment", opts->comment);
	set_string(l, "project_dir", project_dir);
	char *flags_file = opts->flags_file ? tally_path_absolute(opts->flags_file) : NULL;
	set_string(l, "flags_file", flags_file);
	free(flags_file);
	json_object_set_new(l, "force_flags", json_boolean(opts->force_flags));
	json_object_set_new(l, "no_system_metrics", json_boolean(opts->version >= 3 && opts->no_system_metrics));
	if (opts->version >= 5 && opts->sweep_id) {
		set_string(l, "sweep_id", opts->sweep_id);
		json_object_set_new(l, "sweep_trial", json_integer(opts->sweep_trial));
	}
	return l;
}

/* The #SBATCH lines at the top of a script, as sbatch reads them: up to the
 * first line that is neither blank nor a comment. */
static void add_sbatch_lines(tally_strlist *out, const char *script)
{
	tally_buf text = TALLY_BUF_INIT;
	if (tally_read_file(&text, script, 1u << 20) < 0 || !text.ptr) {
		tally_buf_release(&text);
		return;
	}
	for (char *line = text.ptr; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		const char *p = line + strspn(line, " \t\r");
		if (!strncmp(p, "#SBATCH", 7) && (p[7] == ' ' || p[7] == '\t')) {
			tally_strlist words = TALLY_STRLIST_INIT;
			if (!tally__slurm_split_options(&words, p + 8, "#SBATCH"))
				for (size_t i = 0; i < words.n && words.items[i][0] != '#'; i++)
					tally_strlist_push(out, words.items[i]);
			tally_strlist_release(&words);
		} else if (*p && *p != '#' && *p != '\r') {
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	tally_buf_release(&text);
}

/* sbatch options the run's own settings give: tally.yml's `slurm:`, the
 * script's `slurm:` (front matter, or its tally.yml entry), its #SBATCH lines.
 * Later ones win, as in sbatch. */
static json_t *script_slurm_options(const tally_config *cfg, const tally_script_flags *sf, const char *script)
{
	tally_strlist all = TALLY_STRLIST_INIT;
	for (size_t i = 0; i < cfg->slurm_options.n; i++)
		tally_strlist_push(&all, cfg->slurm_options.items[i]);
	for (size_t i = 0; i < sf->slurm_options.n; i++)
		tally_strlist_push(&all, sf->slurm_options.items[i]);
	if (script)
		add_sbatch_lines(&all, script);
	json_t *list = strings_array((const char *const *)all.items);
	tally_strlist_release(&all);
	return list;
}

/* The run recorded as queued (checked like any launch), for its job to run. */
static int queue_run(tally_run **out, tally_store *store, const tally_launch_options *opts, const tally_strlist *argv,
                     const tally_resolved_flags *resolved, const char *label, const char *project_dir,
                     json_t *slurm_options)
{
	json_t *meta = launch_meta(store, opts, argv, resolved, label);
	json_t *launch = launch_json(opts, project_dir);
	int name_lock = -1, rc = meta && launch && slurm_options ? 0 : tally__error_oom();
	if (!rc) {
		json_t *slurm = json_object();
		json_object_set(slurm, "script_options", slurm_options);
		json_object_set_new(meta, "slurm", slurm);
	}
	if (!rc && opts->name && !(rc = tally__name_claim(store, opts->name, opts->replace, &name_lock)))
		json_object_set_new(meta, "name", json_string(opts->name));
	if (!rc && opts->sweep_id) {
		json_t *sweep = json_object();
		json_object_set_new(sweep, "id", json_string(opts->sweep_id));
		json_object_set_new(sweep, "trial", json_integer(opts->sweep_trial));
		json_object_set_new(meta, "sweep", sweep);
	}
	char id[TALLY_ID_MAX], *dir = NULL;
	if (!rc)
		rc = tally__run_queue(id, &dir, store, meta, launch);
	if (name_lock >= 0)
		close(name_lock);
	if (!rc)
		rc = tally__run_load_dir(out, store, dir);
	free(dir);
	json_decref(meta);
	json_decref(launch);
	json_decref(slurm_options);
	return rc;
}

/* How tally_launch() is asked to make its run: a new one (all zero), one queued for a
 * batch job, or the queued one a job takes over; `requeue_of`: the run an earlier
 * attempt of a requeued Slurm job made. */
typedef struct {
	bool queue;
	const char *adopt_dir, *requeue_of;
} launch_mode;

static int launch(tally_run **out, int *exit_code, tally_store *store, const tally_launch_options *opts,
                  const launch_mode *mode)
{
	tally_config cfg;
	bool cfg_loaded = false;
	tally_strlist argv = TALLY_STRLIST_INIT, envp = TALLY_STRLIST_INIT;
	char *program = NULL; /* argv[0] found on $PATH, or NULL (find_program()) */
	tally_script_flags sf = TALLY_SCRIPT_FLAGS_INIT;
	tally_resolved_flags resolved = {{NULL, 0}, NULL, NULL};
	char *label = NULL;
	tally_run *run = NULL;
	tally_outparse *parser = NULL;
	json_t *meta = NULL;
	char *project_dir = NULL;
	saved_signals saved;
	bool signals_installed = false;
	supervisor sup = {0};
	child_proc child = {-1, -1, -1, -1};
	int rc;

	*out = NULL;
	*exit_code = 1;
	if (!opts || opts->version < 4 || opts->version > TALLY_LAUNCH_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "unsupported tally_launch_options version");
	if (!opts->script == !opts->command)
		return tally__error(TALLY_EINVALID, "give either a script or a command");
	project_dir = tally_path_absolute(opts->project_dir ? opts->project_dir : ".");
	if (!project_dir)
		return tally__error_oom();
	if (!(opts->version >= 5 && opts->check_only) && !mode->queue)
		tally__git_init_begin(project_dir); /* overlaps the checks below; a check alone needs no git */

	/* 1. Everything that can be wrong with the request fails here, before any run exists. */
	const char *name = opts->version >= 4 ? opts->name : NULL;
	if ((name && (rc = tally__check_run_name(name))) ||
	    (opts->label && (rc = tally__check_text("the label", opts->label))) ||
	    (opts->comment && (rc = tally__check_text("the comment", opts->comment))))
		goto done;
	for (const char *const *t = opts->tags; t && *t; t++)
		if ((rc = tally__check_text("a tag", *t)))
			goto done;
	if ((rc = tally__config_load(&cfg, project_dir)))
		goto done;
	cfg_loaded = true;
	if ((rc = build_command(&argv, &program, opts, &cfg, project_dir)) ||
	    (rc = plan_flags(&sf, &resolved, &label, opts, &cfg, project_dir)) ||
	    (rc = tally__flags_check_file_names(&sf, &resolved)) || (rc = tally__flags_to_args(&argv, &sf, &resolved)))
		goto done;
	size_t extra_at = argv.n; /* tally.yml extra-args: expanded once the run exists */
	for (char **a = cfg.extra_args; a && *a && !rc; a++)
		rc = tally_strlist_push(&argv, *a) < 0 ? tally__error_oom() : 0;
	if (rc || (rc = check_extra_args(&cfg, &resolved)))
		goto done;
	if ((rc = check_globals_reachable(opts, project_dir, &sf, &resolved)))
		goto done;
	if (!sf.output_scalars_off && (rc = new_output_parser(&parser, &resolved.values, &sf)))
		goto done;
	const char *sweep_id = opts->version >= 5 ? opts->sweep_id : NULL;
	if (sweep_id && opts->sweep_trial < 1) {
		rc = tally__error(TALLY_EINVALID, "a sweep's trials are numbered from 1");
		goto done;
	}
	if (opts->version >= 5 && opts->check_only)
		goto done; /* rc is 0: it would start */
	if (mode->queue) {
		rc = queue_run(out, store, opts, &argv, &resolved, label, project_dir, script_slurm_options(&cfg, &sf, opts->script));
		goto done;
	}
	const char *adopt_dir = mode->adopt_dir, *requeue_of = mode->requeue_of;

	/* 2. The run exists from here on: every failure is recorded in it. */
	if (!(meta = launch_meta(store, opts, &argv, &resolved, label))) {
		rc = tally__error_oom();
		goto done;
	}
	int name_lock = -1;
	if (name) {
		if ((rc = tally__name_claim(store, name, opts->replace, &name_lock)))
			goto done;
		json_object_set_new(meta, "name", json_string(name));
	}
	if (sweep_id) {
		json_t *sweep = json_object();
		json_object_set_new(sweep, "id", json_string(sweep_id));
		json_object_set_new(sweep, "trial", json_integer(opts->sweep_trial));
		json_object_set_new(meta, "sweep", sweep);
	}
	/* From the moment the run exists, `tally stop` (or a sweep) may signal
	 * this process: the handlers go in first, so a SIGTERM that comes while
	 * the sources are copied is held in the self-pipe and reaches the script
	 * as soon as it starts, and the run ends recorded as terminated by it,
	 * rather than killing tally halfway through and leaving a run.json that
	 * still says running. */
	if (!(rc = install_signals(&saved))) {
		signals_installed = true;
		if (requeue_of) {
			json_object_set_new(meta, "requeue_of", json_string(strrchr(requeue_of, '/') ? strrchr(requeue_of, '/') + 1 : requeue_of));
			tally__run_requeue_meta(meta, requeue_of);
		}
		rc = adopt_dir ? tally__run_adopt(&run, store, adopt_dir, meta) : tally__run_start(&run, store, meta);
		if (!rc && requeue_of) /* the earlier attempt's run points here, and says why it ended */
			tally__run_note_requeue(store, requeue_of, run->id);
	}
	if (name_lock >= 0)
		close(name_lock); /* the run.json saying the name is written: the next claimant sees it */
	if (rc)
		goto done;
	if (opts->notify_fd > 0) { /* tally run --background: the caller may go now */
		char line[TALLY_ID_MAX + 8];
		int n = snprintf(line, sizeof line, "ok %s\n", run->id);
		tally_write_all(opts->notify_fd, line, (size_t)n);
		/* The caller's pipe ends here (it stops waiting); the descriptor stays
		 * valid, on /dev/null, so nothing later writes into another file. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup3(null, opts->notify_fd, O_CLOEXEC);
			close(null);
		}
	}
	if ((rc = expand_extra_args(&argv, extra_at, run, project_dir, &resolved))) {
		rc = fail_run(run, rc);
		goto done;
	}
	tally_snapshot_request snap = {&cfg, project_dir, store->path, run->dir, sf.src_exclude.items, sf.src_include.items,
	                               opts->reproduce_from};
	if (opts->reproduce_from)
		note_reproduced(run->meta, opts->reproduce_from, store->host);
	if ((rc = tally__snapshot(&snap, run->meta)) || (rc = deliver_flags(run, opts, project_dir, &sf, &resolved)) ||
	    (rc = tally__meta_save(run->dir, run->meta, 0)) || (rc = tally__scalar_log_open(&run->log, run->dir)) ||
	    (rc = tally__output_open(&sup.output, run->dir, parser, run->log)) ||
	    (rc = tally__scalar_file_new(&sup.scalar_file, run->dir)) ||
	    (rc = tally__tfevents_reader_new(&sup.tfevents, run->dir)) ||
	    (cfg.tensorboard_live && (rc = tally__tfevents_mirror_log(run->log, run->dir))) ||
	    (rc = build_child_env(&envp, run, &resolved.values, sup.scalar_file))) {
		rc = fail_run(run, rc);
		goto done;
	}
	if (!(sup.chunk = malloc(READ_CHUNK))) {
		rc = fail_run(run, tally__error_oom());
		goto done;
	}
	/* 3. Run and supervise. */
	sup.run = run;
	sup.echo_fd[0] = opts->quiet ? -1 : opts->echo_fd;
	sup.echo_fd[1] = opts->quiet ? -1 : STDERR_FILENO;
	if ((rc = start_child(&child, program, argv.items, envp.items, run->dir))) {
		char line[1200];
		int n = snprintf(line, sizeof line, "tally: %s\n", tally_error_last());
		tally__output_chunk(sup.output, TALLY_STREAM_STDERR, line, (size_t)n, tally_now_ms());
		tally__output_close(sup.output);
		sup.output = NULL;
		rc = fail_run(run, rc);
		*exit_code = 127;
		goto done;
	}
	tally__run_sync_dirs_early(run);
	record_while_starting(run, store);
	sup.sys_every_ms = opts->version >= 3 && opts->no_system_metrics ? 0 : cfg.system_metrics_ms;
	if (sup.sys_every_ms && tally__sysmetrics_new(&sup.sys, child.pid, tally_now_ms()))
		sup.sys_every_ms = 0; /* out of memory: the run goes on without them */
	supervise(&sup, &child);

	/* 4. Record how it ended. */
	int exit_status, sig;
	const char *status = final_status(&sup, exit_code, &exit_status, &sig);
	int orc = tally__output_close(sup.output);
	sup.output = NULL;
	size_t skipped = tally__scalar_file_skipped(sup.scalar_file);
	if (skipped) /* lines of $TALLY_SCALARS that were no {"tag": number, …} object */
		json_object_set_new(run->meta, "scalars_file_skipped", json_integer((json_int_t)skipped));
	size_t damaged = tally__tfevents_reader_report(sup.tfevents, &store->warnings);
	if (damaged) /* records of the script's event files that failed their checksums */
		json_object_set_new(run->meta, "tfevents_skipped", json_integer((json_int_t)damaged));
	char reason[96] = "";
	if (sup.interrupted)
		snprintf(reason, sizeof reason, "%s received by tally and forwarded to the script",
		         sup.interrupted == SIGINT ? "interrupt (SIGINT)" : sup.interrupted == SIGTERM ? "SIGTERM"
		         : sup.interrupted == SIGHUP ? "hangup (SIGHUP)" : "SIGQUIT");
	/* stopped by its sweep's pruner, which said why in .tally/prune.json before the signal
	 * (only a sweep's trial: a script writing that file itself does not make a run pruned) */
	char *pruned = sup.interrupted && sweep_id ? tally__meta_prune_reason(tally_run_dir(run)) : NULL;
	if (pruned)
		status = "pruned";
	rc = tally__run_end(run, status, exit_status, sig, pruned ? pruned : sup.interrupted ? reason : NULL);
	free(pruned);
	if (!rc)
		rc = orc;
	if (!rc) {
		*out = run;
		run = NULL;
	}
done:
	tally__git_init_abandon();
	if (signals_installed)
		restore_signals(&saved);
	if (sup.output)
		tally__output_close(sup.output);
	free(sup.chunk);
	tally__scalar_file_free(sup.scalar_file);
	tally__tfevents_reader_free(sup.tfevents);
	tally__sysmetrics_free(sup.sys);
	tally__outparse_free(parser);
	tally_run_free(run);
	json_decref(meta);
	tally_strlist_release(&argv);
	free(program);
	tally_strlist_release(&envp);
	tally__script_flags_release(&sf);
	tally__resolved_flags_release(&resolved);
	free(label);
	if (cfg_loaded)
		tally__config_release(&cfg);
	free(project_dir);
	return rc;
}

int tally_launch(tally_run **out, int *exit_code, tally_store *store, const tally_launch_options *opts)
{
	launch_mode plain = {false, NULL, NULL};
	return launch(out, exit_code, store, opts, &plain);
}

int tally__launch_queue(tally_run **out, tally_store *store, const tally_launch_options *opts)
{
	launch_mode queue = {true, NULL, NULL};
	int exit_code;
	return launch(out, &exit_code, store, opts, &queue);
}

/* The options recorded in a queued run's .tally/launch.json, with the lists they point into. */
typedef struct {
	json_t *json;
	tally_launch_options opts;
	tally_strlist command, flag_args, tags;
} queued_launch;

static const char *get_string(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int strings_of(tally_strlist *out, json_t *array)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v) if (json_is_string(v) && tally_strlist_push(out, json_string_value(v)) < 0) return -1;
	return 0;
}

static int read_queued_launch(queued_launch *q, const char *run_dir)
{
	char *path = tally_path_join(run_dir, TALLY_META_DIR "/launch.json");
	tally_buf text = TALLY_BUF_INIT;
	json_error_t err;
	int rc = !path ? tally__error_oom()
	       : tally_read_file(&text, path, 1u << 24) < 0 ? tally__error_errno(TALLY_ENOTFOUND, "cannot read '%s'", path)
	       : !(q->json = json_loadb(text.ptr, text.len, 0, &err)) || !json_is_object(q->json)
	           ? tally__error(TALLY_ECORRUPT, "corrupt '%s' (line %d: %s)", path, err.line, err.text)
	           : 0;
	free(path);
	tally_buf_release(&text);
	if (rc)
		return rc;
	json_t *l = q->json;
	if (strings_of(&q->command, json_object_get(l, "command")) < 0 ||
	    strings_of(&q->flag_args, json_object_get(l, "flag_args")) < 0 || strings_of(&q->tags, json_object_get(l, "tags")) < 0)
		return tally__error_oom();
	tally_launch_options *o = &q->opts;
	o->script = get_string(l, "script");
	o->command = q->command.n ? (const char *const *)q->command.items : NULL;
	o->flag_args = q->flag_args.n ? (const char *const *)q->flag_args.items : NULL;
	o->interpreter = get_string(l, "interpreter");
	o->label = get_string(l, "label");
	o->tags = q->tags.n ? (const char *const *)q->tags.items : NULL;
	o->comment = get_string(l, "comment");
	o->project_dir = get_string(l, "project_dir");
	o->flags_file = get_string(l, "flags_file");
	o->force_flags = json_is_true(json_object_get(l, "force_flags"));
	o->no_system_metrics = json_is_true(json_object_get(l, "no_system_metrics"));
	o->sweep_id = get_string(l, "sweep_id");
	o->sweep_trial = (long)json_integer_value(json_object_get(l, "sweep_trial"));
	if (!o->project_dir || (!o->script == !o->command))
		return tally__error(TALLY_ECORRUPT, "'%s/" TALLY_META_DIR "/launch.json' names no project and script", run_dir);
	return 0;
}

static bool still_queued(const char *run_dir)
{
	json_t *meta = NULL;
	bool queued = false;
	if (!tally__meta_load(&meta, run_dir, ""))
		queued = !strcmp(json_string_value(json_object_get(meta, "status")), "queued");
	json_decref(meta);
	return queued;
}

int tally_launch_queued(tally_run **out, int *exit_code, tally_store *store, const char *run_dir, int quiet)
{
	*out = NULL;
	*exit_code = 1;
	queued_launch q = {NULL, TALLY_LAUNCH_OPTIONS_INIT, TALLY_STRLIST_INIT, TALLY_STRLIST_INIT, TALLY_STRLIST_INIT};
	int rc = read_queued_launch(&q, run_dir);
	if (!rc && chdir(q.opts.project_dir) < 0)
		rc = tally__error_errno(TALLY_ENOTFOUND, "cannot enter the project directory '%s' on this node", q.opts.project_dir);
	q.opts.quiet = quiet;
	/* A requeued job finds its run started before: the trial runs again, as a new run. */
	bool requeued = !rc && !still_queued(run_dir);
	launch_mode mode = {false, requeued ? NULL : run_dir, requeued ? run_dir : NULL};
	if (!rc)
		rc = launch(out, exit_code, store, &q.opts, &mode);
	if (rc) { /* failed before the run was taken over: the queued run says why */
		char why[1024];
		snprintf(why, sizeof why, "%s", tally_error_last());
		tally__run_fail_queued(run_dir, why);
		rc = tally__error(rc, "%s", why);
	}
	json_decref(q.json);
	tally_strlist_release(&q.command);
	tally_strlist_release(&q.flag_args);
	tally_strlist_release(&q.tags);
	return rc;
}

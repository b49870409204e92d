/*
 * tally tensorboard — runs in TensorBoard (Guild's `guild tensorboard`, tfruns' tensorboard()).
 *
 * A run keeps its scalars once, in its compact scalar log; TensorBoard reads
 * event files.  This writes each selected run's event file (or appends what
 * it lacks: tally_run_write_event_file), starts TensorBoard on the runs, and
 * while it runs keeps the files of running runs growing.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/fsutil.h"

extern char **environ;

const char cmd_tensorboard_usage[] =
	"usage: tally tensorboard [RUN…] [query options] [--port N] [--files-only | --remove]\n"
	"\n"
	"Show runs in TensorBoard.  tally keeps a run's scalars once, in its compact\n"
	"scalar log (.tally/scalars.log); this writes them as a TensorBoard event\n"
	"file in each selected run's .tally/ (appending only what is new when the\n"
	"file is there), then starts `tensorboard --logdir` on those runs and keeps\n"
	"the files of running runs up to date (every 5 s) until TensorBoard exits;\n"
	"its exit status is tally's.  Event files a script wrote itself (Keras'\n"
	"TensorBoard callback, SummaryWriter) are in its run already and shown as\n"
	"they are.  RUN is an index, a range (1:5), a list (3,7), an id prefix, a\n"
	"name or a run directory; with no RUN and no query option, every run.\n"
	"\n"
	"To have every run write its event file as it goes instead (for\n"
	"`tensorboard --logdir runs` of your own, at twice the bytes), put\n"
	"`tensorboard: on` in tally.yml.\n"
	"\n"
	"Options:\n"
	CLI_SELECTION_HELP
	"      --port N        TensorBoard's port (its default: 6006)\n"
	"      --files-only    write the event files and exit; then run\n"
	"                      `tensorboard --logdir RUNS_DIR` yourself\n"
	"      --remove        remove the event files this command wrote (never a\n"
	"                      script's own, nor those runs write as they go)\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

enum { OPT_PORT = CLI_OPT_FIRST_FREE, OPT_FILES_ONLY, OPT_REMOVE };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"port", required_argument, NULL, OPT_PORT},
	{"files-only", no_argument, NULL, OPT_FILES_ONLY},
	{"remove", no_argument, NULL, OPT_REMOVE},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define REFRESH_MS 5000

typedef struct {
	const char *runs_dir;
	const char *port;
	bool files_only, remove;
} tb_args;

static int parse_port(const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (end == text || *end || v < 1 || v > 65535)
		return cli_usage_error(cmd_tensorboard_usage, "--port needs a port number from 1 to 65535, not '%s'", text);
	return 0;
}

/* ---- writing the files ---- */

typedef struct {
	size_t written, current, live, none;
	int64_t points;
} export_totals;

static int export_runs(tally_run **runs, size_t n, export_totals *t)
{
	for (size_t i = 0; i < n; i++) {
		tally_event_file_state state;
		int64_t points;
		int rc = tally_run_write_event_file(runs[i], &state, &points);
		if (rc)
			return cli_lib_error(rc);
		t->points += points;
		switch (state) {
		case TALLY_EVENT_FILE_WRITTEN: t->written++; break;
		case TALLY_EVENT_FILE_CURRENT: t->current++; break;
		case TALLY_EVENT_FILE_LIVE: t->live++; break;
		case TALLY_EVENT_FILE_NONE: t->none++; break;
		}
	}
	return 0;
}

static void say_exported(const export_totals *t)
{
	fprintf(stderr, "Event files: %zu written (%lld points)", t->written, (long long)t->points);
	if (t->current)
		fprintf(stderr, ", %zu up to date", t->current);
	if (t->live)
		fprintf(stderr, ", %zu written by their runs", t->live);
	if (t->none)
		fprintf(stderr, ", %zu run%s without scalars", t->none, t->none == 1 ? "" : "s");
	fputs(".\n", stderr);
}

static int remove_files(tally_run **runs, size_t n)
{
	size_t removed = 0;
	for (size_t i = 0; i < n; i++) {
		int was;
		int rc = tally_run_remove_event_file(runs[i], &was);
		if (rc)
			return cli_lib_error(rc);
		removed += (size_t)was;
	}
	printf("Removed the event files of %zu run%s.\n", removed, removed == 1 ? "" : "s");
	return 0;
}

/* ---- TensorBoard ---- */

/* --logdir RUNS_DIR for every run, else --logdir_spec id:dir,… for those selected. */
static int tensorboard_argv(tally_strlist *argv, tally_store *store, tally_run **runs, size_t n, bool all,
                            const char *port)
{
	tally_buf spec = TALLY_BUF_INIT;
	for (size_t i = 0; !all && i < n; i++) {
		const char *dir = tally_run_dir(runs[i]);
		if (strchr(dir, ',')) { /* TensorBoard splits the spec at commas */
			tally_buf_release(&spec);
			return cli_error("run directory '%s' has a comma, which --logdir_spec cannot hold — show every run "
			                 "(no RUN) or move the runs directory", dir);
		}
		tally_buf_printf(&spec, "%s%s:%s", i ? "," : "", tally_run_id(runs[i]), dir);
	}
	int bad = tally_strlist_push(argv, "tensorboard");
	if (all)
		bad |= tally_strlist_push(argv, "--logdir") | tally_strlist_push(argv, tally_store_path(store));
	else
		bad |= tally_strlist_push(argv, "--logdir_spec") | tally_strlist_push(argv, spec.ptr ? spec.ptr : "");
	if (port)
		bad |= tally_strlist_push(argv, "--port") | tally_strlist_push(argv, port);
	bad |= tally_buf_oom(&spec);
	tally_buf_release(&spec);
	return bad ? cli_error("out of memory") : 0;
}

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static int64_t refresh_ms(void)
{
	const char *text = getenv("TALLY_TENSORBOARD_REFRESH");
	double seconds = text ? atof(text) : 0;
	return seconds >= 0.05 && seconds <= 3600 ? (int64_t)(seconds * 1000) : REFRESH_MS;
}

/* Sleep up to `ms`, returning early when the child ends (1) or a signal comes (0);
 * -1 when it cannot be waited for. */
static int wait_child(pid_t pid, int64_t ms, int *status)
{
	for (int64_t waited = 0; waited < ms && !stop_signal; waited += 50) {
		pid_t got = waitpid(pid, status, WNOHANG);
		if (got == pid)
			return 1;
		if (got < 0 && errno != EINTR)
			return -1;
		nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
	}
	return 0;
}

static bool is_running(const tally_run *run)
{
	const char *status = tally_run_status(run);
	return status && !strcmp(status, "running");
}

/* Keep the running runs' files growing until TensorBoard exits; its exit code. */
static int follow(pid_t pid, tally_run **runs, size_t n)
{
	bool *running = calloc(n ? n : 1, sizeof *running);
	/* only a run recorded as running may be live: the others' locks are not probed */
	for (size_t i = 0; running && i < n; i++)
		running[i] = is_running(runs[i]) && tally_run_is_live(runs[i]) == 1;
	int status = 0;
	int64_t every = refresh_ms();
	for (;;) {
		int ended = wait_child(pid, every, &status);
		if (ended < 0) {
			free(running);
			return cli_error("cannot wait for tensorboard (%s) — is it still running?", strerror(errno));
		}
		if (ended)
			break;
		if (stop_signal) { /* pass a kill on to TensorBoard, then wait for it */
			kill(pid, stop_signal);
			stop_signal = 0;
			continue;
		}
		for (size_t i = 0; running && i < n; i++) {
			if (!running[i])
				continue;
			running[i] = tally_run_is_live(runs[i]) == 1; /* one more export after the end */
			tally_event_file_state state;
			int64_t points;
			tally_run_write_event_file(runs[i], &state, &points);
		}
	}
	free(running);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int start_tensorboard(tally_strlist *argv, pid_t *pid)
{
	/* Ctrl-C reaches TensorBoard from the terminal; tally waits for it to end. */
	struct sigaction ignore = {.sa_handler = SIG_IGN}, stop = {.sa_handler = on_stop_signal};
	sigaction(SIGINT, &ignore, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGHUP, &stop, NULL);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t defaults;
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGINT);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	int err = posix_spawnp(pid, "tensorboard", NULL, &attr, argv->items, environ);
	posix_spawnattr_destroy(&attr);
	if (err) {
		fprintf(stderr, "tally: cannot start tensorboard: %s\n", strerror(err));
		return 127;
	}
	return 0;
}

static int show_runs(tally_store *store, tally_run **runs, size_t n, bool all, const tb_args *a)
{
	export_totals t = {0};
	int code = export_runs(runs, n, &t);
	if (code)
		return code;
	say_exported(&t);
	if (a->files_only) {
		printf("View them with: tensorboard --logdir %s\n", tally_store_path(store));
		return 0;
	}
	tally_strlist argv = TALLY_STRLIST_INIT;
	pid_t pid;
	code = tensorboard_argv(&argv, store, runs, n, all, a->port);
	if (!code)
		code = start_tensorboard(&argv, &pid);
	if (!code)
		code = follow(pid, runs, n);
	tally_strlist_release(&argv);
	return code;
}

int cmd_tensorboard(int argc, char **argv)
{
	tb_args a = {0};
	cli_selection sel = CLI_SELECTION_INIT;
	sel.summaries = true; /* runs from their index rows: only their directories and statuses are needed */
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'R': a.runs_dir = optarg; break;
		case OPT_PORT: a.port = optarg; code = parse_port(optarg); break;
		case OPT_FILES_ONLY: a.files_only = true; break;
		case OPT_REMOVE: a.remove = true; break;
		case 'h': fputs(cmd_tensorboard_usage, stdout); goto done;
		default:
			code = cli_usage_error(cmd_tensorboard_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
			goto done;
		}
		if (code)
			goto done;
	}
	if (a.remove && (a.files_only || a.port)) {
		code = cli_usage_error(cmd_tensorboard_usage, "--remove removes files: it takes no --files-only or --port");
		goto done;
	}
	if (!a.files_only && !a.remove && !tally_command_exists("tensorboard")) {
		fputs("tally: 'tensorboard' is not on PATH — install TensorBoard (pip install tensorboard), or write the "
		      "event files with --files-only and view them elsewhere\n",
		      stderr);
		code = 127;
		goto done;
	}
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t n = 0, n_refs = (size_t)(argc - optind);
	code = cli_open_store(&store, a.runs_dir);
	if (!code)
		code = cli_select_or_all(store, &sel, argv + optind, n_refs, &runs, &n);
	if (!code)
		code = a.remove ? remove_files(runs, n) : show_runs(store, runs, n, !n_refs && !sel.used, &a);
	cli_free_runs(runs, n);
	tally_store_free(store);
done:
	cli_selection_release(&sel);
	return code;
}

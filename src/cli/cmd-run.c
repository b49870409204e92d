/* tally run — run a script (or any command) as a tracked run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

const char cmd_run_usage[] =
	"usage: tally run [OPTIONS] SCRIPT [NAME=VALUE …]\n"
	"       tally run [OPTIONS] [NAME=VALUE …] -- COMMAND [ARG …]\n"
	"\n"
	"Run SCRIPT in a new run directory and record its flags, output, scalars,\n"
	"source code, git state and how it ended.  The interpreter comes from the\n"
	"extension (.py python3, .R Rscript, .sh bash), from `interpreters:` in\n"
	"tally.yml, or from --interpreter; an executable file runs itself.\n"
	"\n"
	"NAME=VALUE flags are typed like YAML (1 int, 0.1 float, true bool, \"007\"\n"
	"string).  The flags a script declares are found by reading it (see `tally\n"
	"help flags`): R and Python globals, tfruns flags(), argparse and click, `#|`\n"
	"annotations.  A value is coerced to its flag's type and checked against its\n"
	"min, max and choices; a name the script does not declare is an error, unless\n"
	"--force-flags.  Values reach the script by its destination: `--NAME VALUE`\n"
	"(args; tfruns scripts get --NAME=VALUE), its literals rewritten in the run's\n"
	"copy (globals), or a flags file in the run (#| flags-dest: flags.yml); and\n"
	"always as FLAG_NAME environment variables.  Scripts without declared flags\n"
	"take any NAME=VALUE as `--NAME VALUE`.  After the script, `--NAME VALUE` and\n"
	"`--NAME=VALUE` (argparse's habit; a list flag takes every word: --layers\n"
	"128 64) are taken as NAME=VALUE when the script\n"
	"declares NAME (a bool alone is true); '-' and '_' in a flag's name are one\n"
	"(learning-rate=0.1 is learning_rate=0.1).  Precedence: the script's defaults <\n"
	"--flags-file < the command line.  The default label is the flags that differ\n"
	"from the defaults (`lr=0.1 units=128`).\n"
	"\n"
	"Options:\n"
	"  -q, --quiet             record the output without showing it\n"
	"  -l, --label TEXT        a label for the run; ${NAME} is a flag's value,\n"
	"                          ${default_label} the default label\n"
	"  -f, --flags-file FILE   flag values from a YAML file (a map, or tfruns'\n"
	"                          config sections chosen by R_CONFIG_ACTIVE)\n"
	"      --force-flags       accept flags the script does not declare\n"
	"      --no-system-metrics\n"
	"                          do not record sys/* scalars\n"
	"  -t, --tag TAG           a tag (repeatable)\n"
	"  -c, --comment TEXT      a comment recorded with the run\n"
	"      --name NAME         a unique name for the run, usable wherever a RUN\n"
	"                          is (letters, digits, - _ . @ +; not all digits)\n"
	"      --replace           with --name: archive the run holding NAME (tally\n"
	"                          restore brings it back) instead of failing\n"
	"  -b, --background        detach at once: print the run's id and return;\n"
	"                          the run goes on after logout, its output recorded\n"
	"                          (tally watch / tail -f / stop it)\n"
	"  -i, --interpreter CMD   run SCRIPT with CMD (e.g. ~/venv/bin/python)\n"
	"      --report            save an HTML report, report.html, into the run\n"
	"                          when it ends (tfruns' view = \"save\"; tally report)\n"
	"      --open              and open it in the browser on a desktop\n"
	"      --id-file FILE      write the run's id to FILE when it ends (for\n"
	"                          programs that start runs: R's training_run())\n"
	"      --check             check the script, flags and options; start nothing\n"
	"                          (exit 0 when the run would start)\n"
	"      --executor NAME     local|slurm: slurm submits the run with sbatch and\n"
	"                          returns; it waits in the queue as status queued\n"
	"                          (tally watch follows it, tally stop scancels it)\n"
	"      --slurm OPTIONS     sbatch options, e.g. \"--partition=gpu --time=2:00:00\"\n"
	"                          (repeatable; after tally.yml's slurm: and the\n"
	"                          script's #SBATCH lines)\n"
	"      --gpus-per-trial N  ask Slurm for N GPUs for the run (--gres=gpu:N)\n"
	"      --runs-dir DIR      where runs live (default ./runs)\n"
	"  -h, --help              show this help\n";

/* The rest of --help (ISO C limits one string literal to 4095 characters). */
const char cmd_run_usage_more[] =
	"\n"
	"The script also gets TALLY_RUN_DIR, TALLY_RUN_ID and RUN_DIR, and\n"
	"TALLY_SCALARS: a file it may append JSON lines to, {\"loss\": 0.3, \"step\": 5},\n"
	"to log scalars without printing them.  Lines like\n"
	"`loss: 0.31`, `loss: 0.31 (step 4)`, `step: 5` and `epoch 5` in its output\n"
	"are recorded as scalars or set the step, and so are Keras progress lines\n"
	"(`Epoch 3/10` sets the step, `... - loss: 0.29 - val_loss: 0.14` gives a\n"
	"scalar per pair) and lines of numeric pairs (`loss=0.3 acc=0.9`, `Epoch 3:\n"
	"loss=0.3, acc=0.9`); tally.yml or\n"
	"the script's front matter can set `output-scalars:` rules of their own, or off.\n"
	"TensorBoard event files the script writes anywhere in its run directory\n"
	"are read as it goes (tags prefixed by their folder: train/epoch_loss);\n"
	"`tally tensorboard` shows runs in TensorBoard.  Every 5 s (`system-metrics:`\n"
	"in tally.yml) the script's CPU use and memory, and NVIDIA GPUs' use, memory,\n"
	"power and temperature are recorded as sys/* scalars.\n"
	"\n"
	"At a terminal the script is the foreground job: Ctrl-C reaches it (and\n"
	"everything it started) directly, and Ctrl-Z / fg / bg work as usual.\n"
	"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to tally are forwarded to the\n"
	"script's process group; a second SIGINT or SIGTERM sends SIGTERM, a third\n"
	"SIGKILL.  Signals ignored when tally starts (nohup) stay ignored.  A run\n"
	"that ends by a signal, or after one was forwarded, is recorded as\n"
	"terminated.\n"
	"\n"
	"lr=[0.01,0.1] or lr=loguniform[1e-4:1e-1] makes a sweep (tally help tune); a flag\n"
	"that takes a list (nargs=\"+\", type: int list) takes [128,64] as its value.\n"
	"\n"
	"Exit status: the script's own (128+N when killed by signal N).\n";

static const struct option options[] = {
	CLI_LAUNCH_OPTIONS,
	{"quiet", no_argument, NULL, 'q'},
	{"name", required_argument, NULL, 'N'},
	{"replace", no_argument, NULL, 'P'},
	{"background", no_argument, NULL, 'b'},
	{"report", no_argument, NULL, 'r'},
	{"open", no_argument, NULL, 'o'},
	{"id-file", required_argument, NULL, 'I'},
	{"check", no_argument, NULL, 'C'},
	CLI_SLURM_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

typedef struct {
	tally_launch_options *opts;
	bool background, report, open;
	const char *id_file;
	cli_slurm_args slurm;
} run_args;

/* The options only tally run has. */
static int run_option(int c, void *ctx)
{
	run_args *a = ctx;
	int slurm = cli_slurm_option(&a->slurm, c, optarg, cmd_run_usage);
	if (slurm != 1)
		return slurm;
	switch (c) {
	case 'q': a->opts->quiet = 1; return 0;
	case 'N': a->opts->name = optarg; return 0;
	case 'P': a->opts->replace = 1; return 0;
	case 'b': a->background = true; return 0;
	case 'r': a->report = true; return 0;
	case 'o': a->report = a->open = true; return 0;
	case 'I': a->id_file = optarg; return 0;
	case 'C': a->opts->check_only = 1; return 0;
	case 'h':
		fputs(cmd_run_usage, stdout);
		fputs(cmd_run_usage_more, stdout);
		return -1;
	default: return cli_usage_error(cmd_run_usage, "unknown option or missing value");
	}
}

/* One write, so that the summaries of runs sharing a terminal don't interleave. */
static void print_summary(const tally_run *run, int exit_code)
{
	char duration[32];
	tally_buf out = TALLY_BUF_INIT;
	tally_format_duration(duration, sizeof duration, tally_run_stopped_ms(run) - tally_run_started_ms(run));
	const char *status = tally_run_status(run);
	tally_buf_printf(&out, "Run %s %s in %s", tally_run_id(run), status, duration);
	if (strcmp(status, "completed"))
		tally_buf_printf(&out, " (exit status %d)", exit_code);
	tally_buf_addc(&out, '\n');
	if (*tally_run_scalars_text(run))
		tally_buf_printf(&out, "  %s\n", tally_run_scalars_text(run));
	tally_buf_printf(&out, "  %s\n", tally_run_dir(run));
	if (!tally_buf_oom(&out) && write(STDERR_FILENO, out.ptr, out.len) < 0) {
		/* stderr is gone: nothing to report to */
	}
	tally_buf_release(&out);
}

/*
 * --background: a child process in a session of its own (no terminal, so no
 * hangup at logout; stdin, stdout and stderr on /dev/null — the run records
 * its output) launches the run and tells the waiting parent through a pipe
 * either "ok ID" as soon as the run exists, or "error MESSAGE".
 */
static void background_child(int report, tally_store *store, tally_launch_options *opts)
{
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	opts->quiet = 1;
	opts->notify_fd = report;
	tally_run *run = NULL;
	int exit_code = 0;
	int rc = tally_launch(&run, &exit_code, store, opts);
	if (rc) { /* the report is still open only when the run was never created */
		char line[1200];
		int n = snprintf(line, sizeof line, "error %s\n", tally_error_last());
		if (write(report, line, (size_t)n) < 0) {
			/* the parent is gone: nobody to tell */
		}
	}
	tally_run_free(run);
	tally_store_free(store);
	_exit(rc ? EXIT_FATAL : exit_code);
}

static int run_in_background(tally_store *store, tally_launch_options *opts)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		return cli_error("cannot start a background run: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		return cli_error("cannot start a background run: %s", strerror(errno));
	}
	if (pid == 0) {
		close(report[0]);
		background_child(report[1], store, opts);
	}
	close(report[1]);
	char text[1300];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof text - 1 && ((n = read(report[0], text + len, sizeof text - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	close(report[0]);
	text[len] = '\0';
	text[strcspn(text, "\n")] = '\0';
	if (!strncmp(text, "ok ", 3)) {
		printf("Run %s started in the background (tally watch %s follows it)\n", text + 3, text + 3);
		return EXIT_OK;
	}
	if (!strncmp(text, "error ", 6))
		return cli_error("%s", text + 6);
	return cli_error("the background run did not start");
}

/* --report: report.html in the run (tally-report.html when the script made a
 * report.html of its own: never overwritten); the run's status stays the exit status. */
static int save_report(tally_run *run, bool open)
{
	static const char *const names[] = {"report.html", "tally-report.html"};
	char *path = NULL;
	struct stat st;
	for (size_t i = 0; i < 2 && !path; i++) {
		path = tally_path_join(tally_run_dir(run), names[i]);
		if (path && lstat(path, &st) == 0) {
			free(path);
			path = NULL;
		}
	}
	if (!path)
		return cli_error("not saving the report: the run has a report.html and a tally-report.html of its "
		                 "own — use tally report -o FILE");
	int rc = tally_report_write((const tally_run *const *)&run, 1, path);
	if (rc)
		cli_lib_error(rc);
	else if (!open || !cli_open_on_desktop(path))
		fprintf(stderr, "  report: %s\n", path);
	free(path);
	return rc;
}

static bool is_sweep(const char *script, const char *const *flags)
{
	for (const char *const *f = flags; f && *f; f++)
		if (tally_flag_is_sweep(script, *f))
			return true;
	return false;
}

/* --executor slurm: the run queued and submitted; its job runs it on a node. */
static int submit_to_slurm(tally_store *store, tally_launch_options *opts, const tally_slurm_options *slurm)
{
	tally_run *run = NULL;
	char *job = NULL;
	int rc = tally_slurm_submit(&run, &job, store, opts, slurm);
	if (rc)
		return cli_lib_error(rc);
	printf("Run %s queued as Slurm job %s (tally watch %s follows it, tally stop %s cancels it)\n", tally_run_id(run),
	       job, tally_run_id(run), tally_run_id(run));
	tally_run_free(run);
	free(job);
	return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	tally_launch_options opts = TALLY_LAUNCH_OPTIONS_INIT;
	cli_script_args args = {&opts, NULL, NULL, 0, 0, NULL, TALLY_STRLIST_INIT};
	run_args a = {&opts, false, false, false, NULL, {0}};
	tally_store *store = NULL;
	tally_run *run = NULL;
	int code = cli_parse_script_args(&args, argc, argv, "+ql:t:c:i:f:bh", options, cmd_run_usage, run_option, &a);
	if (code) {
		code = code < 0 ? EXIT_OK : code;
		goto done;
	}
	if (!opts.script && !opts.command) {
		code = cli_usage_error(cmd_run_usage, "no script given");
		goto done;
	}
	if ((code = cli_slurm_finish(&a.slurm, cmd_run_usage)))
		goto done;
	bool on_slurm = a.slurm.executor && !strcmp(a.slurm.executor, "slurm");
	if (is_sweep(opts.script, args.flags)) { /* lr=[0.01,0.1]: a sweep, as in Guild */
		if (a.background || opts.name || a.report) {
			code = cli_usage_error(cmd_run_usage, "a sweep (a flag given [a,b] or a distribution) runs in the foreground, "
			                       "its trials are not named, and `tally report` compares them: leave %s out",
			                       a.background ? "-b" : opts.name ? "--name" : "--report");
			goto done;
		}
		cli_tune_request req = {0};
		req.plan.version = TALLY_SWEEP_OPTIONS_VERSION;
		req.plan.launch = opts;
		req.exec.version = TALLY_SWEEP_EXEC_VERSION;
		req.exec.executor = a.slurm.executor;
		req.exec.slurm = on_slurm ? &a.slurm.opts : NULL;
		req.runs_dir = args.runs_dir;
		code = cli_tune(&req);
		goto done;
	}
	if ((code = cli_open_store(&store, args.runs_dir)))
		goto done;
	if (opts.replace && !opts.name) {
		code = cli_usage_error(cmd_run_usage, "--replace goes with --name");
		goto done;
	}
	if (on_slurm && (a.background || a.report || a.id_file || opts.check_only)) {
		code = cli_usage_error(cmd_run_usage, "--executor slurm submits the run and returns: leave %s out",
		                       a.background ? "-b" : a.report ? "--report" : a.id_file ? "--id-file" : "--check");
		goto done;
	}
	fflush(stdout);
	fflush(stderr);
	if (on_slurm) {
		code = submit_to_slurm(store, &opts, &a.slurm.opts);
		goto done;
	}
	if (a.background) {
		code = run_in_background(store, &opts);
		goto done;
	}
	int exit_code = 0;
	int rc = tally_launch(&run, &exit_code, store, &opts);
	if (rc) {
		code = cli_lib_error(rc);
		if (exit_code == 127)
			code = 127;
		goto done;
	}
	if (opts.check_only) { /* --check: it would start, and nothing was made */
		code = EXIT_OK;
		goto done;
	}
	cli_print_warnings(store);
	print_summary(run, exit_code);
	code = exit_code;
	if (a.id_file && cli_write_id_file(a.id_file, tally_run_id(run)))
		code = code ? code : EXIT_FATAL;
	if (a.report && save_report(run, a.open))
		code = code ? code : EXIT_FATAL;
done:
	tally_run_free(run);
	tally_store_free(store);
	cli_script_args_release(&args);
	cli_slurm_args_release(&a.slurm);
	return code;
}

/* tally tune — run a script over a search space, each trial a tracked run. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_tune_usage[] =
	"usage: tally tune [OPTIONS] SCRIPT NAME=SPACE … [NAME=VALUE …]\n"
	"       tally tune [OPTIONS] NAME=SPACE … -- COMMAND [ARG …]\n"
	"       tally tune --resume SWEEP [--retry-failed] [--parallel N] [--gpus LIST]\n"
	"\n"
	"Run SCRIPT once per trial of a search space, each trial an ordinary run\n"
	"(tally runs --sweep ID lists them), like tfruns' tuning_run() and Guild's\n"
	"`guild run train.py lr=[0.01,0.1]`; `tally run SCRIPT lr=[0.01,0.1]` is the\n"
	"same.  A flag given one value keeps it in every trial; a flag that takes a\n"
	"list is swept over a list of lists: layers=[[128,64],[256]].\n"
	"\n"
	"Search spaces (NAME=SPACE; quote them for the shell):\n"
	"  [a,b,c]  choice[a,b,c]   these values ('quote' values holding , or ])\n"
	"  range[a:b:step]          a, a+step, … up to b included (step 1 by default)\n"
	"  linspace[a:b:n]          n evenly spaced values from a to b\n"
	"  logspace[a:b:n]          n values 10^a … 10^b (logspace[a:b:n:base])\n"
	"  uniform[a:b]             a random real in [a, b)\n"
	"  loguniform[a:b]          a random real whose logarithm is uniform (0 < a)\n"
	"  randint[a:b]             a random integer from a to b, both included\n"
	"  lograndint[a:b]          the same, log-uniformly (0 < a)\n"
	"Every value is checked against the script's flags (type, min, max,\n"
	"choices) before any trial starts.\n"
	"\n"
	"Which trials:\n"
	"      --optimizer NAME   grid|random|tpe (--grid, --random, --tpe):\n"
	"        grid             every combination, in order (the last flag fastest);\n"
	"                         the default when every space is a list\n"
	"        random           random search: a random subset of the grid (no\n"
	"                         repeats), or draws from the distributions; the\n"
	"                         default when a space is a distribution\n"
	"        tpe              Bayesian search (Tree-structured Parzen Estimator,\n"
	"                         as Optuna's): random start-up trials, then each\n"
	"                         trial where the good trials so far are dense and\n"
	"                         the bad ones sparse, by the objective\n"
	"      --multivariate     tpe: model the flags jointly, not one by one\n"
	"      --startup-trials N\n"
	"                         tpe: random trials before the model (default 10)\n"
	"      --candidates N     tpe: points scored per proposal (default 24)\n"
	"      --sample F         a random share F of the grid (0 < F <= 1, at least\n"
	"                         one trial), as tfruns' sample\n"
	"  -n, --max-trials N     N trials (random search and tpe; 20 by default)\n"
	"      --seed S           the random choices' seed (recorded; a fresh one\n"
	"                         otherwise): the same seed gives the same trials\n"
	"      --trials FILE      one trial per row of FILE (.csv with a header of\n"
	"                         flag names, .yml list of maps, .json array of\n"
	"                         objects) instead of search spaces\n"
	"      --minimize SCALAR  the objective (default: val_loss, else loss)\n"
	"      --maximize SCALAR  the objective, larger is better (e.g. val_acc)\n"
	"\n"
	"Early stopping (the objective read live from each trial's scalars):\n"
	"      --prune RULE       median|asha: stop hopeless trials, which end with\n"
	"                         status pruned (tally runs --pruned)\n"
	"        median           a trial whose best value so far is worse than the\n"
	"                         median of completed trials' values at its step\n"
	"        asha             successive halving: at rungs of steps S, S·F, S·F²…\n"
	"                         a trial goes on only in the best 1/F of the trials\n"
	"                         that reached the rung\n"
	"      --prune-startup N  median: completed trials before pruning (default 5)\n"
	"      --prune-warmup N   median: steps a trial runs first (default 0)\n"
	"      --prune-min-step S\n"
	"                         asha: the first rung (default: 1/100 of the longest\n"
	"                         completed trial's steps, at least 1)\n"
	"      --prune-factor F   asha: the reduction factor (default 3)\n"
	"      --prune-grace SECONDS\n"
	"                         a pruned trial gets SIGTERM, then its script\n"
	"                         SIGKILL after this long (default 10)\n"
	"\n";

const char cmd_tune_usage_more[] =
	"Running:\n"
	"  -p, --parallel N       N trials at a time (default 1, or one per GPU)\n"
	"      --gpus LIST        one GPU per worker: 0,1 gives each trial\n"
	"                         CUDA_VISIBLE_DEVICES=0 or 1\n"
	"      --fail-fast        start no more trials once one fails\n"
	"      --resume SWEEP     continue an interrupted or partly failed sweep:\n"
	"                         completed trials are not run again, terminated\n"
	"                         ones are\n"
	"      --retry-failed     with --resume: run failed trials again too\n"
	"      --echo             show the trials' output (it is always recorded)\n"
	"      --dry-run          print the trials and exit; nothing runs\n"
	"      --id-file FILE     write the sweep's id to FILE when it ends\n"
	"  -y, --yes              start without asking (a terminal is asked before\n"
	"                         more than 5 trials)\n"
	"  -q, --quiet            no progress bar or lines, only the final table\n"
	"\n"
	"On a Slurm cluster (the runs directory on its shared filesystem):\n"
	"      --executor NAME    local|slurm: slurm submits the trials with sbatch,\n"
	"                         a grid or random plan as one job array whose %N is\n"
	"                         --parallel (TPE: up to N jobs in the queue); each\n"
	"                         trial is a run from submission on (status queued)\n"
	"      --slurm OPTIONS    sbatch options, e.g. \"--partition=gpu --time=2:00:00\"\n"
	"                         (repeatable; after tally.yml's slurm: and the\n"
	"                         script's #SBATCH lines)\n"
	"      --gpus-per-trial N Slurm GPUs per trial (--gres=gpu:N)\n"
	"      --detach           submit the sweep's controller as a Slurm job too and\n"
	"                         return (tally show SWEEP says where it stands)\n"
	"Ctrl-C or a killed sweep: queued and running jobs are cancelled, or (kill\n"
	"-9) go on, and --resume watches them again.\n"
	"\n"
	"For every trial, as in tally run: -l/--label (${NAME} is a flag's value),\n"
	"-t/--tag, -c/--comment, -i/--interpreter, -f/--flags-file, --force-flags,\n"
	"--no-system-metrics, --runs-dir DIR.\n"
	"\n"
	"On a terminal a progress bar shows trials done, running and failed, the\n"
	"best objective so far and an estimate of the time left; otherwise a line\n"
	"per finished trial.  At the end, the trials best first and the best run.\n"
	"A failing trial is recorded and the sweep goes on.  Ctrl-C stops it:\n"
	"running trials end as terminated, and --resume runs them again.  The sweep\n"
	"is recorded in RUNS/.sweeps/ID/sweep.json; tally sweeps lists sweeps,\n"
	"tally show ID shows one.\n"
	"\n"
	"Exit status: 0 when every trial completed (or was pruned); 1 when one\n"
	"failed or did not run; 128 when the sweep could not start (a bad space or value, refused\n"
	"before anything ran); 130 when stopped (Ctrl-C, SIGTERM).\n";

enum {
	OPT_GRID = CLI_OPT_FIRST_FREE, OPT_RANDOM, OPT_SAMPLE, OPT_SEED, OPT_TRIALS, OPT_MINIMIZE, OPT_MAXIMIZE,
	OPT_GPUS, OPT_FAIL_FAST, OPT_RESUME, OPT_RETRY, OPT_ECHO, OPT_DRY_RUN, OPT_ID_FILE, OPT_OPTIMIZER, OPT_TPE,
	OPT_MULTIVARIATE, OPT_STARTUP, OPT_CANDIDATES, OPT_PRUNE, OPT_PRUNE_STARTUP, OPT_PRUNE_WARMUP, OPT_PRUNE_MIN_STEP,
	OPT_PRUNE_FACTOR, OPT_PRUNE_GRACE, OPT_DETACH,
};

static const struct option options[] = {
	{"grid", no_argument, NULL, OPT_GRID},
	{"random", no_argument, NULL, OPT_RANDOM},
	{"tpe", no_argument, NULL, OPT_TPE},
	{"optimizer", required_argument, NULL, OPT_OPTIMIZER},
	{"multivariate", no_argument, NULL, OPT_MULTIVARIATE},
	{"startup-trials", required_argument, NULL, OPT_STARTUP},
	{"candidates", required_argument, NULL, OPT_CANDIDATES},
	{"prune", required_argument, NULL, OPT_PRUNE},
	{"prune-startup", required_argument, NULL, OPT_PRUNE_STARTUP},
	{"prune-warmup", required_argument, NULL, OPT_PRUNE_WARMUP},
	{"prune-min-step", required_argument, NULL, OPT_PRUNE_MIN_STEP},
	{"prune-factor", required_argument, NULL, OPT_PRUNE_FACTOR},
	{"prune-grace", required_argument, NULL, OPT_PRUNE_GRACE},
	{"sample", required_argument, NULL, OPT_SAMPLE},
	{"max-trials", required_argument, NULL, 'n'},
	{"seed", required_argument, NULL, OPT_SEED},
	{"trials", required_argument, NULL, OPT_TRIALS},
	{"minimize", required_argument, NULL, OPT_MINIMIZE},
	{"maximize", required_argument, NULL, OPT_MAXIMIZE},
	{"parallel", required_argument, NULL, 'p'},
	{"gpus", required_argument, NULL, OPT_GPUS},
	{"fail-fast", no_argument, NULL, OPT_FAIL_FAST},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"retry-failed", no_argument, NULL, OPT_RETRY},
	{"echo", no_argument, NULL, OPT_ECHO},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"id-file", required_argument, NULL, OPT_ID_FILE},
	{"yes", no_argument, NULL, 'y'},
	{"quiet", no_argument, NULL, 'q'},
	{"detach", no_argument, NULL, OPT_DETACH},
	CLI_SLURM_OPTIONS,
	CLI_LAUNCH_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* ---- progress ---- */

typedef struct {
	bool tty, quiet, drawn;
	unsigned parallel;
	tally_store *store;
	bool objective_warned;   /* a completed trial without the objective was reported */
} progress_view;

static void clear_bar(progress_view *v)
{
	if (v->drawn)
		fputs("\r\033[K", stderr);
	v->drawn = false;
}

static void draw_bar(progress_view *v, tally_sweep *sweep, const tally_sweep_progress *p)
{
	size_t done = p->done_before + p->completed + p->failed + p->pruned;
	size_t width = 20, filled = p->total ? done * width / p->total : width;
	char bar[32];
	for (size_t i = 0; i < width; i++)
		bar[i] = i < filled ? '#' : '-';
	bar[width] = '\0';
	tally_buf line = TALLY_BUF_INIT;
	tally_buf_printf(&line, "\r\033[K[%s] %zu/%zu  running %zu  failed %zu", bar, done, p->total, p->running, p->failed);
	if (p->pruned)
		tally_buf_printf(&line, "  pruned %zu", p->pruned);
	long best = p->best;
	if (best >= 0) {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, (size_t)best, &t);
		char value[40];
		tally_format_rounded(value, sizeof value, t.objective);
		tally_buf_printf(&line, "  best %s %s (trial %ld)", tally_sweep_objective(sweep, NULL), value, best + 1);
	}
	if (p->eta_ms >= 0 && (p->pending || p->running)) {
		char eta[32];
		tally_format_duration(eta, sizeof eta, p->eta_ms);
		tally_buf_printf(&line, "  ETA %s", eta);
	}
	if (!tally_buf_oom(&line))
		fputs(line.ptr, stderr);
	tally_buf_release(&line);
	fflush(stderr);
	v->drawn = true;
}

/* "trial 3/20 completed in 4.2 s  val_loss 0.0658  (run ID)" */
static void trial_line(tally_sweep *sweep, const tally_sweep_progress *p)
{
	tally_sweep_trial t;
	tally_sweep_trial_get(sweep, (size_t)p->trial, &t);
	if (p->error) {
		fprintf(stderr, "trial %ld/%zu did not start: %s\n", p->trial + 1, p->total, p->error);
		return;
	}
	char duration[32] = "?";
	if (t.duration_ms >= 0)
		tally_format_duration(duration, sizeof duration, t.duration_ms);
	fprintf(stderr, "trial %ld/%zu %s in %s", p->trial + 1, p->total, t.status, duration);
	if (t.has_objective || (!strcmp(t.status, "pruned") && t.logged_objective)) {
		char value[40];
		tally_format_rounded(value, sizeof value, t.objective);
		fprintf(stderr, "  %s %s", tally_sweep_objective(sweep, NULL), value);
	}
	fprintf(stderr, "  (run %s)\n", p->run_id ? tally_run_id_short(p->run_id) : "-");
}

/* The first trial that completed without the objective: say so at once, with
 * what it did log, rather than ending with a table of dashes. */
static void warn_no_objective(progress_view *v, const tally_sweep *sweep, long trial, const char *run_id)
{
	v->objective_warned = true;
	const char *objective = tally_sweep_objective(sweep, NULL);
	tally_run *run = NULL;
	json_t *scalars = NULL;
	if (run_id && tally_run_lookup(&run, v->store, run_id) == 0)
		scalars = json_loads(tally_run_scalars_json(run), 0, NULL);
	tally_buf names = TALLY_BUF_INIT;
	const char *name;
	json_t *value;
	size_t n = 0;
	json_object_foreach(scalars, name, value) {
		if (!strncmp(name, "sys/", 4) || n++ >= 8)
			continue;
		tally_buf_printf(&names, "%s%s", names.len ? ", " : "", name);
	}
	fprintf(stderr, "tally: warning: trial %ld completed without %s%s%s%s — name the objective with --minimize or "
	        "--maximize SCALAR\n", trial + 1, *objective ? objective : "val_loss or loss",
	        names.len ? " (it logged " : " (it logged no scalars", names.len ? names.ptr : "", n > 8 ? ", …)" : ")");
	tally_buf_release(&names);
	json_decref(scalars);
	tally_run_free(run);
}

static void on_progress(void *ctx, tally_sweep *sweep, const tally_sweep_progress *p)
{
	progress_view *v = ctx;
	if (p->event == TALLY_SWEEP_TRIAL_ENDED && !v->objective_warned) { /* a warning: also with -q */
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, (size_t)p->trial, &t);
		if (!p->error && !strcmp(t.status, "completed") && !t.logged_objective) {
			clear_bar(v);
			warn_no_objective(v, sweep, p->trial, t.run_id);
		}
	}
	if (v->quiet)
		return;
	switch (p->event) {
	case TALLY_SWEEP_STARTED:
		fprintf(stderr, "Sweep %s: %s, %u at a time\n", tally_sweep_id(sweep), tally_sweep_describe(sweep),
		        v->parallel);
		if (p->done_before || p->failed)
			fprintf(stderr, "Resuming: %zu of %zu trials completed earlier%s; %zu to run\n", p->done_before, /* or pruned */
			        p->total, p->failed ? ", some failed" : "", p->pending);
		break;
	case TALLY_SWEEP_TRIAL_ENDED: {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, (size_t)p->trial, &t);
		bool failed = p->error || (strcmp(t.status, "completed") && strcmp(t.status, "pruned"));
		if (!v->tty || failed) {
			clear_bar(v);
			trial_line(sweep, p);
		}
		break;
	}
	case TALLY_SWEEP_ENDED: clear_bar(v); return;
	default: break;
	}
	if (v->tty && p->event != TALLY_SWEEP_ENDED)
		draw_bar(v, sweep, p);
}

/* ---- the request ---- */

static int ask_to_start(const tally_sweep *sweep)
{
	size_t n = tally_sweep_trial_count(sweep);
	fprintf(stderr, "This starts %zu trials:\n", n);
	fflush(stdout);
	cli_sweep_table(stderr, sweep, true, 5);
	if (n > 5)
		fprintf(stderr, "  … (--dry-run lists them all)\n");
	char question[64];
	snprintf(question, sizeof question, "Start %zu trials?", n);
	if (cli_ask(question))
		return 0;
	fprintf(stderr, "Nothing started.\n");
	return EXIT_NEGATIVE;
}

static int report_end(tally_sweep *sweep, tally_store *store)
{
	size_t n = tally_sweep_trial_count(sweep), completed = 0, failed = 0, pruned = 0;
	for (size_t i = 0; i < n; i++) {
		tally_sweep_trial t;
		tally_sweep_trial_get(sweep, i, &t);
		completed += !strcmp(t.status, "completed");
		pruned += !strcmp(t.status, "pruned");
		failed += !strcmp(t.status, "error") || !strcmp(t.status, "terminated");
	}
	/* the table is the result: printed even with -q */
	cli_sweep_table(stdout, sweep, false, 0);
	cli_sweep_best_line(stdout, sweep);
	cli_sweep_failures(stdout, store, sweep);
	fflush(stdout);
	const char *status = tally_sweep_status(sweep), *id = tally_sweep_id(sweep);
	if (!strcmp(status, "interrupted")) {
		fprintf(stderr, "Sweep %s interrupted: %zu of %zu trials completed — `tally tune --resume %s` runs the rest\n",
		        id, completed, n, id);
		return 128 + SIGINT;
	}
	if (!strcmp(status, "failed")) {
		fprintf(stderr, "Sweep %s stopped after a trial failed (--fail-fast): %zu of %zu completed — `tally tune "
		        "--resume %s --retry-failed` goes on\n", id, completed, n, id);
		return EXIT_NEGATIVE;
	}
	fprintf(stderr, "Sweep %s %s: %zu of %zu trials completed", id, status, completed, n);
	if (pruned)
		fprintf(stderr, ", %zu pruned", pruned);
	if (failed)
		fprintf(stderr, ", %zu failed (`tally tune --resume %s --retry-failed` runs them again)", failed, id);
	fputc('\n', stderr);
	return completed + pruned == n ? EXIT_OK : EXIT_NEGATIVE;
}

/* --detach: the controller goes to Slurm; this process only submits it. */
static int detach(tally_sweep *sweep, cli_tune_request *req)
{
	char *job = NULL;
	int rc = tally_sweep_detach(sweep, &req->exec, &job);
	if (rc)
		return cli_lib_error(rc);
	printf("Sweep %s queued as Slurm job %s: %s\n", tally_sweep_id(sweep), job, tally_sweep_describe(sweep));
	printf("  tally show %s says where it stands; scancel %s stops it, and its trials with it\n",
	       tally_sweep_id(sweep), job);
	free(job);
	if (req->id_file && cli_write_id_file(req->id_file, tally_sweep_id(sweep)))
		return EXIT_FATAL;
	return EXIT_OK;
}

int cli_tune(cli_tune_request *req)
{
	tally_store *store = NULL;
	tally_sweep *sweep = NULL;
	int code = cli_open_store(&store, req->runs_dir), rc;
	if (code)
		return code;
	if (req->resume)
		rc = tally_sweep_open(&sweep, store, req->resume);
	else
		rc = tally_sweep_plan(&sweep, store, &req->plan);
	if (rc) {
		code = cli_lib_error(rc);
		goto done;
	}
	if (req->dry_run) {
		printf("Sweep plan: %s\n", tally_sweep_describe(sweep));
		cli_sweep_table(stdout, sweep, !req->resume, 0);
		goto done;
	}
	bool ask = !req->yes && !req->resume && tally_sweep_trial_count(sweep) > 5 && isatty(STDIN_FILENO) &&
	           isatty(STDERR_FILENO);
	if (ask && (code = ask_to_start(sweep)))
		goto done;
	size_t n_gpus = 0;
	while (req->exec.gpus && req->exec.gpus[n_gpus])
		n_gpus++;
	if (req->detach) {
		code = detach(sweep, req);
		goto done;
	}
	progress_view view = {isatty(STDERR_FILENO), req->quiet, false,
	                      req->exec.parallel ? req->exec.parallel : n_gpus ? (unsigned)n_gpus : 1, store, false};
	req->exec.progress = on_progress;
	req->exec.ctx = &view;
	fflush(stdout);
	rc = tally_sweep_execute(sweep, &req->exec);
	cli_print_warnings(store);
	if (rc) {
		code = cli_lib_error(rc);
		if (!*tally_sweep_id(sweep))
			goto done;
	}
	int end = report_end(sweep, store);
	code = code ? code : end;
	if (req->id_file && cli_write_id_file(req->id_file, tally_sweep_id(sweep)))
		code = code ? code : EXIT_FATAL;
done:
	tally_sweep_free(sweep);
	tally_store_free(store);
	return code;
}

/* ---- parsing ---- */

static bool parse_count(const char *text, uint64_t *out, uint64_t min)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min)
		return false;
	*out = v;
	return true;
}

/* A number in (0, max]. */
static bool parse_real(const char *text, double *out, double max)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !(v > 0 && v <= max))
		return false;
	*out = v;
	return true;
}

/* "0,1" → {"0", "1", NULL}: GPU indexes or UUIDs (letters, digits, '-', ':'). */
static int parse_gpus(char *text, const char ***gpus, size_t *n)
{
	for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
		if (!*tok || strspn(tok, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-:") != strlen(tok))
			return -1;
		if (cli_push_arg(gpus, n, tok) < 0)
			return -2;
	}
	return *n ? 0 : -1;
}

typedef struct {
	cli_tune_request *req;
	cli_script_args args;
	const char **gpus;
	size_t n_gpus;
	char *gpus_text;
	bool search_options; /* --grid, --sample … (not with --resume) */
	cli_slurm_args slurm;
} tune_args;

static const char *option_name(int c)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* Where a whole-number setting of TPE or a pruner goes. */
static long *count_option(tally_sweep_options *p, int c)
{
	switch (c) {
	case OPT_STARTUP: return &p->startup_trials;
	case OPT_CANDIDATES: return &p->candidates;
	case OPT_PRUNE_STARTUP: return &p->prune_startup;
	case OPT_PRUNE_WARMUP: return &p->prune_warmup;
	case OPT_PRUNE_MIN_STEP: return &p->prune_min_step;
	default: return &p->prune_factor;
	}
}

/* The options only tally tune has. */
static int parse_option(int c, void *ctx)
{
	tune_args *a = ctx;
	cli_tune_request *req = a->req;
	tally_sweep_options *p = &req->plan;
	uint64_t v;
	int slurm = cli_slurm_option(&a->slurm, c, optarg, cmd_tune_usage);
	if (slurm != 1)
		return slurm;
	switch (c) {
	case OPT_DETACH: req->detach = true; break;
	case OPT_GRID: p->strategy = "grid"; a->search_options = true; break;
	case OPT_RANDOM: p->strategy = "random"; a->search_options = true; break;
	case OPT_TPE: p->strategy = "tpe"; a->search_options = true; break;
	case OPT_OPTIMIZER:
		if (strcmp(optarg, "grid") && strcmp(optarg, "random") && strcmp(optarg, "tpe"))
			return cli_usage_error(cmd_tune_usage, "no optimizer '%s' — use grid, random or tpe", optarg);
		p->strategy = optarg;
		a->search_options = true;
		break;
	case OPT_MULTIVARIATE: p->multivariate = 1; a->search_options = true; break;
	case OPT_STARTUP:
	case OPT_CANDIDATES:
	case OPT_PRUNE_STARTUP:
	case OPT_PRUNE_WARMUP:
	case OPT_PRUNE_MIN_STEP:
	case OPT_PRUNE_FACTOR:
		if (!parse_count(optarg, &v, c == OPT_PRUNE_WARMUP ? 0 : c == OPT_PRUNE_FACTOR ? 2 : 1) ||
		    v > (c == OPT_CANDIDATES ? 100000 : 1000000000))
			return cli_usage_error(cmd_tune_usage, "--%s '%s' is not a whole number %s", option_name(c), optarg,
			                       c == OPT_CANDIDATES ? "from 1 to 100000" : c == OPT_PRUNE_WARMUP ? "from 0 on"
			                       : c == OPT_PRUNE_FACTOR ? "from 2 on" : "from 1 on");
		*count_option(p, c) = (long)v;
		a->search_options = true;
		break;
	case OPT_PRUNE:
		if (strcmp(optarg, "median") && strcmp(optarg, "asha"))
			return cli_usage_error(cmd_tune_usage, "no pruner '%s' — use median or asha", optarg);
		p->prune = optarg;
		a->search_options = true;
		break;
	case OPT_PRUNE_GRACE:
		if (!parse_real(optarg, &p->prune_grace, 86400))
			return cli_usage_error(cmd_tune_usage, "--prune-grace '%s' is not a number of seconds (0 < S <= 86400)",
			                       optarg);
		a->search_options = true;
		break;
	case OPT_SAMPLE:
		if (!parse_real(optarg, &p->sample, 1))
			return cli_usage_error(cmd_tune_usage, "--sample '%s' is not a share of the grid — give 0 < F <= 1", optarg);
		a->search_options = true;
		break;
	case 'n':
		if (!parse_count(optarg, &p->max_trials, 1))
			return cli_usage_error(cmd_tune_usage, "--max-trials '%s' is not a positive whole number", optarg);
		a->search_options = true;
		break;
	case OPT_SEED:
		if (!parse_count(optarg, &p->seed, 0) || p->seed > (uint64_t)INT64_MAX)
			return cli_usage_error(cmd_tune_usage, "--seed '%s' is not a whole number from 0 to 2^63-1", optarg);
		p->has_seed = 1;
		a->search_options = true;
		break;
	case OPT_TRIALS: p->trials_file = optarg; a->search_options = true; break;
	case OPT_MINIMIZE:
	case OPT_MAXIMIZE:
		if (p->objective)
			return cli_usage_error(cmd_tune_usage, "give one objective (--minimize or --maximize)");
		if (!*optarg)
			return cli_usage_error(cmd_tune_usage, "--%s needs a scalar's name", c == OPT_MINIMIZE ? "minimize" : "maximize");
		p->objective = optarg;
		p->maximize = c == OPT_MAXIMIZE;
		a->search_options = true;
		break;
	case 'p':
		if (!parse_count(optarg, &v, 1) || v > 1024)
			return cli_usage_error(cmd_tune_usage, "--parallel '%s' is not a whole number from 1 to 1024", optarg);
		req->exec.parallel = (unsigned)v;
		break;
	case OPT_GPUS: {
		free(a->gpus_text);
		a->gpus_text = strdup(optarg);
		free(a->gpus);
		a->gpus = NULL;
		a->n_gpus = 0;
		int g = a->gpus_text ? parse_gpus(a->gpus_text, &a->gpus, &a->n_gpus) : -2;
		if (g == -2)
			return cli_error("out of memory");
		if (g)
			return cli_usage_error(cmd_tune_usage, "--gpus '%s' is not a list of GPUs — write e.g. 0,1", optarg);
		req->exec.gpus = a->gpus;
		break;
	}
	case OPT_FAIL_FAST: req->exec.fail_fast = 1; break;
	case OPT_RESUME: req->resume = optarg; break;
	case OPT_RETRY: req->exec.retry_failed = 1; break;
	case OPT_ECHO: req->exec.echo = 1; break;
	case OPT_DRY_RUN: req->dry_run = true; break;
	case OPT_ID_FILE: req->id_file = optarg; break;
	case 'y': req->yes = true; break;
	case 'q': req->quiet = true; break;
	case 'h':
		fputs(cmd_tune_usage, stdout);
		fputs(cmd_tune_usage_more, stdout);
		return -1;
	default: return cli_usage_error(cmd_tune_usage, "unknown option or missing value");
	}
	return 0;
}

static int check_request(cli_tune_request *req, const tune_args *a)
{
	tally_launch_options *l = &req->plan.launch;
	bool has_command = l->command != NULL;
	if (req->resume) {
		if (l->script || has_command || a->args.n_flags || a->search_options || l->label || l->tags || l->comment ||
		    l->interpreter || l->flags_file)
			return cli_usage_error(cmd_tune_usage, "--resume continues a recorded sweep as it was planned: give only "
			                       "--parallel, --gpus, --retry-failed, --fail-fast, --echo, -y or -q with it");
		return 0;
	}
	if (req->exec.retry_failed)
		return cli_usage_error(cmd_tune_usage, "--retry-failed goes with --resume SWEEP");
	if (!l->script && !has_command)
		return cli_usage_error(cmd_tune_usage, "no script given");
	if (req->plan.strategy && !strcmp(req->plan.strategy, "grid") && (req->plan.sample > 0 || req->plan.max_trials))
		return cli_usage_error(cmd_tune_usage, "--grid runs every combination: leave --sample and --max-trials out, or use "
		                       "them alone for a random subset");
	return 0;
}

int cmd_tune(int argc, char **argv)
{
	cli_tune_request req = {0};
	req.plan.version = TALLY_SWEEP_OPTIONS_VERSION;
	req.plan.launch = (tally_launch_options)TALLY_LAUNCH_OPTIONS_INIT;
	req.exec.version = TALLY_SWEEP_EXEC_VERSION;
	tune_args a = {&req, {&req.plan.launch, NULL, NULL, 0, 0, NULL, TALLY_STRLIST_INIT}, NULL, 0, NULL, false, {0}};
	int code = cli_parse_script_args(&a.args, argc, argv, "+n:p:yql:t:c:i:f:h", options, cmd_tune_usage, parse_option, &a);
	if (!code)
		code = check_request(&req, &a);
	if (!code)
		code = cli_slurm_finish(&a.slurm, cmd_tune_usage);
	if (!code && req.detach && (!a.slurm.executor || strcmp(a.slurm.executor, "slurm")))
		code = cli_usage_error(cmd_tune_usage, "--detach sends the sweep's controller to Slurm: it goes with "
		                       "--executor slurm");
	req.exec.executor = a.slurm.executor;
	req.exec.slurm = a.slurm.executor && !strcmp(a.slurm.executor, "slurm") ? &a.slurm.opts : NULL;
	if (!code) {
		req.runs_dir = a.args.runs_dir;
		code = cli_tune(&req);
	}
	cli_script_args_release(&a.args);
	cli_slurm_args_release(&a.slurm);
	free(a.gpus);
	free(a.gpus_text);
	return code < 0 ? EXIT_OK : code;
}

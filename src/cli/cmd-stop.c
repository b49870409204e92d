/* tally stop — stop running runs (Guild's stop). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_stop_usage[] =
	"usage: tally stop [-y] [--force] [--grace SECONDS] [RUN…] [query options]\n"
	"\n"
	"Stop running runs: SIGTERM goes to the run's tally, which passes it to the\n"
	"script's process group and records the run as terminated.  With --force, a\n"
	"run still going after the grace period gets SIGKILL.  A run sent to Slurm\n"
	"(queued or running) is stopped with scancel of its job: Slurm sends\n"
	"SIGTERM, then SIGKILL after its KillWait; a queued one is recorded as\n"
	"terminated at once.  RUN is an index, a range, an id prefix, a name or a\n"
	"run directory; without RUN or query options: every running or queued run.\n"
	"\n"
	"Options:\n"
	"  -y, --yes            do not ask (needed when there is no terminal)\n"
	"      --force          SIGKILL runs still going after the grace period\n"
	"      --grace SECONDS  how long to wait for a run to end (default 10)\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR   where runs live (default ./runs)\n"
	"  -h, --help           show this help\n";

enum { OPT_FORCE = CLI_OPT_FIRST_FREE, OPT_GRACE };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"yes", no_argument, NULL, 'y'},
	{"force", no_argument, NULL, OPT_FORCE},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static bool wait_until_stopped(const tally_run *run, int64_t ms)
{
	int64_t until = tally_now_ms() + ms;
	while (tally_run_is_live(run)) {
		if (tally_now_ms() >= until)
			return false;
		nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
	}
	return true;
}

/* Live here, or queued or running through Slurm (whose job tally stop cancels). */
static bool stoppable(const tally_run *run)
{
	const char *status = tally_run_status(run);
	return tally_run_is_live(run) || !strcmp(status, "queued") || (!strcmp(status, "running") && tally_run_is_slurm(run));
}

int cli_stop_run(tally_run *run, int grace_ms, bool force)
{
	int rc = tally_run_stop(run, 0);
	if (rc)
		return cli_lib_error(rc);
	if (wait_until_stopped(run, grace_ms))
		return 0;
	if (!force)
		return cli_error("run %s is still running after %d s — tally stop --force kills it", tally_run_id(run),
		                 grace_ms / 1000);
	if ((rc = tally_run_stop(run, 1)) && tally_run_is_live(run))
		return cli_lib_error(rc);
	if (!wait_until_stopped(run, 10000))
		return cli_error("run %s is still running after SIGKILL — its tally may be stuck", tally_run_id(run));
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool yes = false, force = false;
	long grace_ms = CLI_STOP_GRACE_MS;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:yh", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'y': yes = true; break;
		case OPT_FORCE: force = true; break;
		case OPT_GRACE: {
			char *end;
			double s = strtod(optarg, &end);
			if (*end || end == optarg || !(s >= 0 && s <= 86400)) {
				code = cli_usage_error(cmd_stop_usage, "--grace wants seconds, not '%s'", optarg);
				goto done_sel;
			}
			grace_ms = (long)(s * 1000);
			break;
		}
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_stop_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_stop_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	size_t n = (size_t)(argc - optind);
	if (!n && !sel.used) {
		cli_selection_option(&sel, CLI_OPT_RUNNING, NULL);
		cli_selection_option(&sel, CLI_OPT_QUEUED, NULL);
	}
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t found = 0, stopped = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_select_runs(store, &sel, argv + optind, n, &runs, &found);
	for (size_t i = 0; !code && i < found; i++)
		if (runs[i] && !stoppable(runs[i])) {
			if (n)
				code = cli_error("run %s is not running (%s)", tally_run_id(runs[i]), tally_run_status(runs[i]));
			tally_run_free(runs[i]);
			runs[i] = NULL;
		}
	if (!code)
		code = cli_confirm("stop", runs, found, yes);
	for (size_t i = 0; !code && i < found; i++)
		if (runs[i] && !(code = cli_stop_run(runs[i], (int)grace_ms, force)))
			stopped++;
	if (!code || stopped)
		printf("Stopped %zu run%s.\n", stopped, stopped == 1 ? "" : "s");
	cli_free_runs(runs, found);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

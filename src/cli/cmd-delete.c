/* tally delete — move runs into the archive (tfruns' clean_runs, Guild's runs rm). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

const char cmd_delete_usage[] =
	"usage: tally delete [-y] [--force] [--permanent] [RUN…] [query options]\n"
	"\n"
	"Move runs into the archive, RUNS_DIR/.archive: they leave every listing\n"
	"but keep everything (tally runs --archived lists them, tally restore brings\n"
	"them back, tally purge removes them for good).  RUN is an index (1 =\n"
	"latest), a range (1:5), a list (3,7), an id prefix, a name or a run\n"
	"directory; query options pick runs as tally runs does (with RUNs too: those\n"
	"of them that match).  A running run is refused unless --force, which\n"
	"stops it first.\n"
	"\n"
	"Options:\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	"      --force         stop running runs first (as tally stop --force)\n"
	"      --permanent     remove the runs for good instead of archiving them\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

enum { OPT_FORCE = CLI_OPT_FIRST_FREE, OPT_PERMANENT };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"yes", no_argument, NULL, 'y'},
	{"force", no_argument, NULL, OPT_FORCE},
	{"permanent", no_argument, NULL, OPT_PERMANENT},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

typedef struct {
	tally_store *archive;  /* NULL: --permanent */
	bool force;
} deletion;

static int delete_one(tally_run *run, void *ctx)
{
	const deletion *d = ctx;
	bool force = d->force, permanent = !d->archive;
	if (force && (tally_run_is_live(run) || tally_run_in_slurm(run))) {
		int code = cli_stop_run(run, CLI_STOP_GRACE_MS, true);
		if (code)
			return code;
	}
	int rc = permanent ? tally_run_remove(run) : tally_run_move(run, d->archive);
	return rc ? cli_lib_error(rc) : 0;
}

int cmd_delete(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool yes = false, force = false, permanent = false;
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
		case OPT_PERMANENT: permanent = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_delete_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_delete_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	size_t n = (size_t)(argc - optind);
	if (!n && !sel.used) {
		code = cli_usage_error(cmd_delete_usage, "which runs? — name at least one, or select them with query options");
		goto done_sel;
	}
	tally_store *store = NULL;
	deletion d = {NULL, force};
	cli_change change = {permanent ? "delete for good" : "delete", yes, delete_one, &d, false};
	size_t done = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code && !permanent) {
		int rc = tally_store_open_archive(&d.archive, store);
		code = rc ? cli_lib_error(rc) : 0;
	}
	if (!code)
		code = cli_change_runs(store, &sel, argv + optind, n, &change, &done);
	if (done || !code)
		printf("%s %zu run%s%s.\n", permanent ? "Removed" : "Deleted", done, done == 1 ? "" : "s",
		       permanent ? " for good" : " (tally restore brings them back)");
	tally_store_free(d.archive);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

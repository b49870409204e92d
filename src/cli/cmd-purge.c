/* tally purge — remove archived runs for good (tfruns' purge_runs, Guild's runs purge). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const char usage[] =
	"usage: tally purge [-y] [RUN…] [query options]\n"
	"\n"
	"Remove archived runs (those tally delete moved to the archive) for good:\n"
	"their directories are deleted.  RUN refers to the archive as listed by\n"
	"tally runs --archived; query options pick archived runs as tally runs does.\n"
	"Without RUN or options: every archived run.\n"
	"\n"
	"Options:\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"yes", no_argument, NULL, 'y'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_purge(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool yes = false;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:yh", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'y': yes = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(usage, stdout); goto done_sel;
		default: code = cli_usage_error(usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t found = 0, done = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_open_archive(&store);
	if (!code)
		code = cli_select_archived(store, &sel, argv + optind, (size_t)(argc - optind), &runs, &found);
	if (!code)
		code = cli_confirm("purge (delete for good)", runs, found, yes);
	for (size_t i = 0; !code && i < found; i++) {
		if (!runs[i])
			continue;
		int rc = tally_run_remove(runs[i]);
		if (rc)
			code = cli_lib_error(rc);
		else
			done++;
	}
	if (done || !code)
		printf("Purged %zu run%s.\n", done, done == 1 ? "" : "s");
	cli_free_runs(runs, found);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

/* tally restore — bring runs back from the archive (Guild's runs restore). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const char usage[] =
	"usage: tally restore [-y] [RUN…] [query options]\n"
	"\n"
	"Move runs from the archive (where tally delete put them) back into the\n"
	"runs directory, as they were.  RUN refers to the archive as listed by\n"
	"tally runs --archived (1 = the latest archived run); query options pick\n"
	"archived runs as tally runs does.  Without RUN or options: every archived\n"
	"run.\n"
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

int cmd_restore(int argc, char **argv)
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
	tally_store *store = NULL, *archive = NULL;
	tally_run **runs = NULL;
	size_t found = 0, done = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code) {
		int rc = tally_store_open_archive(&archive, store);
		code = rc ? cli_lib_error(rc) : 0;
	}
	if (!code)
		code = cli_select_archived(archive, &sel, argv + optind, (size_t)(argc - optind), &runs, &found);
	if (!code)
		code = cli_confirm("restore", runs, found, yes);
	for (size_t i = 0; !code && i < found; i++) {
		if (!runs[i])
			continue;
		int rc = tally_run_move(runs[i], store);
		if (rc)
			code = cli_lib_error(rc);
		else
			done++;
	}
	if (done || !code)
		printf("Restored %zu run%s.\n", done, done == 1 ? "" : "s");
	cli_free_runs(runs, found);
	tally_store_free(archive);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

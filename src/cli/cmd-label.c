/* tally label — set or clear the label of runs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
	"usage: tally label [-y] RUN… TEXT\n"
	"       tally label [-y] --clear RUN…\n"
	"\n"
	"Give runs a label (tfruns' and Guild's label), or clear it.  Labels are\n"
	"listed by `tally runs` and found by `--label TEXT` or `--where \"label ~ '…'\"`.\n"
	"RUN is an index (1 = latest), a range (1:5), a list (3,7), a unique id\n"
	"prefix or a run directory.\n"
	"\n"
	"Options:\n"
	"  -c, --clear         remove the label\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static const struct option options[] = {
	{"clear", no_argument, NULL, 'c'},
	{"yes", no_argument, NULL, 'y'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_label(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool clear = false, yes = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "cyh", options, NULL)) != -1) {
		switch (c) {
		case 'c': clear = true; break;
		case 'y': yes = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	int n = argc - optind - (clear ? 0 : 1);
	if (n < 1)
		return cli_usage_error(usage, clear ? "which runs? — name at least one" : "give the runs, then the label");
	const char *text = clear ? NULL : argv[argc - 1];
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t found = 0;
	int code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_lookup_runs(store, argv + optind, (size_t)n, &runs, &found);
	if (!code)
		code = cli_confirm(clear ? "clear the label of" : "label", runs, found, yes);
	size_t changed = 0;
	for (size_t i = 0; !code && i < found; i++) {
		if (!runs[i])
			continue;
		int rc = tally_run_set_label(runs[i], text);
		if (rc)
			code = cli_lib_error(rc);
		else
			changed++;
	}
	if (!code)
		printf("%s %zu run%s.\n", clear ? "Cleared the label of" : "Labelled", changed, changed == 1 ? "" : "s");
	cli_free_runs(runs, found);
	tally_store_free(store);
	return code;
}

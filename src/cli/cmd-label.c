/* tally label — set or clear the label of runs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_label_usage[] =
	"usage: tally label [-y] RUN… TEXT\n"
	"       tally label [-y] --clear RUN…\n"
	"\n"
	"Give runs a label (tfruns' and Guild's label), or clear it.  Labels are\n"
	"listed by `tally runs` and found by `--label TEXT` or `--where \"label ~ '…'\"`.\n"
	"RUN is an index (1 = latest), a range (1:5), a list (3,7), an id prefix,\n"
	"a name or a run directory; query options pick runs as tally runs does\n"
	"(tally label --error \"crashed\").\n"
	"\n"
	"Options:\n"
	"  -c, --clear         remove the label\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"clear", no_argument, NULL, 'c'},
	{"yes", no_argument, NULL, 'y'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int set_label(tally_run *run, void *text)
{
	int rc = tally_run_set_label(run, text);
	return rc ? cli_lib_error(rc) : 0;
}

int cmd_label(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool clear = false, yes = false;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "cyw:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'c': clear = true; break;
		case 'y': yes = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_label_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_label_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	int n = argc - optind - (clear ? 0 : 1);
	if (n < (sel.used ? 0 : 1)) {
		code = cli_usage_error(cmd_label_usage, clear ? "which runs? — name at least one" : "give the runs, then the label");
		goto done_sel;
	}
	cli_change change = {clear ? "clear the label of" : "label", yes, set_label, clear ? NULL : argv[argc - 1], false};
	tally_store *store = NULL;
	size_t changed = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_change_runs(store, &sel, argv + optind, (size_t)n, &change, &changed);
	if (!code)
		printf("%s %zu run%s.\n", clear ? "Cleared the label of" : "Labelled", changed, changed == 1 ? "" : "s");
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

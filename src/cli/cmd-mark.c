/* tally mark / tally unmark — mark runs to find them again (Guild's mark). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

const char cmd_mark_usage[] =
	"usage: tally mark [-y] RUN…\n"
	"       tally unmark [-y] RUN…\n"
	"\n"
	"Mark runs (the best ones, those to keep) or take the mark away; `tally runs\n"
	"--marked` / `--unmarked` and `--where marked` find them.  RUN is an index\n"
	"(1 = latest), a range (1:5), a list (3,7), an id prefix, a name or a run\n"
	"directory; query options pick runs as tally runs does.\n"
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

static int mark_one(tally_run *run, void *marked)
{
	int rc = tally_run_set_marked(run, *(bool *)marked);
	return rc ? cli_lib_error(rc) : 0;
}

static int set_mark(int argc, char **argv, bool marked)
{
	const char *runs_dir = NULL;
	bool yes = false;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "yw:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'y': yes = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_mark_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_mark_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	size_t n = (size_t)(argc - optind);
	if (!n && !sel.used) {
		code = cli_usage_error(cmd_mark_usage, "which runs? — name at least one");
		goto done_sel;
	}
	cli_change change = {marked ? "mark" : "unmark", yes, mark_one, &marked, false};
	tally_store *store = NULL;
	size_t changed = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_change_runs(store, &sel, argv + optind, n, &change, &changed);
	if (!code)
		printf("%s %zu run%s.\n", marked ? "Marked" : "Unmarked", changed, changed == 1 ? "" : "s");
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

int cmd_mark(int argc, char **argv)
{
	return set_mark(argc, argv, true);
}

int cmd_unmark(int argc, char **argv)
{
	return set_mark(argc, argv, false);
}

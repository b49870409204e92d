/* tally copy — copy runs, or only the files they made, to a directory (tfruns' copy_run, copy_run_files). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

const char cmd_copy_usage[] =
	"usage: tally copy [RUN…] --to DIR [--rename NAME] [--files-only] [query options]\n"
	"\n"
	"Copy finished runs to DIR: each run's directory becomes DIR/ID (DIR/NAME\n"
	"with --rename, for one run), like tfruns' copy_run().  With --files-only,\n"
	"only what the script produced is copied — no .tally/ metadata, no source\n"
	"snapshot, no links to the project — like copy_run_files().  Existing\n"
	"files are never overwritten.  Without RUN or query options: the latest run.\n"
	"\n"
	"Options:\n"
	"      --to DIR         where to copy (created when missing)\n"
	"      --rename NAME    the copy's directory name (one run only)\n"
	"      --files-only     only the files the run produced\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR   where runs live (default ./runs)\n"
	"  -h, --help           show this help\n";

enum { OPT_TO = CLI_OPT_FIRST_FREE, OPT_RENAME, OPT_FILES_ONLY };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"to", required_argument, NULL, OPT_TO},
	{"rename", required_argument, NULL, OPT_RENAME},
	{"files-only", no_argument, NULL, OPT_FILES_ONLY},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_copy(int argc, char **argv)
{
	const char *runs_dir = NULL, *to = NULL, *rename_to = NULL;
	bool files_only = false;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case OPT_TO: to = optarg; break;
		case OPT_RENAME: rename_to = optarg; break;
		case OPT_FILES_ONLY: files_only = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_copy_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_copy_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	if (!to) {
		code = cli_usage_error(cmd_copy_usage, "where to? — give --to DIR");
		goto done_sel;
	}
	char *latest[] = {(char *)"1"};
	size_t n = (size_t)(argc - optind);
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t found = 0, copied = 0, selected = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_select_runs(store, &sel, n || sel.used ? argv + optind : latest, n || sel.used ? n : 1, &runs, &found);
	for (size_t i = 0; !code && i < found; i++)
		selected += runs[i] != NULL;
	if (!code && rename_to && selected > 1)
		code = cli_usage_error(cmd_copy_usage, "--rename names one copy, and %zu runs are selected", selected);
	for (size_t i = 0; !code && i < found; i++) {
		if (!runs[i])
			continue;
		int rc = tally_run_copy(runs[i], to, rename_to, files_only);
		if (rc)
			code = cli_lib_error(rc);
		else
			copied++;
	}
	if (!code || copied)
		printf("Copied %s%zu run%s to %s.\n", files_only ? "the files of " : "", copied, copied == 1 ? "" : "s", to);
	cli_free_runs(runs, found);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

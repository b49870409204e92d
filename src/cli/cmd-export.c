/* tally export — runs into an archive file or a directory, to move them between machines (Guild's export). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

const char cmd_export_usage[] =
	"usage: tally export [RUN…] DEST [query options]\n"
	"\n"
	"Write finished runs, whole (metadata, output, scalars, sources, the files\n"
	"they made), into DEST: a .tar.gz (or .tgz), .tar or .zip file, which must\n"
	"not exist yet, or a directory (each run becomes DEST/ID; runs there already\n"
	"are left as they are).  tally import on another machine brings them in with\n"
	"their ids.  Links to project entries (data folders) are left out.  RUN is\n"
	"an index, a range (1:5), a list (3,7), an id prefix, a name or a run\n"
	"directory; query options pick runs as tally runs does.\n"
	"\n"
	"Options:\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_export(int argc, char **argv)
{
	const char *runs_dir = NULL;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_export_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_export_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	if (optind >= argc) {
		code = cli_usage_error(cmd_export_usage, "where to? — give a DEST file or directory");
		goto done_sel;
	}
	size_t n = (size_t)(argc - optind - 1);
	const char *dest = argv[argc - 1];
	if (!n && !sel.used) {
		code = cli_usage_error(cmd_export_usage, "which runs? — name them, or select them with query options");
		goto done_sel;
	}
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t found = 0, exported = 0;
	char *skipped = NULL;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_select_runs(store, &sel, argv + optind, n, &runs, &found);
	if (!code) {
		int rc = tally_export(runs, found, dest, &exported, &skipped);
		code = rc ? cli_lib_error(rc) : 0;
	}
	if (!code) {
		printf("Exported %zu run%s to %s.\n", exported, exported == 1 ? "" : "s", dest);
		if (skipped)
			fprintf(stderr, "Left as they were:\n%s", skipped);
	}
	free(skipped);
	cli_free_runs(runs, found);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

/* tally reindex — rebuild the index from the run directories. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_reindex_usage[] =
	"usage: tally reindex [--runs-dir DIR]\n"
	"\n"
	"Rebuild the index from the run directories.  Never needed for correctness:\n"
	"the index notices new, changed and removed runs by itself.  Runs whose\n"
	"metadata cannot be read are reported and skipped.\n";

static const struct option options[] = {
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_reindex(int argc, char **argv)
{
	const char *runs_dir = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_reindex_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_reindex_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd_reindex_usage, "unexpected argument '%s'", argv[optind]);
	tally_store *store = NULL;
	int code = cli_open_store(&store, runs_dir);
	if (code)
		return code;
	int64_t t0 = tally_monotonic_ns();
	size_t skipped = 0;
	int rc = tally_store_sync(store, 1, &skipped);
	if (rc) {
		code = cli_lib_error(rc);
	} else {
		cli_print_warnings(store);
		size_t n = 0;
		tally_run_iter *it = NULL;
		const tally_run *run;
		tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
		opts.details = TALLY_ITER_COMPACT;
		if (tally_run_iter_new(&it, store, &opts) == 0)
			while (tally_run_iter_next(it, &run) == 0)
				n++;
		tally_run_iter_free(it);
		printf("indexed %zu runs in %.2f s (%zu skipped); index: %s\n", n,
		       (double)(tally_monotonic_ns() - t0) / 1e9, skipped, tally_store_index_path(store));
	}
	tally_store_free(store);
	return code;
}

/*
 * What tally restore and tally purge share: both act on archived runs (those
 * tally delete moved to RUNS/.archive), named or selected, or all of them.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"yes", no_argument, NULL, 'y'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

typedef struct {
	const cli_archived_command *cmd;
	tally_store *store;
} archived_action;

static int act(tally_run *run, void *ctx)
{
	const archived_action *a = ctx;
	int rc = a->cmd->act(run, a->store);
	return rc ? cli_lib_error(rc) : 0;
}

int cli_act_on_archived(int argc, char **argv, const cli_archived_command *cmd)
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
		case 'h': fputs(cmd->usage, stdout); goto done_sel;
		default:
			code = cli_usage_error(cmd->usage, "unknown option or missing value in '%s'", argv[optind - 1]);
			goto done_sel;
		}
	}
	tally_store *store = NULL, *archive = NULL;
	size_t done = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code) {
		int rc = tally_store_open_archive(&archive, store);
		code = rc ? cli_lib_error(rc) : 0;
	}
	archived_action action = {cmd, store};
	cli_change change = {cmd->verb, yes, act, &action, true};
	if (!code)
		code = cli_change_runs(archive, &sel, argv + optind, (size_t)(argc - optind), &change, &done);
	if (done || !code)
		printf("%s %zu run%s.\n", cmd->done, done, done == 1 ? "" : "s");
	tally_store_free(archive);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

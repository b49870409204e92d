/* tally tail — the last lines of a run's output, and with -f what follows (Guild's tail / cat -f). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_tail_usage[] =
	"usage: tally tail [-f] [-n N] [RUN]\n"
	"\n"
	"Print the last N lines of a run's recorded output (stdout and stderr as\n"
	"they came; default: the latest run, 10 lines).  With -f, go on printing\n"
	"what it writes until the run ends — like tail -f, but it stops by itself.\n"
	"Stopping tally tail (Ctrl-C) does not stop the run.\n"
	"\n"
	"Options:\n"
	"  -f, --follow        follow the output until the run ends\n"
	"  -n, --lines N       lines to show first (default 10; all = everything)\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"follow", no_argument, NULL, 'f'},
	{"lines", required_argument, NULL, 'n'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define POLL_MS 200

int cmd_tail(int argc, char **argv)
{
	const char *runs_dir = NULL;
	long lines = 10;
	bool follow = false;
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fn:w:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'f': follow = true; break;
		case 'n': {
			char *end;
			if (!strcmp(optarg, "all")) {
				lines = -1;
				break;
			}
			lines = strtol(optarg, &end, 10);
			if (end == optarg || *end || lines < 0)
				return cli_usage_error(cmd_tail_usage, "-n takes a number of lines or 'all', not '%s'", optarg);
			break;
		}
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_tail_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_tail_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cmd_tail_usage, "tail shows one run; '%s' is one too many", argv[optind + 1]);
	tally_store *store = NULL;
	tally_run *run = NULL;
	cli_follower output = {-1, 0, ""};
	int code = cli_open_run(&store, &run, runs_dir, optind < argc ? argv[optind] : NULL, &sel);
	if (!code)
		code = cli_follower_open(&output, run, lines);
	cli_liveness liveness;
	if (!code)
		cli_liveness_init(&liveness, run);
	while (!code) {
		/* Liveness first: whatever the run wrote before it ended is then read below. */
		bool live = follow && cli_run_going(run, &liveness);
		cli_follower_copy(&output);
		if (!live)
			break;
		cli_sleep_ms(POLL_MS);
	}
	cli_follower_close(&output);
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

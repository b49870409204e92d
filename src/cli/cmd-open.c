/* tally open — open a run's directory (or a file in it) with the desktop's opener (Guild's open). */
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "util/buf.h"

extern char **environ;

const char cmd_open_usage[] =
	"usage: tally open [RUN] [PATH] [--print]\n"
	"\n"
	"Open a run's directory (default: the latest run), or PATH inside it, with\n"
	"the desktop's opener (xdg-open; open on macOS).  Without a desktop (no\n"
	"DISPLAY or WAYLAND_DISPLAY, or no opener installed), or with --print, print\n"
	"the path instead: cd \"$(tally open --print best)\".\n"
	"\n"
	"Options:\n"
	"  -p, --print         print the path, do not open it\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"print", no_argument, NULL, 'p'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_open(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool print = false;
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "pw:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'p': print = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_open_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_open_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 2)
		return cli_usage_error(cmd_open_usage, "one run, and one path in it at most");
	const char *inside = argc - optind == 2 ? argv[optind + 1] : NULL;
	if (inside && (inside[0] == '/' || !strcmp(inside, "..") || !strncmp(inside, "../", 3) || strstr(inside, "/../")))
		return cli_error("'%s' is not a path inside the run — give it relative to the run directory", inside);
	tally_store *store = NULL;
	tally_run *run = NULL;
	int code = cli_open_run(&store, &run, runs_dir, optind < argc ? argv[optind] : NULL, &sel);
	tally_buf path = TALLY_BUF_INIT;
	struct stat st;
	if (!code) {
		tally_buf_adds(&path, tally_run_dir(run));
		if (inside)
			tally_buf_printf(&path, "/%s", inside);
		if (inside && lstat(path.ptr, &st) < 0)
			code = cli_error("run %s has no '%s' — see tally ls %s", tally_run_id(run), inside, tally_run_id(run));
	}
	if (!code) {
		if (print || !cli_open_on_desktop(path.ptr))
			puts(path.ptr); /* no desktop, or no opener: the path is the next best thing */
	}
	tally_buf_release(&path);
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

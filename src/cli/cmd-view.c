/* tally view — the runs in a browser: a live local web app (tfruns' view_run, guild view, MLflow's UI). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_view_usage[] =
	"usage: tally view [--port N] [--host ADDR] [--no-open] [--token T]\n"
	"\n"
	"Serve the runs to a browser and open it: a table of every run (columns,\n"
	"sorting, the --where query language, selection, archive and restore,\n"
	"labels, tags, marks, comments), a run's charts, output, files and\n"
	"sources, comparisons with diffs, sweeps; running runs update live.  The\n"
	"same data is a JSON API under /api/ (tally help view-api).\n"
	"Runs until Ctrl-C.\n"
	"\n"
	"It listens on 127.0.0.1 unless --host says otherwise; any other address\n"
	"needs a token, a random one printed in the URL unless --token gives it.\n"
	"\n"
	"Options:\n"
	"      --port N        the port (default 8910, or a free one when that is taken;\n"
	"                      0: any free one)\n"
	"      --host ADDR     the address to listen on (default 127.0.0.1; 0.0.0.0: every one)\n"
	"      --token T       require this token (8 to 128 letters, digits, -_.~)\n"
	"      --no-open       only print the URL; do not open a browser\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

enum { OPT_PORT = 256, OPT_HOST, OPT_TOKEN, OPT_NO_OPEN };

static const struct option options[] = {
	{"port", required_argument, NULL, OPT_PORT},
	{"host", required_argument, NULL, OPT_HOST},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"no-open", no_argument, NULL, OPT_NO_OPEN},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define DEFAULT_PORT 8910

/* Start on the port asked for; without one, on the default or else any free one. */
static int start(tally_view **view, tally_store *store, tally_view_options *opts, bool port_given)
{
	int rc = tally_view_start(view, store, opts);
	if (rc == TALLY_ERROR && !port_given) {
		opts->port = 0;
		rc = tally_view_start(view, store, opts);
	}
	return rc;
}

int cmd_view(int argc, char **argv)
{
	const char *runs_dir = NULL;
	tally_view_options opts = TALLY_VIEW_OPTIONS_INIT;
	opts.port = DEFAULT_PORT;
	bool open_browser = true, port_given = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_PORT: {
			char *end;
			long port = strtol(optarg, &end, 10);
			if (end == optarg || *end || port < 0 || port > 65535)
				return cli_usage_error(cmd_view_usage, "--port takes a port number from 0 to 65535, not '%s'", optarg);
			opts.port = (unsigned)port;
			port_given = true;
			break;
		}
		case OPT_HOST: opts.host = optarg; break;
		case OPT_TOKEN: opts.token = optarg; break;
		case OPT_NO_OPEN: open_browser = false; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_view_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_view_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd_view_usage, "view takes no arguments; '%s' is one too many", argv[optind]);
	tally_store *store = NULL;
	int code = cli_open_store(&store, runs_dir);
	if (code)
		return code;
	/* Signals are taken by sigwait() below: blocked before the server's threads inherit the mask. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	tally_view *view = NULL;
	int rc = start(&view, store, &opts, port_given);
	if (rc) {
		code = cli_lib_error(rc);
		tally_store_free(store);
		return code;
	}
	printf("%s\n", tally_view_url(view));
	fflush(stdout);
	fprintf(stderr, "tally view: serving %s — Ctrl-C stops it\n", tally_store_path(store));
	if (open_browser) { /* the opener (and a browser it may start) must not inherit the blocked signals */
		pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
		if (!cli_open_on_desktop(tally_view_url(view)))
			fprintf(stderr, "tally view: no desktop to open a browser on — open the URL above\n");
		pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	}
	int sig;
	sigwait(&stop_signals, &sig);
	tally_view_stop(view);
	tally_store_free(store);
	return EXIT_OK;
}

/* tally cat — print a run's recorded console output. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

const char cmd_cat_usage[] =
	"usage: tally cat [RUN] [--stdout | --stderr] [--timestamps] [--runs-dir DIR]\n"
	"\n"
	"Print the console output a run recorded, byte for byte as it came: stdout\n"
	"and stderr interleaved in arrival order, or one of them.  RUN is an index\n"
	"(1 = latest, the default), a unique id prefix, a name or a run directory.\n"
	"\n"
	"Options:\n"
	"      --stdout        only what the script wrote to stdout\n"
	"      --stderr        only what it wrote to stderr\n"
	"  -t, --timestamps    start each line with the local time it arrived\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

enum { OPT_STDOUT = CLI_OPT_FIRST_FREE, OPT_STDERR };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"stdout", no_argument, NULL, OPT_STDOUT},
	{"stderr", no_argument, NULL, OPT_STDERR},
	{"timestamps", no_argument, NULL, 't'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

typedef struct {
	bool timestamps;
	bool at_line_start[2];  /* per stream: the next byte starts a line */
} printer;

static void print_time(int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char text[16] = "??:??:??";
	if (localtime_r(&secs, &tm))
		strftime(text, sizeof text, "%H:%M:%S", &tm);
	printf("%s.%03d ", text, (int)(ms % 1000));
}

static int print_chunk(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	printer *p = ctx;
	if (!p->timestamps) {
		fwrite(data, 1, len, stdout);
		return 0;
	}
	/* A line's time is that of the chunk holding its first byte. */
	const char *end = data + len;
	while (data < end) {
		if (p->at_line_start[stream])
			print_time(time_ms);
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		const char *stop = nl ? nl + 1 : end;
		fwrite(data, 1, (size_t)(stop - data), stdout);
		p->at_line_start[stream] = nl != NULL;
		data = stop;
	}
	return 0;
}

int cmd_cat(int argc, char **argv)
{
	const char *runs_dir = NULL, *ref = NULL; /* NULL: the latest, or the first the query options select */
	int streams = TALLY_OUTPUT_BOTH;
	printer p = {false, {true, true}};
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "tw:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case OPT_STDOUT: streams = TALLY_OUTPUT_STDOUT; break;
		case OPT_STDERR: streams = TALLY_OUTPUT_STDERR; break;
		case 't': p.timestamps = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_cat_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_cat_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		ref = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd_cat_usage, "cat prints one run; '%s' is one too many", argv[optind]);
	tally_store *store;
	tally_run *run;
	int code = cli_open_run(&store, &run, runs_dir, ref, &sel);
	if (!code) {
		int rc = tally_run_output(run, streams, print_chunk, &p);
		if (rc)
			code = cli_lib_error(rc);
	}
	if (fflush(stdout) != 0 && !code)
		code = cli_error("cannot write the output — is stdout closed?");
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

/* tally import — runs from an archive or directory tally export made (Guild's
 * import), or another tool's runs (--from tfruns|guild). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_import_usage[] =
	"usage: tally import [--max-size SIZE] [--max-files N] FILE|DIR…\n"
	"       tally import --from tfruns|guild DIR…\n"
	"\n"
	"Bring in the runs of a .tar.gz/.tar/.zip file or a directory (a directory of\n"
	"runs, or one run directory) as complete runs with their original ids.  A run\n"
	"whose id (or name) is here already is skipped and reported.  Input is not\n"
	"trusted: absolute paths, '..', links or hard links leading out of a run,\n"
	"devices and FIFOs, and more bytes or files than the limits are refused, and\n"
	"then nothing of that input is imported.\n"
	"\n"
	"--from tfruns|guild turns runs of tfruns (runs/<time>/tfruns.d/) or Guild AI\n"
	"(~/.guild/runs/<id>/.guild/) into tally runs, ids and times kept: DIR is one\n"
	"such run or a directory of them.  The files the script made are copied;\n"
	"flags, status, times, command, label, tags, console output (Guild's with\n"
	"its line times and streams), metrics (tfruns' metrics.json per epoch and\n"
	"evaluation.json as eval_NAME; Guild's event files) and the source code\n"
	"(tfruns' source.tar.gz, Guild's sourcecode/) become tally's; run.json\n"
	"keeps where the run came from (imported_from).  The originals are only\n"
	"read; a run that cannot be read is skipped and reported.\n"
	"\n"
	"Options:\n"
	"      --max-size SIZE  refuse input unpacking to more (e.g. 500M, 20G; default:\n"
	"                       90% of the free space of the runs directory)\n"
	"      --max-files N    refuse input of more files and directories (10,000,000)\n"
	"      --from tfruns|guild\n"
	"                       DIR holds runs of tfruns or of Guild AI\n"
	"      --runs-dir DIR   where runs live (default ./runs)\n"
	"  -h, --help           show this help\n";

enum { OPT_MAX_SIZE = 1000, OPT_MAX_FILES, OPT_FROM };

static const struct option options[] = {
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"max-files", required_argument, NULL, OPT_MAX_FILES},
	{"from", required_argument, NULL, OPT_FROM},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* "500M" → 524288000; false when it is no size. */
static bool parse_size(const char *text, uint64_t *out)
{
	char *end;
	double v = strtod(text, &end);
	static const char units[] = "KMGT";
	double scale = 1;
	if (*end) {
		const char *u = strchr(units, *end & ~0x20);
		if (!u || (end[1] && !((end[1] == 'B' || end[1] == 'b') && !end[2])))
			return false;
		for (const char *p = units; p <= u; p++)
			scale *= 1024;
	}
	if (end == text || !(v > 0) || v * scale > 1e19)
		return false;
	*out = (uint64_t)(v * scale);
	return true;
}

int cmd_import(int argc, char **argv)
{
	const char *runs_dir = NULL;
	tally_import_options opts = TALLY_IMPORT_OPTIONS_INIT;
	int from = -1; /* a tally_foreign_kind */
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_MAX_SIZE:
			if (!parse_size(optarg, &opts.max_bytes))
				return cli_usage_error(cmd_import_usage, "--max-size wants a size like 500M or 20G, not '%s'", optarg);
			break;
		case OPT_MAX_FILES: {
			char *end;
			long long n = strtoll(optarg, &end, 10);
			if (*end || end == optarg || n < 1)
				return cli_usage_error(cmd_import_usage, "--max-files wants a number, not '%s'", optarg);
			opts.max_entries = (uint64_t)n;
			break;
		}
		case OPT_FROM:
			if (!strcmp(optarg, "tfruns"))
				from = TALLY_FOREIGN_TFRUNS;
			else if (!strcmp(optarg, "guild"))
				from = TALLY_FOREIGN_GUILD;
			else
				return cli_usage_error(cmd_import_usage, "--from takes tfruns or guild, not '%s'", optarg);
			break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_import_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_import_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd_import_usage, "import what? — give a file or directory tally export made");
	tally_store *store = NULL;
	int code = cli_open_store(&store, runs_dir);
	for (int i = optind; !code && i < argc; i++) {
		size_t imported = 0;
		char *skipped = NULL;
		int rc = from < 0 ? tally_import(store, argv[i], &opts, &imported, &skipped)
		                  : tally_import_foreign(store, (tally_foreign_kind)from, argv[i], &imported, &skipped);
		if (rc) {
			code = cli_lib_error(rc);
			if (imported) /* a rename failed halfway: say what did land */
				printf("Imported %zu run%s from %s before that.\n", imported, imported == 1 ? "" : "s", argv[i]);
		} else {
			printf("Imported %zu run%s from %s.\n", imported, imported == 1 ? "" : "s", argv[i]);
			if (skipped)
				fprintf(stderr, "Skipped:\n%s", skipped);
		}
		free(skipped);
	}
	tally_store_free(store);
	return code;
}

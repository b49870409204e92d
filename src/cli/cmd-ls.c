/* tally ls — the files a run produced. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_ls_usage[] =
	"usage: tally ls [RUN] [PATH] [--format table|json] [--runs-dir DIR]\n"
	"\n"
	"List the files a run produced (its source snapshot, links to project\n"
	"entries and tally's own metadata left out), with their sizes; PATH keeps\n"
	"those at or below it (`tally ls 1 plots`).  RUN is an index (1 = latest,\n"
	"the default), a unique id prefix, a name or a run directory.\n"
	"\n"
	"Options:\n"
	"  -f, --format table|json\n"
	"                      table (size and path) by default\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"format", required_argument, NULL, 'f'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Whether `path` is `under` or inside it ("plots" holds "plots/a.png", not "plots2/x"). */
static bool below(const char *path, const char *under)
{
	size_t n = strlen(under);
	while (n > 0 && under[n - 1] == '/')
		n--;
	return !n || (!strncmp(path, under, n) && (path[n] == '\0' || path[n] == '/'));
}

static void human_size(char *out, size_t size, json_int_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%lld B", (long long)bytes);
	else
		snprintf(out, size, "%.1f %s", v, units[u]);
}

static int list_files(const tally_run *run, const char *under, bool json)
{
	char *text = NULL;
	int rc = tally_run_files_json(run, 0, &text);
	if (rc)
		return cli_lib_error(rc);
	json_t *files = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_array(files)) {
		json_decref(files);
		return cli_error("cannot list the files of run %s", tally_run_id(run));
	}
	size_t i, shown = 0;
	json_t *f;
	tally_buf out = TALLY_BUF_INIT;
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		json_int_t bytes = json_integer_value(json_object_get(f, "size"));
		if (!path || !below(path, under))
			continue;
		if (json) {
			tally_buf_adds(&out, shown ? ",\n  {\"path\": " : "[\n  {\"path\": ");
			cli_json_string(&out, path);
			tally_buf_printf(&out, ", \"size\": %lld}", (long long)bytes);
		} else {
			char human[32];
			human_size(human, sizeof human, bytes);
			tally_buf_printf(&out, "%10s  %s\n", human, path);
		}
		shown++;
	}
	if (json)
		tally_buf_adds(&out, shown ? "\n]\n" : "[]\n");
	fwrite(out.ptr, 1, out.len, stdout);
	tally_buf_release(&out);
	json_decref(files);
	if (!shown && *under && !json)
		fprintf(stderr, "No file of run %s is at or below '%s'.\n", tally_run_id(run), under);
	return EXIT_OK;
}

int cmd_ls(int argc, char **argv)
{
	const char *runs_dir = NULL, *ref = NULL, *under = ""; /* ref NULL: the latest, or the first selected */
	bool json = false;
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:w:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "json"))
				return cli_usage_error(cmd_ls_usage, "unknown format '%s' — use table or json", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_ls_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_ls_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		ref = argv[optind++];
	if (optind < argc)
		under = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd_ls_usage, "unexpected argument '%s'", argv[optind]);
	tally_store *store;
	tally_run *run;
	int code = cli_open_run(&store, &run, runs_dir, ref, &sel);
	if (!code)
		code = list_files(run, under, json);
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

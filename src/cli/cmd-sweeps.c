/* tally sweeps — list the sweeps tally tune recorded, newest first. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_sweeps_usage[] =
	"usage: tally sweeps [--format table|json] [--runs-dir DIR]\n"
	"\n"
	"List the sweeps of the runs directory (tally tune), newest first: id,\n"
	"when it was created, status (queued for Slurm, running, completed,\n"
	"interrupted, failed), script, trials completed of all (and those pruned,\n"
	"failed or terminated), and the best objective with its run.  `tally show\n"
	"ID` shows one sweep, `tally runs --sweep ID` its runs, `tally tune --resume\n"
	"ID` continues it.\n"
	"\n"
	"Options:\n"
	"  -f, --format table|json  table by default\n"
	"      --runs-dir DIR\n"
	"                     where runs live (default ./runs)\n"
	"  -h, --help         show this help\n";

enum { OPT_RUNS_DIR = 1 };

static const struct option options[] = {
	{"format", required_argument, NULL, 'f'},
	{"runs-dir", required_argument, NULL, OPT_RUNS_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char *text_of(json_t *v)
{
	return json_string_value(v) ? json_string_value(v) : "";
}

static void print_table(json_t *list)
{
	static const char *const heads[] = {"ID", "CREATED", "STATUS", "SCRIPT", "TRIALS", "BEST"};
	enum { N = sizeof heads / sizeof *heads };
	size_t n = json_array_size(list);
	char (*cells)[N][160] = calloc(n ? n : 1, sizeof *cells);
	int widths[N];
	if (!cells)
		return;
	for (int k = 0; k < N; k++)
		widths[k] = (int)strlen(heads[k]);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(list, i);
		snprintf(cells[i][0], 160, "%s", text_of(json_object_get(s, "id")));
		int64_t created = tally_parse_iso_ms(text_of(json_object_get(s, "created")));
		if (created >= 0)
			cli_format_local_time(cells[i][1], 160, created, false);
		else
			snprintf(cells[i][1], 160, "-");
		json_int_t failed = json_integer_value(json_object_get(s, "failed"));
		json_int_t pruned = json_integer_value(json_object_get(s, "pruned")); /* 0 where the list has none */
		cli_sweep_status_text_pruned(cells[i][2], 160, text_of(json_object_get(s, "status")),
		                             pruned > 0 ? (size_t)pruned : 0, failed > 0 ? (size_t)failed : 0);
		snprintf(cells[i][3], 160, "%s", text_of(json_object_get(s, "script")));
		int len = snprintf(cells[i][4], 160, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
		                   json_integer_value(json_object_get(s, "completed")),
		                   json_integer_value(json_object_get(s, "trials")));
		if (pruned > 0 && len > 0 && len < 100)
			len += snprintf(cells[i][4] + len, (size_t)(160 - len), ", %" JSON_INTEGER_FORMAT " pruned", pruned);
		if (failed && len > 0 && len < 100)
			snprintf(cells[i][4] + len, (size_t)(160 - len), ", %" JSON_INTEGER_FORMAT " failed", failed);
		json_t *best = json_object_get(s, "best_value");
		if (json_is_number(best)) {
			char value[40];
			tally_format_rounded(value, sizeof value, json_number_value(best));
			snprintf(cells[i][5], 160, "%s %s  %s", text_of(json_object_get(s, "objective")), value,
			         tally_run_id_short(text_of(json_object_get(s, "best_run"))));
		} else {
			snprintf(cells[i][5], 160, "-");
		}
		for (int k = 0; k < N; k++) {
			int w = cli_display_width(cells[i][k]);
			widths[k] = w > widths[k] ? w : widths[k];
		}
	}
	cli_print_row(stdout, heads, widths, N);
	for (size_t i = 0; i < n; i++) {
		const char *row[N];
		for (int k = 0; k < N; k++)
			row[k] = cells[i][k];
		cli_print_row(stdout, row, widths, N);
	}
	free(cells);
}

int cmd_sweeps(int argc, char **argv)
{
	const char *format = "table", *runs_dir = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case OPT_RUNS_DIR: runs_dir = optarg; break;
		case 'h': fputs(cmd_sweeps_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_sweeps_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd_sweeps_usage, "unexpected argument '%s'", argv[optind]);
	if (strcmp(format, "table") && strcmp(format, "json"))
		return cli_usage_error(cmd_sweeps_usage, "unknown format '%s' — use table or json", format);
	tally_store *store = NULL;
	int code = cli_open_store(&store, runs_dir);
	if (code)
		return code;
	char *text = NULL;
	int rc = tally_sweep_list(store, &text);
	cli_print_warnings(store);
	if (rc) {
		code = cli_lib_error(rc);
	} else if (!strcmp(format, "json")) {
		puts(text);
	} else {
		json_t *list = json_loads(text, 0, NULL);
		if (!json_array_size(list))
			fprintf(stderr, "No sweeps yet. Start one with `tally tune SCRIPT lr=[0.01,0.1]`.\n");
		else
			print_table(list);
		json_decref(list);
	}
	free(text);
	tally_store_free(store);
	return code;
}

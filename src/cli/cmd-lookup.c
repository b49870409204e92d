/* tally lookup — print one recorded value of a run, for scripts (run-manager's lookup). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"

const char cmd_lookup_usage[] =
	"usage: tally lookup [RUN] KEY\n"
	"\n"
	"Print one value recorded for a run (default: the latest), alone on a line,\n"
	"for scripts: out=$(tally lookup best flag.lr).  KEY is\n"
	"  flag.NAME          a flag's value (a bare NAME: the scalar, else the flag)\n"
	"  scalar.TAG         a scalar's last value; min(TAG), max(TAG), first(TAG),\n"
	"                     last(TAG), avg(TAG), count(TAG) its summaries\n"
	"  commit, branch, dirty   the git state when the run started\n"
	"  command            the command line, quoted for a POSIX shell\n"
	"  dir, duration      the run directory; seconds the run took\n"
	"  any key of .tally/run.json, dots for nested ones (status, host,\n"
	"  started, exit_status, label, name, git.workdir, platform.machine…)\n"
	"Strings print as they are, numbers as JSON numbers, lists and objects as\n"
	"compact JSON.  A value the run does not have: exit status 1.\n"
	"\n"
	"Options:\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* "min(loss)" → the summary's "min" of tag "loss"; "scalar.loss" → "last". */
static json_t *scalar_value(const tally_run *run, const char *key)
{
	static const char *const aggregates[] = {"last", "first", "min", "max", "avg", "count"};
	char agg[8] = "last";
	const char *tag = NULL;
	size_t tag_len = 0;
	if (!strncmp(key, "scalar.", 7)) {
		tag = key + 7;
		tag_len = strlen(tag);
	} else {
		for (size_t i = 0; i < sizeof aggregates / sizeof *aggregates && !tag; i++) {
			size_t n = strlen(aggregates[i]);
			size_t len = strlen(key);
			if (!strncmp(key, aggregates[i], n) && key[n] == '(' && len > n + 2 && key[len - 1] == ')') {
				snprintf(agg, sizeof agg, "%s", aggregates[i]);
				tag = key + n + 1;
				tag_len = len - n - 2;
			}
		}
	}
	if (!tag || !tag_len)
		return NULL;
	json_t *scalars = json_loads(tally_run_scalars_json(run), 0, NULL);
	json_t *summary = json_object_getn(scalars, tag, tag_len);
	json_t *v = json_incref(json_object_get(summary, agg));
	json_decref(scalars);
	return v;
}

/* A dotted path into run.json. */
static json_t *meta_value(json_t *meta, const char *key)
{
	json_t *at = meta;
	const char *p = key;
	while (at && *p) {
		size_t n = strcspn(p, ".");
		at = json_is_object(at) ? json_object_getn(at, p, n) : NULL;
		p += n + (p[n] == '.');
	}
	return json_incref(at);
}

static json_t *command_value(json_t *meta)
{
	tally_buf line = TALLY_BUF_INIT;
	size_t i;
	json_t *arg;
	json_array_foreach(json_object_get(meta, "command"), i, arg) {
		if (i)
			tally_buf_addc(&line, ' ');
		tally_buf_add_shell_quoted(&line, json_string_value(arg) ? json_string_value(arg) : "");
	}
	json_t *v = line.len ? json_string(line.ptr) : NULL;
	tally_buf_release(&line);
	return v;
}

static json_t *lookup(const tally_run *run, json_t *meta, const char *key)
{
	static const char *const git_keys[] = {"commit", "branch", "dirty"};
	for (size_t i = 0; i < sizeof git_keys / sizeof *git_keys; i++)
		if (!strcmp(key, git_keys[i]))
			return json_incref(json_object_get(json_object_get(meta, "git"), key));
	if (!strncmp(key, "flag.", 5))
		return json_incref(json_object_get(json_object_get(meta, "flags"), key + 5));
	if (!strcmp(key, "command"))
		return command_value(meta);
	if (!strcmp(key, "dir"))
		return json_string(tally_run_dir(run));
	if (!strcmp(key, "duration")) {
		int64_t start = tally_run_started_ms(run), stop = tally_run_stopped_ms(run);
		return start > 0 && stop >= start ? json_real((double)(stop - start) / 1000.0) : NULL;
	}
	json_t *v = scalar_value(run, key);
	if (!v && !strchr(key, '.')) /* a bare name, as in queries: a scalar, else a flag */
		v = json_incref(json_object_get(json_object_get(meta, "flags"), key));
	return v ? v : meta_value(meta, key);
}

static void print_value(json_t *v)
{
	if (json_is_real(v)) {
		char text[40];
		cli_format_number(text, sizeof text, json_real_value(v));
		puts(text);
		return;
	}
	if (json_is_string(v)) {
		fwrite(json_string_value(v), 1, json_string_length(v), stdout);
		putchar('\n');
		return;
	}
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	if (text)
		puts(text);
	free(text);
}

int cmd_lookup(int argc, char **argv)
{
	const char *runs_dir = NULL;
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_lookup_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_lookup_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	int n = argc - optind;
	if (n < 1 || n > 2)
		return cli_usage_error(cmd_lookup_usage, n ? "too many arguments" : "which value? — give a KEY, e.g. flag.lr");
	const char *ref = n == 2 ? argv[optind] : NULL, *key = argv[optind + n - 1];
	tally_store *store = NULL;
	tally_run *run = NULL;
	int code = cli_open_run(&store, &run, runs_dir, ref, &sel);
	if (!code) {
		json_t *meta = json_loads(tally_run_json(run), 0, NULL);
		json_t *v = lookup(run, meta, key);
		if (v && !json_is_null(v))
			print_value(v);
		else {
			fprintf(stderr, "tally: run %s has no '%s' — see tally show %s --format json\n", tally_run_id(run), key,
			        tally_run_id(run));
			code = EXIT_NEGATIVE;
		}
		json_decref(v);
		json_decref(meta);
	}
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

/* tally show — everything recorded about one run. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_show_usage[] =
	"usage: tally show [RUN | SWEEP] [--format text|json] [--tail N] [--runs-dir DIR]\n"
	"\n"
	"Show a run's attributes, flags, scalar summaries, the files it produced\n"
	"and the tail of its output.  RUN is an index (1 = latest, the default), a\n"
	"unique prefix of the run id or of its random suffix, a name, or a run\n"
	"directory.  SWEEP, the id of a sweep (tally sweeps), shows the sweep: its\n"
	"space, options and trials, best first.\n"
	"\n"
	"Options:\n"
	"  -f, --format text|json   text by default\n"
	"      --tail N        lines of output to show (default 20, 0 = none)\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"format", required_argument, NULL, 'f'},
	{"tail", required_argument, NULL, 'T'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void print_value(json_t *v)
{
	if (json_is_real(v)) { /* the shortest text that reads back as the same number: 0.2, not 0.20000000000000001 */
		char buf[40];
		cli_format_number(buf, sizeof buf, json_real_value(v));
		fputs(buf, stdout);
		return;
	}
	char *s = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | CLI_JSON_REALS);
	fputs(s ? s : "", stdout);
	free(s);
}

static void print_attributes(const tally_run *run, json_t *m)
{
	char started[40], stopped[40], dur[32];
	tally_format_local_zone(started, sizeof started, tally_run_started_ms(run)); /* as reports give it */
	tally_format_local_zone(stopped, sizeof stopped, tally_run_stopped_ms(run));
	int64_t ms = tally_run_stopped_ms(run) - tally_run_started_ms(run);
	tally_format_duration(dur, sizeof dur, tally_run_stopped_ms(run) > 0 ? ms : -1);
	printf("id:          %s\n", tally_run_id(run));
	printf("status:      %s", tally_run_status(run));
	if (tally_run_exit_status(run) >= 0)
		printf(" (exit status %d)", tally_run_exit_status(run));
	if (json_is_integer(json_object_get(m, "signal")))
		printf(" (signal %lld)", (long long)json_integer_value(json_object_get(m, "signal")));
	putchar('\n');
	if (*str(m, "stop_reason"))
		printf("reason:      %s\n", str(m, "stop_reason"));
	if (*tally_run_label(run))
		printf("label:       %s\n", tally_run_label(run));
	json_t *tags = json_object_get(m, "tags");
	if (json_array_size(tags)) {
		fputs("tags:        ", stdout);
		size_t i;
		json_t *t;
		json_array_foreach(tags, i, t) printf("%s%s", i ? ", " : "", json_string_value(t) ? json_string_value(t) : "");
		putchar('\n');
	}
	json_t *sweep = json_object_get(m, "sweep");
	if (json_is_string(json_object_get(sweep, "id")))
		printf("sweep:       %s, trial %lld (tally show %s)\n", str(sweep, "id"),
		       (long long)json_integer_value(json_object_get(sweep, "trial")), str(sweep, "id"));
	printf("script:      %s\n", *tally_run_script(run) ? tally_run_script(run) : "-");
	fputs("command:     ", stdout);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(m, "command"), i, a) printf("%s%s", i ? " " : "", json_string_value(a) ? json_string_value(a) : "");
	putchar('\n');
	printf("started:     %s\n", started);
	printf("stopped:     %s\n", stopped);
	printf("duration:    %s\n", dur);
	printf("host:        %s (user %s)\n", str(m, "host"), str(m, "user"));
	json_t *platform = json_object_get(m, "platform");
	if (platform)
		printf("platform:    %s %s %s\n", str(platform, "system"), str(platform, "release"), str(platform, "machine"));
	printf("project:     %s\n", str(m, "project_dir"));
	json_t *git = json_object_get(m, "git");
	if (git)
		printf("git:         %s%s%s%s\n", *str(git, "commit") ? str(git, "commit") : "(no commit yet)",
		       *str(git, "branch") ? " on " : "", str(git, "branch"), json_is_true(json_object_get(git, "dirty")) ? ", dirty" : "");
	if (json_object_get(m, "sources")) {
		long long n_sources = (long long)json_integer_value(json_object_get(m, "sources"));
		printf("sources:     %lld file%s, digest %s\n", n_sources, n_sources == 1 ? "" : "s", str(m, "source_digest"));
	}
	printf("tally:       %s\n", str(m, "tally_version"));
	printf("dir:         %s\n", tally_run_dir(run));
	json_array_foreach(json_object_get(m, "comments"), i, a)
		printf("comment:     %s (%s@%s, %s)\n", str(a, "text"), str(a, "user"), str(a, "host"), str(a, "time"));
}

static void print_flags(json_t *m)
{
	json_t *flags = json_object_get(m, "flags"), *types = json_object_get(m, "flag_types");
	json_t *sources = json_object_get(m, "flag_sources");
	if (!json_object_size(flags))
		return;
	puts("\nflags:");
	const char *k;
	json_t *v;
	json_object_foreach(flags, k, v) {
		printf("  %-20s ", k);
		print_value(v);
		if (*str(types, k) && *str(sources, k))
			printf("  (%s, %s)", str(types, k), str(sources, k));
		else if (*str(types, k))
			printf("  (%s)", str(types, k));
		putchar('\n');
	}
}

static void print_number(json_t *v)
{
	if (json_is_number(v))
		printf("%12.6g", json_number_value(v));
	else
		printf("%12s", json_string_value(v) ? json_string_value(v) : "-");
}

static void print_scalars(const tally_run *run)
{
	json_t *scalars = json_loads(tally_run_scalars_json(run), 0, NULL);
	if (json_object_size(scalars)) {
		printf("\nscalars:\n  %-20s %12s %6s %12s %12s %12s %7s\n", "TAG", "LAST", "STEP", "MIN", "MAX", "AVG", "COUNT");
		const char *tag;
		json_t *s;
		json_object_foreach(scalars, tag, s) {
			printf("  %-20s ", tag);
			print_number(json_object_get(s, "last"));
			printf(" %6lld ", (long long)json_integer_value(json_object_get(s, "last_step")));
			print_number(json_object_get(s, "min"));
			putchar(' ');
			print_number(json_object_get(s, "max"));
			putchar(' ');
			print_number(json_object_get(s, "avg"));
			printf(" %7lld\n", (long long)json_integer_value(json_object_get(s, "count")));
		}
	}
	json_decref(scalars);
}

static void print_files(json_t *files)
{
	if (!json_array_size(files))
		return;
	puts("\nfiles:");
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) printf("  %-40s %10lld\n", str(f, "path"), (long long)json_integer_value(json_object_get(f, "size")));
}

static int show_json(const tally_run *run, json_t *meta, json_t *files, const char *tail)
{
	json_t *o = json_deep_copy(meta);
	json_object_set_new(o, "dir", json_string(tally_run_dir(run)));
	json_object_set_new(o, "scalars", json_loads(tally_run_scalars_json(run), 0, NULL));
	json_object_set(o, "files", files);
	if (tail)
		json_object_set_new(o, "output_tail", json_string(tail));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | CLI_JSON_REALS);
	json_decref(o);
	if (!text)
		return cli_error("out of memory");
	puts(text);
	free(text);
	return EXIT_OK;
}

/*
 * A reference that names a sweep (hex digits, the id or a prefix of it)
 * shows the sweep: when it is the whole id, or when no run goes by it.
 */
static int show_sweep(const char *runs_dir, const char *ref, bool json, bool *shown)
{
	*shown = false;
	size_t len = strlen(ref);
	if (len < 3 || strspn(ref, "0123456789abcdef") != len || strspn(ref, "0123456789") == len)
		return EXIT_OK;
	tally_store *store = NULL;
	tally_sweep *sweep = NULL;
	tally_run *run = NULL;
	int code = cli_open_store(&store, runs_dir);
	int rc = code ? 0 : tally_sweep_open(&sweep, store, ref);
	if (rc == TALLY_ECORRUPT) { /* the sweep's own record is damaged: say so */
		*shown = true;
		code = cli_lib_error(rc);
	} else if (!code && !rc && (!strcmp(tally_sweep_id(sweep), ref) || tally_run_lookup(&run, store, ref) != 0)) {
		*shown = true;
		code = cli_sweep_show(sweep, store, json);
	}
	tally_run_free(run);
	tally_sweep_free(sweep);
	tally_store_free(store);
	if (code)
		*shown = true;
	return code;
}

int cmd_show(int argc, char **argv)
{
	const char *format = "text", *runs_dir = NULL, *ref = NULL;
	long tail_lines = 20;
	int c, code = EXIT_OK;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:w:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'f': format = optarg; break;
		case 'T': {
			char *end;
			tail_lines = strtol(optarg, &end, 10);
			if (*end || tail_lines < 0)
				return cli_usage_error(cmd_show_usage, "--tail wants a number of lines, not '%s'", optarg);
			break;
		}
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_show_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_show_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		ref = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd_show_usage, "one run at a time (unexpected '%s')", argv[optind]);
	if (strcmp(format, "text") && strcmp(format, "json"))
		return cli_usage_error(cmd_show_usage, "unknown format '%s' (text or json)", format);

	bool shown = false;
	if (ref && !sel.used && (code = show_sweep(runs_dir, ref, !strcmp(format, "json"), &shown), shown))
		return code;
	tally_store *store = NULL;
	tally_run *run = NULL;
	char *files_text = NULL, *tail = NULL;
	json_t *meta = NULL, *files = NULL;
	if ((code = cli_open_run(&store, &run, runs_dir, ref, &sel)))
		goto done;
	int rc;
	meta = json_loads(tally_run_json(run), 0, NULL);
	if ((rc = tally_run_files_json(run, 0, &files_text)) || (tail_lines && (rc = tally_run_output_tail(run, (size_t)tail_lines, &tail)))) {
		code = cli_lib_error(rc);
		goto done;
	}
	files = json_loads(files_text, 0, NULL);
	if (!strcmp(format, "json")) {
		code = show_json(run, meta, files, tail);
		goto done;
	}
	print_attributes(run, meta);
	print_flags(meta);
	print_scalars(run);
	print_files(files);
	if (tail && *tail) {
		printf("\noutput (last %ld lines):\n", tail_lines);
		fputs(tail, stdout);
		if (tail[strlen(tail) - 1] != '\n')
			putchar('\n');
	}
done:
	json_decref(meta);
	json_decref(files);
	free(files_text);
	free(tail);
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

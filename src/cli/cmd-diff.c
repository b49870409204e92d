/* tally diff — what changed between two runs: attributes, flags, sources, output. */
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_diff_usage[] =
	"usage: tally diff [RUN_A RUN_B] [--attributes] [--flags] [--sources] [--output]\n"
	"                  [--stat] [--path GLOB] [-U N] [--color WHEN] [query options]\n"
	"\n"
	"Show what changed from RUN_A to RUN_B (default: the latest two, the older as\n"
	"A), like Guild's diff: the recorded attributes (script, command, status,\n"
	"git commit, host…) and the flags as `-name=value` / `+name=value` lines,\n"
	"and the source snapshots file by file as unified diffs (libgit2), with\n"
	"added, removed, renamed and binary files named.  --output adds a diff of the\n"
	"console output.  Naming sections shows only those.\n"
	"\n"
	"Options:\n"
	"      --attributes   the recorded attributes\n"
	"      --flags        the flags\n"
	"      --sources      the source snapshots\n"
	"      --output       the console output (stdout and stderr as recorded)\n"
	"      --stat         a summary: lines added and removed per file\n"
	"      --path GLOB    only source files matching GLOB (repeatable)\n"
	"  -U, --unified N    lines of context (default 3)\n"
	"      --color WHEN   auto (default: on a terminal, unless NO_COLOR), always\n"
	"                     or never\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR\n"
	"                     where runs live (default ./runs)\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 when the runs do not differ in what is shown, 1 when they do\n"
	"(like diff), 128 on trouble.\n";

enum {
	OPT_ATTRIBUTES = CLI_OPT_FIRST_FREE, OPT_FLAGS, OPT_SOURCES, OPT_OUTPUT, OPT_STAT, OPT_PATH, OPT_COLOR,
	OPT_RUNS_DIR,
};

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"attributes", no_argument, NULL, OPT_ATTRIBUTES},
	{"flags", no_argument, NULL, OPT_FLAGS},
	{"sources", no_argument, NULL, OPT_SOURCES},
	{"output", no_argument, NULL, OPT_OUTPUT},
	{"stat", no_argument, NULL, OPT_STAT},
	{"path", required_argument, NULL, OPT_PATH},
	{"unified", required_argument, NULL, 'U'},
	{"color", required_argument, NULL, OPT_COLOR},
	{"colour", required_argument, NULL, OPT_COLOR},
	{"runs-dir", required_argument, NULL, OPT_RUNS_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

enum { SHOW_ATTRIBUTES = 1, SHOW_FLAGS = 2, SHOW_SOURCES = 4, SHOW_OUTPUT = 8 };

typedef struct {
	cli_selection sel;
	const char **refs, **paths;
	size_t n_refs, n_paths;
	const char *runs_dir;
	unsigned show, context;
	bool stat, colour;
	/* while printing */
	size_t files, added, removed;
	bool differ;
	int name_width;
} diff_args;

#define RED "\033[31m"
#define GREEN "\033[32m"
#define CYAN "\033[36m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* One line of a diff, coloured by its first character. */
static void print_line(const diff_args *a, const char *line, size_t len)
{
	const char *colour = NULL;
	if (a->colour) {
		if (!strncmp(line, "diff ", 5) || !strncmp(line, "index ", 6) || !strncmp(line, "--- ", 4) ||
		    !strncmp(line, "+++ ", 4) || !strncmp(line, "new file", 8) || !strncmp(line, "deleted file", 12) ||
		    !strncmp(line, "Binary files", 12) || !strncmp(line, "renamed", 7))
			colour = BOLD;
		else if (line[0] == '@')
			colour = CYAN;
		else if (line[0] == '+')
			colour = GREEN;
		else if (line[0] == '-')
			colour = RED;
	}
	if (colour)
		fputs(colour, stdout);
	fwrite(line, 1, len, stdout);
	if (colour)
		fputs(RESET, stdout);
	putchar('\n');
}

static void print_text(const diff_args *a, const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		print_line(a, text, len);
		text += len + (text[len] == '\n');
	}
}

/* " path | 12 ++++----" */
static void print_stat_line(diff_args *a, const char *name, const char *note, size_t added, size_t removed)
{
	printf(" %-*s | ", a->name_width, name);
	if (note) {
		printf("%s\n", note);
		return;
	}
	size_t total = added + removed, width = total > 40 ? 40 : total;
	size_t plus = total ? (added * width + total - 1) / total : 0;
	plus = plus > width ? width : plus;
	printf("%zu ", total);
	if (a->colour && plus)
		fputs(GREEN, stdout);
	for (size_t i = 0; i < plus; i++)
		putchar('+');
	if (a->colour)
		fputs(a->colour && width > plus ? RED : RESET, stdout);
	for (size_t i = plus; i < width; i++)
		putchar('-');
	if (a->colour)
		fputs(RESET, stdout);
	putchar('\n');
}

static bool path_wanted(const diff_args *a, const char *path)
{
	if (!a->n_paths)
		return true;
	for (size_t i = 0; i < a->n_paths; i++)
		if (!fnmatch(a->paths[i], path, 0))
			return true;
	return false;
}

static int on_file(void *ctx, const tally_file_diff *d)
{
	diff_args *a = ctx;
	if (!path_wanted(a, d->path) && !path_wanted(a, d->old_path))
		return 0;
	a->differ = true;
	a->files++;
	a->added += d->additions;
	a->removed += d->deletions;
	if (a->stat) {
		char name[1024], note[64];
		if (!strcmp(d->change, "renamed"))
			snprintf(name, sizeof name, "%s => %s", d->old_path, d->path);
		else
			snprintf(name, sizeof name, "%s", d->path);
		snprintf(note, sizeof note, "%s", d->binary ? "binary" : "renamed");
		print_stat_line(a, name, d->binary || !strcmp(d->change, "renamed") ? note : NULL, d->additions,
		                d->deletions);
		return 0;
	}
	if (!strcmp(d->change, "renamed")) {
		char line[2100];
		int n = snprintf(line, sizeof line, "renamed %s => %s (same content)", d->old_path, d->path);
		print_line(a, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
		return 0;
	}
	if (d->binary && !*d->patch) {
		char line[2100];
		int n = snprintf(line, sizeof line, "Binary files a/%s and b/%s differ (too large to compare by lines)",
		                 d->old_path, d->path);
		print_line(a, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
		return 0;
	}
	print_text(a, d->patch);
	return 0;
}

/* "-name=value" lines of A's values that B changed or lacks, then "+" lines of B's. */
static void diff_values(diff_args *a, const char *title, json_t *va, json_t *vb)
{
	json_t *names = json_array(), *seen = json_object();
	json_t *objs[2] = {va, vb};
	for (int k = 0; k < 2; k++) {
		const char *key;
		json_t *v;
		json_object_foreach(objs[k], key, v) {
			if (!json_object_get(seen, key)) {
				json_object_set_new(seen, key, json_true());
				json_array_append_new(names, json_string(key));
			}
		}
	}
	tally_buf minus = TALLY_BUF_INIT, plus = TALLY_BUF_INIT;
	size_t changed = 0, i;
	json_t *name;
	json_array_foreach(names, i, name) {
		const char *key = json_string_value(name);
		json_t *x = json_object_get(va, key), *y = json_object_get(vb, key);
		if (x && y && json_equal(x, y))
			continue;
		changed++;
		char *tx = x ? json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT | CLI_JSON_REALS) : NULL;
		char *ty = y ? json_dumps(y, JSON_ENCODE_ANY | JSON_COMPACT | CLI_JSON_REALS) : NULL;
		if (tx)
			tally_buf_printf(&minus, "-%s=%s\n", key, json_is_string(x) ? json_string_value(x) : tx);
		if (ty)
			tally_buf_printf(&plus, "+%s=%s\n", key, json_is_string(y) ? json_string_value(y) : ty);
		free(tx);
		free(ty);
	}
	if (changed) {
		a->differ = true;
		if (a->stat) {
			char note[64];
			snprintf(note, sizeof note, "%zu changed", changed);
			print_stat_line(a, title, note, 0, 0);
		} else {
			char head[64];
			int n = snprintf(head, sizeof head, "diff %s", title);
			print_line(a, head, (size_t)n);
			print_text(a, minus.ptr ? minus.ptr : "");
			print_text(a, plus.ptr ? plus.ptr : "");
		}
	}
	tally_buf_release(&minus);
	tally_buf_release(&plus);
	json_decref(names);
	json_decref(seen);
}

/* The attributes worth comparing, flattened: git.commit, platform.machine… */
static json_t *attributes_of(json_t *meta)
{
	static const char *const keys[] = {"script", "command", "status", "exit_status", "signal", "label", "tags",
	                                   "name", "host", "user", "project_dir", "tally_version", "source_digest",
	                                   "sources"};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		json_t *v = json_object_get(meta, keys[i]);
		if (v && !json_is_null(v))
			json_object_set(o, keys[i], v);
	}
	static const char *const nested[][2] = {{"git", "commit"}, {"git", "branch"}, {"git", "dirty"},
	                                        {"platform", "system"}, {"platform", "release"},
	                                        {"platform", "machine"}, {"sweep", "id"}, {"sweep", "trial"}};
	for (size_t i = 0; i < sizeof nested / sizeof *nested; i++) {
		json_t *v = json_object_get(json_object_get(meta, nested[i][0]), nested[i][1]);
		char key[64];
		snprintf(key, sizeof key, "%s.%s", nested[i][0], nested[i][1]);
		if (v && !json_is_null(v))
			json_object_set(o, key, v);
	}
	return o;
}

typedef struct {
	tally_buf text;
	size_t limit;
	bool too_big;
} output_reader;

static int gather(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	output_reader *r = ctx;
	if (r->text.len + len > r->limit) {
		r->too_big = true;
		return 1;
	}
	tally_buf_add(&r->text, data, len);
	return 0;
}

#define OUTPUT_DIFF_MAX (64u << 20)

static int diff_output(diff_args *a, tally_run *ra, tally_run *rb)
{
	output_reader r[2] = {{TALLY_BUF_INIT, OUTPUT_DIFF_MAX, false}, {TALLY_BUF_INIT, OUTPUT_DIFF_MAX, false}};
	tally_run *runs[2] = {ra, rb};
	int code = 0;
	for (int k = 0; k < 2 && !code; k++) {
		int rc = tally_run_output(runs[k], TALLY_OUTPUT_BOTH, gather, &r[k]);
		if (r[k].too_big)
			code = cli_error("the output of run %s is larger than %u MiB — too large to diff here; try tally cat",
			                 tally_run_id(runs[k]), OUTPUT_DIFF_MAX >> 20);
		else if (rc < 0)
			code = cli_lib_error(rc);
	}
	if (!code) {
		char la[96], lb[96];
		snprintf(la, sizeof la, "%s/output", tally_run_id(ra));
		snprintf(lb, sizeof lb, "%s/output", tally_run_id(rb));
		diff_args quiet_paths = *a;
		quiet_paths.n_paths = 0; /* --path is for sources */
		int rc = tally_diff_texts(r[0].text.ptr ? r[0].text.ptr : "", r[0].text.len, la,
		                          r[1].text.ptr ? r[1].text.ptr : "", r[1].text.len, lb, a->context, on_file,
		                          &quiet_paths);
		a->differ = a->differ || quiet_paths.differ;
		a->files = quiet_paths.files;
		a->added = quiet_paths.added;
		a->removed = quiet_paths.removed;
		if (rc < 0)
			code = cli_lib_error(rc);
	}
	tally_buf_release(&r[0].text);
	tally_buf_release(&r[1].text);
	return code;
}

static int parse_args(int argc, char **argv, diff_args *a)
{
	int c;
	const char *colour = "auto";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:s:U:h", options, NULL)) != -1) {
		if (cli_selection_option(&a->sel, c, optarg))
			continue;
		switch (c) {
		case OPT_ATTRIBUTES: a->show |= SHOW_ATTRIBUTES; break;
		case OPT_FLAGS: a->show |= SHOW_FLAGS; break;
		case OPT_SOURCES: a->show |= SHOW_SOURCES; break;
		case OPT_OUTPUT: a->show |= SHOW_OUTPUT; break;
		case OPT_STAT: a->stat = true; break;
		case OPT_PATH: a->paths[a->n_paths++] = optarg; break;
		case 'U': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 0 || n > 10000)
				return cli_usage_error(cmd_diff_usage, "-U '%s' is not a number of lines (0 to 10000)", optarg);
			a->context = (unsigned)n;
			break;
		}
		case OPT_COLOR: colour = optarg; break;
		case OPT_RUNS_DIR: a->runs_dir = optarg; break;
		case 'h': fputs(cmd_diff_usage, stdout); return -1;
		default: return cli_usage_error(cmd_diff_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (!strcmp(colour, "always"))
		a->colour = true;
	else if (!strcmp(colour, "never"))
		a->colour = false;
	else if (!strcmp(colour, "auto"))
		a->colour = cli_use_colour();
	else
		return cli_usage_error(cmd_diff_usage, "--color '%s' — use auto, always or never", colour);
	if (!a->show)
		a->show = SHOW_ATTRIBUTES | SHOW_FLAGS | SHOW_SOURCES | (a->show & SHOW_OUTPUT);
	for (int i = optind; i < argc; i++)
		a->refs[a->n_refs++] = argv[i];
	if (a->n_refs == 1 || a->n_refs > 2)
		return cli_usage_error(cmd_diff_usage, "give two runs (or none: the latest two), not %zu", a->n_refs);
	return cli_selection_check(&a->sel);
}

int cmd_diff(int argc, char **argv)
{
	diff_args a = {CLI_SELECTION_INIT, calloc((size_t)argc + 2, sizeof(char *)),
	               calloc((size_t)argc + 1, sizeof(char *)), 0, 0, NULL, 0, 3, false, false, 0, 0, 0, false, 24};
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t n_runs = 0;
	json_t *meta[2] = {NULL, NULL};
	int code = a.refs && a.paths ? parse_args(argc, argv, &a) : cli_error("out of memory");
	if (code) {
		code = code < 0 ? EXIT_OK : code;
		goto done;
	}
	static const char *const latest_two[] = {"2", "1"}; /* the older on the left */
	if ((code = cli_open_store(&store, a.runs_dir)) ||
	    (code = cli_select_side_by_side(store, &a.sel, a.refs, a.n_refs, latest_two, 2, &runs, &n_runs)))
		goto done;
	if (n_runs != 2) {
		code = cli_error("diff takes two runs (%zu given or selected)", n_runs);
		goto done;
	}
	for (int k = 0; k < 2; k++)
		if (!(meta[k] = json_loads(tally_run_json(runs[k]), 0, NULL)))
			meta[k] = json_object();
	if (a.show & SHOW_ATTRIBUTES) {
		json_t *x = attributes_of(meta[0]), *y = attributes_of(meta[1]);
		diff_values(&a, "attributes", x, y);
		json_decref(x);
		json_decref(y);
	}
	if (a.show & SHOW_FLAGS)
		diff_values(&a, "flags", json_object_get(meta[0], "flags"), json_object_get(meta[1], "flags"));
	if (a.show & SHOW_SOURCES) {
		int rc = tally_diff_sources(runs[0], runs[1], a.context, on_file, &a);
		if (rc < 0) {
			code = cli_lib_error(rc);
			goto done;
		}
	}
	if ((a.show & SHOW_OUTPUT) && (code = diff_output(&a, runs[0], runs[1])))
		goto done;
	if (a.stat && (a.files || a.added || a.removed))
		printf(" %zu file%s changed, %zu insertion%s(+), %zu deletion%s(-)\n", a.files, a.files == 1 ? "" : "s",
		       a.added, a.added == 1 ? "" : "s", a.removed, a.removed == 1 ? "" : "s");
	code = a.differ ? EXIT_NEGATIVE : EXIT_OK;
done:
	json_decref(meta[0]);
	json_decref(meta[1]);
	cli_free_runs(runs, n_runs);
	tally_store_free(store);
	cli_selection_release(&a.sel);
	free(a.refs);
	free(a.paths);
	return code;
}

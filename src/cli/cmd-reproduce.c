/* tally reproduce — the steps to re-create a run, or (--run) a re-run from its own sources. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"

const char cmd_reproduce_usage[] =
	"usage: tally reproduce [RUN] [--run] [-q]\n"
	"\n"
	"Print the exact steps that re-create a run (default: the latest): the\n"
	"project directory, `git checkout COMMIT` when the run was in a git work\n"
	"tree, and the tally run command with the flags it was given.  With --run,\n"
	"re-run it now as a new run: the sources are the run's own snapshot (not the\n"
	"project's files as they are now), the flags the same, data reachable in the\n"
	"project directory as before; the new run records `reproduces: ID` and the\n"
	"original's git state.  A run of `-- COMMAND` is re-run with its recorded\n"
	"command line.\n"
	"\n"
	"Options:\n"
	"      --run           re-run it as a new run\n"
	"  -q, --quiet         with --run: record the output without showing it\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

enum { OPT_RUN = CLI_OPT_FIRST_FREE };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"run", no_argument, NULL, OPT_RUN},
	{"quiet", no_argument, NULL, 'q'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* NAME=VALUE for every flag not left at its default. */
static int given_flags(json_t *meta, tally_strlist *out)
{
	json_t *flags = json_object_get(meta, "flags"), *sources = json_object_get(meta, "flag_sources");
	const char *name;
	json_t *v;
	json_object_foreach(flags, name, v) {
		const char *source = json_string_value(json_object_get(sources, name));
		if (source && !strcmp(source, "default"))
			continue;
		char *value = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)), *arg = NULL;
		if (!value)
			return cli_error("out of memory");
		int rc = tally_flag_assignment(&arg, name, value);
		free(value);
		bool pushed = !rc && tally_strlist_push(out, arg) >= 0;
		free(arg);
		if (rc)
			return cli_lib_error(rc);
		if (!pushed)
			return cli_error("out of memory");
	}
	return 0;
}

/* Text from run.json inside a `#` comment: a newline or escape code must not end it or reach the terminal. */
static void add_comment_text(tally_buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		tally_buf_addc(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
}

static void print_steps(const tally_run *run, json_t *meta, const tally_strlist *flags)
{
	const char *script = json_string_value(json_object_get(meta, "script"));
	const char *project = json_string_value(json_object_get(meta, "project_dir"));
	json_t *git = json_object_get(meta, "git");
	const char *commit = json_string_value(json_object_get(git, "commit"));
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_adds(&out, "# re-create run ");
	add_comment_text(&out, tally_run_id(run));
	tally_buf_adds(&out, " (");
	add_comment_text(&out, script ? script : "a command");
	tally_buf_adds(&out, ", ");
	add_comment_text(&out, tally_run_status(run));
	tally_buf_adds(&out, ")\n");
	if (project) {
		tally_buf_adds(&out, "cd ");
		tally_buf_add_shell_quoted(&out, project);
		tally_buf_addc(&out, '\n');
	}
	if (commit) {
		tally_buf_adds(&out, "git checkout ");
		tally_buf_add_shell_quoted(&out, commit);
		const char *branch = json_string_value(json_object_get(git, "branch"));
		if (branch) {
			tally_buf_adds(&out, "    # on branch ");
			add_comment_text(&out, branch);
			tally_buf_adds(&out, " then");
		}
		tally_buf_addc(&out, '\n');
		if (json_is_true(json_object_get(git, "dirty")))
		{
			tally_buf_adds(&out, "# the work tree had uncommitted changes: the run's own copy of its sources is in\n#   ");
			add_comment_text(&out, tally_run_dir(run));
			tally_buf_adds(&out, " (tally reproduce --run uses it)\n");
		}
	}
	tally_buf_adds(&out, "tally run");
	if (script) {
		tally_buf_addc(&out, ' ');
		tally_buf_add_shell_quoted(&out, script);
		for (size_t i = 0; i < flags->n; i++) {
			tally_buf_addc(&out, ' ');
			tally_buf_add_shell_quoted(&out, flags->items[i]);
		}
	} else {
		size_t i;
		json_t *arg;
		tally_buf_adds(&out, " --");
		json_array_foreach(json_object_get(meta, "command"), i, arg) {
			tally_buf_addc(&out, ' ');
			tally_buf_add_shell_quoted(&out, json_string_value(arg) ? json_string_value(arg) : "");
		}
	}
	tally_buf_addc(&out, '\n');
	fwrite(out.ptr, 1, out.len, stdout);
	tally_buf_release(&out);
}

static int run_again(tally_store *store, const tally_run *run, json_t *meta, tally_strlist *flags, bool quiet)
{
	const char *project = json_string_value(json_object_get(meta, "project_dir"));
	const char *script = json_string_value(json_object_get(meta, "script"));
	if (!project || chdir(project) < 0)
		return cli_error("cannot enter the run's project directory '%s' (%s) — reproduce needs it for the run's data",
		                 project ? project : "(not recorded)", project ? strerror(errno) : "old run");
	tally_strlist command = TALLY_STRLIST_INIT;
	tally_launch_options opts = TALLY_LAUNCH_OPTIONS_INIT;
	opts.reproduce_from = tally_run_dir(run);
	opts.force_flags = 1; /* the project's script may have changed since: the run's own flags count */
	opts.quiet = quiet;
	int code = 0;
	if (script) {
		opts.script = script;
		opts.flag_args = (const char *const *)flags->items;
	} else {
		size_t i;
		json_t *arg;
		json_array_foreach(json_object_get(meta, "command"), i, arg)
			if (tally_strlist_push(&command, json_string_value(arg) ? json_string_value(arg) : "") < 0)
				code = cli_error("out of memory");
		opts.command = (const char *const *)command.items;
	}
	tally_run *again = NULL;
	int exit_code = 0;
	int rc = code ? 0 : tally_launch(&again, &exit_code, store, &opts);
	if (rc)
		code = cli_lib_error(rc);
	else if (!code) {
		fprintf(stderr, "Run %s (reproducing %s) %s\n", tally_run_id(again), tally_run_id(run),
		        tally_run_status(again));
		code = exit_code;
	}
	tally_run_free(again);
	tally_strlist_release(&command);
	return code;
}

int cmd_reproduce(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool again = false, quiet = false;
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qw:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case OPT_RUN: again = true; break;
		case 'q': quiet = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_reproduce_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_reproduce_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cmd_reproduce_usage, "one run at a time");
	tally_store *store = NULL;
	tally_run *run = NULL;
	tally_strlist flags = TALLY_STRLIST_INIT;
	int code = cli_open_run(&store, &run, runs_dir, argc > optind ? argv[optind] : NULL, &sel);
	json_t *meta = code ? NULL : json_loads(tally_run_json(run), 0, NULL);
	if (!code && !(code = given_flags(meta, &flags))) {
		if (again)
			code = run_again(store, run, meta, &flags, quiet);
		else
			print_steps(run, meta, &flags);
	}
	json_decref(meta);
	tally_strlist_release(&flags);
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

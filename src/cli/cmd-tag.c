/* tally tag — add and remove tags of runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_tag_usage[] =
	"usage: tally tag [-y] RUN… +TAG… -TAG…\n"
	"\n"
	"Add (+TAG) and remove (-TAG) tags of runs, as Guild's `tag --add/--delete`.\n"
	"Tags are listed by `tally runs` and found by `--tag TAG` or\n"
	"`--where 'tags contains TAG'`.  RUN is an index (1 = latest), a range\n"
	"(1:5), a list (3,7), an id prefix, a name or a run directory; the long\n"
	"query options pick runs as tally runs does (tally tag --error +crashed).\n"
	"\n"
	"Options:\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	"      --where EXPR, --running, --completed, --error, --terminated, --pruned,\n"
	"      --tag TAG, --label TEXT, --script NAME, --started WHEN, --pattern REGEX,\n"
	"      --marked, --unmarked  as in tally runs\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

/* Arguments by hand: -TAG is not an option. */
typedef struct {
	const char **add, **remove;
	char **refs;
	size_t n_add, n_remove, n_refs;
	const char *runs_dir;
	bool yes;
	cli_selection sel;
} tag_args;

static int parse(int argc, char **argv, tag_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int taken = cli_selection_take_arg(&a->sel, argc, argv, &i);
		if (taken < 0)
			return cli_usage_error(cmd_tag_usage, "'%s' needs a value", arg);
		if (taken)
			continue;
		if (!strcmp(arg, "-y") || !strcmp(arg, "--yes")) {
			a->yes = true;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(cmd_tag_usage, stdout);
			return -1;
		} else if (!strcmp(arg, "--runs-dir") || !strncmp(arg, "--runs-dir=", 11)) {
			if (arg[10] == '=')
				a->runs_dir = arg + 11;
			else if (i + 1 < argc)
				a->runs_dir = argv[++i];
			else
				return cli_usage_error(cmd_tag_usage, "--runs-dir needs a directory");
		} else if (arg[0] == '+' || (arg[0] == '-' && arg[1] != '-')) {
			if (!arg[1])
				return cli_usage_error(cmd_tag_usage, "'%s' names no tag", arg);
			if (arg[0] == '+')
				a->add[a->n_add++] = arg + 1;
			else
				a->remove[a->n_remove++] = arg + 1;
		} else if (arg[0] == '-') {
			return cli_usage_error(cmd_tag_usage, "unknown option '%s'", arg);
		} else {
			a->refs[a->n_refs++] = argv[i];
		}
	}
	if (!a->n_refs && !a->sel.used)
		return cli_usage_error(cmd_tag_usage, "which runs? — name at least one");
	if (!a->n_add && !a->n_remove)
		return cli_usage_error(cmd_tag_usage, "no tag to add (+TAG) or remove (-TAG)");
	return 0;
}

static int change_tags(tally_run *run, void *args)
{
	const tag_args *a = args;
	int rc = tally_run_change_tags(run, a->add, a->remove);
	return rc ? cli_lib_error(rc) : 0;
}

int cmd_tag(int argc, char **argv)
{
	tag_args a = {0};
	a.sel = (cli_selection)CLI_SELECTION_INIT;
	a.add = calloc((size_t)argc + 1, sizeof *a.add);
	a.remove = calloc((size_t)argc + 1, sizeof *a.remove);
	a.refs = calloc((size_t)argc + 1, sizeof *a.refs);
	tally_store *store = NULL;
	size_t changed = 0;
	int code = !a.add || !a.remove || !a.refs ? cli_error("out of memory") : 0;
	if (!code) {
		int rc = parse(argc, argv, &a);
		code = rc < 0 ? EXIT_OK : rc;
		if (rc)
			goto done;
	}
	if (!code)
		code = cli_open_store(&store, a.runs_dir);
	cli_change change = {"change the tags of", a.yes, change_tags, &a, false};
	if (!code)
		code = cli_change_runs(store, &a.sel, a.refs, a.n_refs, &change, &changed);
	if (!code)
		printf("Changed the tags of %zu run%s.\n", changed, changed == 1 ? "" : "s");
done:
	tally_store_free(store);
	free(a.add);
	free(a.remove);
	free(a.refs);
	cli_selection_release(&a.sel);
	return code;
}

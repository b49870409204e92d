/*
 * The query options of `tally runs` (--where, --sort, --running, --tag …),
 * shared by every command that takes runs: each command puts
 * CLI_SELECTION_OPTIONS in its option table and hands what getopt returns to
 * cli_selection_option().
 *
 * The shorthand options are written as one --where expression: the user's
 * text is a quoted string in it, so it stays a value whatever it holds.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void add_quoted(cli_selection *sel, const char *text)
{
	char quote = strchr(text, '\'') ? '"' : '\'';
	if (strchr(text, '\'') && strchr(text, '"'))
		sel->bad_quote = true;
	tally_buf_printf(&sel->filter, "%c%s%c", quote, text, quote);
}

/* "(<test> '<text>')" ANDed to the filters. */
static void add_filter(cli_selection *sel, const char *test, const char *text)
{
	tally_buf_printf(&sel->filter, "%s(%s", sel->filter.len ? " and " : "", test);
	add_quoted(sel, text);
	tally_buf_addc(&sel->filter, ')');
}

static void add_status(cli_selection *sel, const char *status)
{
	tally_buf_printf(&sel->statuses, "%s%s", sel->statuses.len ? ", " : "", status);
}

bool cli_selection_option(cli_selection *sel, int c, const char *arg)
{
	switch (c) {
	case 'w': sel->where = arg; break;
	case 's':
	case CLI_OPT_SORT: sel->sort = arg; break;
	case CLI_OPT_RUNNING: add_status(sel, "running"); break;
	case CLI_OPT_COMPLETED: add_status(sel, "completed"); break;
	case CLI_OPT_ERROR: add_status(sel, "error"); break;
	case CLI_OPT_TERMINATED: add_status(sel, "terminated"); break;
	case CLI_OPT_PRUNED: add_status(sel, "pruned"); break;
	case CLI_OPT_QUEUED: add_status(sel, "queued"); break;
	case CLI_OPT_TAG: add_filter(sel, "tags contains ", arg); break;
	case CLI_OPT_LABEL: add_filter(sel, "label contains ", arg); break;
	case CLI_OPT_SCRIPT: add_filter(sel, "script = ", arg); break;
	case CLI_OPT_STARTED: add_filter(sel, "started >= ", arg); break;
	case CLI_OPT_PATTERN:
		add_filter(sel, "id ~ ", arg);
		tally_buf_truncate(&sel->filter, sel->filter.len - 1); /* reopen "(id ~ 'x')" to add the name */
		tally_buf_adds(&sel->filter, " or name ~ ");
		add_quoted(sel, arg);
		tally_buf_addc(&sel->filter, ')');
		break;
	case CLI_OPT_SWEEP: /* an id prefix: hex digits only, so it is safe in a pattern */
		if (*arg && strspn(arg, "0123456789abcdef") == strlen(arg)) {
			tally_buf_printf(&sel->filter, "%s(sweep ~ '^%s')", sel->filter.len ? " and " : "", arg);
		} else {
			add_filter(sel, "sweep = ", arg);
		}
		break;
	case CLI_OPT_MARKED: tally_buf_printf(&sel->filter, "%s(marked)", sel->filter.len ? " and " : ""); break;
	case CLI_OPT_UNMARKED: tally_buf_printf(&sel->filter, "%s(not marked)", sel->filter.len ? " and " : ""); break;
	default: return false;
	}
	sel->used = true;
	return true;
}

int cli_selection_take_arg(cli_selection *sel, int argc, char **argv, int *i)
{
	static const struct option options[] = {CLI_SELECTION_OPTIONS, {NULL, 0, NULL, 0}};
	const char *arg = argv[*i];
	if (strncmp(arg, "--", 2))
		return 0;
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	for (const struct option *o = options; o->name; o++) {
		if (strlen(o->name) != len || strncmp(o->name, name, len))
			continue;
		const char *value = NULL;
		if (o->has_arg == required_argument) {
			if (eq)
				value = eq + 1;
			else if (*i + 1 < argc)
				value = argv[++*i];
			else
				return -1;
		} else if (eq) {
			return -1;
		}
		cli_selection_option(sel, o->val, value);
		return 1;
	}
	return 0;
}

const char *cli_selection_filter(cli_selection *sel)
{
	if (sel->statuses.len) {
		tally_buf_printf(&sel->filter, "%s(status in [%s])", sel->filter.len ? " and " : "", sel->statuses.ptr);
		tally_buf_clear(&sel->statuses);
	}
	return sel->filter.len ? sel->filter.ptr : NULL;
}

int cli_selection_check(const cli_selection *sel)
{
	if (sel->bad_quote)
		return cli_error("a filter value holds both ' and \" — use --where with one kind of quote");
	return 0;
}

void cli_selection_release(cli_selection *sel)
{
	tally_buf_release(&sel->filter);
	tally_buf_release(&sel->statuses);
}

/* The directories of the runs the query options select (at most `limit`, 0 = all), in listing order. */
static int query_dirs(tally_store *store, cli_selection *sel, size_t limit, tally_strlist *dirs)
{
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.details = TALLY_ITER_COMPACT;
	opts.limit = limit;
	opts.where = sel->where;
	opts.sort = sel->sort;
	opts.filter = cli_selection_filter(sel);
	tally_run_iter *it = NULL;
	int rc = tally_run_iter_new(&it, store, &opts);
	const tally_run *run;
	while (!rc && (rc = tally_run_iter_next(it, &run)) == 0)
		if (tally_strlist_push(dirs, tally_run_dir(run)) < 0)
			rc = TALLY_ENOMEM;
	tally_run_iter_free(it);
	return rc < 0 ? cli_lib_error(rc) : 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether `dir` is in `dirs`, sorted. */
static bool listed(const tally_strlist *dirs, const char *dir)
{
	return dirs->n && bsearch(&dir, dirs->items, dirs->n, sizeof *dirs->items, compare_strings) != NULL;
}

int cli_select_runs(tally_store *store, cli_selection *sel, char *const *refs, size_t n, tally_run ***out,
                    size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	int code = cli_selection_check(sel);
	if (code)
		return code;
	if (!sel->used)
		return cli_lookup_runs_from(store, refs, n, sel->summaries, out, n_out);
	tally_strlist dirs = TALLY_STRLIST_INIT;
	if ((code = query_dirs(store, sel, 0, &dirs)))
		goto done;
	if (n) {
		/* runs named and queried: those named that the query selects */
		tally_strlist_sort(&dirs);
		if ((code = cli_lookup_runs_from(store, refs, n, sel->summaries, out, n_out)))
			goto done;
		for (size_t i = 0; i < *n_out; i++)
			if ((*out)[i] && !listed(&dirs, tally_run_dir((*out)[i]))) {
				tally_run_free((*out)[i]);
				(*out)[i] = NULL;
			}
	} else {
		code = cli_lookup_runs_from(store, dirs.items, dirs.n, sel->summaries, out, n_out);
	}
done:
	tally_strlist_release(&dirs);
	return code;
}

int cli_select_side_by_side(tally_store *store, cli_selection *sel, const char *const *refs, size_t n,
                            const char *const *defaults, size_t n_defaults, tally_run ***out, size_t *n_out)
{
	bool queried = sel->used && !n;
	/* cli_select_runs() only reads the references */
	int code = n || sel->used ? cli_select_runs(store, sel, (char *const *)refs, n, out, n_out)
	                          : cli_select_runs(store, sel, (char *const *)defaults, n_defaults, out, n_out);
	if (code)
		return code;
	cli_compact_runs(*out, n_out);
	if (queried && !sel->sort) /* a query lists newest first: side by side, time goes left to right */
		for (size_t i = 0, j = *n_out ? *n_out - 1 : 0; i < j; i++, j--) {
			tally_run *t = (*out)[i];
			(*out)[i] = (*out)[j];
			(*out)[j] = t;
		}
	return 0;
}

int cli_select_or_all(tally_store *store, cli_selection *sel, char *const *refs, size_t n, tally_run ***out,
                      size_t *n_out)
{
	if (n || sel->used)
		return cli_select_runs(store, sel, refs, n, out, n_out);
	/* nothing named: every run */
	*out = NULL;
	*n_out = 0;
	tally_strlist dirs = TALLY_STRLIST_INIT;
	int code = query_dirs(store, sel, 0, &dirs);
	if (!code)
		code = cli_lookup_runs_from(store, dirs.items, dirs.n, sel->summaries, out, n_out);
	tally_strlist_release(&dirs);
	return code;
}

int cli_select_first(tally_store *store, cli_selection *sel, const char *ref, tally_run **run)
{
	*run = NULL;
	tally_run **runs = NULL;
	tally_strlist dirs = TALLY_STRLIST_INIT;
	size_t n = 0;
	char *refs[] = {(char *)ref};
	int code = cli_selection_check(sel);
	/* with no RUN, only the first match is looked up (not 100,000 of them) */
	if (!code && !ref && !(code = query_dirs(store, sel, 1, &dirs)))
		code = cli_lookup_runs(store, dirs.items, dirs.n, &runs, &n);
	else if (!code && ref)
		code = cli_select_runs(store, sel, refs, 1, &runs, &n);
	for (size_t i = 0; !code && i < n && !*run; i++) {
		*run = runs[i];
		runs[i] = NULL;
	}
	cli_free_runs(runs, n);
	tally_strlist_release(&dirs);
	if (!code && !*run)
		code = cli_error("no run matches the query options — tally runs with the same options lists what they select");
	return code;
}

int cli_open_run(tally_store **store, tally_run **run, const char *runs_dir, const char *ref, cli_selection *sel)
{
	*store = NULL;
	*run = NULL;
	int code = cli_open_store(store, runs_dir);
	if (!code && sel && sel->used)
		return cli_select_first(*store, sel, ref, run);
	if (!code) {
		int rc = tally_run_lookup(run, *store, ref);
		if (rc)
			code = cli_lib_error(rc);
	}
	return code;
}

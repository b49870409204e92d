/*
 * Finding every run named on the command line: indexes, ranges 1:5, lists
 * 3,7, id prefixes, names, paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/strlist.h"

/* An index range "A:B", ":B" or "A:" (1 = latest, both ends included)? */
static bool parse_range(const char *ref, long *from, long *to)
{
	const char *colon = strchr(ref, ':');
	if (!colon || strchr(colon + 1, ':') || strchr(ref, '/'))
		return false;
	char *end;
	*from = colon == ref ? 1 : strtol(ref, &end, 10);
	if (colon != ref && (end != colon || *from < 1))
		return false;
	*to = colon[1] ? strtol(colon + 1, &end, 10) : LONG_MAX;
	return colon[1] ? (*end == '\0' && *to >= *from) : true;
}

static int push(tally_strlist *list, const char *s)
{
	return tally_strlist_push(list, s) < 0 ? cli_error("out of memory") : 0;
}

/*
 * The directories of the runs listed from index `from` to `to` (1 = the
 * latest; LONG_MAX: to the oldest), by one walk of the listing: a lookup per
 * index would read the listing up to it each time.
 */
static int range_dirs(tally_store *store, long from, long to, tally_strlist *out)
{
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.details = TALLY_ITER_COMPACT;
	opts.limit = to == LONG_MAX ? 0 : (size_t)to;
	tally_run_iter *it = NULL;
	const tally_run *run;
	long k = 0;
	int rc = tally_run_iter_new(&it, store, &opts);
	while (!rc && (rc = tally_run_iter_next(it, &run)) == 0)
		if (++k >= from && tally_strlist_push(out, tally_run_dir(run)) < 0)
			rc = TALLY_ENOMEM;
	tally_run_iter_free(it);
	if (rc < 0)
		return cli_lib_error(rc);
	if (to != LONG_MAX && k < to)
		return cli_error("there is no run %ld — there %s %ld run%s", to, k == 1 ? "is" : "are", k, k == 1 ? "" : "s");
	return 0;
}

/* "1:3,7" → the runs 1, 2 and 3 (by directory) and 7; other references as they are. */
static int expand(tally_store *store, char *const *refs, size_t n, tally_strlist *out)
{
	int code = 0;
	for (size_t i = 0; i < n && !code; i++) {
		char *copy = strdup(refs[i]);
		if (!copy)
			return cli_error("out of memory");
		/* a comma list only when every piece is an index or a range: a path may hold commas */
		bool list = strchr(copy, ',') && !strchr(copy, '/') && strspn(copy, "0123456789:,") == strlen(copy);
		for (char *part = list ? strtok(copy, ",") : copy; part && !code; part = list ? strtok(NULL, ",") : NULL) {
			long from, to;
			if (!parse_range(part, &from, &to)) {
				code = push(out, part);
				continue;
			}
			code = range_dirs(store, from, to, out);
		}
		free(copy);
	}
	return code;
}

typedef struct {
	const char *dir;
	size_t at;
} named_run;

static int by_dir_then_place(const void *a, const void *b)
{
	const named_run *x = a, *y = b;
	int c = strcmp(x->dir, y->dir);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* A run named twice is changed once: its later slots become NULL.  Sorted, not compared
 * pairwise: a query may name 100,000 runs. */
static int drop_repeats(tally_run **runs, size_t n)
{
	named_run *order = malloc((n ? n : 1) * sizeof *order);
	if (!order)
		return cli_error("out of memory");
	for (size_t i = 0; i < n; i++)
		order[i] = (named_run){tally_run_dir(runs[i]), i};
	qsort(order, n, sizeof *order, by_dir_then_place);
	for (size_t k = 1; k < n; k++)
		if (!strcmp(order[k].dir, order[k - 1].dir)) {
			order[k].dir = order[k - 1].dir; /* the run at order[k].at is freed next: keep a live string */
			tally_run_free(runs[order[k].at]);
			runs[order[k].at] = NULL;
		}
	free(order);
	return 0;
}

int cli_lookup_runs(tally_store *store, char *const *refs_in, size_t n_in, tally_run ***out, size_t *n_out)
{
	return cli_lookup_runs_from(store, refs_in, n_in, false, out, n_out);
}

/* Every run of `refs`, each from its directory: the first that fails is the error. */
static int lookup_each(tally_store *store, const tally_strlist *refs, tally_run **out)
{
	for (size_t i = 0; i < refs->n; i++) {
		int rc = tally_run_lookup(&out[i], store, refs->items[i]);
		if (rc) {
			for (size_t k = 0; k < i; k++) {
				tally_run_free(out[k]);
				out[k] = NULL;
			}
			return rc;
		}
	}
	return 0;
}

int cli_lookup_runs_from(tally_store *store, char *const *refs_in, size_t n_in, bool summaries, tally_run ***out,
                         size_t *n_out)
{
	tally_strlist refs = TALLY_STRLIST_INIT;
	*out = NULL;
	*n_out = 0;
	int code = expand(store, refs_in, n_in, &refs);
	size_t n = refs.n;
	if (!code && !(*out = calloc(n + 1, sizeof **out)))
		code = cli_error("out of memory");
	if (!code) {
		int rc = summaries ? tally_run_lookup_summaries(*out, store, (const char *const *)refs.items, n)
		                   : lookup_each(store, &refs, *out);
		if (rc) {
			code = cli_lib_error(rc);
			free(*out);
			*out = NULL;
		}
	}
	if (!code && (code = drop_repeats(*out, n))) {
		cli_free_runs(*out, n);
		*out = NULL;
	}
	if (!code)
		*n_out = n;
	tally_strlist_release(&refs);
	return code;
}

void cli_free_runs(tally_run **runs, size_t n)
{
	if (!runs)
		return;
	for (size_t i = 0; i < n; i++)
		tally_run_free(runs[i]);
	free(runs);
}

void cli_compact_runs(tally_run **runs, size_t *n)
{
	size_t kept = 0;
	for (size_t i = 0; runs && i < *n; i++)
		if (runs[i])
			runs[kept++] = runs[i];
	*n = kept;
}

/*
 * What the commands that change runs share: finding every run named on the
 * command line, and asking before changing them (-y to skip; without a
 * terminal to ask on, they refuse unless -y).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_lookup_runs(tally_store *store, char *const *refs, size_t n, tally_run ***out)
{
	*out = calloc(n + 1, sizeof **out);
	if (!*out)
		return cli_error("out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = tally_run_lookup(&(*out)[i], store, refs[i]);
		if (rc) {
			int code = cli_lib_error(rc);
			cli_free_runs(*out, n);
			*out = NULL;
			return code;
		}
		for (size_t j = 0; j < i; j++) /* the same run named twice is changed once */
			if (!strcmp(tally_run_dir((*out)[j]), tally_run_dir((*out)[i]))) {
				tally_run_free((*out)[i]);
				(*out)[i] = NULL;
				break;
			}
	}
	return 0;
}

void cli_free_runs(tally_run **runs, size_t n)
{
	if (!runs)
		return;
	for (size_t i = 0; i < n; i++)
		tally_run_free(runs[i]);
	free(runs);
}

int cli_confirm(const char *what, tally_run *const *runs, size_t n, bool yes)
{
	if (yes)
		return 0;
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += runs[i] != NULL;
	if (!isatty(STDIN_FILENO))
		return cli_error("to %s %zu run%s, say yes with -y — there is no terminal to ask on", what, count,
		                 count == 1 ? "" : "s");
	fprintf(stderr, "You are about to %s %zu run%s:\n", what, count, count == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		if (runs[i])
			fprintf(stderr, "  %s  %s\n", tally_run_id(runs[i]), tally_run_label(runs[i]));
	fprintf(stderr, "Continue? [y/N] ");
	char answer[16] = "";
	if (!fgets(answer, sizeof answer, stdin))
		answer[0] = 0;
	answer[strcspn(answer, "\n")] = 0;
	if (!strcasecmp(answer, "y") || !strcasecmp(answer, "yes"))
		return 0;
	fprintf(stderr, "Nothing changed.\n");
	return EXIT_NEGATIVE;
}

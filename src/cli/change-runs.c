/*
 * What the commands that change runs share (label, tag, delete, stop…):
 * finding the runs they name or select, and asking before changing them
 * (-y to skip; without a terminal to ask on, they refuse unless -y).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_confirm(const char *what, tally_run *const *runs, size_t n, bool yes)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += runs[i] != NULL;
	if (!count) {
		fprintf(stderr, "No run matches; nothing changed.\n");
		return EXIT_NEGATIVE;
	}
	if (yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return cli_error("to %s %zu run%s, say yes with -y — there is no terminal to ask on", what, count,
		                 count == 1 ? "" : "s");
	fprintf(stderr, "You are about to %s %zu run%s:\n", what, count, count == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		if (runs[i])
			fprintf(stderr, "  %s  %s\n", tally_run_id(runs[i]), tally_run_label(runs[i]));
	if (cli_ask("Continue?"))
		return 0;
	fprintf(stderr, "Nothing changed.\n");
	return EXIT_NEGATIVE;
}

bool cli_ask(const char *question)
{
	fprintf(stderr, "%s [y/N] ", question);
	char answer[16] = "";
	if (!fgets(answer, sizeof answer, stdin))
		answer[0] = 0;
	answer[strcspn(answer, "\n")] = 0;
	return !strcasecmp(answer, "y") || !strcasecmp(answer, "yes");
}

int cli_change_runs(tally_store *store, cli_selection *sel, char *const *refs, size_t n, const cli_change *c,
                    size_t *done)
{
	tally_run **runs = NULL;
	size_t found = 0;
	*done = 0;
	int code = c->all_by_default ? cli_select_or_all(store, sel, refs, n, &runs, &found)
	                             : cli_select_runs(store, sel, refs, n, &runs, &found);
	if (!code)
		code = cli_confirm(c->verb, runs, found, c->yes);
	for (size_t i = 0; !code && i < found; i++)
		if (runs[i] && !(code = c->act(runs[i], c->ctx)))
			++*done;
	cli_free_runs(runs, found);
	return code;
}

/*
 * tally help — the list of commands, a command's help, and the topics
 * (query, run-format).  Like git help: where the man page is installed next
 * to this binary (BINDIR/../share/man), `tally help CMD` shows it with man;
 * otherwise the same text --help prints, which the man pages are made from.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "help-topics.h" /* docs/query.md, run-format.md and view.md, embedded by meson */
#include "util/buf.h"

static const struct {
	const char *name;
	const char *page;    /* its man page */
	const char *summary;
	const char *text;
} topics[] = {
	{"query", "tally-query.7", "the query language of --where and --sort", topic_query},
	{"run-format", "tally-run-format.5", "the files of a run directory and of the runs directory", topic_run_format},
	{"view-api", "tally-view-api.7", "tally view's pages and its JSON API (/api/...)", topic_view_api},
};

void cli_print_main_help(FILE *out)
{
	fprintf(out,
	        "usage: tally [--runs-dir DIR] COMMAND [ARGS…]\n"
	        "\n"
	        "Track, compare and tune machine-learning training runs.\n"
	        "\n"
	        "Commands:\n");
	for (size_t i = 0; i < cli_n_commands; i++)
		fprintf(out, "  %-11s  %s\n", cli_commands[i].name, cli_commands[i].summary);
	fprintf(out,
	        "\n"
	        "Runs live in ./runs unless --runs-dir, $TALLY_RUNS_DIR or `runs-dir:` in\n"
	        "tally.yml says otherwise.  `tally help COMMAND` or `tally COMMAND --help`\n"
	        "describes a command; `tally help query` the query language of --where and\n"
	        "--sort, `tally help run-format` the files of a run.\n"
	        "\n"
	        "Environment:\n"
	        "  TALLY_RUNS_DIR         the runs directory\n"
	        "  TALLY_INDEX_DIR        where to keep the index (default: in the runs\n"
	        "                         directory; ~/.cache/tally on network filesystems)\n"
	        "  TALLY_VERIFY_INTERVAL  seconds between passes that check every run for\n"
	        "                         changes made in place by hand, 2,000 runs per command\n"
	        "                         (default 60; 0 = every run, every command)\n"
	        "  TALLY_SLURM_POLL       seconds between a Slurm sweep's squeue calls\n"
	        "                         (default 2)\n"
	        "  TALLY_SLURM_TALLY      the tally program Slurm jobs run (default: this one)\n"
	        "  TALLY_TENSORBOARD_REFRESH  seconds between tally tensorboard's updates of\n"
	        "                         running runs' event files (default 5)\n");
}


/* The installed man page `page` (tally-run.1), or NULL: looked for next to this binary. */
static char *installed_man_page(const char *page)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	const char *section = strrchr(page, '.') + 1;
	static const char *const suffixes[] = {"", ".gz"}; /* Debian compresses them */
	tally_buf path = TALLY_BUF_INIT;
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		tally_buf_clear(&path);
		tally_buf_printf(&path, "%s/../share/man/man%s/%s%s", exe, section, page, suffixes[i]);
		if (access(path.ptr, R_OK) == 0)
			return tally_buf_detach(&path);
	}
	tally_buf_release(&path);
	return NULL;
}

/* Show `page` with man when it is installed; returns -1 when it is not (or man is missing). */
static int show_man_page(const char *page)
{
	char *path = installed_man_page(page);
	if (!path)
		return -1;
	fflush(stdout);
	char *argv[] = {(char *)"man", (char *)"-l", path, NULL};
	execvp("man", argv);
	free(path); /* no man: the text instead */
	return -1;
}

static void print_topics(FILE *out)
{
	fprintf(out, "\nTopics (tally help TOPIC):\n");
	for (size_t i = 0; i < sizeof topics / sizeof *topics; i++)
		fprintf(out, "  %-11s  %s\n", topics[i].name, topics[i].summary);
}

int cmd_help(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_print_main_help(stdout);
		print_topics(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return cli_error("help takes one command or topic, not '%s' too — see `tally help`", argv[2]);
	const char *what = argv[1];
	for (size_t i = 0; i < sizeof topics / sizeof *topics; i++) {
		if (strcmp(topics[i].name, what))
			continue;
		if (show_man_page(topics[i].page) < 0)
			fputs(topics[i].text, stdout);
		return EXIT_OK;
	}
	const cli_command *c = cli_find_command(what);
	if (!c)
		return cli_error("no command or topic '%s' — see `tally help`", what);
	tally_buf page = TALLY_BUF_INIT;
	tally_buf_printf(&page, "tally-%s.1", c->name);
	int shown = show_man_page(page.ptr);
	tally_buf_release(&page);
	if (shown < 0) {
		fputs(c->usage, stdout);
		if (c->usage_more)
			fputs(c->usage_more, stdout);
	}
	return EXIT_OK;
}

/*
 * tally — track, compare and tune machine-learning training runs.
 * The table of commands and the dispatcher.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-id.h"  /* the commit this binary was built from (meson vcs_tag) */
#include "cli/cli.h"

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
	{"run", cmd_run, "run a script as a tracked run"},
	{"runs", cmd_runs, "list runs, newest first"},
	{"tune", cmd_tune, "run a script over a search space (grid, random), trials in parallel"},
	{"sweeps", cmd_sweeps, "list the sweeps tally tune recorded"},
	{"show", cmd_show, "show everything recorded about a run"},
	{"compare", cmd_compare, "runs side by side: attributes, flags, scalars that differ"},
	{"diff", cmd_diff, "what changed between two runs: attributes, flags, sources, output"},
	{"report", cmd_report, "a self-contained HTML report of a run, or a comparison of runs"},
	{"scalars", cmd_scalars, "list the scalar points or summaries of runs"},
	{"plot", cmd_plot, "chart a scalar over steps in the terminal"},
	{"ls", cmd_ls, "list the files a run produced"},
	{"label", cmd_label, "set or clear the label of runs"},
	{"tag", cmd_tag, "add (+TAG) and remove (-TAG) tags of runs"},
	{"mark", cmd_mark, "mark runs"},
	{"unmark", cmd_unmark, "take the mark from runs"},
	{"comment", cmd_comment, "add, list and delete comments of runs"},
	{"lookup", cmd_lookup, "print one recorded value of a run, for scripts"},
	{"reproduce", cmd_reproduce, "print the steps to re-create a run, or (--run) re-run it"},
	{"delete", cmd_delete, "move runs into the archive (tally restore brings them back)"},
	{"restore", cmd_restore, "bring archived runs back"},
	{"purge", cmd_purge, "remove archived runs for good"},
	{"stop", cmd_stop, "stop running runs"},
	{"copy", cmd_copy, "copy runs, or the files they made, to a directory"},
	{"export", cmd_export, "write runs into a .tar.gz/.zip file or a directory"},
	{"import", cmd_import, "bring in runs from a file or directory tally export made"},
	{"cat", cmd_cat, "print the console output a run recorded"},
	{"tail", cmd_tail, "print the end of a run's output; -f follows it"},
	{"open", cmd_open, "open a run's directory with the desktop's opener"},
	{"watch", cmd_watch, "follow a running run: output and scalars per step"},
	{"flags", cmd_flags, "show the flags a script declares"},
	{"reindex", cmd_reindex, "rebuild the index from the run directories"},
};

#define N_COMMANDS (sizeof commands / sizeof *commands)

static void print_help(FILE *out)
{
	fprintf(out,
	        "usage: tally [--runs-dir DIR] COMMAND [ARGS…]\n"
	        "\n"
	        "Track, compare and tune machine-learning training runs.\n"
	        "\n"
	        "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	        "\n"
	        "Runs live in ./runs unless --runs-dir, $TALLY_RUNS_DIR or `runs-dir:` in\n"
	        "tally.yml says otherwise.  `tally help COMMAND` or `tally COMMAND --help`\n"
	        "describes a command.\n"
	        "\n"
	        "Environment:\n"
	        "  TALLY_RUNS_DIR         the runs directory\n"
	        "  TALLY_INDEX_DIR        where to keep the index (default: in the runs\n"
	        "                         directory; ~/.cache/tally on network filesystems)\n"
	        "  TALLY_VERIFY_INTERVAL  seconds between passes that check every run for\n"
	        "                         changes made in place by hand, 2,000 runs per command\n"
	        "                         (default 60; 0 = every run, every command)\n");
}

static const command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Make sure everything printed reached its destination (a full disk must fail loudly). */
static int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "tally: cannot write output: %s\n", strerror(errno));
		return code ? code : EXIT_FATAL;
	}
	return code;
}

/*
 * With stdin, stdout or stderr closed, the next file tally opens would get
 * that number, and the script's echoed output would land in it — in a run's
 * own metadata.  Park /dev/null on any of them that is closed.
 */
static void ensure_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
}

int main(int argc, char **argv)
{
	int i = 1;
	ensure_standard_fds();
	/* Global options before the command. */
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--runs-dir") && i + 1 < argc) {
			setenv("TALLY_RUNS_DIR", argv[i + 1], 1);
			i += 2;
		} else if (!strncmp(argv[i], "--runs-dir=", 11)) {
			setenv("TALLY_RUNS_DIR", argv[i] + 11, 1);
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			print_help(stdout);
			return finish_stdout(EXIT_OK);
		} else if (!strcmp(argv[i], "--version")) {
			printf("tally %s (commit %s)\n", tally_version(), TALLY_BUILD_ID);
			return finish_stdout(EXIT_OK);
		} else {
			fprintf(stderr, "tally: unknown option '%s'\n\n", argv[i]);
			print_help(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			print_help(stdout);
			return finish_stdout(EXIT_OK);
		}
		const command *c = find_command(argv[i + 1]);
		if (!c)
			return cli_error("unknown command '%s' — see `tally help`", argv[i + 1]);
		char *help_argv[] = {argv[i + 1], (char *)"--help", NULL};
		return finish_stdout(c->fn(2, help_argv));
	}
	const command *c = find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "tally: unknown command '%s' — see `tally help`\n", argv[i]);
		return EXIT_USAGE;
	}
	return finish_stdout(c->fn(argc - i, argv + i));
}

/*
 * tally — track, compare and tune machine-learning training runs.
 * The dispatcher: global options, then the command (commands.c has the table).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-id.h"  /* the commit this binary was built from (meson vcs_tag) */
#include "cli/cli.h"

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
			cli_print_main_help(stdout);
			return finish_stdout(EXIT_OK);
		} else if (!strcmp(argv[i], "--version")) {
			/* built outside a git work tree (a tarball), the build id is the version */
			if (strcmp(TALLY_BUILD_ID, tally_version()))
				printf("tally %s (commit %s)\n", tally_version(), TALLY_BUILD_ID);
			else
				printf("tally %s\n", tally_version());
			return finish_stdout(EXIT_OK);
		} else {
			fprintf(stderr, "tally: unknown option '%s'\n\n", argv[i]);
			cli_print_main_help(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help"))
		return finish_stdout(cmd_help(argc - i, argv + i));
	if (!strcmp(argv[i], "__commands")) { /* for scripts/gen-man.py */
		for (size_t k = 0; k < cli_n_commands; k++)
			printf("%s\t%s\n", cli_commands[k].name, cli_commands[k].summary);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[i], "__complete"))
		return finish_stdout(cmd_complete(argc - i, argv + i));
	if (!strcmp(argv[i], "slurm-task")) /* run by tally's Slurm jobs; not a command people type */
		return finish_stdout(cmd_slurm_task(argc - i, argv + i));
	const cli_command *c = cli_find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "tally: unknown command '%s' — see `tally help`\n", argv[i]);
		return EXIT_USAGE;
	}
	return finish_stdout(c->fn(argc - i, argv + i));
}

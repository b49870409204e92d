/*
 * What `tally run` and `tally tune` both take: options anywhere before "--",
 * the first bare word the script, NAME=VALUE words its flags, and after
 * "--" a command, untouched; and the options of a launch they share
 * (CLI_LAUNCH_OPTIONS: label, tags, comment, interpreter, flags file…).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_push_arg(const char ***list, size_t *n, const char *s)
{
	const char **grown = realloc(*list, (*n + 2) * sizeof *grown);
	if (!grown)
		return -1;
	grown[(*n)++] = s;
	grown[*n] = NULL;
	*list = grown;
	return 0;
}

/* A shared launch option: 1 taken, 0 not one of them, or the exit code. */
static int launch_option(cli_script_args *a, int c)
{
	tally_launch_options *l = a->launch;
	switch (c) {
	case 'l': l->label = optarg; return 1;
	case 't':
		if (cli_push_arg(&a->tags, &a->n_tags, optarg) < 0)
			return cli_error("out of memory");
		l->tags = a->tags;
		return 1;
	case 'c': l->comment = optarg; return 1;
	case 'i': l->interpreter = optarg; return 1;
	case 'f': l->flags_file = optarg; return 1;
	case CLI_OPT_FORCE_FLAGS: l->force_flags = 1; return 1;
	case CLI_OPT_NO_SYSMETRICS: l->no_system_metrics = 1; return 1;
	case CLI_OPT_RUNS_DIR: a->runs_dir = optarg; return 1;
	default: return 0;
	}
}

int cli_parse_script_args(cli_script_args *a, int argc, char **argv, const char *shortopts,
                          const struct option *longopts, const char *usage, int (*on_option)(int c, void *ctx),
                          void *ctx)
{
	/* Everything after "--" is the command, untouched by option parsing. */
	int dashdash = argc, code = 0, c;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dashdash = i;
			break;
		}
	optind = 1;
	opterr = 0;
	while (optind < dashdash && !code) {
		const char *arg = argv[optind];
		if (arg[0] != '-' || !arg[1]) { /* the script and its flags, anywhere among the options */
			optind++;
			if (strchr(arg, '=') || a->launch->script || dashdash < argc)
				code = cli_push_arg(&a->flags, &a->n_flags, arg) < 0 ? cli_error("out of memory") : 0;
			else
				a->launch->script = arg;
			continue;
		}
		if ((c = getopt_long(dashdash, argv, shortopts, longopts, NULL)) == -1)
			break;
		if (c == '?' || c == ':')
			return cli_usage_error(usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		code = launch_option(a, c);
		code = code == 1 ? 0 : code ? code : on_option(c, ctx);
	}
	if (code)
		return code;
	a->launch->flag_args = a->flags;
	if (dashdash < argc) {
		if (a->launch->script)
			return cli_usage_error(usage, "give either SCRIPT or -- COMMAND, not both");
		if (dashdash + 1 >= argc)
			return cli_usage_error(usage, "no command after '--'");
		a->launch->command = (const char *const *)argv + dashdash + 1;
	}
	for (size_t i = 0; i < a->n_flags; i++)
		if (!strchr(a->flags[i], '='))
			return cli_usage_error(usage, "'%s' is not a flag — write NAME=VALUE (one script at a time)",
			                       a->flags[i]);
	return 0;
}

void cli_script_args_release(cli_script_args *a)
{
	free(a->flags);
	free(a->tags);
	a->flags = a->tags = NULL;
	a->n_flags = a->n_tags = 0;
}

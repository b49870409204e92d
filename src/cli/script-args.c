/*
 * What `tally run` and `tally tune` both take: options anywhere before "--",
 * the first bare word the script, NAME=VALUE words its flags, and after
 * "--" a command, untouched; and the options of a launch they share
 * (CLI_LAUNCH_OPTIONS: label, tags, comment, interpreter, flags file…).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/suggest.h"

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

/* Whether `arg` ("--name" or "--name=value") is one of the command's own long options. */
static bool own_long_option(const struct option *longopts, const char *arg)
{
	size_t len = strcspn(arg + 2, "=");
	for (const struct option *o = longopts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, arg + 2, len))
			return true;
	return false;
}

/*
 * argv[*i] is "--NAME[=VALUE]", after the script, and no option of tally's:
 * what an argparse user types.  When the script declares NAME, it becomes
 * NAME=VALUE (the value from after '=' or the next word; a bool alone is
 * true); otherwise one line says what to write instead.  0 or the exit code.
 */
static int script_option_as_flag(cli_script_args *a, int end, char **argv, int *i)
{
	const char *arg = argv[*i], *name = arg + 2, *eq = strchr(name, '=');
	size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
	const char *value = eq ? eq + 1 : NULL;
	bool value_is_next = !eq && *i + 1 < end && strncmp(argv[*i + 1], "--", 2);
	char *json_text = NULL;
	json_t *flags = NULL, *decl = NULL;
	if (tally_describe_flags(a->launch->script, &json_text) == 0) {
		flags = json_loads(json_text, 0, NULL);
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(flags, "flags"), k, f) {
			const char *n = json_string_value(json_object_get(f, "name"));
			if (n && tally_same_flag_name(n, name, name_len))
				decl = f;
		}
	}
	free(json_text);
	int code = 0;
	tally_buf text = TALLY_BUF_INIT;
	const char *type = json_string_value(json_object_get(decl, "type"));
	bool is_bool = type && !strcmp(type, "bool") && !json_is_true(json_object_get(decl, "list"));
	if (is_bool)
		value_is_next = false; /* --fast is a switch: the next word is not its value */
	if (decl && !value && !value_is_next && !is_bool) {
		cli_error("flag '%s' needs a value: %s=VALUE", json_string_value(json_object_get(decl, "name")),
		          json_string_value(json_object_get(decl, "name")));
		code = EXIT_USAGE;
	} else if (decl) {
		const char *declared = json_string_value(json_object_get(decl, "name"));
		if (value || !value_is_next) {
			tally_buf_printf(&text, "%s=%s", declared, value ? value : "true"); /* a bool alone is true */
		} else if (json_is_true(json_object_get(decl, "list"))) {
			/* a list flag takes every word up to the next option or NAME=VALUE: --layers 128 64 */
			tally_buf_printf(&text, "%s=", declared);
			for (int k = 0; *i + 1 < end && strncmp(argv[*i + 1], "--", 2) && !strchr(argv[*i + 1], '='); k++)
				tally_buf_printf(&text, "%s%s", k ? " " : "", argv[++*i]);
		} else {
			tally_buf_printf(&text, "%s=%s", declared, argv[++*i]);
		}
		if (tally_buf_oom(&text) || tally_strlist_push(&a->made, text.ptr) < 0 ||
		    cli_push_arg(&a->flags, &a->n_flags, a->made.items[a->made.n - 1]) < 0)
			code = cli_error("out of memory");
	} else {
		tally_suggest s;
		char *word = strndup(name, name_len);
		tally_suggest_init(&s, word ? word : "");
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(flags, "flags"), k, f)
			tally_suggest_consider(&s, json_string_value(json_object_get(f, "name")));
		const char *best = tally_suggest_best(&s);
		const char *shown = value ? value : value_is_next ? argv[*i + 1] : "VALUE";
		if (best)
			cli_error("'%.*s' is no option of tally's, and %s has no flag '%.*s' — did you mean %s=%s?",
			                 (int)(name_len + 2), arg, a->launch->script, (int)name_len, name, best, shown);
		else
			cli_error("'%.*s' is no option of tally's — give the script's flags as NAME=VALUE (%.*s=%s), "
			                 "or its arguments untouched after -- COMMAND", (int)(name_len + 2), arg, (int)name_len,
			                 name, shown);
		code = EXIT_USAGE;
		free(word);
	}
	tally_buf_release(&text);
	json_decref(flags);
	return code;
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
		if (a->launch->script && dashdash == argc && !strncmp(arg, "--", 2) && arg[2] &&
		    !own_long_option(longopts, arg)) {
			code = script_option_as_flag(a, dashdash, argv, &optind);
			optind++;
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
	tally_strlist_release(&a->made);
	a->flags = a->tags = NULL;
	a->n_flags = a->n_tags = 0;
}

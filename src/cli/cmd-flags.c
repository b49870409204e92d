/* tally flags — the flags a script declares, as `tally run` will check them. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"

const char cmd_flags_usage[] =
	"usage: tally flags SCRIPT [--format table|json]\n"
	"\n"
	"Show the flags SCRIPT declares, with defaults, types, descriptions and\n"
	"constraints (like Guild's --help-op), and where `tally run` puts values.\n"
	"Found by reading the script, never by running it:\n"
	"\n"
	"  R        top-level assignments of one literal (`units <- 64`,\n"
	"           `act = \"relu\"`; the first assignment of a name wins), or\n"
	"           tfruns' flags(flag_numeric(\"lr\", 0.01, \"…\"), flag_integer, …)\n"
	"  Python   module-level assignments of literals (not names starting\n"
	"           with _), or argparse add_argument() / click.option() options\n"
	"  other    front matter only\n"
	"\n"
	"`#|` YAML comments directly above a flag annotate it: description, type,\n"
	"default, min, max, choices, required.  A `#|` block at the top of the\n"
	"script (after a #! line) is its front matter: flags-dest (args, globals,\n"
	"env, or a file such as flags.yml, flags.json, flags.R, flags.py written\n"
	"into the run), flags (a map that replaces detection), sourcecode (a list\n"
	"of exclude: GLOB / include: GLOB rules for the snapshot).  Results are\n"
	"cached by the script's content in ~/.cache/tally/flags.\n"
	"\n"
	"Options:\n"
	"  -f, --format table|json  table by default\n"
	"  -h, --help         show this help\n";

static const struct option options[] = {
	{"format", required_argument, NULL, 'f'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* A default as the script would write it: strings quoted. */
static void default_text(tally_buf *out, json_t *def)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	const char *text = json_string_value(json_object_get(def, "text"));
	if (!def) {
		tally_buf_adds(out, "-");
		return;
	}
	if (type && !strcmp(type, "string")) {
		cli_json_string(out, text ? text : "");
		return;
	}
	tally_buf_adds(out, text ? text : "null");
}

static void number_text(tally_buf *out, json_t *v)
{
	tally_buf_printf(out, "%.15g", json_number_value(v));
}

static void notes_text(tally_buf *out, json_t *flag)
{
	const char *desc = json_string_value(json_object_get(flag, "description"));
	json_t *min = json_object_get(flag, "min"), *max = json_object_get(flag, "max");
	json_t *choices = json_object_get(flag, "choices");
	if (desc)
		tally_buf_adds(out, desc);
	if (min || max) {
		tally_buf_adds(out, out->len ? "  " : "");
		tally_buf_adds(out, min && max ? "[" : min ? ">= " : "<= ");
		number_text(out, min ? min : max);
		if (min && max) {
			tally_buf_adds(out, " .. ");
			number_text(out, max);
			tally_buf_adds(out, "]");
		}
	}
	if (json_array_size(choices)) {
		tally_buf_adds(out, out->len ? "  one of " : "one of ");
		size_t i;
		json_t *c;
		json_array_foreach(choices, i, c) {
			const char *t = json_string_value(json_object_get(c, "text"));
			tally_buf_printf(out, "%s%s", i ? ", " : "", t ? t : "null");
		}
	}
	if (json_is_true(json_object_get(flag, "required")))
		tally_buf_adds(out, out->len ? "  (required)" : "(required)");
}

static const char *dest_text(const char *dest)
{
	if (!strcmp(dest, "args"))
		return "--NAME VALUE arguments";
	if (!strcmp(dest, "args="))
		return "--NAME=VALUE arguments (as tfruns parses them)";
	if (!strcmp(dest, "globals"))
		return "the literals in the run's copy of the script";
	if (!strcmp(dest, "env"))
		return "the environment only";
	return NULL;
}

static int print_table(json_t *o, const char *script)
{
	json_t *flags = json_object_get(o, "flags");
	const char *origin = json_string_value(json_object_get(o, "origin"));
	const char *dest = json_string_value(json_object_get(o, "dest"));
	if (!json_array_size(flags)) {
		printf("%s declares no flags: NAME=VALUE goes to it as --NAME VALUE and FLAG_NAME.\n", script);
		return EXIT_OK;
	}
	printf("Flags for %s (%s):\n", script, origin ? origin : "declared");
	size_t n = json_array_size(flags);
	tally_buf *defaults = calloc(n, sizeof *defaults), *notes = calloc(n, sizeof *notes);
	if (!defaults || !notes) {
		free(defaults);
		free(notes);
		return cli_error("out of memory");
	}
	int wname = 4, wdef = 7, wtype = 4;
	for (size_t i = 0; i < n; i++) { /* a list flag's type reads "int list" */
		json_t *f = json_array_get(flags, i);
		if (json_is_true(json_object_get(f, "list"))) {
			char list_type[64];
			snprintf(list_type, sizeof list_type, "%s list", json_string_value(json_object_get(f, "type")));
			json_object_set_new(f, "type", json_string(list_type));
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(flags, i);
		default_text(&defaults[i], json_object_get(f, "default"));
		notes_text(&notes[i], f);
		int w = cli_display_width(json_string_value(json_object_get(f, "name")));
		wname = w > wname ? w : wname;
		w = cli_display_width(defaults[i].ptr ? defaults[i].ptr : "");
		wdef = w > wdef ? w : wdef;
		w = (int)strlen(json_string_value(json_object_get(f, "type")));
		wtype = w > wtype ? w : wtype;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(flags, i);
		fputs("  ", stdout);
		cli_print_cell(stdout, json_string_value(json_object_get(f, "name")), wname, false);
		fputs("  ", stdout);
		cli_print_cell(stdout, defaults[i].ptr ? defaults[i].ptr : "", wdef, false);
		fputs("  ", stdout);
		bool last = !notes[i].len;
		cli_print_cell(stdout, json_string_value(json_object_get(f, "type")), last ? 0 : wtype, last);
		if (!last)
			printf("  %s", notes[i].ptr);
		fputc('\n', stdout);
		tally_buf_release(&defaults[i]);
		tally_buf_release(&notes[i]);
	}
	free(defaults);
	free(notes);
	const char *how = dest ? dest_text(dest) : NULL;
	if (how)
		printf("Values reach it as %s, and as FLAG_NAME variables.\n", how);
	else if (dest)
		printf("Values reach it in %s (written into the run), and as FLAG_NAME variables.\n", dest);
	return EXIT_OK;
}

int cmd_flags(int argc, char **argv)
{
	const char *format = "table";
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'h': fputs(cmd_flags_usage, stdout); return EXIT_OK;
		default: return cli_usage_error(cmd_flags_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return cli_usage_error(cmd_flags_usage, "unknown format '%s' (table or json)", format);
	if (optind >= argc)
		return cli_usage_error(cmd_flags_usage, "no script given");
	if (optind + 1 < argc)
		return cli_usage_error(cmd_flags_usage, "unexpected argument '%s'", argv[optind + 1]);
	const char *script = argv[optind];
	char *text = NULL;
	int rc = tally_describe_flags(script, &text);
	if (rc)
		return cli_lib_error(rc);
	int code = EXIT_OK;
	if (!strcmp(format, "json")) {
		printf("%s\n", text);
	} else {
		json_t *o = json_loads(text, 0, NULL);
		code = o ? print_table(o, script) : cli_error("out of memory");
		json_decref(o);
	}
	free(text);
	return code;
}

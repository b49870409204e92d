/* Unit tests: detecting flags in R and Python source, annotations, front matter, values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/flags/flagdefs.h"
#include "util/strlist.h"

static int detect(tally_script_flags *sf, const char *lang, const char *text)
{
	tally_script_flags empty = TALLY_SCRIPT_FLAGS_INIT;
	*sf = empty;
	sf->display = strdup("train");
	sf->language = lang ? strdup(lang) : NULL;
	int rc = 0;
	if (lang && !strcmp(lang, "R"))
		rc = tally__detect_r(sf, text, strlen(text));
	else if (lang)
		rc = tally__detect_python(sf, text, strlen(text));
	if (!rc)
		rc = tally__apply_annotations(sf, text, strlen(text));
	if (!rc && sf->n)
		sf->declared = true; /* as tally__script_flags_detect() does */
	return rc;
}

static const tally_flagdef *flag(const tally_script_flags *sf, const char *name)
{
	return tally__flagdef_find(sf, name);
}

/* The literal bytes detection recorded for `name`. */
static char *literal(const tally_script_flags *sf, const char *text, const char *name)
{
	const tally_flagdef *d = flag(sf, name);
	assert_non_null(d);
	return strndup(text + d->lit_off, d->lit_len);
}

static void r_globals(void **state)
{
	(void)state;
	const char *text =
		"#!/usr/bin/env Rscript\n"
		"library(keras)\n"
		"units <- 64\n"
		"dropout = 0.25  # a comment\n"
		"activation <- \"relu\"\n"
		"verbose <- TRUE\n"
		"offset <- -3L\n"
		"units <- 128          # a second assignment: the first wins\n"
		"s <- 'it''s'\n"
		"f <- function(x) {\n"
		"  inner <- 5\n"
		"}\n"
		"g <- function(y)\n"
		"  body <- 7\n"
		"total <- 1 +\n"
		"  2\n"
		"expr <- 3 * 4\n"
		"if (TRUE)\n"
		"  cond <- 1\n"
		"x <- c(1, 2)\n"
		"path <- r\"(C:\\dir)\"\n"
		"msg <- \"a # not a comment\"\n"
		"`odd name` <- 2.5e-3\n"
		"ml <- \"two\n"
		"lines\"\n"
		"lr <- 1e-3; momentum <- 0.9\n";
	tally_script_flags sf;
	assert_int_equal(detect(&sf, "R", text), 0);
	assert_string_equal(sf.origin, "globals");
	assert_int_equal(sf.dest, TALLY_DEST_GLOBALS);
	const tally_flagdef *d = flag(&sf, "units");
	assert_non_null(d);
	assert_int_equal(d->type, TALLY_FLAG_INT);
	assert_int_equal(d->def.i, 64);
	assert_int_equal(d->line, 3);
	char *lit = literal(&sf, text, "units");
	assert_string_equal(lit, "64");
	free(lit);
	assert_int_equal(flag(&sf, "dropout")->type, TALLY_FLAG_FLOAT);
	assert_string_equal(flag(&sf, "activation")->def.text, "relu");
	assert_int_equal(flag(&sf, "verbose")->type, TALLY_FLAG_BOOL);
	assert_true(flag(&sf, "verbose")->def.b);
	assert_int_equal(flag(&sf, "offset")->def.i, -3);
	assert_true(flag(&sf, "offset")->lit_r_integer);
	lit = literal(&sf, text, "offset");
	assert_string_equal(lit, "-3L");
	free(lit);
	assert_string_equal(flag(&sf, "path")->def.text, "C:\\dir");
	assert_string_equal(flag(&sf, "msg")->def.text, "a # not a comment");
	assert_non_null(flag(&sf, "odd name"));
	assert_non_null(flag(&sf, "lr"));
	assert_non_null(flag(&sf, "momentum"));
	/* not flags: function bodies, continuations, expressions, bodies of if, calls, multi-line strings */
	const char *not_flags[] = {"inner", "body", "total", "expr", "cond", "x", "ml", "f", "g", "s"};
	for (size_t i = 0; i < sizeof not_flags / sizeof *not_flags; i++)
		if (flag(&sf, not_flags[i]))
			fail_msg("%s should not be a flag", not_flags[i]);
	tally__script_flags_release(&sf);
}

static void r_tfruns(void **state)
{
	(void)state;
	const char *text =
		"library(tfruns)\n"
		"FLAGS <- flags(\n"
		"  flag_numeric(\"dropout1\", 0.4, \"Dropout rate\"),\n"
		"  flag_integer('units', 128),\n"
		"  flag_boolean(name = \"augment\", default = FALSE),\n"
		"  flag_string(\"optimizer\", description = \"which one\", default = \"adam\")\n"
		")\n"
		"epochs <- 30\n";
	tally_script_flags sf;
	assert_int_equal(detect(&sf, "R", text), 0);
	assert_string_equal(sf.origin, "tfruns flags()");
	assert_int_equal(sf.dest, TALLY_DEST_ARGS_EQ);
	assert_int_equal(sf.n, 4);
	assert_int_equal(flag(&sf, "dropout1")->type, TALLY_FLAG_FLOAT);
	assert_string_equal(flag(&sf, "dropout1")->description, "Dropout rate");
	assert_int_equal(flag(&sf, "units")->type, TALLY_FLAG_INT);
	assert_int_equal(flag(&sf, "units")->def.i, 128);
	assert_int_equal(flag(&sf, "augment")->type, TALLY_FLAG_BOOL);
	assert_false(flag(&sf, "augment")->def.b);
	assert_string_equal(flag(&sf, "optimizer")->def.text, "adam");
	assert_string_equal(flag(&sf, "optimizer")->description, "which one");
	assert_null(flag(&sf, "epochs")); /* tfruns scripts declare their flags */
	tally__script_flags_release(&sf);
}

static void python_globals(void **state)
{
	(void)state;
	const char *text =
		"import numpy as np\n"
		"lr = 0.01\n"
		"units: int = 64\n"
		"name = 'mlp'\n"
		"fast = True\n"
		"seed = None\n"
		"_private = 3\n"
		"big = 1_000_000\n"
		"neg = -2.5\n"
		"lr = 0.5  # the first wins\n"
		"doc = \"\"\"one line\"\"\"\n"
		"text = \"\"\"a\n"
		"b\"\"\"\n"
		"pair = 1, 2\n"
		"fs = f\"{lr}\"\n"
		"raw = b'bytes'\n"
		"expr = lr * 2\n"
		"joined = 'a' 'b'\n"
		"if True:\n"
		"    inside = 1\n"
		"def f():\n"
		"    local = 2\n"
		"x = (1 +\n"
		"     2)\n"
		"cmp == 3\n"
		"s = '# not a comment'\n"
		"if fast: pass; v = 9\n"
		"else: epochs = 10\n"
		"try: p = 1\n"
		"finally: q = 3\n"
		"a = 1; b = 2\n";
	tally_script_flags sf;
	assert_int_equal(detect(&sf, "Python", text), 0);
	assert_string_equal(sf.origin, "globals");
	assert_int_equal(flag(&sf, "lr")->type, TALLY_FLAG_FLOAT);
	char *lit = literal(&sf, text, "lr");
	assert_string_equal(lit, "0.01");
	free(lit);
	assert_int_equal(flag(&sf, "units")->type, TALLY_FLAG_INT);
	assert_int_equal(flag(&sf, "units")->line, 3);
	assert_string_equal(flag(&sf, "name")->def.text, "mlp");
	assert_true(flag(&sf, "fast")->def.b);
	assert_int_equal(flag(&sf, "seed")->def.type, TALLY_FLAG_NULL);
	assert_int_equal(flag(&sf, "big")->def.i, 1000000);
	assert_true(flag(&sf, "neg")->def.f == -2.5);
	assert_string_equal(flag(&sf, "doc")->def.text, "one line");
	assert_string_equal(flag(&sf, "s")->def.text, "# not a comment");
	const char *not_flags[] = {"_private", "text", "pair", "fs", "raw", "expr", "joined", "inside", "local", "x", "cmp",
	                           "v", "else", "epochs", "try", "p", "finally", "q"};
	assert_non_null(flag(&sf, "a"));
	assert_non_null(flag(&sf, "b"));
	for (size_t i = 0; i < sizeof not_flags / sizeof *not_flags; i++)
		if (flag(&sf, not_flags[i]))
			fail_msg("%s should not be a flag", not_flags[i]);
	tally__script_flags_release(&sf);
}

static void python_argparse_and_click(void **state)
{
	(void)state;
	const char *text =
		"import argparse\n"
		"lr_default = 0.1\n"
		"p = argparse.ArgumentParser()\n"
		"p.add_argument('--learning-rate', type=float, default=0.01, help='step size')\n"
		"p.add_argument(\"--units\", type=int, default=64, choices=[32, 64, 128])\n"
		"p.add_argument('--act', default='relu', choices=('relu', 'tanh'))\n"
		"p.add_argument('--fast', action='store_true')\n"
		"p.add_argument('-v', '--verbose', action='store_false', dest='quiet')\n"
		"p.add_argument('data')\n"
		"p.add_argument('--name', required=True)\n";
	tally_script_flags sf;
	assert_int_equal(detect(&sf, "Python", text), 0);
	assert_string_equal(sf.origin, "argparse");
	assert_int_equal(sf.dest, TALLY_DEST_ARGS);
	assert_null(flag(&sf, "lr_default"));
	assert_null(flag(&sf, "data"));
	const tally_flagdef *d = flag(&sf, "learning_rate");
	assert_non_null(d);
	assert_string_equal(d->option, "--learning-rate");
	assert_int_equal(d->type, TALLY_FLAG_FLOAT);
	assert_string_equal(d->description, "step size");
	d = flag(&sf, "units");
	assert_int_equal(d->n_choices, 3);
	assert_int_equal(flag(&sf, "act")->type, TALLY_FLAG_STRING);
	assert_int_equal(flag(&sf, "act")->n_choices, 2);
	assert_int_equal(flag(&sf, "fast")->arg_style, TALLY_ARG_STORE_TRUE);
	assert_false(flag(&sf, "fast")->def.b);
	assert_int_equal(flag(&sf, "quiet")->arg_style, TALLY_ARG_STORE_FALSE);
	assert_true(flag(&sf, "quiet")->def.b);
	assert_true(flag(&sf, "name")->required);
	tally__script_flags_release(&sf);

	const char *clicky =
		"import click\n"
		"@click.command()\n"
		"@click.option('--epochs', default=10, help='passes')\n"
		"@click.option('--shuffle/--no-shuffle', default=True)\n"
		"def main(epochs, shuffle):\n"
		"    pass\n";
	assert_int_equal(detect(&sf, "Python", clicky), 0);
	assert_string_equal(sf.origin, "click");
	assert_int_equal(flag(&sf, "epochs")->type, TALLY_FLAG_INT);
	assert_string_equal(flag(&sf, "shuffle")->option, "--shuffle");
	assert_string_equal(flag(&sf, "shuffle")->option_off, "--no-shuffle");
	assert_int_equal(flag(&sf, "shuffle")->arg_style, TALLY_ARG_SWITCH);
	/* the switch says false with its off option */
	tally_resolved_flags r;
	tally_flag_list given = {NULL, 0};
	tally_flag f;
	assert_int_equal(tally__flag_parse_assignment(&f, "shuffle=false"), 0);
	tally__flag_list_set(&given, &f);
	assert_int_equal(tally__flags_resolve(&r, &sf, NULL, &given, false), 0);
	tally_strlist argv = TALLY_STRLIST_INIT;
	assert_int_equal(tally__flags_to_args(&argv, &sf, &r), 0);
	/* the script's own defaults are not passed: click applies them itself */
	assert_int_equal(argv.n, 1);
	assert_string_equal(argv.items[0], "--no-shuffle");
	tally_strlist_release(&argv);
	tally__resolved_flags_release(&r);
	tally__flag_list_release(&given);
	tally__script_flags_release(&sf);

	assert_int_equal(detect(&sf, "Python",
	                        "import argparse\np = argparse.ArgumentParser()\n"
	                        "p.add_argument('--amp', action=argparse.BooleanOptionalAction, default=True)\n"), 0);
	assert_int_equal(flag(&sf, "amp")->arg_style, TALLY_ARG_SWITCH);
	assert_string_equal(flag(&sf, "amp")->option_off, "--no-amp");
	assert_int_equal(flag(&sf, "amp")->type, TALLY_FLAG_BOOL);
	tally__script_flags_release(&sf);
}

static void annotations_and_front_matter(void **state)
{
	(void)state;
	const char *text =
		"#!/usr/bin/env Rscript\n"
		"#| flags-dest: flags.yml\n"
		"#| sourcecode:\n"
		"#|   - exclude: '*.csv'\n"
		"\n"
		"#| description: size of first layer\n"
		"#| min: 16\n"
		"#| max: 256\n"
		"units <- 64\n"
		"#| choices: [relu, sigmoid, tanh]\n"
		"activation <- \"relu\"\n";
	tally_script_flags sf;
	assert_int_equal(detect(&sf, "R", text), 0);
	assert_int_equal(sf.dest, TALLY_DEST_FILE);
	assert_string_equal(sf.dest_file, "flags.yml");
	assert_int_equal(sf.src_exclude.n, 1);
	assert_string_equal(sf.src_exclude.items[0], "*.csv");
	const tally_flagdef *d = flag(&sf, "units");
	assert_string_equal(d->description, "size of first layer");
	assert_true(d->has_min && d->min == 16 && d->has_max && d->max == 256);
	assert_int_equal(flag(&sf, "activation")->n_choices, 3);
	tally__script_flags_release(&sf);

	/* a top block directly above a flag annotates it */
	assert_int_equal(detect(&sf, "Python", "#| description: rate\nlr = 0.1\n"), 0);
	assert_string_equal(flag(&sf, "lr")->description, "rate");
	assert_int_equal(sf.dest, TALLY_DEST_GLOBALS);
	tally__script_flags_release(&sf);

	/* an explicit flags: map replaces detection */
	assert_int_equal(detect(&sf, "Python",
	                        "#| flags:\n#|   lr: {default: 0.1, min: 0}\n#|   epochs: 5\n\nlr = 0.3\nother = 1\n"), 0);
	assert_string_equal(sf.origin, "front matter");
	assert_int_equal(sf.n, 2);
	assert_true(flag(&sf, "lr")->def.f == 0.1);
	assert_true(flag(&sf, "lr")->lit_len > 0); /* still rewritable */
	assert_int_equal(flag(&sf, "epochs")->def.i, 5);
	assert_null(flag(&sf, "other"));
	tally__script_flags_release(&sf);

	/* shell scripts: front matter only */
	assert_int_equal(detect(&sf, NULL, "#!/bin/sh\n#| flags:\n#|   n: 3\n#| flags-dest: env\necho $FLAG_N\n"), 0);
	assert_int_equal(sf.n, 1);
	assert_int_equal(sf.dest, TALLY_DEST_NONE);
	tally__script_flags_release(&sf);
}

static void bad_annotations_are_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *message;
	} cases[] = {
		{"#| min: [1\nx = 1\n", "train line 1: bad #| YAML"},
		{"#| colour: red\nx = 1\n", "unknown flag annotation 'colour'"},
		{"#| min: low\nx = 1\n", "min must be a number"},
		{"#| max: 5\nx = 10\n", "above its maximum 5"},
		{"#| choices: [a, b]\nx = 'c'\n", "not one of a, b"},
		{"#| type: complex\nx = 1\n", "type must be"},
		{"#| flags-dest: /etc/passwd\n\nx = 1\n", "flags-dest must be"},
		{"#| flags-dest: ../up.yml\n\nx = 1\n", "flags-dest must be"},
		{"#| wat: 1\n\nx = 1\n", "unknown key 'wat' — use flags-dest"},
		{"#| - a\n#| - b\n\nx = 1\n", "key: value"},
		{"#| output-scalars: ['x(']\n\nx = 1\n", "train line 1: output-scalars pattern 'x(' does not work: missing closing"},
		{"#| output-scalars: ['loss']\n\nx = 1\n", "does not work: it needs (\\key) and (\\value) groups"},
		{"#| output-scalars: [{step: 'Epoch'}]\n\nx = 1\n", "it needs a (\\step) group"},
		{"#| output-scalars: 5\n\nx = 1\n", "output-scalars must be off or a list"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tally_script_flags sf;
		int rc = detect(&sf, "Python", cases[i].text);
		if (rc != TALLY_EINVALID || !strstr(tally_error_last(), cases[i].message))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, tally_error_last());
		tally__script_flags_release(&sf);
	}
}

static tally_flag value(const char *text)
{
	tally_flag v;
	memset(&v, 0, sizeof v);
	assert_int_equal(tally__flag_parse_value(&v, text), 0);
	return v;
}

static void values_are_checked_and_coerced(void **state)
{
	(void)state;
	tally_script_flags sf;
	if (detect(&sf, "R", "#| min: 16\n#| max: 256\nunits <- 64\nlr <- 0.1\non <- TRUE\nact <- 'relu'\nn <- 5L\n"))
		fail_msg("%s", tally_error_last());
	tally_flagdef *units = tally__flagdef_find(&sf, "units");
	tally_flag v = value("1000");
	assert_int_equal(tally__flag_check(&v, units, "train.R"), TALLY_EINVALID);
	assert_string_equal(tally_error_last(), "flag units=1000 is above its maximum 256 (train.R line 3)");
	tally__flag_release(&v);
	v = value("1e2");
	if (tally__flag_check(&v, units, "train.R")) fail_msg("%s", tally_error_last());
	assert_int_equal(v.type, TALLY_FLAG_INT);
	assert_int_equal(v.i, 100);
	tally__flag_release(&v);
	/* `units <- 64` only suggests an int (R numbers are doubles): 20.5 is fine */
	v = value("20.5");
	assert_int_equal(tally__flag_check(&v, units, "train.R"), 0);
	assert_true(v.type == TALLY_FLAG_FLOAT && v.f == 20.5);
	tally__flag_release(&v);
	/* a declared integer (`n <- 5L`, #| type: int, tfruns flag_integer) is one */
	v = value("1.5");
	assert_int_equal(tally__flag_check(&v, tally__flagdef_find(&sf, "n"), "train.R"), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "flag n=1.5 is not an int (train.R line 7)"));
	tally__flag_release(&v);
	v = value("3");
	assert_int_equal(tally__flag_check(&v, tally__flagdef_find(&sf, "lr"), "train.R"), 0);
	assert_int_equal(v.type, TALLY_FLAG_FLOAT);
	tally__flag_release(&v);
	v = value("yes");
	assert_int_equal(tally__flag_check(&v, tally__flagdef_find(&sf, "on"), "train.R"), 0);
	assert_true(v.type == TALLY_FLAG_BOOL && v.b);
	tally__flag_release(&v);
	v = value("maybe");
	assert_int_equal(tally__flag_check(&v, tally__flagdef_find(&sf, "on"), "train.R"), TALLY_EINVALID);
	tally__flag_release(&v);
	v = value("007"); /* a string flag keeps the text as typed */
	assert_int_equal(tally__flag_check(&v, tally__flagdef_find(&sf, "act"), "train.R"), 0);
	assert_string_equal(v.text, "007");
	tally__flag_release(&v);

	/* precedence: defaults < file < command line; undeclared names are errors unless forced */
	tally_flag_list file = {NULL, 0}, given = {NULL, 0};
	tally_flag f;
	assert_int_equal(tally__flag_parse_assignment(&f, "units=32"), 0);
	tally__flag_list_set(&file, &f);
	assert_int_equal(tally__flag_parse_assignment(&f, "lr=0.5"), 0);
	tally__flag_list_set(&file, &f);
	assert_int_equal(tally__flag_parse_assignment(&f, "lr=0.2"), 0);
	tally__flag_list_set(&given, &f);
	tally_resolved_flags r;
	assert_int_equal(tally__flags_resolve(&r, &sf, &file, &given, false), 0);
	assert_int_equal(r.values.count, 5);
	assert_string_equal(r.values.items[0].name, "units");
	assert_int_equal(r.values.items[0].i, 32);
	assert_int_equal(r.origins[0], TALLY_FROM_FILE);
	assert_true(r.values.items[1].f == 0.2);
	assert_int_equal(r.origins[1], TALLY_FROM_COMMAND_LINE);
	assert_int_equal(r.origins[2], TALLY_FROM_DEFAULT);
	char *label = tally__flags_default_label(&r);
	assert_string_equal(label, "lr=0.2 units=32");
	free(label);
	tally__resolved_flags_release(&r);
	assert_int_equal(tally__flag_parse_assignment(&f, "nosuch=1"), 0);
	tally__flag_list_set(&given, &f);
	assert_int_equal(tally__flags_resolve(&r, &sf, &file, &given, false), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "has no flag 'nosuch'"));
	assert_int_equal(tally__flags_resolve(&r, &sf, &file, &given, true), 0);
	assert_int_equal(r.values.count, 6);
	tally__resolved_flags_release(&r);
	tally__flag_list_release(&file);
	tally__flag_list_release(&given);
	tally__script_flags_release(&sf);
}

static void literals_render_back(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		const char *python, *r;
	} cases[] = {
		{"0.1", "0.1", "0.1"},    {"3", "3", "3"},         {"1e-3", "0.001", "0.001"}, {"true", "True", "TRUE"},
		{"\"x\\\"y\"", "\"x\\\"y\"", "\"x\\\"y\""}, {"2.0", "2.0", "2"}, {"null", "None", "NULL"},
		{"'é'", "\"é\"", "\"é\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tally_flag v = value(cases[i].yaml);
		tally_buf py = TALLY_BUF_INIT, r = TALLY_BUF_INIT;
		tally__render_literal(&py, &v, true, NULL);
		tally__render_literal(&r, &v, false, NULL);
		if (strcmp(py.ptr, cases[i].python) || strcmp(r.ptr, cases[i].r))
			fail_msg("case %zu (%s): python %s, R %s", i, cases[i].yaml, py.ptr, r.ptr);
		/* and what was rendered reads back as the same value */
		tally_flag back;
		assert_true(tally__literal_value(&back, py.ptr, py.len, true) || v.type == TALLY_FLAG_NULL);
		if (v.type == TALLY_FLAG_STRING)
			assert_string_equal(back.text, v.text);
		tally__flag_release(&back);
		tally_buf_release(&py);
		tally_buf_release(&r);
		tally__flag_release(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(r_globals),
		cmocka_unit_test(r_tfruns),
		cmocka_unit_test(python_globals),
		cmocka_unit_test(python_argparse_and_click),
		cmocka_unit_test(annotations_and_front_matter),
		cmocka_unit_test(bad_annotations_are_errors),
		cmocka_unit_test(values_are_checked_and_coerced),
		cmocka_unit_test(literals_render_back),
	};
	return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}

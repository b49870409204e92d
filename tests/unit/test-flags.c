/* Unit tests: NAME=VALUE flags typed like YAML scalars. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/flags/flagdefs.h"
#include "lib/index/index.h"

static tally_flag parse_ok(const char *arg)
{
	tally_flag f;
	int rc = tally__flag_parse_assignment(&f, arg);
	if (rc)
		fail_msg("%s: %s", arg, tally_error_last());
	return f;
}

static void ints_floats_bools_strings(void **state)
{
	(void)state;
	tally_flag f = parse_ok("epochs=20");
	assert_int_equal(f.type, TALLY_FLAG_INT);
	assert_int_equal(f.i, 20);
	assert_string_equal(f.name, "epochs");
	tally__flag_release(&f);

	f = parse_ok("lr=1e-3");
	assert_int_equal(f.type, TALLY_FLAG_FLOAT);
	assert_true(fabs(f.f - 0.001) < 1e-12);
	assert_string_equal(f.text, "1e-3");
	tally__flag_release(&f);

	f = parse_ok("dropout=.5");
	assert_int_equal(f.type, TALLY_FLAG_FLOAT);
	tally__flag_release(&f);

	f = parse_ok("neg=-3");
	assert_int_equal(f.type, TALLY_FLAG_INT);
	assert_int_equal(f.i, -3);
	tally__flag_release(&f);

	f = parse_ok("shuffle=true");
	assert_int_equal(f.type, TALLY_FLAG_BOOL);
	assert_true(f.b);
	tally__flag_release(&f);

	f = parse_ok("shuffle=FALSE");
	assert_int_equal(f.type, TALLY_FLAG_BOOL);
	assert_false(f.b);
	tally__flag_release(&f);

	f = parse_ok("act=relu");
	assert_int_equal(f.type, TALLY_FLAG_STRING);
	assert_string_equal(f.text, "relu");
	tally__flag_release(&f);

	f = parse_ok("x=~");
	assert_int_equal(f.type, TALLY_FLAG_NULL);
	tally__flag_release(&f);
}

static void quoted_values_stay_strings(void **state)
{
	(void)state;
	tally_flag f = parse_ok("id=\"007\"");
	assert_int_equal(f.type, TALLY_FLAG_STRING);
	assert_string_equal(f.text, "007");
	tally__flag_release(&f);
	f = parse_ok("v='true'");
	assert_int_equal(f.type, TALLY_FLAG_STRING);
	assert_string_equal(f.text, "true");
	tally__flag_release(&f);
	f = parse_ok("empty=");
	assert_int_equal(f.type, TALLY_FLAG_STRING);
	assert_string_equal(f.text, "");
	tally__flag_release(&f);
	f = parse_ok("path=data/x y.csv");
	assert_string_equal(f.text, "data/x y.csv");
	tally__flag_release(&f);
	/* what YAML would take for a comment or an anchor is kept as typed */
	static const char *const as_typed[] = {"run #2", "#3", "&x", "a #b", " spaced #c "};
	for (size_t i = 0; i < sizeof as_typed / sizeof *as_typed; i++) {
		char arg[64];
		snprintf(arg, sizeof arg, "name=%s", as_typed[i]);
		f = parse_ok(arg);
		assert_int_equal(f.type, TALLY_FLAG_STRING);
		assert_string_equal(f.text, as_typed[i]);
		tally__flag_release(&f);
	}
	f = parse_ok("n= 5 ");
	assert_int_equal(f.type, TALLY_FLAG_INT);
	tally__flag_release(&f);
}

static void bad_assignments_are_errors(void **state)
{
	(void)state;
	tally_flag f;
	assert_int_equal(tally__flag_parse_assignment(&f, "novalue"), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "NAME=VALUE"));
	assert_int_equal(tally__flag_parse_assignment(&f, "=3"), TALLY_EINVALID);
	assert_int_equal(tally__flag_parse_assignment(&f, "9lives=3"), TALLY_EINVALID);
	assert_int_equal(tally__flag_parse_assignment(&f, "a b=3"), TALLY_EINVALID);
	assert_int_equal(tally__flag_parse_assignment(&f, "lr=[[0.01],[0.1]]"), TALLY_EINVALID); /* a list of lists */
	assert_int_equal(tally__flag_parse_assignment(&f, "lr=[]"), TALLY_EINVALID);
	assert_int_equal(tally__flag_parse_assignment(&f, "m={a: 1}"), TALLY_EINVALID);
	assert_int_equal(tally__flag_parse_assignment(&f, "q=\"unterminated"), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "flag q"));
}

/* A list value: parsed, typed element by element against a list flag, rendered for each destination. */
static void list_values(void **state)
{
	(void)state;
	tally_flag f;
	assert_int_equal(tally__flag_parse_assignment(&f, "layers=[128, 64, 'a,b']"), 0);
	assert_int_equal(f.type, TALLY_FLAG_LIST);
	assert_string_equal(f.text, "[128, 64, \"a,b\"]");
	json_t *j = tally__flag_to_json(&f);
	assert_int_equal(json_array_size(j), 3);
	assert_int_equal(json_integer_value(json_array_get(j, 0)), 128);
	json_decref(j);
	tally__flag_release(&f);

	tally_flagdef def = {.name = (char *)"layers", .type = TALLY_FLAG_INT, .type_declared = true, .list = true,
	                     .has_min = true, .min = 1};
	static const struct {
		const char *given, *want;
	} ok[] = {{"layers=[128,64]", "[128, 64]"}, {"layers=8 4 2", "[8, 4, 2]"}, {"layers=8,4", "[8, 4]"},
	          {"layers=7", "[7]"}, {"layers=[1e2]", "[100]"}};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		assert_int_equal(tally__flag_parse_assignment(&f, ok[i].given), 0);
		if (tally__flag_check(&f, &def, "t.py"))
			fail_msg("%s: %s", ok[i].given, tally_error_last());
		assert_int_equal(f.type, TALLY_FLAG_LIST);
		assert_string_equal(f.text, ok[i].want);
		tally__flag_release(&f);
	}
	static const char *const bad[] = {"layers=[1.5]", "layers=[0, 1]", "layers=8 x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(tally__flag_parse_assignment(&f, bad[i]), 0);
		assert_int_equal(tally__flag_check(&f, &def, "t.py"), TALLY_EINVALID);
		tally__flag_release(&f);
	}
	tally_flagdef single = {.name = (char *)"lr", .type = TALLY_FLAG_FLOAT, .type_declared = true};
	assert_int_equal(tally__flag_parse_assignment(&f, "lr=[0.1,0.2]"), 0);
	assert_int_equal(tally__flag_check(&f, &single, "t.py"), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "not a list"));
	tally__flag_release(&f);

	assert_int_equal(tally__flag_parse_assignment(&f, "layers=[128, 0.5, true, 'x']"), 0);
	tally_buf out = TALLY_BUF_INIT;
	tally__render_literal(&out, &f, true, NULL);
	assert_string_equal(out.ptr, "[128, 0.5, True, \"x\"]");
	tally_buf_clear(&out);
	tally__render_literal(&out, &f, false, NULL);
	assert_string_equal(out.ptr, "c(128, 0.5, TRUE, \"x\")");
	tally_buf_release(&out);
	tally__flag_release(&f);

	tally_flag_list grid;
	assert_int_equal(tally__flag_parse_list(&grid, "[[128, 64], [256], 3]"), 0); /* a sweep over lists */
	assert_int_equal(grid.count, 3);
	assert_int_equal(grid.items[0].type, TALLY_FLAG_LIST);
	assert_string_equal(grid.items[1].text, "[256]");
	assert_int_equal(grid.items[2].type, TALLY_FLAG_INT);
	tally__flag_list_release(&grid);
	assert_int_equal(tally__flag_parse_list(&grid, "[[[1]]]"), TALLY_EINVALID);
}

static void json_and_env_names(void **state)
{
	(void)state;
	tally_flag f = parse_ok("learning-rate=0.5");
	json_t *j = tally__flag_to_json(&f);
	assert_true(json_is_real(j));
	json_decref(j);
	char *env = tally__flag_env_name(f.name);
	assert_string_equal(env, "FLAG_LEARNING_RATE");
	free(env);
	tally__flag_release(&f);
	f = parse_ok("x=.inf");
	j = tally__flag_to_json(&f); /* JSON has no infinity: kept as text */
	assert_true(json_is_string(j));
	json_decref(j);
	tally__flag_release(&f);
}

static void list_set_replaces_same_name(void **state)
{
	(void)state;
	tally_flag_list list = {NULL, 0};
	tally_flag a = parse_ok("lr=1"), b = parse_ok("lr=2"), c = parse_ok("units=3");
	assert_int_equal(tally__flag_list_set(&list, &a), 0);
	assert_int_equal(tally__flag_list_set(&list, &b), 0);
	assert_int_equal(tally__flag_list_set(&list, &c), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.items[0].i, 2);
	tally__flag_list_release(&list);
}

static void commands_split_on_blanks_without_a_shell(void **state)
{
	(void)state;
	char **argv = tally__split_command("  /opt/venv/bin/python\t-X  dev ");
	assert_non_null(argv);
	assert_string_equal(argv[0], "/opt/venv/bin/python");
	assert_string_equal(argv[1], "-X");
	assert_string_equal(argv[2], "dev");
	assert_null(argv[3]);
	tally__argv_free(argv);
	assert_null(tally__split_command(" \t "));
	argv = tally__split_command("python3 $(rm -rf /)");
	assert_string_equal(argv[1], "$(rm"); /* words, never shell syntax */
	tally__argv_free(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ints_floats_bools_strings),
		cmocka_unit_test(quoted_values_stay_strings),
		cmocka_unit_test(bad_assignments_are_errors),
		cmocka_unit_test(list_values),
		cmocka_unit_test(json_and_env_names),
		cmocka_unit_test(list_set_replaces_same_name),
		cmocka_unit_test(commands_split_on_blanks_without_a_shell),
	};
	return cmocka_run_group_tests_name("flags", tests, NULL, NULL);
}

/* Unit tests: tally_buf, paths, times, suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/fsutil.h"
#include "util/suggest.h"
#include "util/timeutil.h"

static void buf_starts_empty_and_grows(void **state)
{
	(void)state;
	tally_buf b = TALLY_BUF_INIT;
	assert_string_equal(b.ptr, "");
	for (int i = 0; i < 1000; i++)
		tally_buf_printf(&b, "%d,", i);
	assert_int_equal(strncmp(b.ptr, "0,1,2,", 6), 0);
	assert_int_equal(b.len, strlen(b.ptr));
	tally_buf_truncate(&b, 2);
	assert_string_equal(b.ptr, "0,");
	char *s = tally_buf_detach(&b);
	assert_string_equal(s, "0,");
	assert_string_equal(b.ptr, "");
	free(s);
	tally_buf_release(&b);
}

static void buf_detach_of_empty_gives_string(void **state)
{
	(void)state;
	tally_buf b = TALLY_BUF_INIT;
	char *s = tally_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void buf_shell_quoting(void **state)
{
	(void)state;
	tally_buf b = TALLY_BUF_INIT;
	tally_buf_add_shell_quoted(&b, "plain-word_1.0");
	tally_buf_addc(&b, ' ');
	tally_buf_add_shell_quoted(&b, "it's $(rm -rf /)");
	assert_string_equal(b.ptr, "plain-word_1.0 'it'\\''s $(rm -rf /)'");
	tally_buf_release(&b);
}

static void path_absolute_normalizes(void **state)
{
	(void)state;
	char *p = tally_path_absolute("/a/./b/../c//d/");
	assert_string_equal(p, "/a/c/d");
	free(p);
	p = tally_path_absolute("/..");
	assert_string_equal(p, "/");
	free(p);
}

static void iso_time_round_trips(void **state)
{
	(void)state;
	char iso[40];
	tally_format_iso_ms(iso, sizeof iso, 1795474257123LL);
	assert_string_equal(iso, "2026-11-23T22:50:57.123Z");
	assert_int_equal(tally_parse_iso_ms(iso), 1795474257123LL);
	assert_int_equal(tally_parse_iso_ms("2026-11-23T22:50:57Z"), 1795474257000LL);
	assert_int_equal(tally_parse_iso_ms("garbage"), -1);
	assert_int_equal(tally_parse_iso_ms("2026-11-22T22:50:57.123"), -1);
}

static void durations_read_well(void **state)
{
	(void)state;
	char d[32];
	tally_format_duration(d, sizeof d, 850);
	assert_string_equal(d, "850 ms");
	tally_format_duration(d, sizeof d, 4200);
	assert_string_equal(d, "4.2 s");
	tally_format_duration(d, sizeof d, 185000);
	assert_string_equal(d, "3m 05s");
	tally_format_duration(d, sizeof d, 7260000);
	assert_string_equal(d, "2h 01m");
}

static void edit_distances(void **state)
{
	(void)state;
	assert_int_equal(tally_edit_distance("val_acc", "val_acc"), 0);
	assert_int_equal(tally_edit_distance("vall_acc", "val_acc"), 1);   /* an extra letter */
	assert_int_equal(tally_edit_distance("stauts", "status"), 1);      /* neighbours swapped */
	assert_int_equal(tally_edit_distance("unit", "units"), 1);
	assert_int_equal(tally_edit_distance("", "abc"), 3);
	assert_int_equal(tally_edit_distance("kitten", "sitting"), 3);
}

static void suggestions_are_near_enough_to_be_typos(void **state)
{
	(void)state;
	static const char *const names[] = {"loss", "val_loss", "val_acc", "lr", "units", "status"};
	tally_suggest s;
	tally_suggest_init(&s, "vall_acc");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		tally_suggest_consider(&s, names[i]);
	assert_string_equal(tally_suggest_best(&s), "val_acc");
	tally_suggest_init(&s, "lss");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		tally_suggest_consider(&s, names[i]);
	assert_string_equal(tally_suggest_best(&s), "loss");
	tally_suggest_init(&s, "zzzz"); /* nothing near: no suggestion */
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		tally_suggest_consider(&s, names[i]);
	assert_null(tally_suggest_best(&s));
	tally_suggest_init(&s, "lr"); /* the word itself is no suggestion */
	tally_suggest_consider(&s, "lr");
	assert_null(tally_suggest_best(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_starts_empty_and_grows),
		cmocka_unit_test(buf_detach_of_empty_gives_string),
		cmocka_unit_test(buf_shell_quoting),
		cmocka_unit_test(path_absolute_normalizes),
		cmocka_unit_test(iso_time_round_trips),
		cmocka_unit_test(durations_read_well),
		cmocka_unit_test(edit_distances),
		cmocka_unit_test(suggestions_are_near_enough_to_be_typos),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}

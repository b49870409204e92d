/* Unit tests: moving runs to the archive and back, removing them, names, export/import round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/index/index.h"
#include "util/fsutil.h"
#include "store-fixture.h"

static char *new_run(tally_store *store)
{
	tally_run_options opts = TALLY_RUN_OPTIONS_INIT;
	tally_run *run = NULL;
	assert_int_equal(tally_run_create(&run, store, &opts), 0);
	assert_int_equal(tally_log_scalar(run, "loss", 0.5, 1), 0);
	assert_int_equal(tally_run_finish(run, 0), 0);
	char *id = strdup(tally_run_id(run));
	tally_run_free(run);
	return id;
}

static size_t count(tally_store *store)
{
	tally_run_iter *it = NULL;
	const tally_run *run;
	size_t n = 0;
	assert_int_equal(tally_run_iter_new(&it, store, NULL), 0);
	while (tally_run_iter_next(it, &run) == 0)
		n++;
	tally_run_iter_free(it);
	return n;
}

static bool exists(const char *dir, const char *name)
{
	char *path = tally_path_join(dir, name);
	struct stat st;
	bool there = stat(path, &st) == 0;
	free(path);
	return there;
}

static void archive_restore_remove(void **state)
{
	tally_store *store = *state, *archive = NULL;
	char *a = new_run(store), *b = new_run(store);
	assert_int_equal(count(store), 2);
	assert_int_equal(tally_store_open_archive(&archive, store), 0);
	tally_run *run = NULL;
	assert_int_equal(tally_run_lookup(&run, store, a), 0);
	assert_int_equal(tally_run_move(run, archive), 0);
	assert_non_null(strstr(tally_run_dir(run), "/.archive/"));
	tally_run_free(run);
	/* both indexes follow without a scan of either directory */
	assert_int_equal(count(store), 1);
	assert_int_equal(count(archive), 1);
	assert_false(exists(tally_store_path(store), a));
	assert_int_equal(tally_run_lookup(&run, store, a), TALLY_ENOTFOUND);
	/* back */
	assert_int_equal(tally_run_lookup(&run, archive, a), 0);
	assert_int_equal(tally_run_move(run, store), 0);
	tally_run_free(run);
	assert_int_equal(count(store), 2);
	assert_int_equal(count(archive), 0);
	/* a clash is refused and changes nothing */
	assert_int_equal(tally_run_lookup(&run, store, b), 0);
	char *copy = tally_path_join(tally_store_path(archive), b);
	assert_int_equal(tally_mkdir_p(copy), 0);
	assert_int_equal(tally_run_move(run, archive), TALLY_EEXISTS);
	assert_true(exists(tally_store_path(store), b));
	/* removed for good: nothing left, not even the hidden name */
	assert_int_equal(tally_run_remove(run), 0);
	tally_run_free(run);
	assert_false(exists(tally_store_path(store), b));
	assert_int_equal(count(store), 1);
	free(copy);
	tally_store_free(archive);
	free(a);
	free(b);
}

static void live_runs_are_not_moved(void **state)
{
	tally_store *store = *state, *archive = NULL;
	tally_run_options opts = TALLY_RUN_OPTIONS_INIT;
	tally_run *live = NULL, *seen = NULL;
	assert_int_equal(tally_run_create(&live, store, &opts), 0);
	assert_int_equal(tally_store_open_archive(&archive, store), 0);
	assert_int_equal(tally_run_lookup(&seen, store, tally_run_id(live)), 0);
	assert_int_equal(tally_run_move(seen, archive), TALLY_ELOCKED);
	assert_int_equal(tally_run_remove(seen), TALLY_ELOCKED);
	assert_int_equal(tally_run_finish(live, 0), 0);
	assert_int_equal(tally_run_move(seen, archive), 0);
	tally_run_free(seen);
	tally_run_free(live);
	tally_store_free(archive);
}

static void run_names_are_checked(void **state)
{
	(void)state;
	const char *good[] = {"baseline", "exp-1.2_b@x+y", "a1", "2026-best"};
	const char *bad[] = {"", "a/b", "12", ".x", "-x", "a b", "a\tb", "a:b", "a,b", "a'b", "a*b", "résumé",
	                     "x;$(id)", "a\x1b[31m", "2026-11-24T06-28-54Z-w4s8gy"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		assert_int_equal(tally__check_run_name(good[i]), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(tally__check_run_name(bad[i]), TALLY_EINVALID);
	char long_name[200];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_int_equal(tally__check_run_name(long_name), TALLY_EINVALID);
}

static void export_import_round_trip(void **state)
{
	tally_store *store = *state, *other = NULL;
	char *id = new_run(store);
	tally_run *run = NULL;
	assert_int_equal(tally_run_lookup(&run, store, id), 0);
	char *parent = strdup(tally_store_path(store));
	*strrchr(parent, '/') = '\0';
	char *file = tally_path_join(parent, "out.tar.gz"), *other_dir = tally_path_join(parent, "other");
	size_t exported = 0, imported = 0;
	char *skipped = NULL;
	assert_int_equal(tally_export(&run, 1, file, &exported, &skipped), 0);
	assert_int_equal(exported, 1);
	assert_null(skipped);
	/* never over an existing file */
	assert_int_equal(tally_export(&run, 1, file, &exported, &skipped), TALLY_EEXISTS);
	assert_int_equal(tally_store_open(&other, other_dir), 0);
	assert_int_equal(tally_import(other, file, NULL, &imported, &skipped), 0);
	assert_int_equal(imported, 1);
	assert_int_equal(count(other), 1);
	tally_run *back = NULL;
	assert_int_equal(tally_run_lookup(&back, other, id), 0);
	assert_string_equal(tally_run_status(back), "completed");
	tally_run_free(back);
	/* again: the id is there, so it is skipped and said so */
	assert_int_equal(tally_import(other, file, NULL, &imported, &skipped), 0);
	assert_int_equal(imported, 0);
	assert_non_null(skipped);
	assert_non_null(strstr(skipped, id));
	free(skipped);
	/* a byte budget too small refuses the whole input */
	tally_import_options tight = TALLY_IMPORT_OPTIONS_INIT;
	tight.max_bytes = 10;
	tally_store *third = NULL;
	char *third_dir = tally_path_join(parent, "third");
	assert_int_equal(tally_store_open(&third, third_dir), 0);
	assert_int_equal(tally_import(third, file, &tight, &imported, &skipped), TALLY_EINVALID);
	assert_int_equal(count(third), 0);
	tally_store_free(third);
	tally_store_free(other);
	tally_run_free(run);
	free(third_dir);
	free(file);
	free(other_dir);
	free(parent);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(archive_restore_remove, make_store, free_store),
		cmocka_unit_test_setup_teardown(live_runs_are_not_moved, make_store, free_store),
		cmocka_unit_test(run_names_are_checked),
		cmocka_unit_test_setup_teardown(export_import_round_trip, make_store, free_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

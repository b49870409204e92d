/* Unit tests: the store, runs created through the C API, the index, lookups. */
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

static char *new_run(tally_store *store, const char *label, int finish)
{
	tally_run_options opts = TALLY_RUN_OPTIONS_INIT;
	const char *argv[] = {"train_c", "--lr", "0.1", NULL};
	opts.label = label;
	opts.argv = argv;
	opts.script = "train_c";
	tally_run *run = NULL;
	assert_int_equal(tally_run_create(&run, store, &opts), 0);
	assert_int_equal(tally_run_set_flag(run, "lr", "0.1"), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(tally_log_scalar(run, "loss", 1.0 / (i + 1), i), 0);
	if (finish)
		assert_int_equal(tally_run_finish(run, 0), 0);
	char *id = strdup(tally_run_id(run));
	tally_run_free(run);
	return id;
}

static size_t count_runs(tally_store *store, const char *want_status)
{
	tally_run_iter *it = NULL;
	const tally_run *run;
	size_t n = 0;
	assert_int_equal(tally_run_iter_new(&it, store, NULL), 0);
	while (tally_run_iter_next(it, &run) == 0)
		if (!want_status || !strcmp(tally_run_status(run), want_status))
			n++;
	tally_run_iter_free(it);
	return n;
}

static void c_api_run_is_listed_with_scalars(void **state)
{
	tally_store *store = *state;
	char *id = new_run(store, "first", 1);
	tally_run_iter *it = NULL;
	const tally_run *run;
	assert_int_equal(tally_run_iter_new(&it, store, NULL), 0);
	assert_int_equal(tally_run_iter_next(it, &run), 0);
	assert_string_equal(tally_run_id(run), id);
	assert_string_equal(tally_run_status(run), "completed");
	assert_string_equal(tally_run_label(run), "first");
	assert_string_equal(tally_run_flags_text(run), "lr=0.1");
	assert_non_null(strstr(tally_run_scalars_text(run), "loss=0.2"));
	assert_non_null(strstr(tally_run_scalars_json(run), "\"count\":5"));
	assert_int_equal(tally_run_exit_status(run), 0);
	assert_int_equal(tally_run_iter_next(it, &run), 1);
	tally_run_iter_free(it);
	free(id);
}

/* The three row shapes: compact (no JSON), details, summary only (id, dir, JSON). */
static void iterator_row_shapes(void **state)
{
	tally_store *store = *state;
	char *id = new_run(store, "shapes", 1);
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	tally_run_iter *it = NULL;
	const tally_run *run;
	for (int details = TALLY_ITER_COMPACT; details <= TALLY_ITER_SUMMARY_ONLY; details++) {
		for (int query = 0; query < 2; query++) { /* newest first, and rows fetched by a query */
			opts.details = details;
			opts.where = query ? "loss > 0" : NULL;
			assert_int_equal(tally_run_iter_new(&it, store, &opts), 0);
			assert_int_equal(tally_run_iter_next(it, &run), 0);
			assert_string_equal(tally_run_id(run), id);
			assert_non_null(strstr(tally_run_dir(run), id));
			bool has_summary = strstr(tally_run_summary_json(run), "\"label\":\"shapes\"") != NULL;
			assert_int_equal(has_summary, details != TALLY_ITER_COMPACT);
			assert_string_equal(tally_run_label(run), details == TALLY_ITER_SUMMARY_ONLY ? "" : "shapes");
			assert_int_equal(tally_run_iter_next(it, &run), 1);
			tally_run_iter_free(it);
		}
	}
	opts.where = NULL;
	opts.details = 3;
	assert_int_equal(tally_run_iter_new(&it, store, &opts), TALLY_EINVALID);
	assert_null(it);
	free(id);
}

static void lookup_by_index_prefix_suffix_and_path(void **state)
{
	tally_store *store = *state;
	char *older = new_run(store, "a", 1);
	char *newer = new_run(store, "b", 1);
	tally_run *run = NULL;
	assert_int_equal(tally_run_lookup(&run, store, "1"), 0);
	assert_string_equal(tally_run_id(run), newer);
	tally_run_free(run);
	assert_int_equal(tally_run_lookup(&run, store, "2"), 0);
	assert_string_equal(tally_run_id(run), older);
	tally_run_free(run);
	assert_int_equal(tally_run_lookup(&run, store, "3"), TALLY_ENOTFOUND);
	assert_non_null(strstr(tally_error_last(), "2 runs"));
	/* the random suffix alone */
	assert_int_equal(tally_run_lookup(&run, store, older + 21), 0);
	assert_string_equal(tally_run_id(run), older);
	char *dir = strdup(tally_run_dir(run));
	tally_run_free(run);
	assert_int_equal(tally_run_lookup(&run, store, dir), 0);
	assert_string_equal(tally_run_id(run), older);
	tally_run_free(run);
	/* both ids start with the year: ambiguous, and the message lists them
	 * (a bare number is an index, so the prefix includes the dash) */
	char year[6];
	memcpy(year, older, 5);
	year[5] = '\0';
	assert_int_equal(tally_run_lookup(&run, store, year), TALLY_EAMBIGUOUS);
	assert_non_null(strstr(tally_error_last(), older));
	assert_non_null(strstr(tally_error_last(), newer));
	assert_int_equal(tally_run_lookup(&run, store, "zzzzzz"), TALLY_ENOTFOUND);
	assert_int_equal(tally_run_lookup(&run, store, "0"), TALLY_EINVALID);
	free(dir);
	free(older);
	free(newer);
}

static void corrupt_metadata_is_skipped_and_reported(void **state)
{
	tally_store *store = *state;
	char *good = new_run(store, "good", 1);
	char *bad = new_run(store, "bad", 1);
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/%s/.tally/run.json", tally_store_path(store), bad);
	assert_int_equal(tally_write_file_atomic(path.ptr, "{\"id\": \"x\", \"sta", 16, 0), 0);
	size_t skipped = 0;
	assert_int_equal(tally_store_sync(store, 1, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_non_null(strstr(tally_store_warnings(store), bad));
	assert_int_equal(count_runs(store, NULL), 1);
	tally_buf_release(&path);
	free(good);
	free(bad);
}

static void lost_supervisor_reads_as_terminated(void **state)
{
	tally_store *store = *state;
	char *id = new_run(store, "orphan", 0); /* freed without finishing: the lock is released */
	assert_int_equal(count_runs(store, "terminated"), 1);
	tally_run *run = NULL;
	assert_int_equal(tally_run_lookup(&run, store, id), 0);
	assert_string_equal(tally_run_status(run), "terminated");
	assert_non_null(strstr(tally_run_json(run), "stop_reason"));
	tally_run_free(run);
	free(id);
}

static void live_run_reads_as_running(void **state)
{
	tally_store *store = *state;
	tally_run *live = NULL;
	assert_int_equal(tally_run_create(&live, store, NULL), 0);
	assert_int_equal(count_runs(store, "running"), 1);
	assert_int_equal(tally_run_finish(live, 3), 0);
	assert_int_equal(count_runs(store, "error"), 1);
	tally_run_free(live);
}

static void index_notices_copies_removals_and_loss(void **state)
{
	tally_store *store = *state;
	char *id = new_run(store, "x", 1);
	assert_int_equal(count_runs(store, NULL), 1);
	/* a run directory copied in by hand */
	tally_buf from = TALLY_BUF_INIT, to = TALLY_BUF_INIT;
	tally_buf_printf(&from, "%s/%s", tally_store_path(store), id);
	tally_buf_printf(&to, "%s/copied-run", tally_store_path(store));
	assert_int_equal(tally_mkdir_p(to.ptr), 0);
	tally_buf_adds(&to, "/.tally");
	assert_int_equal(tally_mkdir_p(to.ptr), 0);
	tally_buf_adds(&to, "/run.json");
	tally_buf_adds(&from, "/.tally/run.json");
	assert_int_equal(tally_copy_file(from.ptr, to.ptr), 0);
	assert_int_equal(count_runs(store, NULL), 2);
	/* removed by hand */
	tally_buf_truncate(&to, to.len - strlen("/.tally/run.json"));
	assert_int_equal(tally_remove_tree(to.ptr), 0);
	assert_int_equal(count_runs(store, NULL), 1);
	/* the index deleted: rebuilt */
	unlink(tally_store_index_path(store));
	tally_store *again = NULL;
	assert_int_equal(tally_store_open(&again, tally_store_path(store)), 0);
	assert_int_equal(count_runs(again, NULL), 1);
	tally_store_free(again);
	tally_buf_release(&from);
	tally_buf_release(&to);
	free(id);
}

static void id_suffixes_never_read_as_numbers(void **state)
{
	tally_store *store = *state;
	for (int i = 0; i < 200; i++) {
		char id[TALLY_ID_MAX];
		char *dir = NULL;
		assert_int_equal(tally__store_new_run_dir(store, id, &dir), 0);
		assert_int_equal(strlen(id), 27);
		assert_true(id[21] >= 'a' && id[21] <= 'z');
		assert_null(strpbrk(id + 21, "ilou"));
		tally_remove_tree(dir);
		free(dir);
	}
}

static void memos_last_until_a_run_changes(void **state)
{
	tally_store *store = *state;
	char *id = new_run(store, "a", 1);
	tally_run_iter *it = NULL;
	char *memo = NULL;
	assert_int_equal(tally_run_iter_new(&it, store, NULL), 0);
	assert_int_equal(tally_run_iter_memo_get(it, "k", &memo), 1);
	tally_run_iter_memo_put(it, "k", "widths 1 2 3");
	tally_run_iter_free(it);
	/* nothing changed: handed back */
	assert_int_equal(tally_run_iter_new(&it, store, NULL), 0);
	assert_int_equal(tally_run_iter_memo_get(it, "k", &memo), 0);
	assert_string_equal(memo, "widths 1 2 3");
	free(memo);
	assert_int_equal(tally_run_iter_memo_get(it, "other", &memo), 1);
	tally_run_iter_free(it);
	/* a new run: stale */
	char *id2 = new_run(store, "b", 1);
	assert_int_equal(tally_run_iter_new(&it, store, NULL), 0);
	assert_int_equal(tally_run_iter_memo_get(it, "k", &memo), 1);
	assert_null(memo);
	tally_run_iter_free(it);
	free(id);
	free(id2);
}

static size_t column_named(const tally_table *t, const char *name)
{
	for (size_t c = 0; c < tally_table_columns(t); c++)
		if (!strcmp(tally_table_column_name(t, c), name))
			return c;
	fail_msg("no column %s", name);
	return 0;
}

/* A run with flags of each type and two scalars, through the C API. */
static char *typed_run(tally_store *store, const char *lr, const char *units, const char *tag)
{
	tally_run_options opts = TALLY_RUN_OPTIONS_INIT;
	opts.script = "train.R";
	tally_run *run = NULL;
	assert_int_equal(tally_run_create(&run, store, &opts), 0);
	assert_int_equal(tally_run_set_flag(run, "lr", lr), 0);
	assert_int_equal(tally_run_set_flag(run, "units", units), 0);
	assert_int_equal(tally_run_set_flag(run, "fast", "true"), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tally_log_scalar(run, "val_loss", 1.0 / (i + 1), i), 0);
	assert_int_equal(tally_log_scalar(run, "loss", 0.25, 0), 0);
	if (tag) {
		const char *tags[] = {tag, NULL};
		assert_int_equal(tally_run_change_tags(run, tags, NULL), 0);
	}
	assert_int_equal(tally_run_finish(run, 0), 0);
	char *id = strdup(tally_run_id(run));
	tally_run_free(run);
	return id;
}

/* Runs as typed columns from the index, in the iterator's order. */
static void table_of_runs_has_typed_columns(void **state)
{
	tally_store *store = *state;
	char *first = typed_run(store, "0.1", "64", "best");
	char *second = typed_run(store, "0.2", "wide", NULL); /* units: a number, then text */
	tally_table *t = NULL;
	assert_int_equal(tally_table_new(&t, store, NULL), 0);
	assert_int_equal(tally_table_rows(t), 2);
	assert_string_equal(tally_table_text(t, column_named(t, "id"), 0), second); /* newest first */
	assert_string_equal(tally_table_text(t, column_named(t, "id"), 1), first);
	size_t lr = column_named(t, "flag_lr"), units = column_named(t, "flag_units"), fast = column_named(t, "flag_fast");
	assert_int_equal(tally_table_column_type(t, lr), TALLY_COLUMN_NUMBER);
	assert_true(tally_table_number(t, lr, 1) == 0.1);
	assert_int_equal(tally_table_column_type(t, units), TALLY_COLUMN_TEXT);
	assert_string_equal(tally_table_text(t, units, 1), "64");
	assert_string_equal(tally_table_text(t, units, 0), "wide");
	assert_int_equal(tally_table_column_type(t, fast), TALLY_COLUMN_BOOL);
	assert_true(tally_table_number(t, fast, 0) == 1);
	size_t val_loss = column_named(t, "scalar_val_loss");
	assert_true(tally_table_number(t, val_loss, 0) > 0.33 && tally_table_number(t, val_loss, 0) < 0.34);
	assert_int_equal(tally_table_number(t, column_named(t, "epochs_completed"), 0), 3);
	assert_int_equal(tally_table_column_type(t, column_named(t, "started")), TALLY_COLUMN_TIME);
	assert_true(tally_table_number(t, column_named(t, "started"), 0) > 1.7e12);
	size_t tags = column_named(t, "tags");
	assert_string_equal(tally_table_text(t, tags, 1), "best");
	assert_false(tally_table_has(t, tags, 0));
	assert_null(tally_table_text(t, tags, 0));
	/* flags before scalars, each by name */
	assert_true(column_named(t, "flag_fast") < column_named(t, "flag_lr"));
	assert_true(column_named(t, "flag_units") < column_named(t, "scalar_loss"));
	tally_table_free(t);
	/* the iterator's query, sort and limit */
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.where = "lr < 0.15";
	assert_int_equal(tally_table_new(&t, store, &opts), 0);
	assert_int_equal(tally_table_rows(t), 1);
	assert_string_equal(tally_table_text(t, 0, 0), first);
	assert_int_equal(tally_table_column_type(t, column_named(t, "flag_units")), TALLY_COLUMN_INTEGER);
	tally_table_free(t);
	opts.where = "lr <";
	assert_int_equal(tally_table_new(&t, store, &opts), TALLY_EINVALID);
	assert_null(t);
	free(first);
	free(second);
}

/* The table of runs at hand (their directories) holds what the index's table holds. */
static void table_of_runs_matches_the_index(void **state)
{
	tally_store *store = *state;
	char *ids[2] = {typed_run(store, "0.1", "64", "best"), typed_run(store, "0.2", "wide", NULL)};
	tally_table *from_index = NULL, *from_runs = NULL;
	assert_int_equal(tally_table_new(&from_index, store, NULL), 0);
	tally_run *runs[2] = {NULL, NULL};
	for (size_t r = 0; r < 2; r++) {
		const char *id = tally_table_text(from_index, column_named(from_index, "id"), r);
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s", tally_store_path(store), id);
		assert_int_equal(tally_run_lookup(&runs[r], store, dir), 0);
	}
	assert_int_equal(tally_table_of_runs(&from_runs, runs, 2), 0);
	assert_int_equal(tally_table_columns(from_runs), tally_table_columns(from_index));
	for (size_t c = 0; c < tally_table_columns(from_index); c++) {
		const char *name = tally_table_column_name(from_index, c);
		assert_string_equal(tally_table_column_name(from_runs, c), name);
		assert_int_equal(tally_table_column_type(from_runs, c), tally_table_column_type(from_index, c));
		for (size_t r = 0; r < 2; r++) {
			assert_int_equal(tally_table_has(from_runs, c, r), tally_table_has(from_index, c, r));
			assert_true(tally_table_number(from_runs, c, r) == tally_table_number(from_index, c, r));
			const char *a = tally_table_text(from_runs, c, r), *b = tally_table_text(from_index, c, r);
			assert_true((!a && !b) || (a && b && !strcmp(a, b)));
		}
	}
	tally_table_free(from_runs);
	tally_table *t = NULL;
	tally_run *none[1] = {NULL};
	assert_int_equal(tally_table_of_runs(&t, none, 1), TALLY_EINVALID);
	assert_null(t);
	tally_table_free(from_index);
	for (size_t r = 0; r < 2; r++) {
		tally_run_free(runs[r]);
		free(ids[r]);
	}
}

/* Many rows: the flags, scalars and tags come from one pass over each table, rows found by rid. */
static void table_of_many_runs_reads_whole_tables(void **state)
{
	tally_store *store = *state;
	enum { N = 80 }; /* more than the 64 rows read by a seek each */
	for (int i = 0; i < N; i++) {
		char lr[16];
		snprintf(lr, sizeof lr, "%d", i);
		free(typed_run(store, lr, "64", i == 7 ? "seventh" : NULL));
	}
	tally_table *t = NULL;
	assert_int_equal(tally_table_new(&t, store, NULL), 0);
	assert_int_equal(tally_table_rows(t), N);
	size_t lr = column_named(t, "flag_lr"), tags = column_named(t, "tags");
	assert_int_equal(tally_table_column_type(t, lr), TALLY_COLUMN_INTEGER);
	/* each row's cells are its own run's (runs made within a millisecond may come in any order) */
	unsigned char seen[N] = {0};
	for (size_t row = 0; row < N; row++) {
		int i = (int)tally_table_number(t, lr, row);
		assert_true(i >= 0 && i < N && !seen[i]);
		seen[i] = 1;
		assert_int_equal(tally_table_has(t, tags, row), i == 7);
	}
	assert_int_equal(tally_table_number(t, column_named(t, "epochs_completed"), N - 1), 3);
	/* whole columns at once hold what the cells hold */
	double values[N];
	unsigned char has[N];
	const char *texts[N];
	assert_int_equal(tally_table_column_numbers(t, lr, values, has), 0);
	assert_int_equal(tally_table_column_texts(t, tags, texts), 0);
	for (size_t row = 0; row < N; row++) {
		assert_true(values[row] == tally_table_number(t, lr, row) && has[row] == 1);
		assert_ptr_equal(texts[row], tally_table_text(t, tags, row));
	}
	assert_int_equal(tally_table_column_numbers(t, 999, values, has), TALLY_EINVALID);
	tally_table_free(t);
}

/* Completion reads the index as it is: names by prefix, runs by their id's random part. */
static void completion_candidates_from_the_index(void **state)
{
	tally_store *store = *state;
	tally_completion *c = NULL;
	size_t n = 99;
	assert_int_equal(tally_store_complete(store, TALLY_COMPLETE_FLAGS, "", 10, &c, &n), 0);
	assert_int_equal(n, 0); /* no index yet: nothing, and none made */
	assert_int_equal(access(tally_store_index_path(store), F_OK), -1);
	char *id = typed_run(store, "0.1", "64", "best");
	char *other = typed_run(store, "0.2", "32", "baseline");
	assert_int_equal(tally_store_sync(store, 0, NULL), 0);
	assert_int_equal(tally_store_complete(store, TALLY_COMPLETE_FLAGS, "", 10, &c, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(c[0].value, "fast");
	assert_string_equal(c[1].value, "lr");
	assert_string_equal(c[2].value, "units");
	tally_completions_free(c, n);
	assert_int_equal(tally_store_complete(store, TALLY_COMPLETE_SCALARS, "val", 10, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].value, "val_loss");
	tally_completions_free(c, n);
	assert_int_equal(tally_store_complete(store, TALLY_COMPLETE_TAGS, "b", 1, &c, &n), 0);
	assert_int_equal(n, 1); /* at most max */
	tally_completions_free(c, n);
	const char *suffix = tally_run_id_short(id);
	char prefix[4] = {suffix[0], suffix[1], suffix[2], 0};
	assert_int_equal(tally_store_complete(store, TALLY_COMPLETE_RUNS, prefix, 10, &c, &n), 0);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(c[i].value, suffix);
	assert_true(found);
	tally_completions_free(c, n);
	assert_int_equal(tally_store_complete(store, TALLY_COMPLETE_RUNS, "1", 10, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].value, "1");
	assert_non_null(strstr(c[0].description, tally_run_id_short(other)));
	tally_completions_free(c, n);
	free(id);
	free(other);
}

/* ---- the output and its index (run/output.c) ---- */

typedef struct {
	tally_buf text;
	size_t chunks, stderr_bytes;
	int64_t first_time;
} seen_output;

static int see_output(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	seen_output *s = ctx;
	if (!s->chunks++)
		s->first_time = time_ms;
	tally_buf_add(&s->text, data, len);
	if (stream == TALLY_STREAM_STDERR)
		s->stderr_bytes += len;
	return 0;
}

/* Many chunks (several 4 KiB index blocks), a second writer appending to the packed
 * index, and reading from offsets in the middle: the bytes, streams and times come back. */
static void output_index_reopened_and_read_from_offsets(void **state)
{
	(void)state;
	char dir[] = "/tmp/tally-unit-output-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *meta = tally_path_join(dir, ".tally");
	assert_int_equal(mkdir(meta, 0777), 0);
	tally_buf want = TALLY_BUF_INIT;
	size_t want_stderr = 0;
	for (int writer = 0; writer < 2; writer++) {
		tally_output *o;
		assert_int_equal(tally__output_open(&o, dir, NULL, NULL), 0);
		for (int i = writer * 3000; i < 3000 + writer * 500; i++) {
			char line[64];
			int n = snprintf(line, sizeof line, "line %d\n", i);
			int stream = i % 3 == 0 ? TALLY_STREAM_STDERR : TALLY_STREAM_STDOUT;
			assert_int_equal(tally__output_chunk(o, stream, line, (size_t)n, 1700000000000 + i), 0);
			tally_buf_add(&want, line, (size_t)n);
			want_stderr += stream == TALLY_STREAM_STDERR ? (size_t)n : 0;
		}
		assert_int_equal(tally__output_close(o), 0);
	}
	seen_output all = {TALLY_BUF_INIT, 0, 0, 0};
	assert_int_equal(tally__output_read(dir, 3, see_output, &all), 0);
	assert_int_equal(all.text.len, want.len);
	assert_memory_equal(all.text.ptr, want.ptr, want.len);
	assert_int_equal(all.chunks, 3500);
	assert_int_equal(all.stderr_bytes, want_stderr);
	/* from a line in the middle (its chunk's own time), and only stderr from there */
	const char *mid = strstr(want.ptr, "line 2001\n");
	uint64_t from = (uint64_t)(mid - want.ptr), size = 0;
	seen_output part = {TALLY_BUF_INIT, 0, 0, 0};
	assert_int_equal(tally__output_read_range(dir, 3, from, UINT64_MAX, see_output, &part, &size), 0);
	assert_int_equal(size, want.len);
	assert_int_equal(part.text.len, want.len - from);
	assert_memory_equal(part.text.ptr, mid, part.text.len);
	assert_int_equal(part.first_time, 1700000000000 + 2001);
	seen_output errs = {TALLY_BUF_INIT, 0, 0, 0};
	assert_int_equal(tally__output_read_range(dir, 1 << TALLY_STREAM_STDERR, from, UINT64_MAX, see_output, &errs, NULL), 0);
	assert_true(errs.text.len > 0 && !strncmp(errs.text.ptr, "line 2001\n", 10));
	assert_int_equal(errs.stderr_bytes, errs.text.len);
	tally_buf_release(&want);
	tally_buf_release(&all.text);
	tally_buf_release(&part.text);
	tally_buf_release(&errs.text);
	tally_remove_tree(dir);
	free(meta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(c_api_run_is_listed_with_scalars, make_store, free_store),
		cmocka_unit_test_setup_teardown(iterator_row_shapes, make_store, free_store),
		cmocka_unit_test_setup_teardown(lookup_by_index_prefix_suffix_and_path, make_store, free_store),
		cmocka_unit_test_setup_teardown(corrupt_metadata_is_skipped_and_reported, make_store, free_store),
		cmocka_unit_test_setup_teardown(lost_supervisor_reads_as_terminated, make_store, free_store),
		cmocka_unit_test_setup_teardown(live_run_reads_as_running, make_store, free_store),
		cmocka_unit_test_setup_teardown(index_notices_copies_removals_and_loss, make_store, free_store),
		cmocka_unit_test_setup_teardown(id_suffixes_never_read_as_numbers, make_store, free_store),
		cmocka_unit_test_setup_teardown(memos_last_until_a_run_changes, make_store, free_store),
		cmocka_unit_test_setup_teardown(table_of_runs_has_typed_columns, make_store, free_store),
		cmocka_unit_test_setup_teardown(completion_candidates_from_the_index, make_store, free_store),
		cmocka_unit_test_setup_teardown(table_of_many_runs_reads_whole_tables, make_store, free_store),
		cmocka_unit_test_setup_teardown(table_of_runs_matches_the_index, make_store, free_store),
		cmocka_unit_test(output_index_reopened_and_read_from_offsets),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

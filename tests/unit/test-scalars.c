/* Unit tests: the scalar log, its summaries, and scalars parsed from output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/index/index.h"
#include "util/fsutil.h"
#include "util/le.h"

static int make_run_dir(void **state)
{
	char *dir = strdup("/tmp/tally-unit-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char *meta = tally_path_join(dir, ".tally");
	mkdir(meta, 0777);
	free(meta);
	*state = dir;
	return 0;
}

static int remove_run_dir(void **state)
{
	tally_remove_tree(*state);
	free(*state);
	return 0;
}

typedef struct {
	char tags[64][32];
	int64_t steps[64];
	double values[64];
	int n;
} points;

static int collect(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	(void)time_ms;
	points *p = ctx;
	if (p->n < 64) {
		snprintf(p->tags[p->n], sizeof p->tags[0], "%s", tag);
		p->steps[p->n] = step;
		p->values[p->n] = value;
		p->n++;
	}
	return 0;
}

static void crc32c_known_answer(void **state)
{
	(void)state;
	assert_int_equal(tally__crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(tally__crc32c_portable(0, "123456789", 9), 0xE3069283u);
	/* every length and alignment: the 8-byte steps and the byte tail agree with the hardware path */
	unsigned char buf[300];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof buf; len += 13) {
			assert_int_equal(tally__crc32c(0, buf + off, len), tally__crc32c_portable(0, buf + off, len));
			/* and a CRC continued over two pieces is the CRC of the whole */
			uint32_t first = tally__crc32c(0, buf + off, len / 2);
			assert_int_equal(tally__crc32c(first, buf + off + len / 2, len - len / 2), tally__crc32c(0, buf + off, len));
		}
}

static void log_round_trip_and_summary(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	assert_int_equal(tally__scalar_log_append(log, "loss", 0, 1.0, 1), 0);
	assert_int_equal(tally__scalar_log_append(log, "loss", 1, 0.5, 2), 0);
	assert_int_equal(tally__scalar_log_append(log, "acc", 1, 0.9, 2), 0);
	assert_int_equal(tally__scalar_log_append(log, "loss", 2, 0.75, 3), 0);
	assert_int_equal(tally__scalar_log_write_summary(log, 0), 0);
	tally__scalar_log_free(log);

	points p = {0};
	bool truncated = true;
	assert_int_equal(tally__scalar_log_read(dir, collect, &p, &truncated), 0);
	assert_false(truncated);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.tags[2], "acc");
	assert_int_equal(p.steps[3], 2);

	json_t *s = tally__scalars_summary_load(dir);
	json_t *loss = json_object_get(s, "loss");
	assert_true(fabs(json_real_value(json_object_get(loss, "last")) - 0.75) < 1e-12);
	assert_int_equal(json_integer_value(json_object_get(loss, "last_step")), 2);
	assert_true(fabs(json_real_value(json_object_get(loss, "min")) - 0.5) < 1e-12);
	assert_int_equal(json_integer_value(json_object_get(loss, "min_step")), 1);
	assert_true(fabs(json_real_value(json_object_get(loss, "avg")) - 0.75) < 1e-12);
	assert_int_equal(json_integer_value(json_object_get(loss, "count")), 3);
	json_decref(s);
}

static void torn_tail_is_ignored(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	for (int i = 0; i < 10; i++) { /* a flush each: ten blocks, as a slow run writes them */
		tally__scalar_log_append(log, "loss", i, i, 0);
		tally__scalar_log_flush(log);
	}
	tally__scalar_log_free(log);
	char *path = tally_path_join(dir, ".tally/scalars.log");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* Cut the last record in half, as a crash mid-write would. */
	assert_int_equal(truncate(path, st.st_size - 10), 0);
	points p = {0};
	bool truncated = false;
	assert_int_equal(tally__scalar_log_read(dir, collect, &p, &truncated), 0);
	assert_true(truncated);
	assert_int_equal(p.n, 9);
	/* Flip a byte in the middle: reading stops there, never crashes. */
	int fd = open(path, O_RDWR);
	assert_true(pwrite(fd, "\xff", 1, 60) == 1);
	close(fd);
	memset(&p, 0, sizeof p);
	assert_int_equal(tally__scalar_log_read(dir, collect, &p, &truncated), 0);
	assert_true(truncated);
	assert_true(p.n < 9);
	free(path);
}

static void appending_after_reopen_continues_the_log(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	tally__scalar_log_append(log, "a", 0, 1, 0);
	tally__scalar_log_free(log);
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	tally__scalar_log_append(log, "b", 0, 2, 0);
	tally__scalar_log_append(log, "a", 1, 3, 0);
	assert_int_equal(tally__scalar_log_write_summary(log, 0), 0);
	tally__scalar_log_free(log);
	points p = {0};
	bool truncated;
	assert_int_equal(tally__scalar_log_read(dir, collect, &p, &truncated), 0);
	assert_false(truncated);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.tags[0], "a");
	assert_string_equal(p.tags[1], "b");
	assert_string_equal(p.tags[2], "a");
	json_t *s = tally__scalars_summary_load(dir); /* the summary covers both writers */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "a"), "count")), 2);
	json_decref(s);
}

/* ---- format 2: every point comes back bit for bit ---- */

typedef struct {
	char tag[16];
	int64_t step, time_ms;
	double value;
	bool imported;
} wide_point;

typedef struct {
	wide_point *p;
	size_t n, cap;
} wide_points;

static int collect_wide(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	wide_points *w = ctx;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->p = realloc(w->p, w->cap * sizeof *w->p);
		assert_non_null(w->p);
	}
	wide_point *q = &w->p[w->n++];
	snprintf(q->tag, sizeof q->tag, "%s", tag);
	q->step = step;
	q->value = value;
	q->time_ms = time_ms;
	return 0;
}

static bool same_bits(double a, double b)
{
	return !memcmp(&a, &b, sizeof a);
}

/* The awkward values: decimals, floats, NaN with a payload, signed zeros, extremes. */
static double awkward_value(size_t i)
{
	static const double fixed[] = {0.3124, -0.0, 0.0, 1e300, -1e-300, 5e-324, 0.1, 123456789.0, -42.5, 1e15, 1e16,
	                               0.30000000000000004, 9007199254740993.0, 3.4028234663852886e38, 1e-7};
	size_t n = sizeof fixed / sizeof *fixed;
	if (i % 20 < n)
		return fixed[i % 20];
	switch (i % 20) {
	case 15: {
		uint64_t bits = 0x7ff8000000000000u | (i & 0xffff); /* a NaN with a payload */
		double v;
		memcpy(&v, &bits, sizeof v);
		return v;
	}
	case 16: return i % 40 < 20 ? (double)INFINITY : -(double)INFINITY;
	case 17: return (double)(float)(i * 0.001f);      /* what a float32 metric prints at full precision */
	case 18: return (double)i / 3.0;                   /* a full double */
	default: return round((double)i * 0.7311) / 1e4; /* "0.1234" */
	}
}

static void every_point_comes_back_bit_for_bit(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	char tag[16];
	size_t n = 150000; /* several blocks in one flush (a block holds at most 64 KiB) */
	wide_points want = {0};
	for (size_t i = 0; i < n; i++) {
		snprintf(tag, sizeof tag, "t%zu", i % 40 < 30 ? i % 3 : i % 40); /* 13 tags, ids up to 39 */
		int64_t step = i % 1000 == 7 ? (i % 2000 == 7 ? INT64_MIN : INT64_MAX) : (int64_t)(i / 3) - 10;
		int64_t time = i % 500 == 3 ? -5 : 1700000000000 + (int64_t)i * 37 - (i % 7 == 0 ? 100000 : 0);
		double value = awkward_value(i);
		bool imported = i % 10000 >= 9990; /* a burst read from the script's event files */
		if (imported)
			assert_int_equal(tally__scalar_log_import(log, tag, step, value, time), 0);
		else
			assert_int_equal(tally__scalar_log_append(log, tag, step, value, time), 0);
		collect_wide(&want, tag, step, value, time);
		if (i == n / 2)
			assert_int_equal(tally__scalar_log_flush(log), 0);
	}
	tally__scalar_log_free(log);

	wide_points got = {0};
	bool truncated = true;
	assert_int_equal(tally__scalar_log_read(dir, collect_wide, &got, &truncated), 0);
	assert_false(truncated);
	assert_int_equal(got.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(got.p[i].tag, want.p[i].tag);
		assert_int_equal(got.p[i].step, want.p[i].step);
		assert_int_equal(got.p[i].time_ms, want.p[i].time_ms);
		assert_true(same_bits(got.p[i].value, want.p[i].value));
	}
	free(want.p);
	free(got.p);
}

static off_t log_size(const char *dir)
{
	char *path = tally_path_join(dir, ".tally/scalars.log");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	free(path);
	return st.st_size;
}

static void printed_metrics_cost_a_few_bytes_a_point(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	size_t n = 100000;
	for (size_t i = 0; i < n; i++) { /* two scalars a step, as "loss: 0.3124 - acc: 0.9012" prints them */
		int64_t t = 1700000000000 + (int64_t)i * 3;
		assert_int_equal(tally__scalar_log_append(log, "loss", (int64_t)i, round(2000.0 / (double)(i + 1)) / 1e4, t), 0);
		assert_int_equal(tally__scalar_log_append(log, "acc", (int64_t)i, (double)(i % 10000) / 1e4, t), 0);
	}
	tally__scalar_log_free(log);
	double per_point = (double)log_size(dir) / (double)(2 * n);
	print_message("%.2f bytes a point\n", per_point);
	assert_true(per_point < 7.0); /* format 1: 37 */
}

/* A log record as docs/run-format.md frames it: u32 crc32c(body) | u32 len(body) | body. */
static void add_log_record(tally_buf *b, const unsigned char *body, size_t len)
{
	unsigned char head[8];
	tally_put_le(head, tally__crc32c(0, body, len), 4);
	tally_put_le(head + 4, len, 4);
	tally_buf_add(b, head, 8);
	tally_buf_add(b, body, len);
}

/* A log an older tally wrote (format 1) is read, and appending to it keeps its format. */
static void format_one_logs_are_read_and_kept(void **state)
{
	const char *dir = *state;
	char *path = tally_path_join(dir, ".tally/scalars.log");
	tally_buf b = TALLY_BUF_INIT;
	tally_buf_add(&b, "TALLYSC1", 8);
	static const unsigned char tag_body[9] = {'T', 0, 0, 0, 0, 'l', 'o', 's', 's'};
	add_log_record(&b, tag_body, sizeof tag_body);
	for (int i = 0; i < 3; i++) { /* 'P' | u32 tag | i64 step | f64 value | i64 time */
		unsigned char body[29] = {'P'};
		double v = 0.5 + i;
		uint64_t bits;
		memcpy(&bits, &v, 8);
		tally_put_le(body + 5, (uint64_t)(i + 1), 8);
		tally_put_le(body + 13, bits, 8);
		tally_put_le(body + 21, (uint64_t)(1000 + i), 8);
		add_log_record(&b, body, sizeof body);
	}
	assert_int_equal(tally_write_file_atomic(path, b.ptr, b.len, 0), 0);
	tally_buf_release(&b);

	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	assert_int_equal(tally__scalar_log_append(log, "loss", 4, 9.25, 2000), 0);
	assert_int_equal(tally__scalar_log_append(log, "acc", 4, 0.125, 2000), 0);
	assert_int_equal(tally__scalar_log_write_summary(log, 0), 0);
	tally__scalar_log_free(log);

	assert_int_equal(tally_read_file(&b, path, 0), 0);
	assert_memory_equal(b.ptr, "TALLYSC1", 8); /* an older tally can still read it */
	tally_buf_release(&b);
	points p = {0};
	bool truncated = true;
	assert_int_equal(tally__scalar_log_read(dir, collect, &p, &truncated), 0);
	assert_false(truncated);
	assert_int_equal(p.n, 5);
	assert_string_equal(p.tags[0], "loss");
	assert_int_equal(p.steps[2], 3);
	assert_true(p.values[2] == 2.5);
	assert_string_equal(p.tags[4], "acc");
	assert_true(p.values[3] == 9.25 && p.values[4] == 0.125);
	json_t *s = tally__scalars_summary_load(dir); /* the old points count in the summary */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "loss"), "count")), 4);
	json_decref(s);
	free(path);
}

/* A block whose CRC holds but whose points do not decode is damage: reading stops before it. */
static void a_malformed_block_stops_the_reading(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	assert_int_equal(tally__scalar_log_append(log, "loss", 1, 0.5, 1), 0);
	tally__scalar_log_free(log);
	char *path = tally_path_join(dir, ".tally/scalars.log");
	static const unsigned char bodies[][4] = {
	    {'B', 0x03, 0x02, 0x02}, /* value kind 3 */
	    {'B', 0x04, 0x02, 0x02}, /* tag id 1 was never defined */
	    {'B', 0x02, 0x02, 0x80}, /* a varint cut off */
	};
	tally_buf b = TALLY_BUF_INIT;
	for (size_t i = 0; i < 3; i++)
		add_log_record(&b, bodies[i], 4);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0 && write(fd, b.ptr, b.len) == (ssize_t)b.len);
	close(fd);
	tally_buf_release(&b);
	points p = {0};
	bool truncated = false;
	assert_int_equal(tally__scalar_log_read(dir, collect, &p, &truncated), 0);
	assert_true(truncated);
	assert_int_equal(p.n, 1);
	/* a writer refuses to append rather than cut off what it cannot read (a newer tally's records) */
	off_t size = log_size(dir);
	assert_int_not_equal(tally__scalar_log_open(&log, dir), 0);
	assert_non_null(strstr(tally_error_last(), "holds a record this tally cannot read"));
	assert_int_equal(log_size(dir), size);
	free(path);
}

static void feed(tally_outparse *p, tally_scalar_log *log, const char *line)
{
	tally__outparse_line(p, line, strlen(line), log, 0);
}

typedef struct {
	const char *tag;
	int64_t step;
	double value;
} expected_point;

/* The points of `dir`'s log are exactly `want`, in order (NaN matches NaN). */
static void assert_points(const char *dir, const expected_point *want, size_t n)
{
	points pts = {0};
	bool truncated;
	assert_int_equal(tally__scalar_log_read(dir, collect, &pts, &truncated), 0);
	assert_int_equal(pts.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(pts.tags[i], want[i].tag);
		assert_int_equal(pts.steps[i], want[i].step);
		if (isnan(want[i].value))
			assert_true(isnan(pts.values[i]));
		else
			assert_true(fabs(pts.values[i] - want[i].value) < 1e-9);
	}
}

static void output_lines_become_scalars(void **state)
{
	const char *dir = *state;
	const char *flags[] = {"lr"};
	tally_outparse *p = NULL;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__outparse_new(&p, flags, 1, NULL), 0);
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	feed(p, log, "loss: 0.9");
	feed(p, log, "acc: 0.5");
	feed(p, log, "loss: 0.8");        /* repeated key: step 1 */
	feed(p, log, "acc: 0.6");
	feed(p, log, "lr: 0.1");          /* a flag name: not a scalar */
	feed(p, log, "  val_loss: 1e-2 (step 7)");
	feed(p, log, "step: 10");
	feed(p, log, "loss: nan");
	feed(p, log, "Epoch time: 12:30:00"); /* not a number */
	feed(p, log, "loss: 0.1 extra");      /* trailing text: not a scalar */
	feed(p, log, "no colon here");
	feed(p, log, "loss: 1 (step 99999999999999999999999)"); /* no step a log can hold: dropped */
	tally__scalar_log_free(log);
	tally__outparse_free(p);

	points pts = {0};
	bool truncated;
	assert_int_equal(tally__scalar_log_read(dir, collect, &pts, &truncated), 0);
	assert_int_equal(pts.n, 6);
	assert_string_equal(pts.tags[0], "loss");
	assert_int_equal(pts.steps[0], 0);
	assert_int_equal(pts.steps[1], 0);
	assert_int_equal(pts.steps[2], 1);
	assert_int_equal(pts.steps[3], 1);
	assert_string_equal(pts.tags[4], "val_loss");
	assert_int_equal(pts.steps[4], 7);
	assert_true(fabs(pts.values[4] - 0.01) < 1e-12);
	assert_int_equal(pts.steps[5], 10);
	assert_true(isnan(pts.values[5]));
}

/* The styles training loops print besides Guild's and Keras': steps in
 * parentheses, epoch lines, key=value pairs; and what must stay out. */
static void common_log_styles_become_scalars(void **state)
{
	const char *dir = *state;
	const char *flags[] = {"lr"};
	tally_outparse *p = NULL;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__outparse_new(&p, flags, 1, NULL), 0);
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	feed(p, log, "loss: 0.9 (10)");             /* 0: a step in parentheses */
	feed(p, log, "acc: 0.5");                   /* 1: ... which the next lines keep */
	feed(p, log, "loss: 0.8 (best so far)");    /* 2: a note is no step; loss repeats: 11 */
	feed(p, log, "epoch 3/10");                 /* the step: 3 */
	feed(p, log, "val_loss = 0.25");            /* 3 */
	feed(p, log, "Epoch 4");                    /* the step: 4 */
	feed(p, log, "loss=0.3 acc=0.9");           /* 4, 5 */
	feed(p, log, "epoch: 5");                   /* the step, not a scalar */
	feed(p, log, "Epoch 6: train_loss=1.000, val_loss=1.200, acc=0.9"); /* 6, 7, 8 */
	feed(p, log, "step 8 | loss=0.1 | lr=0.5");  /* 9; lr is a flag */
	feed(p, log, "version=1.2.3");              /* false positives: nothing */
	feed(p, log, "path=/tmp/x");
	feed(p, log, "a=1&b=2");
	feed(p, log, "12:30:00 loss=0.5");
	feed(p, log, "x=1 y=foo");
	feed(p, log, "Epoch time: 12:30:00");
	feed(p, log, "epoch: 2.5");                 /* no step, and not a scalar */
	tally__scalar_log_free(log);
	tally__outparse_free(p);

	static const expected_point want[] = {
		{"loss", 10, 0.9}, {"acc", 10, 0.5}, {"loss", 11, 0.8},      {"val_loss", 3, 0.25}, {"loss", 4, 0.3},
		{"acc", 4, 0.9},   {"train_loss", 6, 1.0}, {"val_loss", 6, 1.2}, {"acc", 6, 0.9},       {"loss", 8, 0.1},
	};
	assert_points(dir, want, sizeof want / sizeof *want);
}

/* Keras progress lines, as tf.keras 2 and Keras 3 print them (verbose 1 and 2). */
static void keras_lines_become_scalars(void **state)
{
	const char *dir = *state;
	tally_outparse *p = NULL;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__outparse_new(&p, NULL, 0, NULL), 0);
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	feed(p, log, "Epoch 1/3");
	feed(p, log, "   1/1875 [..............................] - ETA: 3:19 - loss: 2.3760 - accuracy: 0.0625");
	feed(p, log, "1875/1875 [==============================] - 3s 1ms/step - loss: 0.2950 - accuracy: 0.9149 "
	             "- val_loss: 0.1427 - val_accuracy: 0.9574");
	feed(p, log, "Epoch 2/3");
	feed(p, log, "1875/1875 \xe2\x94\x81\xe2\x94\x81\xe2\x94\x81 3s 1ms/step - accuracy: 0.9578 - loss: 1.5e-1 "
	             "- val_accuracy: 0.9684 - val_loss: 0.1030");
	feed(p, log, "Epoch 3/3");
	feed(p, log, "1875/1875 - 2s - loss: 0.1000 - accuracy: 0.9700 - 2s/epoch - 1ms/step");
	feed(p, log, "313/313 - 0s - loss: nan - x: 1:2");
	tally__scalar_log_free(log);
	tally__outparse_free(p);
	static const expected_point want[] = {
		{"loss", 1, 2.3760},     {"accuracy", 1, 0.0625}, {"loss", 1, 0.2950},     {"accuracy", 1, 0.9149},
		{"val_loss", 1, 0.1427}, {"val_accuracy", 1, 0.9574}, {"accuracy", 2, 0.9578}, {"loss", 2, 0.15},
		{"val_accuracy", 2, 0.9684}, {"val_loss", 2, 0.1030}, {"loss", 3, 0.1}, {"accuracy", 3, 0.97},
		{"loss", 3, (double)NAN},
	};
	assert_points(dir, want, sizeof want / sizeof *want);
}

/* output-scalars rules of a script's own: they replace the defaults. */
static void custom_patterns_replace_the_defaults(void **state)
{
	const char *dir = *state;
	char *const rules[] = {(char *)"key\t^(\\key)=(\\value)$", (char *)"tag:acc\tacc is (\\value)",
	                       (char *)"step\t^iter (\\step)", (char *)"key\t^(?<value>[0-9.]+) <- (?<key>\\w+)$", NULL};
	tally_outparse *p = NULL;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__outparse_new(&p, NULL, 0, rules), 0);
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	feed(p, log, "iter 7");
	feed(p, log, "loss=0.5");
	feed(p, log, "the acc is 0.9 today");
	feed(p, log, "loss: 0.1"); /* the default rule is gone */
	feed(p, log, "0.25 <- lr_now");
	tally__scalar_log_free(log);
	tally__outparse_free(p);
	points pts = {0};
	bool truncated;
	assert_int_equal(tally__scalar_log_read(dir, collect, &pts, &truncated), 0);
	assert_int_equal(pts.n, 3);
	assert_string_equal(pts.tags[0], "loss");
	assert_int_equal(pts.steps[0], 7);
	assert_string_equal(pts.tags[1], "acc");
	assert_true(pts.values[1] == 0.9);
	assert_string_equal(pts.tags[2], "lr_now");
	assert_true(pts.values[2] == 0.25);
	/* a pattern that does not compile, or lacks its groups, is refused */
	char *const bad[] = {(char *)"key\t(", NULL};
	assert_int_equal(tally__outparse_new(&p, NULL, 0, bad), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "does not work"));
}

/* Record `text` through the output recorder cut into two chunks at `cut`. */
static int record_split(const char *dir, const char *text, size_t cut, points *out)
{
	tally_outparse *p = NULL;
	tally_scalar_log *log = NULL;
	tally_output *o = NULL;
	char *meta = tally_path_join(dir, ".tally");
	tally_remove_tree(meta);
	mkdir(meta, 0777);
	free(meta);
	if (tally__outparse_new(&p, NULL, 0, NULL) || tally__scalar_log_open(&log, dir) || tally__output_open(&o, dir, p, log))
		return -1;
	size_t len = strlen(text);
	tally__output_chunk(o, TALLY_STREAM_STDOUT, text, cut, 1);
	tally__output_chunk(o, TALLY_STREAM_STDOUT, text + cut, len - cut, 2);
	tally__output_close(o);
	tally__scalar_log_free(log);
	tally__outparse_free(p);
	bool truncated;
	memset(out, 0, sizeof *out);
	return tally__scalar_log_read(dir, collect, out, &truncated);
}

static void chunk_boundaries_never_change_the_scalars(void **state)
{
	const char *dir = *state;
	/* progress bars (\r), a line without a colon, CRLF, and a last line without a newline */
	const char *text = "epoch 1 of 3\nloss: 0.9\r\nacc: 0.5\rloss: 0.8\nno colon\nval: 7\r\nloss: 0.7";
	points whole;
	assert_int_equal(record_split(dir, text, strlen(text), &whole), 0);
	assert_int_equal(whole.n, 5);
	assert_string_equal(whole.tags[4], "loss");
	assert_true(fabs(whole.values[4] - 0.7) < 1e-12);
	for (size_t cut = 0; cut <= strlen(text); cut++) {
		points split;
		assert_int_equal(record_split(dir, text, cut, &split), 0);
		assert_int_equal(split.n, whole.n);
		for (int i = 0; i < whole.n; i++) {
			assert_string_equal(split.tags[i], whole.tags[i]);
			assert_int_equal(split.steps[i], whole.steps[i]);
			assert_true(split.values[i] == whole.values[i]);
		}
	}
	/* and the output file holds the bytes exactly */
	char *path = tally_path_join(dir, ".tally/output");
	tally_buf got = TALLY_BUF_INIT;
	assert_int_equal(tally_read_file(&got, path, 0), 0);
	assert_string_equal(got.ptr, text);
	tally_buf_release(&got);
	free(path);
}

static void summary_is_rebuilt_from_the_log(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log = NULL;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	tally__scalar_log_append(log, "loss", 0, 0.9, 1);
	tally__scalar_log_append(log, "loss", 1, 0.4, 2);
	tally__scalar_log_free(log); /* flushed, but no scalars.json written: as if killed early */
	json_t *s = tally__scalars_summary_load(dir);
	json_t *loss = json_object_get(s, "loss");
	assert_int_equal(json_integer_value(json_object_get(loss, "count")), 2);
	assert_true(fabs(json_real_value(json_object_get(loss, "last")) - 0.4) < 1e-12);
	json_decref(s);
	/* a damaged summary is rebuilt the same way */
	char *path = tally_path_join(dir, ".tally/scalars.json");
	assert_int_equal(tally_write_file_atomic(path, "{\"loss\": {\"la", 14, 0), 0);
	s = tally__scalars_summary_load(dir);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "loss"), "count")), 2);
	json_decref(s);
	free(path);
}

/* ---- TensorBoard event files ---- */

typedef struct {
	char tags[16][64];
	int64_t steps[16];
	double values[16];
	int n;
} tb_collected;

static int tb_collect(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	tb_collected *c = ctx;
	(void)time_ms;
	if (c->n < 16) {
		snprintf(c->tags[c->n], sizeof c->tags[0], "%s", tag);
		c->steps[c->n] = step;
		c->values[c->n++] = value;
	}
	return 0;
}

static void tfrecord_masked_crc_known_answer(void **state)
{
	(void)state;
	/* The length CRC of the first record of an event file as TensorFlow writes it
	 * (a 24-byte file_version event): bytes a3 7f 4b 22 on disk. */
	const unsigned char len24[8] = {24, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(tally__tfrecord_masked_crc(len24, sizeof len24), 0x224b7fa3u);
	assert_int_equal(tally__tfrecord_masked_crc("123456789", 9), 0xc78ab0e5u); /* from tests/t/tfevents.py, written from the format description */
}

static void tfevents_round_trip(void **state)
{
	(void)state;
	tally_buf file = TALLY_BUF_INIT;
	tally__tfevents_encode_version(&file, 1700000000000);
	tally__tfevents_encode_scalar(&file, "loss", 1, 0.5, 1700000000500);
	tally__tfevents_encode_scalar(&file, "val/acc", -3, 0.25, 1700000001000);
	tally__tfevents_encode_scalar(&file, "nan", 4, (double)NAN, 1700000002000);
	assert_false(tally_buf_oom(&file));

	tally_tfevents_decoder *d;
	assert_int_equal(tally__tfevents_decoder_new(&d, "train/"), 0);
	tb_collected c = {0};
	/* Fed a byte at a time, the decoder only ever consumes whole records. */
	size_t used = 0;
	for (size_t end = 1; end <= file.len; end++)
		used += tally__tfevents_decode(d, (unsigned char *)file.ptr + used, end - used, tb_collect, &c);
	assert_int_equal(used, file.len);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.tags[0], "train/loss");
	assert_int_equal(c.steps[0], 1);
	assert_true(c.values[0] == 0.5);
	assert_string_equal(c.tags[1], "train/val/acc");
	assert_int_equal(c.steps[1], -3);
	assert_true(c.values[1] == 0.25);
	assert_true(isnan(c.values[2]));
	assert_int_equal(tally__tfevents_decoder_bad(d), 0);
	tally__tfevents_decoder_free(d);
	tally_buf_release(&file);
}

static void tfevents_damage_is_counted_not_fatal(void **state)
{
	(void)state;
	tally_buf file = TALLY_BUF_INIT;
	tally__tfevents_encode_scalar(&file, "a", 1, 1.0, 0);
	size_t first = file.len;
	tally__tfevents_encode_scalar(&file, "a", 2, 2.0, 0);
	size_t second = file.len;
	tally__tfevents_encode_scalar(&file, "a", 3, 3.0, 0);
	file.ptr[first + 14] ^= 0x40; /* inside the second record's data */

	tally_tfevents_decoder *d;
	assert_int_equal(tally__tfevents_decoder_new(&d, ""), 0);
	tb_collected c = {0};
	assert_int_equal(tally__tfevents_decode(d, (unsigned char *)file.ptr, file.len, tb_collect, &c), file.len);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.steps[1], 3);
	assert_int_equal(tally__tfevents_decoder_bad(d), 1);
	tally__tfevents_decoder_free(d);

	/* A broken length CRC: nothing after it can be trusted. */
	file.ptr[first + 14] ^= 0x40;
	file.ptr[second + 8] ^= 1;
	assert_int_equal(tally__tfevents_decoder_new(&d, ""), 0);
	memset(&c, 0, sizeof c);
	assert_int_equal(tally__tfevents_decode(d, (unsigned char *)file.ptr, file.len, tb_collect, &c), second);
	assert_int_equal(c.n, 2);
	assert_int_equal(tally__tfevents_decoder_bad(d), 1);
	tally__tfevents_decoder_free(d);
	tally_buf_release(&file);
}

typedef struct {
	int seen, stop_after;
	int64_t steps[16];
} stopping;

static int stop_at(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	stopping *s = ctx;
	(void)tag, (void)value, (void)time_ms;
	if (s->seen < 16)
		s->steps[s->seen] = step;
	return ++s->seen == s->stop_after;
}

/* A cursor on the run in `dir` that has read its first 3 points and stopped there. */
static tally_scalar_cursor *cursor_after_three(const char *dir, stopping *s)
{
	tally_scalar_cursor *c;
	assert_int_equal(tally__scalar_cursor_open(&c, dir), 0);
	*s = (stopping){0, 3, {0}};
	assert_int_equal(tally__scalar_cursor_read(c, stop_at, s), 0);
	assert_int_equal(s->seen, 3);
	return c;
}

static void cursor_resumes_after_a_stop_and_follows_growth(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(tally__scalar_log_append(log, "loss", i, i / 10.0, i), 0);
	assert_int_equal(tally__scalar_log_flush(log), 0);

	stopping s;
	tally_scalar_cursor *c = cursor_after_three(dir, &s);
	assert_false(tally__scalar_cursor_damaged(c)); /* stopped is not damaged */
	s.stop_after = 0;
	assert_int_equal(tally__scalar_cursor_read(c, stop_at, &s), 0);
	assert_int_equal(s.seen, 10); /* the 7 points after the stop, none twice */
	for (int i = 0; i < 10; i++)
		assert_int_equal(s.steps[i], i);
	/* points appended later are read by the next call, once */
	assert_int_equal(tally__scalar_log_append(log, "val", 42, 1.0, 11), 0);
	assert_int_equal(tally__scalar_log_flush(log), 0);
	assert_int_equal(tally__scalar_cursor_read(c, stop_at, &s), 0);
	assert_int_equal(s.seen, 11);
	assert_int_equal(s.steps[10], 42);
	assert_int_equal(tally__scalar_cursor_read(c, stop_at, &s), 0);
	assert_int_equal(s.seen, 11);
	assert_false(tally__scalar_cursor_damaged(c));
	tally__scalar_cursor_free(c);
	tally__scalar_log_free(log);
}

/* A stop at a block's last point stops there too; the next read starts with the next block. */
static void cursor_stops_at_the_end_of_a_block(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(tally__scalar_log_append(log, "loss", i, i / 10.0, i), 0);
		if (i >= 2) /* blocks of 3, 1, 1, 1 points */
			assert_int_equal(tally__scalar_log_flush(log), 0);
	}
	stopping s;
	tally_scalar_cursor *c = cursor_after_three(dir, &s);
	s.stop_after = 4;
	assert_int_equal(tally__scalar_cursor_read(c, stop_at, &s), 0);
	assert_int_equal(s.seen, 4); /* one one-point block, then the stop */
	s.stop_after = 0;
	assert_int_equal(tally__scalar_cursor_read(c, stop_at, &s), 0);
	assert_int_equal(s.seen, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(s.steps[i], i);
	tally__scalar_cursor_free(c);
	tally__scalar_log_free(log);
}

static void mirrored_log_writes_an_event_file(void **state)
{
	const char *dir = *state;
	tally_scalar_log *log;
	assert_int_equal(tally__scalar_log_open(&log, dir), 0);
	assert_int_equal(tally__tfevents_mirror_log(log, dir), 0);
	assert_int_equal(tally__scalar_log_append(log, "loss", 1, 0.75, 1700000000000), 0);
	assert_int_equal(tally__scalar_log_import(log, "train/loss", 1, 0.5, 1700000000000), 0);
	tally__scalar_log_free(log);

	char pattern[512];
	snprintf(pattern, sizeof pattern, "%s/.tally", dir);
	DIR *d = opendir(pattern);
	assert_non_null(d);
	struct dirent *e;
	char name[256] = "";
	while ((e = readdir(d)))
		if (strstr(e->d_name, "tfevents"))
			snprintf(name, sizeof name, "%s", e->d_name);
	closedir(d);
	assert_true(strncmp(name, "events.out.tfevents.", 20) == 0);
	snprintf(pattern, sizeof pattern, "%s/.tally/%s", dir, name);
	tally_buf file = TALLY_BUF_INIT;
	assert_int_equal(tally_read_file(&file, pattern, 1 << 20), 0);
	tally_tfevents_decoder *dec;
	assert_int_equal(tally__tfevents_decoder_new(&dec, ""), 0);
	tb_collected c = {0};
	assert_int_equal(tally__tfevents_decode(dec, (unsigned char *)file.ptr, file.len, tb_collect, &c), file.len);
	assert_int_equal(c.n, 1); /* the imported point is not written back */
	assert_string_equal(c.tags[0], "loss");
	assert_true(c.values[0] == 0.75);
	tally__tfevents_decoder_free(dec);
	tally_buf_release(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_known_answer),
		cmocka_unit_test_setup_teardown(log_round_trip_and_summary, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(torn_tail_is_ignored, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(appending_after_reopen_continues_the_log, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(every_point_comes_back_bit_for_bit, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(printed_metrics_cost_a_few_bytes_a_point, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(format_one_logs_are_read_and_kept, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(a_malformed_block_stops_the_reading, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(output_lines_become_scalars, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(keras_lines_become_scalars, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(common_log_styles_become_scalars, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(custom_patterns_replace_the_defaults, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(chunk_boundaries_never_change_the_scalars, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(summary_is_rebuilt_from_the_log, make_run_dir, remove_run_dir),
		cmocka_unit_test(tfrecord_masked_crc_known_answer),
		cmocka_unit_test(tfevents_round_trip),
		cmocka_unit_test(tfevents_damage_is_counted_not_fatal),
		cmocka_unit_test_setup_teardown(mirrored_log_writes_an_event_file, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(cursor_resumes_after_a_stop_and_follows_growth, make_run_dir, remove_run_dir),
		cmocka_unit_test_setup_teardown(cursor_stops_at_the_end_of_a_block, make_run_dir, remove_run_dir),
	};
	return cmocka_run_group_tests_name("scalars", tests, NULL, NULL);
}

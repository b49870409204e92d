/* The web view's pieces that need no server: downsampling scalars, JSON strings from raw bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/web/web.h"

typedef struct {
	int64_t *step, *time;
	double *value;
	size_t n;
} points;

/* n points: value 1/(i+1), with spikes where `spike` says. */
static points make_points(size_t n, size_t spike_at, double spike)
{
	points p = {malloc(n * sizeof *p.step), malloc(n * sizeof *p.time), malloc(n * sizeof *p.value), n};
	for (size_t i = 0; i < n; i++) {
		p.step[i] = (int64_t)i;
		p.time[i] = 1000 + (int64_t)i;
		p.value[i] = 1.0 / (double)(i + 1) + (i == spike_at ? spike : 0);
	}
	return p;
}

static void free_points(points *p)
{
	free(p->step);
	free(p->time);
	free(p->value);
}

static void short_series_stay_whole(void **state)
{
	(void)state;
	points p = make_points(100, 1000, 0);
	assert_int_equal(tally__web_downsample(p.step, p.time, p.value, p.n, 100), 100);
	assert_int_equal(tally__web_downsample(p.step, p.time, p.value, p.n, 2000), 100);
	assert_int_equal(p.step[99], 99);
	free_points(&p);
}

static void long_series_keep_extremes_in_order(void **state)
{
	(void)state;
	points p = make_points(1000000, 777777, 50.0);
	size_t kept = tally__web_downsample(p.step, p.time, p.value, p.n, 2000);
	assert_true(kept <= 2000 && kept >= 1000);
	double max = -HUGE_VAL, min = HUGE_VAL;
	for (size_t i = 0; i < kept; i++) {
		if (i)
			assert_true(p.step[i] > p.step[i - 1]); /* the order they were logged */
		assert_int_equal(p.time[i], 1000 + p.step[i]); /* each point kept whole */
		max = p.value[i] > max ? p.value[i] : max;
		min = p.value[i] < min ? p.value[i] : min;
	}
	assert_true(max > 50.0);                      /* the spike survived */
	assert_true(min == 1.0 / 1000000.0);          /* and the lowest point */
	assert_int_equal(p.step[0], 0);               /* the first bucket's extreme: the first point */
	free_points(&p);
}

static void nan_values_do_not_hide_the_rest(void **state)
{
	(void)state;
	points p = make_points(10, 100, 0);
	p.value[0] = nan("");
	p.value[3] = 9;
	size_t kept = tally__web_downsample(p.step, p.time, p.value, p.n, 2);
	assert_int_equal(kept, 2);
	assert_true(p.value[0] == 9 || p.value[1] == 9);
	free_points(&p);
}

static char *as_json(const char *s, size_t len)
{
	tally_buf b = TALLY_BUF_INIT;
	tally__web_json_string(&b, s, len);
	tally_buf_addc(&b, '\0');
	return b.ptr;
}

static void json_strings_from_raw_bytes(void **state)
{
	(void)state;
	char *t = as_json("a\"b\\c\n\r\t<x>", 11);
	assert_string_equal(t, "\"a\\\"b\\\\c\\n\\r\\t\\u003cx>\"");
	free(t);
	/* a NUL and other control bytes escaped; invalid UTF-8 as U+FFFD; valid kept */
	t = as_json("\0\x1b" "\x80" "\xC3\xA9" "\xED\xA0\x80" "\xF0\x9F\x98\x80" "\xE2\x82", 14);
	assert_string_equal(t, "\"\\u0000\\u001b\\ufffd\xC3\xA9\\ufffd\\ufffd\\ufffd\xF0\x9F\x98\x80\\ufffd\\ufffd\"");
	free(t);
	json_t *parsed = json_loads("[\"\\ufffd\"]", 0, NULL); /* what it writes, jansson reads */
	assert_non_null(parsed);
	json_decref(parsed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(short_series_stay_whole),
		cmocka_unit_test(long_series_keep_extremes_in_order),
		cmocka_unit_test(nan_values_do_not_hide_the_rest),
		cmocka_unit_test(json_strings_from_raw_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

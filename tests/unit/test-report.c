/* Reports' pieces: HTML escaping, base64, syntax colouring, SVG charts, text diffs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report/report.h"

static char *escaped(const char *s, size_t len)
{
	tally_buf b = TALLY_BUF_INIT;
	tally__html_text(&b, s, len);
	tally_buf_addc(&b, '\0');
	return b.ptr;
}

static void escaping_leaves_no_markup(void **state)
{
	(void)state;
	char *t = escaped("<script>\"x\" & 'y'</script>", 27);
	assert_string_equal(t, "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
	free(t);
	/* invalid UTF-8 (a lone continuation byte, an overlong form, a surrogate) becomes U+FFFD; valid stays */
	t = escaped("a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xC3\xA9\xE2\x82\xAC", 15);
	assert_string_equal(t, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
	                       "d\xC3\xA9\xE2\x82\xAC");
	free(t);
	/* control bytes but tab and newline are dropped; a NUL does not end the text */
	t = escaped("x\0y\ttab\nline\x1b[31m", 18);
	assert_string_equal(t, "xy\ttab\nline[31m");
	free(t);
}

static void base64_vectors(void **state)
{
	(void)state;
	static const char *const cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
	                                       {"foobar", "Zm9vYmFy"}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tally_buf b = TALLY_BUF_INIT;
		tally__base64(&b, (const unsigned char *)cases[i][0], strlen(cases[i][0]));
		tally_buf_addc(&b, '\0');
		assert_string_equal(b.ptr, cases[i][1]);
		tally_buf_release(&b);
	}
}

static void highlighting_marks_and_escapes(void **state)
{
	(void)state;
	static const char py[] = "import os  # <b>\nx = \"</pre>\" + 'a\\'b' if 1.5e-3 else None\n";
	tally_buf b = TALLY_BUF_INIT;
	tally__html_highlight(&b, "train.py", py, sizeof py - 1);
	tally_buf_addc(&b, '\0');
	assert_non_null(strstr(b.ptr, "<span class=\"k\">import</span>"));
	assert_non_null(strstr(b.ptr, "<span class=\"c\"># &lt;b&gt;</span>"));
	assert_non_null(strstr(b.ptr, "<span class=\"s\">&quot;&lt;/pre&gt;&quot;</span>"));
	assert_non_null(strstr(b.ptr, "<span class=\"s\">&#39;a\\&#39;b&#39;</span>"));
	assert_non_null(strstr(b.ptr, "<span class=\"n\">1.5e-3</span>"));
	assert_non_null(strstr(b.ptr, "<span class=\"k\">None</span>"));
	assert_null(strstr(b.ptr, "<b>"));
	tally_buf_release(&b);
	/* an unknown kind of file is escaped, not coloured */
	tally__html_highlight(&b, "notes.txt", "if <x>", 6);
	tally_buf_addc(&b, '\0');
	assert_string_equal(b.ptr, "if &lt;x&gt;");
	tally_buf_release(&b);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void charts_thin_long_series_but_keep_the_peaks(void **state)
{
	(void)state;
	size_t n = 1000000;
	double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)i;
		y[i] = 1.0;
	}
	y[123457] = 50;  /* one peak */
	y[777777] = -20; /* one dip */
	tally_series s = {"<loss>", x, y, n};
	tally_buf b = TALLY_BUF_INIT;
	tally__chart_svg(&b, "loss & co", &s, 1, false);
	tally_buf_addc(&b, '\0');
	assert_int_equal(count(b.ptr, "<polyline"), 1);
	const char *pts = strstr(b.ptr, "data-points=\"");
	assert_non_null(pts);
	long drawn = strtol(pts + 13, NULL, 10);
	assert_true(drawn > 0 && drawn <= CHART_MAX_POINTS);
	/* the axis reaches the peak and the dip */
	assert_non_null(strstr(b.ptr, ">50</text>"));
	assert_non_null(strstr(b.ptr, ">-20</text>"));
	assert_non_null(strstr(b.ptr, "<title>loss &amp; co</title>"));
	assert_non_null(strstr(b.ptr, ">&lt;loss&gt;</text>"));
	tally_buf_release(&b);
	/* one point is a dot; no finite point at all still draws a chart */
	double one_x = 3, one_y = 0.5, nan_y = (double)NAN;
	tally_series dot = {"a", &one_x, &one_y, 1}, none = {"b", &one_x, &nan_y, 1};
	tally__chart_svg(&b, "t", &dot, 1, true);
	tally__chart_svg(&b, "t", &none, 1, false);
	tally_buf_addc(&b, '\0');
	assert_int_equal(count(b.ptr, "<circle"), 1);
	assert_int_equal(count(b.ptr, "<svg"), 2);
	assert_null(strstr(b.ptr, "nan"));
	tally_buf_release(&b);
	/* values where a tick step is below the precision of a double, and spans past a double */
	double big_x[] = {0, 1}, big_y[] = {1e23, 1e23 + 3.3e7}, huge_y[] = {-1e308, 1e308}, near_y[] = {-8e307, 8e307};
	tally_series big = {"big", big_x, big_y, 2}, huge = {"huge", big_x, huge_y, 2}, near = {"near", big_x, near_y, 2};
	tally__chart_svg(&b, "big", &big, 1, false);
	tally__chart_svg(&b, "huge", &huge, 1, false);
	tally__chart_svg(&b, "near", &near, 1, false); /* finite, but rounding the axis out overflows */
	tally_buf_addc(&b, '\0');
	assert_int_equal(count(b.ptr, "<svg"), 3);
	assert_null(strstr(b.ptr, "nan"));
	assert_null(strstr(b.ptr, "inf"));
	tally_buf_release(&b);
	/* NaN points (a loss that diverged now and then) do not hide their buckets */
	for (size_t i = 0; i < n; i++)
		y[i] = i % 500 == 0 ? (double)NAN : (double)(i % 7);
	tally_series gaps = {"gaps", x, y, n};
	tally__chart_svg(&b, "gaps", &gaps, 1, false);
	tally_buf_addc(&b, '\0');
	pts = strstr(b.ptr, "data-points=\"");
	assert_non_null(pts);
	drawn = strtol(pts + 13, NULL, 10);
	assert_true(drawn >= CHART_MAX_POINTS - 10 && drawn <= CHART_MAX_POINTS);
	assert_null(strstr(b.ptr, "nan"));
	tally_buf_release(&b);
	free(x);
	free(y);
}

typedef struct {
	size_t files, added, removed;
	char patch[4096];
} seen_diff;

static int keep(void *ctx, const tally_file_diff *d)
{
	seen_diff *s = ctx;
	s->files++;
	s->added += d->additions;
	s->removed += d->deletions;
	snprintf(s->patch, sizeof s->patch, "%s", d->patch);
	return 0;
}

static void text_diffs_through_libgit2(void **state)
{
	(void)state;
	seen_diff s = {0};
	static const char a[] = "one\ntwo\nthree\n", b[] = "one\n2\nthree\nfour\n";
	assert_int_equal(tally_diff_texts(a, sizeof a - 1, "out", b, sizeof b - 1, "out", 3, keep, &s), 0);
	assert_int_equal(s.files, 1);
	assert_int_equal(s.added, 2);
	assert_int_equal(s.removed, 1);
	assert_non_null(strstr(s.patch, "\n-two\n+2\n three\n+four\n"));
	/* the same texts: nothing to visit */
	memset(&s, 0, sizeof s);
	assert_int_equal(tally_diff_texts(a, sizeof a - 1, "out", a, sizeof a - 1, "out", 3, keep, &s), 0);
	assert_int_equal(s.files, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping_leaves_no_markup),
		cmocka_unit_test(base64_vectors),
		cmocka_unit_test(highlighting_marks_and_escapes),
		cmocka_unit_test(charts_thin_long_series_but_keep_the_peaks),
		cmocka_unit_test(text_diffs_through_libgit2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

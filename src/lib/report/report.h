/* HTML reports, inside the library: page assembly (report.c), SVG charts
 * (chart.c), escaping and syntax colouring (html.c). */
#ifndef TALLY_LIB_REPORT_H
#define TALLY_LIB_REPORT_H

#include "lib/run/run.h"

/* Text as HTML: & < > " ' escaped, bytes that are not UTF-8 as U+FFFD. */
void tally__html_text(tally_buf *out, const char *s, size_t len);
void tally__html_str(tally_buf *out, const char *s);
/* A source file's text as HTML with spans for keywords (k), strings (s),
 * comments (c) and numbers (n), by its extension (.py .R .sh .yml .c …). */
void tally__html_highlight(tally_buf *out, const char *path, const char *text, size_t len);
/* Bytes as base64 (for data: URIs). */
void tally__base64(tally_buf *out, const unsigned char *data, size_t len);

/* One line of a chart: points (x, y) in x order. */
typedef struct {
	const char *name;
	const double *x, *y;
	size_t n;
} tally_series;

/*
 * An inline SVG line chart of up to 9 series: axes with round ticks, a
 * legend, `unit_axis` a 0–1 y axis (accuracies).  Series longer than
 * CHART_MAX_POINTS are thinned to the min and max of each bucket, so peaks
 * survive.  data-series and data-points attributes say what was drawn.
 */
#define CHART_MAX_POINTS 2000
void tally__chart_svg(tally_buf *out, const char *title, const tally_series *series, size_t n, bool unit_axis);

#endif

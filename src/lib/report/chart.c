/*
 * Line charts as inline SVG, drawn from C: no JavaScript charting library,
 * a few kilobytes per chart, and they print.  Long series are thinned to the
 * minimum and maximum of each bucket of points, so peaks and dips survive.
 */
#include "lib/report/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 640.0
#define H 296.0
#define LEFT 58.0
#define RIGHT 14.0
#define TOP 26.0
#define BOTTOM 70.0

typedef struct {
	double lo, hi;
} range;

/* A round step that cuts the range into about `parts` intervals. */
static double nice_step(double span, int parts)
{
	if (!(span > 0))
		return 1;
	double raw = span / parts, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static range widen(range r)
{
	if (r.hi == r.lo) { /* one value: a band around it */
		double d = r.lo ? fabs(r.lo) * 0.1 : 1;
		r.lo -= d;
		r.hi += d;
	}
	return r;
}

static void tick_label(char *out, size_t size, double v, double step)
{
	if (fabs(v) < step * 1e-9)
		v = 0;
	if (fabs(v) >= 1e5 || (fabs(v) < 1e-3 && v != 0))
		snprintf(out, size, "%.2g", v);
	else
		snprintf(out, size, "%.*f", step >= 1 ? 0 : (int)ceil(-log10(step)), v);
}

/* Indexes of the points to draw: all, or the first, the min and max of each bucket, and the last. */
static size_t thin(const tally_series *s, size_t *keep)
{
	if (s->n <= CHART_MAX_POINTS) {
		for (size_t i = 0; i < s->n; i++)
			keep[i] = i;
		return s->n;
	}
	size_t buckets = CHART_MAX_POINTS / 2, n = 0;
	for (size_t b = 0; b < buckets; b++) {
		size_t from = s->n * b / buckets, to = s->n * (b + 1) / buckets, lo = from, hi = from;
		while (lo < to && !isfinite(s->y[lo])) /* NaN compares false: start at a finite point */
			lo++;
		if (lo == to)
			continue; /* nothing to draw in this bucket */
		hi = lo;
		for (size_t i = lo; i < to; i++) {
			if (!isfinite(s->y[i]))
				continue;
			if (s->y[i] < s->y[lo])
				lo = i;
			if (s->y[i] > s->y[hi])
				hi = i;
		}
		keep[n++] = lo < hi ? lo : hi;
		if (lo != hi)
			keep[n++] = lo < hi ? hi : lo;
	}
	return n;
}

void tally__chart_svg(tally_buf *out, const char *title, const tally_series *series, size_t n, bool unit_axis)
{
	if (n > 9)
		n = 9; /* three rows of legend */
	range x = {HUGE_VAL, -HUGE_VAL}, y = {HUGE_VAL, -HUGE_VAL};
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < series[k].n; i++) {
			if (!isfinite(series[k].y[i]))
				continue;
			x.lo = fmin(x.lo, series[k].x[i]);
			x.hi = fmax(x.hi, series[k].x[i]);
			y.lo = fmin(y.lo, series[k].y[i]);
			y.hi = fmax(y.hi, series[k].y[i]);
		}
	if (!(x.lo <= x.hi) || !isfinite(x.hi - x.lo) || !isfinite(y.hi - y.lo)) {
		x = (range){0, 1}; /* nothing finite to draw, or spans past a double: an empty frame */
		y = (range){0, 1};
		n = 0;
	}
	if (unit_axis && y.lo >= 0 && y.hi <= 1)
		y = (range){0, 1};
	x = widen(x);
	y = widen(y);
	double ys = nice_step(y.hi - y.lo, 5), xs = nice_step(x.hi - x.lo, 6);
	if (!unit_axis || y.lo < 0 || y.hi > 1) {
		y.lo = floor(y.lo / ys) * ys;
		y.hi = ceil(y.hi / ys) * ys;
	}
	if (!isfinite(y.hi - y.lo) || !isfinite(ys) || !isfinite(xs)) { /* rounding out went past a double */
		x = (range){0, 1};
		y = (range){0, 1};
		xs = ys = 0.2;
		n = 0;
	}
	double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(v) (LEFT + ((v) - x.lo) / (x.hi - x.lo) * pw)
#define PY(v) (TOP + ph - ((v) - y.lo) / (y.hi - y.lo) * ph)
	tally_buf_printf(out, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	                      "role=\"img\" data-series=\"%zu\"><title>", W, H, n);
	tally__html_str(out, title);
	tally_buf_printf(out, "</title><text class=\"title\" x=\"%.0f\" y=\"16\">", LEFT);
	tally__html_str(out, title);
	tally_buf_adds(out, "</text>");
	char label[64];
	/* Ticks by count, not by adding the step: next to 1e20 a step of 200 adds nothing. */
	int y_ticks = (int)fmin(floor((y.hi - y.lo) / ys + 1e-9), 50);
	double x0 = ceil(x.lo / xs) * xs;
	int x_ticks = (int)fmin(floor((x.hi - x0) / xs + 1e-9), 50);
	for (int t = 0; t <= y_ticks; t++) {
		double v = y.lo + t * ys;
		tally_buf_printf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", LEFT, W - RIGHT,
		                 PY(v), PY(v));
		tick_label(label, sizeof label, v, ys);
		tally_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LEFT - 6, PY(v) + 4, label);
	}
	for (int t = 0; t <= x_ticks; t++) {
		double v = x0 + t * xs;
		tick_label(label, sizeof label, v, xs);
		tally_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", PX(v), TOP + ph + 16,
		                 label);
	}
	tally_buf_printf(out, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", LEFT, W - RIGHT,
	                 TOP + ph, TOP + ph);
	tally_buf_printf(out, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", LEFT, LEFT, TOP,
	                 TOP + ph);
	size_t *keep = NULL;
	for (size_t k = 0; k < n; k++) {
		const tally_series *s = &series[k];
		size_t *grown = realloc(keep, (s->n ? s->n : 1) * sizeof *keep);
		if (!grown)
			break;
		keep = grown;
		size_t m = thin(s, keep), drawn = 0;
		tally_buf pts = TALLY_BUF_INIT;
		for (size_t j = 0; j < m; j++) {
			size_t i = keep[j];
			if (!isfinite(s->y[i]))
				continue;
			tally_buf_printf(&pts, "%s%.1f,%.1f", drawn++ ? " " : "", PX(s->x[i]), PY(s->y[i]));
		}
		if (drawn == 1) { /* one point: a dot */
			size_t i = 0;
			while (!isfinite(s->y[i]))
				i++;
			tally_buf_printf(out, "<circle class=\"s%zu\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" data-points=\"1\"/>", k,
			                 PX(s->x[i]), PY(s->y[i]));
		} else {
			tally_buf_printf(out, "<polyline class=\"s%zu\" data-points=\"%zu\" points=\"%s\"/>", k, drawn,
			                 pts.ptr ? pts.ptr : "");
		}
		tally_buf_release(&pts);
		/* the legend under the plot: a name a row, or (more than three) three to a row, cut short */
		size_t per_row = n <= 3 ? 1 : 3;
		double lx = LEFT + (double)(k % per_row) * (pw / 3), ly = H - 42 + (double)(k / per_row) * 13;
		tally_buf_printf(out, "<rect class=\"s%zu\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"3\"/>", k, lx, ly - 4);
		tally_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\">", lx + 14, ly);
		size_t len = strlen(s->name ? s->name : "");
		tally__html_text(out, s->name ? s->name : "", per_row > 1 && len > 22 ? 22 : len);
		if (per_row > 1 && len > 22)
			tally_buf_adds(out, "…");
		tally_buf_adds(out, "</text>");
	}
	free(keep);
	tally_buf_adds(out, "</svg>");
#undef PX
#undef PY
}

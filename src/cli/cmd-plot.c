/*
 * tally plot — a terminal chart of one scalar over steps, for one or more runs.
 *
 * Memory stays bounded however long a series is: the points are read twice
 * (tally_run_scalar_points), never stored.  The first pass finds each run's
 * step and value ranges; the second bins the points into the chart's pixel
 * columns, keeping per column the minimum and maximum (so a one-point spike
 * survives) and the first and last value in log order (to join a column to
 * the next one).  Pixels are braille dots (2x4 per character cell) or, with
 * --ascii, whole cells.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

const char cmd_plot_usage[] =
	"usage: tally plot [RUN…] TAG [--width N] [--height N] [--ascii]\n"
	"\n"
	"Chart the scalar TAG over steps in the terminal, one line per run, drawn\n"
	"with Unicode braille (2x4 dots per character) or, with --ascii, one plain\n"
	"character per cell.  RUN is an index (1 = latest, the default), a range\n"
	"(1:3), a list (3,7), an id prefix, a name or a run directory; name several\n"
	"to compare them.  Long series keep the minimum and maximum of each column,\n"
	"so spikes stay visible; nan and inf values are skipped.  At a terminal each\n"
	"run has its own colour (unless NO_COLOR is set).\n"
	"\n"
	"Options:\n"
	"      --width N       columns of the whole chart (default: the terminal's,\n"
	"                      or 80 when the output is not a terminal)\n"
	"      --height N      rows of the plotting area (default 20)\n"
	"      --ascii         plain characters (* + o x …) instead of braille\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

enum { OPT_WIDTH = 256, OPT_HEIGHT, OPT_ASCII, OPT_RUNS_DIR };

static const struct option options[] = {
	{"width", required_argument, NULL, OPT_WIDTH},
	{"height", required_argument, NULL, OPT_HEIGHT},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"runs-dir", required_argument, NULL, OPT_RUNS_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

enum { MIN_WIDTH = 20, MAX_WIDTH = 2000, MIN_HEIGHT = 3, MAX_HEIGHT = 500, DEFAULT_HEIGHT = 20 };

/* Per run: a marker in --ascii mode, and a colour (ANSI SGR) at a terminal. */
static const char markers[] = "*+ox#@%&";
static const int colours[] = {34, 31, 32, 33, 35, 36};
#define N_MARKERS (sizeof markers - 1)
#define N_COLOURS (sizeof colours / sizeof *colours)

/* One pixel column of one run's series. */
typedef struct {
	double min, max;    /* extremes: the vertical span drawn */
	double first, last; /* in log order: where lines from and to neighbours attach */
	size_t n;
} column;

typedef struct {
	tally_run *run;
	const char *tag;
	size_t points;          /* every point of the tag, finite or not */
	size_t finite;          /* those drawn */
	int64_t step_min, step_max;
	double value_min, value_max;
	column *cols;           /* pass 2: one per pixel column */
} series;

/* The drawing surface: `rows` x `cols` character cells of `cell_w` x `cell_h` pixels. */
typedef struct {
	int rows, cols, cell_w, cell_h;
	int pw, ph;             /* pixels */
	int64_t x0, x1;         /* step range */
	double y0, y1;          /* value range (y0 <= y1) */
	unsigned char *dots;    /* per cell: braille dot bits (in ascii mode, just non-zero) */
	int *owner;             /* per cell: the run that drew last in it, -1 for none */
} canvas;

typedef struct {
	const char **refs;
	size_t n_refs;
	const char *tag;
	const char *runs_dir;
	int width, height;
	bool ascii;
} plot_args;

/* ---- arguments ---- */

static int parse_size(const char *text, const char *what, int min, int max, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (end == text || *end || v < min || v > max)
		return cli_usage_error(cmd_plot_usage, "--%s needs a whole number from %d to %d, not '%s'", what, min, max, text);
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv, plot_args *a)
{
	int c, rc;
	optind = 1;
	opterr = 0; /* our own messages, with the usage */
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_WIDTH:
			if ((rc = parse_size(optarg, "width", MIN_WIDTH, MAX_WIDTH, &a->width)))
				return rc;
			break;
		case OPT_HEIGHT:
			if ((rc = parse_size(optarg, "height", MIN_HEIGHT, MAX_HEIGHT, &a->height)))
				return rc;
			break;
		case OPT_ASCII:
			a->ascii = true;
			break;
		case OPT_RUNS_DIR:
			a->runs_dir = optarg;
			break;
		case 'h':
			fputs(cmd_plot_usage, stdout);
			return -1;
		case ':':
			return cli_usage_error(cmd_plot_usage, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(cmd_plot_usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd_plot_usage, "which scalar? — name a TAG (see `tally scalars --summary`)");
	a->tag = argv[argc - 1];
	for (int i = optind; i < argc - 1; i++)
		a->refs[a->n_refs++] = argv[i];
	if (!a->n_refs)
		a->refs[a->n_refs++] = "1";
	return 0;
}

/* ---- reading the points ---- */

/* Pass 1: how many points the tag has, and the ranges of the finite ones. */
static int measure_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	series *s = ctx;
	(void)time_ms;
	if (strcmp(tag, s->tag) != 0)
		return 0;
	s->points++;
	if (!isfinite(value))
		return 0;
	if (!s->finite++) {
		s->step_min = s->step_max = step;
		s->value_min = s->value_max = value;
		return 0;
	}
	s->step_min = step < s->step_min ? step : s->step_min;
	s->step_max = step > s->step_max ? step : s->step_max;
	s->value_min = value < s->value_min ? value : s->value_min;
	s->value_max = value > s->value_max ? value : s->value_max;
	return 0;
}

typedef struct {
	series *s;
	const canvas *cv;
} binner;

/* The pixel column of a step; -1 when outside the range (points logged since pass 1). */
static int x_pixel(const canvas *cv, int64_t step)
{
	if (step < cv->x0 || step > cv->x1)
		return -1;
	if (cv->x0 == cv->x1)
		return 0;
	/* in double: the difference of two int64 steps may overflow */
	double t = ((double)step - (double)cv->x0) / ((double)cv->x1 - (double)cv->x0);
	return (int)lround(t * (cv->pw - 1));
}

/* Pass 2: each finite point into its pixel column. */
static int bin_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	binner *b = ctx;
	(void)time_ms;
	if (strcmp(tag, b->s->tag) != 0 || !isfinite(value))
		return 0;
	int px = x_pixel(b->cv, step);
	if (px < 0)
		return 0;
	column *c = &b->s->cols[px];
	if (!c->n++) {
		c->min = c->max = c->first = value;
	} else {
		c->min = value < c->min ? value : c->min;
		c->max = value > c->max ? value : c->max;
	}
	c->last = value;
	return 0;
}

/* ---- drawing ---- */

/* The geometry that does not depend on the number of columns (the labels need it). */
static void canvas_shape(canvas *cv, int rows, bool ascii)
{
	cv->rows = rows;
	cv->cell_w = ascii ? 1 : 2;
	cv->cell_h = ascii ? 1 : 4;
	cv->ph = rows * cv->cell_h;
}

static int canvas_alloc(canvas *cv, int cols)
{
	size_t cells = (size_t)cv->rows * (size_t)cols;
	cv->cols = cols;
	cv->pw = cols * cv->cell_w;
	cv->dots = calloc(cells, sizeof *cv->dots);
	cv->owner = malloc(cells * sizeof *cv->owner);
	if (!cv->dots || !cv->owner)
		return -1;
	for (size_t i = 0; i < cells; i++)
		cv->owner[i] = -1;
	return 0;
}

static void canvas_release(canvas *cv)
{
	free(cv->dots);
	free(cv->owner);
}

static bool flat(const canvas *cv)
{
	/* also a range too small to halve (5e-324 / 2 is 0): drawn as a flat line */
	return cv->y0 == cv->y1 || cv->y1 / 2 - cv->y0 / 2 == 0;
}

/* The cell row that holds the middle label (and a flat series). */
static int middle_row(const canvas *cv)
{
	return (cv->rows - 1) / 2;
}

/* The pixel row of a value: 0 at the top (y1), ph - 1 at the bottom (y0). */
static int y_pixel(const canvas *cv, double v)
{
	if (flat(cv)) /* a constant series: a flat line through the middle, no division by zero */
		return middle_row(cv) * cv->cell_h + (cv->cell_h - 1) / 2;
	/* halves, so that y1 - y0 cannot overflow to inf */
	double t = (cv->y1 / 2 - v / 2) / (cv->y1 / 2 - cv->y0 / 2);
	int py = (int)lround(t * (cv->ph - 1));
	return py < 0 ? 0 : py >= cv->ph ? cv->ph - 1 : py;
}

/* The value at pixel row py (the inverse of y_pixel), for axis labels. */
static double y_value(const canvas *cv, double py)
{
	return cv->y1 - py / (cv->ph - 1) * (cv->y1 / 2 - cv->y0 / 2) * 2;
}

static void set_pixel(canvas *cv, int px, int py, int run)
{
	/* braille dot numbering: left column dots 1-3 then 7, right column 4-6 then 8 */
	static const unsigned char bits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
	size_t cell = (size_t)(py / cv->cell_h) * (size_t)cv->cols + (size_t)(px / cv->cell_w);
	cv->dots[cell] |= cv->cell_h == 1 ? 1 : bits[px % cv->cell_w][py % cv->cell_h];
	cv->owner[cell] = run;
}

/* Bresenham's line, both ends included. */
static void draw_line(canvas *cv, int x0, int y0, int x1, int y1, int run)
{
	int dx = abs(x1 - x0), dy = -abs(y1 - y0);
	int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
	int err = dx + dy;
	for (;;) {
		set_pixel(cv, x0, y0, run);
		if (x0 == x1 && y0 == y1)
			return;
		int e2 = 2 * err;
		if (e2 >= dy) {
			err += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			err += dx;
			y0 += sy;
		}
	}
}

/* Each column's span, joined to the previous column that has points. */
static void draw_series(canvas *cv, const series *s, int run)
{
	int prev = -1;
	for (int px = 0; px < cv->pw; px++) {
		const column *c = &s->cols[px];
		if (!c->n)
			continue;
		if (prev >= 0)
			draw_line(cv, prev, y_pixel(cv, s->cols[prev].last), px, y_pixel(cv, c->first), run);
		draw_line(cv, px, y_pixel(cv, c->max), px, y_pixel(cv, c->min), run);
		prev = px;
	}
}

/* ---- printing ---- */

static void put_braille(unsigned char bits)
{
	/* U+2800 + bits in UTF-8: E2 A0|bits>>6 80|bits&3F */
	putchar(0xE2);
	putchar(0xA0 | (bits >> 6));
	putchar(0x80 | (bits & 0x3F));
}

static void set_colour(int run, int *current)
{
	if (run == *current)
		return;
	if (run < 0)
		fputs("\033[0m", stdout);
	else
		printf("\033[%dm", colours[(size_t)run % N_COLOURS]);
	*current = run;
}

/* The cells of one row, without trailing blanks. */
static void print_cells(const canvas *cv, int row, bool ascii, bool colour)
{
	const unsigned char *dots = cv->dots + (size_t)row * (size_t)cv->cols;
	const int *owner = cv->owner + (size_t)row * (size_t)cv->cols;
	int end = cv->cols;
	while (end > 0 && !dots[end - 1])
		end--;
	int current = -1;
	for (int c = 0; c < end; c++) {
		if (!dots[c]) {
			putchar(' '); /* a blank shows no colour: the current one can stay */
			continue;
		}
		if (colour)
			set_colour(owner[c], &current);
		if (ascii)
			putchar(markers[(size_t)owner[c] % N_MARKERS]);
		else
			put_braille(dots[c]);
	}
	if (colour)
		set_colour(-1, &current);
}

typedef struct {
	char top[32], middle[32], bottom[32];
	int width;
} y_labels;

/*
 * The real maximum and minimum on the top and bottom rows, and the value at
 * the middle row's centre; a flat series has one label, on its line.
 */
static void make_labels(y_labels *l, const canvas *cv)
{
	int mid = middle_row(cv);
	*l->top = *l->bottom = '\0';
	if (flat(cv)) {
		snprintf(l->middle, sizeof l->middle, "%.4g", cv->y0);
	} else {
		snprintf(l->top, sizeof l->top, "%.4g", cv->y1);
		snprintf(l->bottom, sizeof l->bottom, "%.4g", cv->y0);
		snprintf(l->middle, sizeof l->middle, "%.4g", y_value(cv, mid * cv->cell_h + (cv->cell_h - 1) / 2.0));
	}
	l->width = (int)strlen(l->middle);
	l->width = (int)strlen(l->top) > l->width ? (int)strlen(l->top) : l->width;
	l->width = (int)strlen(l->bottom) > l->width ? (int)strlen(l->bottom) : l->width;
}

static const char *row_label(const y_labels *l, const canvas *cv, int row)
{
	if (row == 0 && *l->top)
		return l->top;
	if (row == cv->rows - 1 && *l->bottom)
		return l->bottom;
	return row == middle_row(cv) ? l->middle : "";
}

/* The x axis, then the first step under the first column and the last under the last. */
static void print_x_axis(const canvas *cv, int label_width, bool ascii)
{
	printf("%*s %s", label_width, "", ascii ? "+" : "└");
	for (int c = 0; c < cv->cols; c++)
		fputs(ascii ? "-" : "─", stdout);
	putchar('\n');
	char first[24], last[24];
	snprintf(first, sizeof first, "%lld", (long long)cv->x0);
	snprintf(last, sizeof last, "%lld", (long long)cv->x1);
	printf("%*s %s", label_width + 1, "", first);
	if (cv->x1 != cv->x0) {
		int gap = cv->cols - (int)strlen(first) - (int)strlen(last);
		printf("%*s%s", gap > 1 ? gap : 1, "", last);
	}
	putchar('\n');
}

static void print_legend(const series *runs, size_t n, bool ascii, bool colour)
{
	for (size_t i = 0; i < n; i++) {
		fputs("  ", stdout);
		if (colour)
			printf("\033[%dm", colours[i % N_COLOURS]);
		if (ascii)
			putchar(markers[i % N_MARKERS]);
		else
			fputs("⣿", stdout);
		if (colour)
			fputs("\033[0m", stdout);
		const series *s = &runs[i];
		printf(" %s  %s  (%zu point%s", tally_run_id(s->run), s->tag, s->finite, s->finite == 1 ? "" : "s");
		if (s->points > s->finite)
			printf(", %zu not finite, skipped", s->points - s->finite);
		puts(")");
	}
}

static void print_chart(const canvas *cv, const series *runs, size_t n, bool ascii, bool colour)
{
	y_labels l;
	make_labels(&l, cv);
	for (int row = 0; row < cv->rows; row++) {
		const char *label = row_label(&l, cv, row);
		printf("%*s %s", l.width, label, ascii ? "|" : *label ? "┤" : "│");
		print_cells(cv, row, ascii, colour);
		putchar('\n');
	}
	print_x_axis(cv, l.width, ascii);
	print_legend(runs, n, ascii, colour);
}

/* ---- the command ---- */

static bool want_colour(void)
{
	const char *no_colour = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
}

/* The ranges over every run: the chart's axes.  Fails when nothing is finite. */
static int set_ranges(canvas *cv, const series *runs, size_t n)
{
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		const series *s = &runs[i];
		if (!s->finite)
			continue;
		if (!any) {
			cv->x0 = s->step_min, cv->x1 = s->step_max;
			cv->y0 = s->value_min, cv->y1 = s->value_max;
			any = true;
			continue;
		}
		cv->x0 = s->step_min < cv->x0 ? s->step_min : cv->x0;
		cv->x1 = s->step_max > cv->x1 ? s->step_max : cv->x1;
		cv->y0 = s->value_min < cv->y0 ? s->value_min : cv->y0;
		cv->y1 = s->value_max > cv->y1 ? s->value_max : cv->y1;
	}
	return any ? 0 : -1;
}

/* Find every run (ranges and lists expanded) and measure its series; any run without the tag is an error. */
static int load_runs(series **out, size_t *n_loaded, tally_store *store, const plot_args *a)
{
	tally_run **found = NULL;
	size_t n = 0;
	/* only their ids and scalar logs are read: not run.json */
	int code = cli_lookup_runs_from(store, (char *const *)a->refs, a->n_refs, true, &found, &n);
	if (code)
		return code;
	cli_compact_runs(found, &n);
	series *runs = calloc(n + 1, sizeof *runs);
	if (!runs) {
		cli_free_runs(found, n);
		return cli_error("out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		runs[i].run = found[i];
		runs[i].tag = a->tag;
	}
	free(found); /* the runs themselves now belong to `runs` */
	*out = runs;
	*n_loaded = n;
	for (size_t i = 0; i < n; i++) {
		series *s = &runs[i];
		int rc = tally_run_scalar_points(s->run, measure_point, s);
		if (rc)
			return cli_lib_error(rc);
		if (!s->points)
			return cli_error("run %s has no scalar '%s' — see `tally scalars --summary %s`", tally_run_id(s->run),
			                 a->tag, tally_run_id(s->run));
	}
	return 0;
}

static int plot(series *runs, size_t n, const plot_args *a)
{
	canvas cv = {0};
	int code = 0, rc;
	if (set_ranges(&cv, runs, n))
		return cli_error("scalar '%s' has no finite values to plot", a->tag);
	/* the labels' width decides how many columns are left for the plot */
	y_labels l;
	canvas_shape(&cv, a->height, a->ascii);
	make_labels(&l, &cv);
	if (canvas_alloc(&cv, a->width - l.width - 2)) {
		code = cli_error("out of memory");
		goto done;
	}
	for (size_t i = 0; i < n && !code; i++) {
		binner b = {&runs[i], &cv};
		if (!(runs[i].cols = calloc((size_t)cv.pw, sizeof *runs[i].cols)))
			code = cli_error("out of memory");
		else if ((rc = tally_run_scalar_points(runs[i].run, bin_point, &b)))
			code = cli_lib_error(rc);
		else
			draw_series(&cv, &runs[i], (int)i);
	}
	if (!code)
		print_chart(&cv, runs, n, a->ascii, want_colour());
done:
	canvas_release(&cv);
	return code;
}

int cmd_plot(int argc, char **argv)
{
	plot_args a = {.height = DEFAULT_HEIGHT};
	a.refs = calloc((size_t)argc + 1, sizeof *a.refs);
	series *runs = NULL;
	tally_store *store = NULL;
	size_t n_runs = 0;
	int code = 0;
	if (!a.refs) {
		code = cli_error("out of memory");
		goto done;
	}
	int rc = parse_args(argc, argv, &a);
	if (rc) {
		code = rc < 0 ? EXIT_OK : rc;
		goto done;
	}
	if (!a.width) {
		int terminal = cli_terminal_width();
		a.width = !terminal ? 80 : terminal < MIN_WIDTH ? MIN_WIDTH : terminal;
	}
	if ((code = cli_open_store(&store, a.runs_dir)))
		goto done;
	/* Every run is found and measured before anything is printed. */
	if ((code = load_runs(&runs, &n_runs, store, &a)))
		goto done;
	static char out_buf[1 << 16];
	setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
	if ((code = plot(runs, n_runs, &a)))
		goto done;
	if (fflush(stdout) != 0)
		code = cli_error("cannot write the plot — is the output closed?");
done:
	for (size_t i = 0; runs && i < n_runs; i++) {
		tally_run_free(runs[i].run);
		free(runs[i].cols);
	}
	free(runs);
	free(a.refs);
	tally_store_free(store);
	return code;
}

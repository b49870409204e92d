/*
 * HTML reports: one self-contained file (its CSS inlined, charts as inline
 * SVG, images as data: URIs, no script and no network) about one run, or a
 * comparison of several.  Every text that came from a run is escaped, and
 * the page's Content-Security-Policy forbids scripts anyway.
 */
#include "lib/report/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/fsutil.h"
#include "util/timeutil.h"
#include "web-assets.h"

#define OUTPUT_MAX (8u << 20)     /* console output shown, bytes */
#define SOURCE_MAX (1u << 20)     /* one source file shown */
#define SOURCES_MAX (8u << 20)    /* all source files shown */
#define IMAGE_MAX (4u << 20)      /* one image inlined */
#define IMAGES_MAX (16u << 20)    /* all images of a run */
#define DIFF_TEXT_MAX (8u << 20)  /* each side of the output diff */

/* ---- a run's data ---- */

typedef struct {
	char *tag;
	double *x, *y;
	size_t n, cap;
} series_buf;

typedef struct {
	series_buf *items;
	size_t n;
	json_t *index; /* tag → position */
} series_set;

static int collect_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	series_set *set = ctx;
	json_t *at = json_object_get(set->index, tag);
	size_t k;
	if (at) {
		k = (size_t)json_integer_value(at);
	} else {
		series_buf *grown = realloc(set->items, (set->n + 1) * sizeof *grown);
		if (!grown)
			return 1;
		set->items = grown;
		char *name = strdup(tag);
		if (!name || json_object_set_new(set->index, tag, json_integer((json_int_t)set->n)) < 0) {
			free(name); /* out of memory, or a tag that is not UTF-8: not drawn */
			return name ? 0 : 1;
		}
		k = set->n++;
		set->items[k] = (series_buf){name, NULL, NULL, 0, 0};
	}
	series_buf *s = &set->items[k];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *x = realloc(s->x, cap * sizeof *x);
		if (x)
			s->x = x;
		double *y = x ? realloc(s->y, cap * sizeof *y) : NULL;
		if (!y)
			return 1;
		s->y = y;
		s->cap = cap;
	}
	s->x[s->n] = (double)step;
	s->y[s->n++] = value;
	return 0;
}

static void series_release(series_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->items[i].tag);
		free(set->items[i].x);
		free(set->items[i].y);
	}
	free(set->items);
	json_decref(set->index);
}

static series_buf *series_find(const series_set *set, const char *tag)
{
	json_t *at = json_object_get(set->index, tag);
	return at ? &set->items[json_integer_value(at)] : NULL;
}

/* Accuracy-like scalars are drawn on a 0–1 axis, as tfruns does. */
static bool accuracy_like(const char *tag)
{
	static const char *const words[] = {"acc", "auc", "precision", "recall", "f1", NULL};
	for (const char *const *w = words; *w; w++)
		if (strcasestr(tag, *w))
			return true;
	return false;
}

static bool is_system(const char *tag)
{
	return !strncmp(tag, "sys/", 4);
}

/* A file of the run, read only when it lies inside the run; 1 when not there or too big. */
static int read_inside(const tally_run *run, const char *rel, tally_buf *out, size_t max)
{
	if (!tally__plain_path(rel))
		return 1;
	char *path = tally_path_join(tally_run_dir(run), rel);
	char *real = path ? realpath(path, NULL) : NULL, *root = realpath(tally_run_dir(run), NULL);
	size_t n = root ? strlen(root) : 0;
	int rc = 1;
	if (real && root && !strncmp(real, root, n) && real[n] == '/')
		rc = tally_read_regular_file(out, real, max) < 0 ? 1 : 0;
	free(path);
	free(real);
	free(root);
	return rc;
}

/* ---- page pieces ---- */

static void page_begin(tally_buf *out, const char *title)
{
	tally_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	                    "img-src data:; style-src 'unsafe-inline'\">"
	                    "<meta name=\"generator\" content=\"tally\"><title>");
	tally__html_str(out, title);
	tally_buf_adds(out, "</title><style>");
	tally_buf_adds(out, report_css);
	tally_buf_adds(out, "</style></head><body>\n");
}

static void page_end(tally_buf *out)
{
	char now[40];
	tally_format_iso_ms(now, sizeof now, tally_now_ms());
	tally_buf_printf(out, "<p class=\"note\">Made by tally %s on %s.</p>\n</body></html>\n", tally_version(), now);
}

/* A status as a CSS class: one of the known ones (run.json can be edited by hand). */
static const char *status_class(const char *status)
{
	static const char *const known[] = {"running", "completed", "error", "terminated", "pruned", "pending", "queued"};
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (!strcmp(status, known[i]))
			return known[i];
	return "other";
}

/* A value in a table cell; `rounded` (scalars): 6 significant digits shown,
 * the exact value on hover. */
static void cell_value(tally_buf *out, json_t *v, bool rounded)
{
	if (!v || json_is_null(v)) {
		tally_buf_adds(out, "–");
	} else if (json_is_string(v)) {
		tally__html_str(out, json_string_value(v));
	} else if (json_is_real(v)) {
		char exact[40], shown[40];
		tally_format_double(exact, sizeof exact, json_real_value(v));
		tally_format_rounded(shown, sizeof shown, json_real_value(v));
		if (rounded && strcmp(exact, shown))
			tally_buf_printf(out, "<span title=\"%s\">%s</span>", exact, shown);
		else
			tally_buf_adds(out, exact);
	} else {
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		tally__html_str(out, text ? text : "");
		free(text);
	}
}

static void row(tally_buf *out, const char *name, const char *value)
{
	tally_buf_adds(out, "<tr><th>");
	tally__html_str(out, name);
	tally_buf_adds(out, "</th><td>");
	tally__html_str(out, value);
	tally_buf_adds(out, "</td></tr>\n");
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void summary_section(tally_buf *out, const tally_run *run, json_t *meta)
{
	char started[40] = "", duration[32] = "–", exit_text[64] = "";
	tally_format_local_zone(started, sizeof started, tally_run_started_ms(run)); /* as tally show gives it */
	int64_t start = tally_run_started_ms(run), stop = tally_run_stopped_ms(run);
	if (stop >= start && stop > 0)
		tally_format_duration(duration, sizeof duration, stop - start);
	if (tally_run_exit_status(run) >= 0)
		snprintf(exit_text, sizeof exit_text, "%d", tally_run_exit_status(run));
	tally_buf_adds(out, "<h2>Summary</h2><table class=\"summary\">\n");
	row(out, "script", *tally_run_script(run) ? tally_run_script(run) : "–");
	tally_buf buf = TALLY_BUF_INIT;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(meta, "command"), i, a) tally_buf_printf(&buf, "%s%s", i ? " " : "", json_string_value(a) ? json_string_value(a) : "");
	row(out, "command", buf.ptr ? buf.ptr : "");
	row(out, "started", started);
	row(out, "duration", duration);
	row(out, "status", tally_run_status(run));
	if (*exit_text)
		row(out, "exit status", exit_text);
	tally_buf_clear(&buf);
	tally_buf_printf(&buf, "%s (user %s)", str(meta, "host"), str(meta, "user"));
	row(out, "host", buf.ptr);
	json_t *git = json_object_get(meta, "git");
	if (git) {
		tally_buf_clear(&buf);
		tally_buf_printf(&buf, "%s%s%s%s", *str(git, "commit") ? str(git, "commit") : "(no commit yet)",
		                 *str(git, "branch") ? " on " : "", str(git, "branch"),
		                 json_is_true(json_object_get(git, "dirty")) ? ", with uncommitted changes" : "");
		row(out, "git", buf.ptr);
	}
	if (*str(meta, "project_dir"))
		row(out, "project", str(meta, "project_dir"));
	json_t *sweep = json_object_get(meta, "sweep");
	if (json_is_string(json_object_get(sweep, "id"))) {
		tally_buf_clear(&buf);
		tally_buf_printf(&buf, "%s, trial %lld", str(sweep, "id"), (long long)json_integer_value(json_object_get(sweep, "trial")));
		row(out, "sweep", buf.ptr);
	}
	tally_buf_release(&buf);
	tally_buf_adds(out, "</table>\n");
}

static void flags_section(tally_buf *out, json_t *meta)
{
	json_t *flags = json_object_get(meta, "flags");
	if (!json_object_size(flags))
		return;
	tally_buf_adds(out, "<h2>Flags</h2><table class=\"flags\">\n");
	const char *name;
	json_t *v;
	json_object_foreach(flags, name, v) {
		tally_buf_adds(out, "<tr><th>");
		tally__html_str(out, name);
		tally_buf_adds(out, "</th><td class=\"num\">");
		cell_value(out, v, false);
		tally_buf_adds(out, "</td></tr>\n");
	}
	tally_buf_adds(out, "</table>\n");
}

static void scalars_section(tally_buf *out, json_t *summaries)
{
	if (!json_object_size(summaries))
		return;
	static const char *const cols[] = {"last", "min", "max", "first", "count"};
	tally_buf_adds(out, "<h2>Scalars</h2><table class=\"scalars\"><tr><th>tag</th>");
	for (size_t c = 0; c < 5; c++)
		tally_buf_printf(out, "<th>%s</th>", cols[c]);
	tally_buf_adds(out, "</tr>\n");
	const char *tag;
	json_t *s;
	json_object_foreach(summaries, tag, s) {
		tally_buf_adds(out, "<tr><th>");
		tally__html_str(out, tag);
		tally_buf_adds(out, "</th>");
		for (size_t c = 0; c < 5; c++) {
			tally_buf_adds(out, "<td class=\"num\">");
			cell_value(out, json_object_get(s, cols[c]), true);
			tally_buf_adds(out, "</td>");
		}
		tally_buf_adds(out, "</tr>\n");
	}
	tally_buf_adds(out, "</table>\n");
}

static tally_series as_series(const series_buf *s, const char *name)
{
	return (tally_series){name, s->x, s->y, s->n};
}

/* One chart per scalar, its val_ counterpart overlaid; the system metrics apart, folded. */
static void charts_section(tally_buf *out, const series_set *set)
{
	bool any = false, any_sys = false;
	for (size_t i = 0; i < set->n; i++) {
		const char *tag = set->items[i].tag;
		if (is_system(tag)) {
			any_sys = true;
			continue;
		}
		if (!strncmp(tag, "val_", 4) && strncmp(tag + 4, "val_", 4) && series_find(set, tag + 4))
			continue; /* drawn with its training counterpart (val_val_x has its own chart) */
		char val_tag[512];
		snprintf(val_tag, sizeof val_tag, "val_%s", tag);
		const series_buf *val_series = strncmp(tag, "val_", 4) ? series_find(set, val_tag) : NULL;
		if (set->items[i].n <= 1 && (!val_series || val_series->n <= 1))
			continue; /* one value is no line: the table above shows it */
		if (!any)
			tally_buf_adds(out, "<h2>Charts</h2><div class=\"charts\">\n");
		any = true;
		tally_series lines[2] = {as_series(&set->items[i], tag)};
		size_t n = 1;
		char val[512];
		snprintf(val, sizeof val, "val_%s", tag);
		const series_buf *v = strncmp(tag, "val_", 4) ? series_find(set, val) : NULL;
		if (v)
			lines[n++] = as_series(v, v->tag);
		tally_buf_adds(out, "<figure>");
		tally__chart_svg(out, tag, lines, n, accuracy_like(tag));
		tally_buf_adds(out, "</figure>\n");
	}
	if (any)
		tally_buf_adds(out, "</div>\n");
	if (!any_sys)
		return;
	tally_buf_adds(out, "<details><summary>System metrics</summary><div class=\"charts\">\n");
	for (size_t i = 0; i < set->n; i++) {
		if (!is_system(set->items[i].tag))
			continue;
		tally_series line = as_series(&set->items[i], set->items[i].tag);
		tally_buf_adds(out, "<figure>");
		tally__chart_svg(out, set->items[i].tag, &line, 1, false);
		tally_buf_adds(out, "</figure>\n");
	}
	tally_buf_adds(out, "</div></details>\n");
}

/* ---- console output ---- */

/* Lines of output shown at once; the ones before them fold into a <details>. */
#define OUTPUT_TAIL_LINES 40

typedef struct {
	tally_buf *out;
	size_t shown;
	bool truncated, in_err;
	tally_buf line;  /* the line being gathered (a \r starts it over, as on a terminal) */
	int line_stream;
	size_t lines;    /* complete lines written to `out` */
	size_t starts[OUTPUT_TAIL_LINES + 1]; /* where the latest lines begin in `out`, a ring */
} output_view;

static void flush_line(output_view *v, bool newline)
{
	if (v->line.len || newline) {
		v->starts[v->lines % (OUTPUT_TAIL_LINES + 1)] = v->out->len;
		if (v->line_stream == 1)
			tally_buf_adds(v->out, "<span class=\"err\">");
		tally__html_text(v->out, v->line.ptr ? v->line.ptr : "", v->line.len);
		if (v->line_stream == 1)
			tally_buf_adds(v->out, "</span>");
		if (newline)
			tally_buf_addc(v->out, '\n');
		v->lines++;
	}
	tally_buf_clear(&v->line);
}

static int output_chunk(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	output_view *v = ctx;
	if (v->shown + len > OUTPUT_MAX) {
		v->truncated = true;
		return 1;
	}
	v->shown += len;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (v->line.len == 0)
			v->line_stream = stream;
		if (c == '\n')
			flush_line(v, true);
		else if (c == '\r')
			tally_buf_clear(&v->line); /* a progress bar redrawn: the last drawing stays */
		else
			tally_buf_addc(&v->line, c);
	}
	return 0;
}

/*
 * The console output: its last lines at once, the ones before them folded
 * into a <details> (no script needed to open it).  Rendered into a buffer
 * of its own first, with the start of each of the latest lines kept, so
 * the fold point is known only once the output has been read.
 */
static void output_section(tally_buf *out, const tally_run *run)
{
	tally_buf text = TALLY_BUF_INIT;
	output_view v = {&text, 0, false, false, TALLY_BUF_INIT, 0, 0, {0}};
	tally_run_output(run, TALLY_OUTPUT_BOTH, output_chunk, &v);
	flush_line(&v, false);
	tally_buf_release(&v.line);
	tally_buf_adds(out, "<h2>Output</h2>");
	size_t fold = v.lines > OUTPUT_TAIL_LINES ? v.starts[(v.lines - OUTPUT_TAIL_LINES) % (OUTPUT_TAIL_LINES + 1)] : 0;
	if (fold) {
		tally_buf_printf(out, "<details class=\"output-head\"><summary>The first %zu lines</summary><pre class=\"output\">",
		                 v.lines - OUTPUT_TAIL_LINES);
		tally_buf_add(out, text.ptr, fold);
		tally_buf_adds(out, "</pre></details>");
	}
	tally_buf_adds(out, "<pre class=\"output\">");
	tally_buf_add(out, text.ptr ? text.ptr + fold : "", text.len - fold);
	tally_buf_adds(out, "</pre>\n");
	tally_buf_release(&text);
	if (v.truncated) {
		tally_buf_printf(out, "<p class=\"note\">The output goes on past %u MiB: <code>tally cat ", OUTPUT_MAX >> 20);
		tally__html_str(out, tally_run_id(run));
		tally_buf_adds(out, "</code> shows all of it.</p>\n");
	} else if (!v.shown) {
		tally_buf_adds(out, "<p class=\"note\">No output.</p>\n");
	}
}

/* ---- sources, files, images ---- */

static json_t *source_list(const tally_run *run)
{
	char *path = tally_path_join(tally_run_dir(run), TALLY_META_DIR "/sources.json");
	json_t *list = path ? json_load_file(path, 0, NULL) : NULL;
	free(path);
	return json_is_array(list) ? list : (json_decref(list), json_array());
}

static void sources_section(tally_buf *out, const tally_run *run)
{
	json_t *list = source_list(run);
	if (json_array_size(list))
		tally_buf_adds(out, "<h2>Source code</h2>\n");
	size_t i, shown = 0;
	json_t *entry;
	json_array_foreach(list, i, entry) {
		const char *rel = str(entry, "path");
		tally_buf text = TALLY_BUF_INIT;
		/* past SOURCES_MAX in all, files are listed but not shown (a big repository's snapshot) */
		int rc = shown > SOURCES_MAX ? 1 : read_inside(run, rel, &text, SOURCE_MAX);
		shown += text.len;
		bool binary = !rc && text.len && memchr(text.ptr, '\0', text.len);
		tally_buf_adds(out, "<details class=\"source\"><summary>");
		tally__html_str(out, rel);
		tally_buf_printf(out, " <span class=\"note\">(%lld bytes)</span></summary>",
		                 (long long)json_integer_value(json_object_get(entry, "size")));
		if (rc || binary)
			tally_buf_adds(out, rc ? "<p class=\"note\">Not shown: missing from the run, or too large for a report "
			                         "(tally open shows the run's files).</p>"
			                       : "<p class=\"note\">Not shown: a binary file.</p>");
		else {
			tally_buf_adds(out, "<pre>");
			tally__html_highlight(out, rel, text.ptr ? text.ptr : "", text.len);
			tally_buf_adds(out, "</pre>");
		}
		tally_buf_adds(out, "</details>\n");
		tally_buf_release(&text);
	}
	json_decref(list);
}

static const char *image_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return NULL;
	if (!strcasecmp(dot, ".png"))
		return "image/png";
	if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))
		return "image/jpeg";
	if (!strcasecmp(dot, ".gif"))
		return "image/gif";
	if (!strcasecmp(dot, ".webp"))
		return "image/webp";
	if (!strcasecmp(dot, ".svg"))
		return "image/svg+xml"; /* shown as an <img>: its scripts never run */
	return NULL;
}

static json_t *produced_files(const tally_run *run)
{
	char *text = NULL;
	if (tally_run_files_json(run, 0, &text))
		return NULL;
	json_t *files = json_loads(text, 0, NULL);
	free(text);
	return files;
}

/* The files the run produced, with their sizes. */
static void files_section(tally_buf *out, json_t *files)
{
	if (json_array_size(files)) {
		tally_buf_adds(out, "<h2>Files the run produced</h2><table class=\"files\"><tr><th>file</th><th>bytes</th></tr>\n");
		size_t i;
		json_t *f;
		json_array_foreach(files, i, f) {
			tally_buf_adds(out, "<tr><td>");
			tally__html_str(out, str(f, "path"));
			tally_buf_printf(out, "</td><td class=\"num\">%lld</td></tr>\n",
			                 (long long)json_integer_value(json_object_get(f, "size")));
		}
		tally_buf_adds(out, "</table>\n");
	}
}

/* The images among them, inline. */
static void images_section(tally_buf *out, const tally_run *run, json_t *files)
{
	size_t total = 0, i;
	bool header = false;
	json_t *f;
	json_array_foreach(files, i, f) {
		const char *type = image_type(str(f, "path"));
		json_int_t size = json_integer_value(json_object_get(f, "size"));
		if (!type || size <= 0 || size > IMAGE_MAX || total + (size_t)size > IMAGES_MAX)
			continue;
		tally_buf data = TALLY_BUF_INIT;
		if (!read_inside(run, str(f, "path"), &data, IMAGE_MAX) && data.len) {
			if (!header)
				tally_buf_adds(out, "<h2>Images</h2><div class=\"images\">\n");
			header = true;
			total += data.len;
			tally_buf_printf(out, "<figure><img alt=\"\" src=\"data:%s;base64,", type);
			tally__base64(out, (const unsigned char *)data.ptr, data.len);
			tally_buf_adds(out, "\"><figcaption>");
			tally__html_str(out, str(f, "path"));
			tally_buf_adds(out, "</figcaption></figure>\n");
		}
		tally_buf_release(&data);
	}
	if (header)
		tally_buf_adds(out, "</div>\n");
}

/* ---- one run ---- */

static json_t *load_json_text(const char *text)
{
	json_t *v = json_loads(text ? text : "", 0, NULL);
	return v ? v : json_object();
}

static int collect_series(const tally_run *run, series_set *set)
{
	set->items = NULL;
	set->n = 0;
	set->index = json_object();
	int rc = tally_run_scalar_points(run, collect_point, set);
	return rc < 0 ? rc : 0;
}

static int single_report(tally_buf *out, const tally_run *run)
{
	json_t *meta = load_json_text(tally_run_json(run)), *summaries = load_json_text(tally_run_scalars_json(run));
	series_set set;
	int rc = collect_series(run, &set);
	if (!rc) {
		tally_buf title = TALLY_BUF_INIT;
		tally_buf_printf(&title, "Run %s", tally_run_id(run));
		page_begin(out, title.ptr);
		tally_buf_release(&title);
		tally_buf_adds(out, "<h1>Run ");
		tally__html_str(out, tally_run_id(run));
		tally_buf_adds(out, "</h1><p class=\"sub\">");
		if (*tally_run_label(run)) {
			tally__html_str(out, tally_run_label(run));
			tally_buf_adds(out, " ");
		}
		tally_buf_printf(out, "<span class=\"status %s\">", status_class(tally_run_status(run)));
		tally__html_str(out, tally_run_status(run));
		tally_buf_adds(out, "</span></p>\n");
		summary_section(out, run, meta);
		flags_section(out, meta);
		scalars_section(out, summaries);
		charts_section(out, &set);
		json_t *files = produced_files(run);
		images_section(out, run, files);
		output_section(out, run);
		sources_section(out, run);
		files_section(out, files);
		json_decref(files);
		page_end(out);
	}
	series_release(&set);
	json_decref(meta);
	json_decref(summaries);
	return rc;
}

/* ---- several runs ---- */

/* A row per key of any run's object, a column per run: the value, or its `field` (a scalar's "last"). */
static json_t *cell_of(json_t *object, const char *key, const char *field)
{
	json_t *v = json_object_get(object, key);
	return field ? json_object_get(v, field) : v;
}

int tally_scalar_direction(const char *tag)
{
	static const char *const smaller[] = {"loss", "err", "mse", "mae", "rmse", "perplexity", "ppl", NULL};
	if (accuracy_like(tag))
		return 1;
	for (const char *const *w = smaller; *w; w++)
		if (strcasestr(tag, *w))
			return -1;
	return 0;
}

/* The best of the runs' values of a scalar (by its direction), or NAN. */
static double best_value(json_t **objects, size_t n, const char *key, const char *field, int direction)
{
	double best = (double)NAN;
	for (size_t k = 0; direction && k < n; k++) {
		json_t *v = cell_of(objects[k], key, field);
		if (!json_is_number(v) || isnan(json_number_value(v)))
			continue;
		double x = json_number_value(v);
		if (isnan(best) || (direction > 0 ? x > best : x < best))
			best = x;
	}
	return best;
}

static void compare_table(tally_buf *out, const char *title, json_t **objects, size_t n, const tally_run *const *runs,
                          const char *field)
{
	json_t *names = json_array(), *seen = json_object();
	for (size_t k = 0; k < n; k++) {
		const char *key;
		json_t *v;
		json_object_foreach(objects[k], key, v) if (!json_object_get(seen, key) && !is_system(key)) {
			json_object_set_new(seen, key, json_true());
			json_array_append_new(names, json_string(key));
		}
	}
	if (json_array_size(names)) {
		tally_buf_printf(out, "<h2>%s</h2><table class=\"compare\"><tr><th></th>", title);
		for (size_t k = 0; k < n; k++) {
			tally_buf_adds(out, "<th>");
			tally__html_str(out, tally_run_id(runs[k]));
			tally_buf_adds(out, "</th>");
		}
		tally_buf_adds(out, "</tr>\n");
	}
	size_t i;
	json_t *name;
	json_array_foreach(names, i, name) {
		const char *key = json_string_value(name);
		bool differs = false;
		json_t *first = cell_of(objects[0], key, field);
		for (size_t k = 1; k < n && !differs; k++) {
			json_t *v = cell_of(objects[k], key, field);
			differs = !(first == v || (first && v && json_equal(first, v)));
		}
		/* a scalar's best value is marked when the runs differ and the tag says which way is better */
		double best = field && differs ? best_value(objects, n, key, field, tally_scalar_direction(key)) : (double)NAN;
		tally_buf_printf(out, "<tr%s><th>", differs ? " class=\"differs\"" : "");
		tally__html_str(out, key);
		tally_buf_adds(out, "</th>");
		for (size_t k = 0; k < n; k++) {
			json_t *v = cell_of(objects[k], key, field);
			bool is_best = !isnan(best) && json_is_number(v) && json_number_value(v) == best;
			tally_buf_adds(out, is_best ? "<td class=\"num best\" title=\"best\">" : "<td class=\"num\">");
			cell_value(out, v, field != NULL);
			tally_buf_adds(out, "</td>");
		}
		tally_buf_adds(out, "</tr>\n");
	}
	if (json_array_size(names))
		tally_buf_adds(out, "</table>\n");
	json_decref(names);
	json_decref(seen);
}

/* A unified diff rendered: +/- lines marked, hunks and headers styled. */
static int render_patch(void *ctx, const tally_file_diff *d)
{
	tally_buf *out = ctx;
	tally_buf_adds(out, "<pre class=\"diff\">");
	if (!strcmp(d->change, "renamed")) {
		tally_buf_adds(out, "<span class=\"head\">renamed ");
		tally__html_str(out, d->old_path);
		tally_buf_adds(out, " → ");
		tally__html_str(out, d->path);
		tally_buf_adds(out, " (same content)</span>\n");
	}
	const char *p = d->patch;
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *cls = !strncmp(p, "diff ", 5) || !strncmp(p, "--- ", 4) || !strncmp(p, "+++ ", 4) ? "head"
		                : *p == '@'                                                              ? "hunk"
		                : *p == '+'                                                              ? "add"
		                : *p == '-'                                                              ? "del"
		                                                                                         : NULL;
		if (cls)
			tally_buf_printf(out, "<span class=\"%s\">", cls);
		tally__html_text(out, p, len);
		if (cls)
			tally_buf_adds(out, "</span>");
		tally_buf_addc(out, '\n');
		p += len + (p[len] == '\n');
	}
	tally_buf_adds(out, "</pre>\n");
	return 0;
}

typedef struct {
	tally_buf text;
	bool too_big;
} output_text;

static int gather_output(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	output_text *t = ctx;
	if (t->text.len + len > DIFF_TEXT_MAX) {
		t->too_big = true;
		return 1;
	}
	tally_buf_add(&t->text, data, len);
	return 0;
}

static void diff_sections(tally_buf *out, const tally_run *const *runs, size_t n)
{
	for (size_t k = 1; k < n; k++) {
		tally_buf_adds(out, "<h2>Source changes: ");
		tally__html_str(out, tally_run_id(runs[0]));
		tally_buf_adds(out, " → ");
		tally__html_str(out, tally_run_id(runs[k]));
		tally_buf_adds(out, "</h2>\n");
		size_t before = out->len;
		if (tally_diff_sources(runs[0], runs[k], 3, render_patch, out) < 0) {
			tally_buf_adds(out, "<p class=\"note\">No source diff: ");
			tally__html_str(out, tally_error_last()); /* it may name a file of the run */
			tally_buf_adds(out, "</p>\n");
		}
		else if (out->len == before)
			tally_buf_adds(out, "<p class=\"note\">The same sources.</p>\n");
	}
	if (n != 2)
		return;
	output_text t[2] = {{TALLY_BUF_INIT, false}, {TALLY_BUF_INIT, false}};
	for (int k = 0; k < 2; k++)
		tally_run_output(runs[k], TALLY_OUTPUT_BOTH, gather_output, &t[k]);
	tally_buf_adds(out, "<h2>Output changes</h2>\n");
	if (t[0].too_big || t[1].too_big) {
		tally_buf_printf(out, "<p class=\"note\">Not compared: an output is larger than %u MiB.</p>\n",
		                 DIFF_TEXT_MAX >> 20);
	} else {
		size_t before = out->len;
		if (tally_diff_texts(t[0].text.ptr ? t[0].text.ptr : "", t[0].text.len, "output",
		                     t[1].text.ptr ? t[1].text.ptr : "", t[1].text.len, "output", 3, render_patch, out) < 0) {
			tally_buf_adds(out, "<p class=\"note\">No output diff: ");
			tally__html_str(out, tally_error_last());
			tally_buf_adds(out, "</p>\n");
		} else if (out->len == before) {
			tally_buf_adds(out, "<p class=\"note\">The same output.</p>\n");
		}
	}
	tally_buf_release(&t[0].text);
	tally_buf_release(&t[1].text);
}

/* One chart per scalar any of the runs logged, a line per run. */
static void overlay_charts(tally_buf *out, const tally_run *const *runs, series_set *sets, size_t n)
{
	json_t *tags = json_array(), *seen = json_object();
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < sets[k].n; i++) {
			const char *tag = sets[k].items[i].tag;
			if (!is_system(tag) && !json_object_get(seen, tag)) {
				json_object_set_new(seen, tag, json_true());
				json_array_append_new(tags, json_string(tag));
			}
		}
	if (json_array_size(tags) && n > 9)
		tally_buf_adds(out, "<h2>Charts</h2><p class=\"note\">The charts draw the first 9 runs.</p><div class=\"charts\">\n");
	else if (json_array_size(tags))
		tally_buf_adds(out, "<h2>Charts</h2><div class=\"charts\">\n");
	tally_series *lines = calloc(n ? n : 1, sizeof *lines);
	char(*names)[64] = calloc(n ? n : 1, sizeof *names);
	for (size_t k = 0; k < n && names; k++) { /* the id's suffix and the label: short enough for a legend */
		const char *id = tally_run_id(runs[k]), *dash = strrchr(id, '-');
		snprintf(names[k], sizeof names[k], "%s %s", dash ? dash + 1 : id, tally_run_label(runs[k]));
	}
	size_t i;
	json_t *tag;
	json_array_foreach(tags, i, tag) {
		size_t m = 0;
		for (size_t k = 0; k < n && lines && names; k++) {
			const series_buf *s = series_find(&sets[k], json_string_value(tag));
			lines[m++] = s ? as_series(s, names[k]) : (tally_series){names[k], NULL, NULL, 0};
		}
		tally_buf_adds(out, "<figure>");
		tally__chart_svg(out, json_string_value(tag), lines, m, accuracy_like(json_string_value(tag)));
		tally_buf_adds(out, "</figure>\n");
	}
	free(lines);
	free(names);
	if (json_array_size(tags))
		tally_buf_adds(out, "</div>\n");
	json_decref(tags);
	json_decref(seen);
}

static int comparison_report(tally_buf *out, const tally_run *const *runs, size_t n)
{
	json_t **flags = calloc(n, sizeof *flags), **scalars = calloc(n, sizeof *scalars), **summaries = calloc(n, sizeof *summaries);
	series_set *sets = calloc(n, sizeof *sets);
	int rc = flags && scalars && summaries && sets ? 0 : tally__error_oom();
	for (size_t k = 0; k < n && !rc; k++) {
		/* the summary, not run.json: a run looked up for its summary is not read from its directory for it */
		summaries[k] = load_json_text(tally_run_summary_json(runs[k]));
		flags[k] = json_object_get(summaries[k], "flags");
		scalars[k] = json_object_get(summaries[k], "scalars");
		rc = collect_series(runs[k], &sets[k]);
	}
	if (!rc) {
		tally_buf title = TALLY_BUF_INIT;
		tally_buf_printf(&title, "Comparison of %zu runs", n);
		page_begin(out, title.ptr);
		tally_buf_adds(out, "<h1>");
		tally__html_str(out, title.ptr);
		tally_buf_adds(out, "</h1>\n<h2>Runs</h2><table class=\"runs\"><tr><th>run</th><th>label</th><th>status</th>"
		                    "<th>started</th><th>duration</th></tr>\n");
		tally_buf_release(&title);
		for (size_t k = 0; k < n; k++) {
			char started[40], duration[32] = "–";
			tally_format_iso_ms(started, sizeof started, tally_run_started_ms(runs[k]));
			int64_t a = tally_run_started_ms(runs[k]), b = tally_run_stopped_ms(runs[k]);
			if (b >= a && b > 0)
				tally_format_duration(duration, sizeof duration, b - a);
			tally_buf_adds(out, "<tr><td>");
			tally__html_str(out, tally_run_id(runs[k]));
			tally_buf_adds(out, "</td><td>");
			tally__html_str(out, tally_run_label(runs[k]));
			tally_buf_printf(out, "</td><td><span class=\"status %s\">", status_class(tally_run_status(runs[k])));
			tally__html_str(out, tally_run_status(runs[k]));
			tally_buf_printf(out, "</span></td><td>%s</td><td>%s</td></tr>\n", started, duration);
		}
		tally_buf_adds(out, "</table>\n");
		compare_table(out, "Flags", flags, n, runs, NULL);
		compare_table(out, "Scalars", scalars, n, runs, "last");
		overlay_charts(out, runs, sets, n);
		diff_sections(out, runs, n);
		page_end(out);
	}
	for (size_t k = 0; k < n; k++) {
		json_decref(summaries ? summaries[k] : NULL);
		if (sets && sets[k].index)
			series_release(&sets[k]);
	}
	free(flags);
	free(scalars);
	free(summaries);
	free(sets);
	return rc;
}

int tally_report_write(const tally_run *const *runs, size_t n, const char *path)
{
	if (!n)
		return tally__error(TALLY_EINVALID, "a report needs a run");
	tally_buf out = TALLY_BUF_INIT;
	int rc = n == 1 ? single_report(&out, runs[0]) : comparison_report(&out, runs, n);
	if (!rc && tally_buf_oom(&out))
		rc = tally__error_oom();
	if (!rc && tally_write_file_atomic(path, out.ptr, out.len, 0) < 0)
		rc = tally__error(TALLY_ERROR, "cannot write the report '%s': %s", path, strerror(errno));
	tally_buf_release(&out);
	return rc;
}

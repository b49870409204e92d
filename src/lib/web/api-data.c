/*
 * A run's data for the page: scalars (downsampled on the server), console
 * output from a byte offset, the files it produced and its source snapshot.
 * Files are served only from inside the run directory, with types that
 * never let what a run wrote run as the app.
 */
#include "lib/web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/web/mhdlib.h"
#include "util/fsutil.h"

#define POINTS_DEFAULT 2000
#define POINTS_MAX 100000
#define OUTPUT_DEFAULT (1u << 20)
#define OUTPUT_MAX (8u << 20)

/* ---- scalars ---- */

typedef struct {
	char *tag;
	int64_t *step, *time;
	double *value;
	size_t n, cap;
} series;

typedef struct {
	series *s;
	size_t n, cap;
	const char **wanted; /* NULL: every tag */
	size_t n_wanted;
	uint64_t records;    /* points in the log, of every tag */
	bool oom;
} series_set;

static series *series_for(series_set *set, const char *tag)
{
	for (size_t i = set->n; i-- > 0;)
		if (!strcmp(set->s[i].tag, tag))
			return &set->s[i];
	if (set->wanted) {
		bool wanted = false;
		for (size_t i = 0; i < set->n_wanted && !wanted; i++)
			wanted = !strcmp(set->wanted[i], tag);
		if (!wanted)
			return NULL;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		series *grown = realloc(set->s, cap * sizeof *grown);
		if (!grown)
			return NULL;
		set->s = grown;
		set->cap = cap;
	}
	series *s = &set->s[set->n];
	*s = (series){.tag = strdup(tag)};
	if (!s->tag)
		return NULL;
	set->n++;
	return s;
}

static bool series_add(series *s, int64_t step, double value, int64_t time_ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		int64_t *st = realloc(s->step, cap * sizeof *st);
		if (st)
			s->step = st;
		int64_t *tm = st ? realloc(s->time, cap * sizeof *tm) : NULL;
		if (tm)
			s->time = tm;
		double *v = tm ? realloc(s->value, cap * sizeof *v) : NULL;
		if (!v)
			return false;
		s->value = v;
		s->cap = cap;
	}
	s->step[s->n] = step;
	s->time[s->n] = time_ms;
	s->value[s->n] = value;
	s->n++;
	return true;
}

static int collect_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	series_set *set = ctx;
	set->records++;
	series *s = series_for(set, tag);
	if (s && !series_add(s, step, value, time_ms))
		set->oom = true;
	return set->oom ? -1 : 0;
}

size_t tally__web_downsample(int64_t *step, int64_t *time, double *value, size_t n, size_t points)
{
	if (n <= points || points < 2)
		return n <= points ? n : (points ? 1 : 0);
	/* points / 2 buckets of consecutive points; each keeps its lowest and its
	 * highest value, in the order they came, so spikes stay visible. */
	size_t buckets = points / 2, out = 0;
	for (size_t b = 0; b < buckets; b++) {
		/* n < 2^40 points and buckets <= 50,000: the products fit */
		size_t from = (size_t)((uint64_t)n * b / buckets), to = (size_t)((uint64_t)n * (b + 1) / buckets);
		size_t lo = from, hi = from;
		for (size_t i = from + 1; i < to; i++) {
			if (value[i] < value[lo] || isnan(value[lo]))
				lo = i;
			if (value[i] > value[hi] || isnan(value[hi]))
				hi = i;
		}
		size_t keep[2] = {lo < hi ? lo : hi, lo < hi ? hi : lo};
		for (size_t k = 0; k < (lo == hi ? 1u : 2u); k++) {
			step[out] = step[keep[k]];
			time[out] = time[keep[k]];
			value[out] = value[keep[k]];
			out++;
		}
	}
	return out;
}

static void add_numbers(tally_buf *out, const char *name, const int64_t *v, size_t n)
{
	tally_buf_printf(out, ",\"%s\":[", name);
	for (size_t i = 0; i < n; i++)
		tally_buf_printf(out, "%s%lld", i ? "," : "", (long long)v[i]);
	tally_buf_addc(out, ']');
}

static void add_values(tally_buf *out, const double *v, size_t n)
{
	tally_buf_adds(out, ",\"value\":[");
	char text[40];
	for (size_t i = 0; i < n; i++) {
		if (isfinite(v[i]))
			tally_format_double(text, sizeof text, v[i]);
		tally_buf_printf(out, "%s%s", i ? "," : "", isfinite(v[i]) ? text : "null");
	}
	tally_buf_addc(out, ']');
}

/* The tag=… parameters (repeatable) into `set->wanted`. */
static enum MHD_Result add_wanted(void *ctx, enum MHD_ValueKind kind, const char *key, const char *value)
{
	series_set *set = ctx;
	if (strcmp(key, "tag") || !value || !*value)
		return MHD_YES;
	const char **grown = realloc(set->wanted, (set->n_wanted + 1) * sizeof *grown);
	if (!grown)
		return MHD_NO;
	set->wanted = grown;
	set->wanted[set->n_wanted++] = value;
	return MHD_YES;
}

int tally__web_scalars(tally_web_request *req, const char *id)
{
	size_t points;
	if (tally__web_arg_size(req, "points", POINTS_DEFAULT, 2, POINTS_MAX, &points))
		return MHD_YES;
	tally_run *run = tally__web_find_run(req, id, NULL);
	if (!run)
		return MHD_YES;
	series_set set = {0};
	tally__mhdlib()->get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_wanted, &set);
	int rc = tally_run_scalar_points(run, collect_point, &set);
	int ret;
	if (set.oom || rc) {
		ret = set.oom ? tally__web_error(req, 500, "out of memory") : tally__web_lib_error(req, rc);
	} else {
		tally_buf out = TALLY_BUF_INIT;
		tally_buf_printf(&out, "{\"records\":%llu,\"series\":[", (unsigned long long)set.records);
		for (size_t i = 0; i < set.n; i++) {
			series *s = &set.s[i];
			size_t kept = tally__web_downsample(s->step, s->time, s->value, s->n, points);
			tally_buf_adds(&out, i ? ",{\"tag\":" : "{\"tag\":");
			tally__web_json_string(&out, s->tag, strlen(s->tag));
			tally_buf_printf(&out, ",\"count\":%zu", s->n);
			add_numbers(&out, "step", s->step, kept);
			add_numbers(&out, "time", s->time, kept);
			add_values(&out, s->value, kept);
			tally_buf_addc(&out, '}');
		}
		tally_buf_adds(&out, "]}");
		ret = tally__web_json_text(req, 200, tally_buf_detach(&out));
	}
	for (size_t i = 0; i < set.n; i++) {
		free(set.s[i].tag);
		free(set.s[i].step);
		free(set.s[i].time);
		free(set.s[i].value);
	}
	free(set.s);
	free(set.wanted);
	tally_run_free(run);
	return ret;
}

/* ---- output ---- */

typedef struct {
	tally_buf *out;
	int last_stream;
	int64_t last_time;
	size_t chunks;
	tally_buf text; /* the chunk being gathered */
} chunk_writer;

static void flush_chunk(chunk_writer *w)
{
	if (w->last_stream < 0)
		return;
	tally_buf_printf(w->out, "%s{\"stream\":%d,\"time\":%lld,\"text\":", w->chunks++ ? "," : "", w->last_stream,
	                 (long long)w->last_time);
	tally__web_json_string(w->out, w->text.ptr ? w->text.ptr : "", w->text.len);
	tally_buf_addc(w->out, '}');
	tally_buf_clear(&w->text);
	w->last_stream = -1;
}

/* Chunks of one stream that arrived within a second of each other go out as one. */
static int add_chunk(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	chunk_writer *w = ctx;
	if (stream != w->last_stream || time_ms - w->last_time > 1000)
		flush_chunk(w);
	if (w->last_stream < 0) {
		w->last_stream = stream;
		w->last_time = time_ms;
	}
	tally_buf_add(&w->text, data, len);
	return 0;
}

/* How many bytes at the end of `text` begin a UTF-8 character that is not complete (0 to 3). */
static size_t incomplete_utf8_tail(const tally_buf *text)
{
	const unsigned char *p = (const unsigned char *)text->ptr;
	for (size_t back = 1; back <= 3 && back <= text->len; back++) {
		unsigned char c = p[text->len - back];
		if ((c & 0xC0) == 0x80)
			continue; /* a continuation byte: look further back */
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		return need > back ? back : 0;
	}
	return 0;
}

int tally__web_output_json(tally_buf *out, const char *dir, uint64_t from, uint64_t to, uint64_t *next)
{
	chunk_writer w = {out, -1, 0, 0, TALLY_BUF_INIT};
	uint64_t size = 0;
	tally_buf_adds(out, "\"chunks\":[");
	int rc = tally__output_read_range(dir, 3, from, to, add_chunk, &w, &size);
	/* Cut short of the end: a character split there waits for the next read. */
	size_t held = to < size && w.last_stream >= 0 ? incomplete_utf8_tail(&w.text) : 0;
	if (held < w.text.len)
		tally_buf_truncate(&w.text, w.text.len - held);
	else
		held = 0;
	if (to > held)
		to -= held;
	flush_chunk(&w);
	tally_buf_addc(out, ']');
	tally_buf_release(&w.text);
	*next = to < size ? to : size;
	if (*next < from)
		*next = from;
	return rc;
}

int tally__web_output(tally_web_request *req, const char *id)
{
	size_t offset, limit, tail;
	if (tally__web_arg_size(req, "offset", 0, 0, SIZE_MAX / 2, &offset) ||
	    tally__web_arg_size(req, "limit", OUTPUT_DEFAULT, 1, OUTPUT_MAX, &limit) ||
	    tally__web_arg_size(req, "tail", 0, 0, 1000000, &tail))
		return MHD_YES;
	tally_run *run = tally__web_find_run(req, id, NULL);
	if (!run)
		return MHD_YES;
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/output", tally_run_dir(run));
	struct stat st;
	uint64_t size = stat(path.ptr, &st) == 0 ? (uint64_t)st.st_size : 0;
	tally_buf_release(&path);
	if (tail) { /* start where the last `tail` lines begin */
		tally_buf last = TALLY_BUF_INIT;
		tally__output_tail(tally_run_dir(run), tail, &last);
		offset = size > last.len ? (size_t)(size - last.len) : 0;
		tally_buf_release(&last);
	}
	tally_buf out = TALLY_BUF_INIT;
	uint64_t next;
	tally_buf_printf(&out, "{\"offset\":%zu,", offset);
	int rc = tally__web_output_json(&out, tally_run_dir(run), offset, (uint64_t)offset + limit, &next);
	tally_buf_printf(&out, ",\"next\":%llu,\"size\":%llu}", (unsigned long long)next,
	                 (unsigned long long)(size > next || offset > size ? size : next));
	int ret = rc ? tally__web_lib_error(req, rc) : tally__web_json_text(req, 200, tally_buf_detach(&out));
	tally_buf_release(&out);
	tally_run_free(run);
	return ret;
}

/* ---- files ---- */

int tally__web_files(tally_web_request *req, const char *id)
{
	tally_run *run = tally__web_find_run(req, id, NULL);
	if (!run)
		return MHD_YES;
	char *list = NULL;
	int rc = tally_run_files_json(run, 0, &list);
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_printf(&out, "{\"files\":%s}", list ? list : "[]");
	free(list);
	tally_run_free(run);
	if (rc) {
		tally_buf_release(&out);
		return tally__web_lib_error(req, rc);
	}
	return tally__web_json_text(req, 200, tally_buf_detach(&out));
}

/* What a file is served as: images, text and JSON as such; SVG as an image
 * under the sandboxing CSP; anything else — HTML included — as a download. */
static const char *file_type(const char *path, bool *download)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"},
		{".webp", "image/webp"}, {".svg", "image/svg+xml"}, {".json", "application/json"},
		{".csv", "text/csv; charset=utf-8"}, {".tsv", "text/tab-separated-values; charset=utf-8"},
		{".txt", "text/plain; charset=utf-8"}, {".log", "text/plain; charset=utf-8"},
		{".md", "text/plain; charset=utf-8"}, {".py", "text/plain; charset=utf-8"},
		{".r", "text/plain; charset=utf-8"}, {".sh", "text/plain; charset=utf-8"},
		{".yml", "text/plain; charset=utf-8"}, {".yaml", "text/plain; charset=utf-8"},
		{".toml", "text/plain; charset=utf-8"}, {".cfg", "text/plain; charset=utf-8"},
		{".ini", "text/plain; charset=utf-8"}, {".jsonl", "text/plain; charset=utf-8"},
		{".c", "text/plain; charset=utf-8"}, {".h", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	*download = false;
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof types / sizeof *types; i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	*download = true;
	return "application/octet-stream";
}

/* Whether `path` is a relative path that stays below its directory as written: no "..", no "//". */
static bool plain_relative(const char *path)
{
	if (!*path || *path == '/' || strlen(path) >= PATH_MAX)
		return false;
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len + (p[len] == '/');
	}
	return true;
}

/* Open `path` below the run directory, refusing anything that resolves outside it; -1 and an answer sent. */
static int open_inside(tally_web_request *req, const tally_run *run, const char *path, struct stat *st)
{
	if (!plain_relative(path) || !strncmp(path, TALLY_META_DIR "/", sizeof TALLY_META_DIR)) {
		tally__web_error(req, 403, "not a file of the run: %s", path);
		return -1;
	}
	char *joined = tally_path_join(tally_run_dir(run), path);
	char *real = joined ? realpath(joined, NULL) : NULL, *root = realpath(tally_run_dir(run), NULL);
	int fd = -1;
	size_t root_len = root ? strlen(root) : 0;
	if (!real || !root) {
		tally__web_error(req, 404, "no such file in the run: %s", path);
	} else if (strncmp(real, root, root_len) || real[root_len] != '/' || /* a link out of the run */
	           !strncmp(real + root_len + 1, TALLY_META_DIR, sizeof TALLY_META_DIR - 1)) { /* or into .tally */
		tally__web_error(req, 403, "not a file of the run: %s", path);
	} else if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0 || fstat(fd, st) < 0 ||
	           !S_ISREG(st->st_mode)) { /* O_NONBLOCK: opening a FIFO a run made must not wait for a writer */
		if (fd >= 0)
			close(fd);
		fd = -1;
		tally__web_error(req, 404, "not a regular file in the run: %s", path);
	}
	free(joined);
	free(real);
	free(root);
	return fd;
}

/* The file at `fd` as the answer, its descriptor handed to libmicrohttpd. */
static int send_file(tally_web_request *req, int fd, const struct stat *st, const char *path, bool as_text)
{
	bool download;
	const char *type = as_text ? "text/plain; charset=utf-8" : file_type(path, &download);
	if (as_text)
		download = false;
	const tally_mhdlib *mhd = tally__mhdlib();
	struct MHD_Response *r = mhd->create_response_from_fd((size_t)st->st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	tally__web_headers(r, false);
	mhd->add_response_header(r, "Content-Type", type);
	mhd->add_response_header(r, "Cache-Control", "no-store");
	if (download) {
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		tally_buf disposition = TALLY_BUF_INIT;
		tally_buf_adds(&disposition, "attachment; filename=\"");
		for (const char *p = base; *p; p++) /* a header value: printable ASCII but the quote */
			tally_buf_addc(&disposition, *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? *p : '_');
		tally_buf_addc(&disposition, '"');
		mhd->add_response_header(r, "Content-Disposition", disposition.ptr ? disposition.ptr : "attachment");
		tally_buf_release(&disposition);
	}
	req->status = 200;
	int ret = mhd->queue_response(req->conn, 200, r);
	mhd->destroy_response(r);
	return ret;
}

int tally__web_file(tally_web_request *req, const char *id, const char *path)
{
	tally_run *run = tally__web_find_run(req, id, NULL);
	if (!run)
		return MHD_YES;
	struct stat st;
	int fd = open_inside(req, run, path, &st);
	int ret = fd < 0 ? MHD_YES : send_file(req, fd, &st, path, false);
	tally_run_free(run);
	return ret;
}

/* The run's .tally/sources.json (the snapshot's files), parsed; NULL when it has none. */
static json_t *sources_of(const tally_run *run)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/sources.json", tally_run_dir(run));
	json_t *list = tally_buf_oom(&path) ? NULL : json_load_file(path.ptr, 0, NULL);
	tally_buf_release(&path);
	if (!json_is_array(list)) {
		json_decref(list);
		return NULL;
	}
	return list;
}

int tally__web_sources(tally_web_request *req, const char *id)
{
	tally_run *run = tally__web_find_run(req, id, NULL);
	if (!run)
		return MHD_YES;
	json_t *list = sources_of(run);
	json_t *o = json_object();
	json_object_set_new(o, "files", list ? list : json_array());
	tally_run_free(run);
	return tally__web_json(req, 200, o);
}

int tally__web_source(tally_web_request *req, const char *id, const char *path)
{
	tally_run *run = tally__web_find_run(req, id, NULL);
	if (!run)
		return MHD_YES;
	json_t *list = sources_of(run), *entry;
	size_t i;
	bool listed = false;
	json_array_foreach (list, i, entry) {
		const char *listed_path = json_string_value(json_object_get(entry, "path"));
		listed = listed || (listed_path && !strcmp(listed_path, path));
	}
	json_decref(list);
	int ret = MHD_YES;
	if (!listed) {
		ret = tally__web_error(req, 404, "not in the run's source snapshot: %s", path);
	} else {
		struct stat st;
		int fd = open_inside(req, run, path, &st);
		if (fd >= 0)
			ret = send_file(req, fd, &st, path, true);
	}
	tally_run_free(run);
	return ret;
}

/*
 * TensorBoard event files (`*.tfevents.*`): reading the scalars scripts
 * write with Keras' TensorBoard callback, PyTorch's SummaryWriter or
 * tf.summary, and writing the scalars tally parsed from the output so that
 * `tensorboard --logdir runs` shows every run.
 *
 * An event file is a TFRecord stream; each record is
 *   u64 length | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)
 * (little-endian) and data is one serialized Event message
 * (src/lib/proto/tfevents.proto holds the fields used).  A record whose data
 * CRC fails is skipped and counted; a length whose CRC fails means the
 * framing itself is lost, so the rest of that file is given up (and counted
 * once).  An unfinished record at the end of a file that is still being
 * written is simply read later.
 */
#include "lib/scalars/scalars.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tfevents.pb-c.h"  /* generated from src/lib/scalars/proto/tfevents.proto */
#include "util/fsutil.h"
#include "util/le.h"
#include "util/strlist.h"
#include "util/timeutil.h"

#define HEADER_LEN 12
#define FOOTER_LEN 4
#define MAX_RECORD (64u << 20)   /* larger "records" are framing gone wrong */
#define READ_CHUNK (1u << 20)
#define MAX_FILES 256            /* event files followed per run */
#define MAX_SCAN_DEPTH 8
#define MAX_SCAN_ENTRIES 20000   /* folders and candidate files stat'ed per walk */
#define MAX_SCAN_NAMES 1000000   /* names read per walk (a readdir, no stat, for other files) */
#define DATA_CLASS_SCALAR 1

enum { DT_FLOAT_ = 1, DT_DOUBLE_ = 2, DT_INT32_ = 3, DT_INT64_ = 9, DT_BFLOAT16_ = 14, DT_HALF_ = 19 };

uint32_t tally__tfrecord_masked_crc(const void *data, size_t len)
{
	uint32_t crc = tally__crc32c(0, data, len);
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/* ---- decoding scalars from events ---- */

struct tally_tfevents_decoder {
	char *prefix;             /* "train/" for logs/train/...; "" at the run's top */
	tally_strlist scalar_tags;  /* tensor tags a first event declared scalar (TF2 writes
	                               the metadata only once per tag and file) */
	size_t records, bad_records;
	bool framing_lost;
};

int tally__tfevents_decoder_new(tally_tfevents_decoder **out, const char *prefix)
{
	*out = calloc(1, sizeof **out);
	if (!*out || !((*out)->prefix = strdup(prefix ? prefix : ""))) {
		free(*out);
		*out = NULL;
		return tally__error_oom();
	}
	return 0;
}

void tally__tfevents_decoder_free(tally_tfevents_decoder *d)
{
	if (!d)
		return;
	tally_strlist_release(&d->scalar_tags);
	free(d->prefix);
	free(d);
}

size_t tally__tfevents_decoder_bad(const tally_tfevents_decoder *d)
{
	return d->bad_records + (d->framing_lost ? 1 : 0);
}

static double half_to_double(uint32_t h)
{
	int exp = (h >> 10) & 0x1f;
	double mant = h & 0x3ff;
	double v = exp == 0 ? ldexp(mant, -24) : exp == 31 ? (mant != 0 ? (double)NAN : (double)INFINITY) : ldexp(mant + 1024, exp - 25);
	return (h & 0x8000) ? -v : v;
}

static double bfloat16_to_double(uint32_t b)
{
	uint32_t bits = b << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return (double)f;
}

/* The single number a scalar tensor holds; false when it holds none. */
static bool tensor_value(const Tfevents__Tensor *t, double *v)
{
	const unsigned char *c = t->tensor_content.data;
	size_t n = t->tensor_content.len;
	switch (t->dtype) {
	case DT_FLOAT_:
		if (t->n_float_val) { *v = (double)t->float_val[0]; return true; }
		if (n >= 4) { uint32_t b = (uint32_t)tally_get_le(c, 4); float f; memcpy(&f, &b, 4); *v = (double)f; return true; }
		return false;
	case DT_DOUBLE_:
		if (t->n_double_val) { *v = t->double_val[0]; return true; }
		if (n >= 8) { uint64_t b = tally_get_le(c, 8); memcpy(v, &b, 8); return true; }
		return false;
	case DT_INT32_:
		if (t->n_int_val) { *v = t->int_val[0]; return true; }
		if (n >= 4) { *v = (int32_t)tally_get_le(c, 4); return true; }
		return false;
	case DT_INT64_:
		if (t->n_int64_val) { *v = (double)t->int64_val[0]; return true; }
		if (n >= 8) { *v = (double)(int64_t)tally_get_le(c, 8); return true; }
		return false;
	case DT_HALF_:
	case DT_BFLOAT16_: {
		uint32_t h;
		if (t->n_half_val)
			h = (uint32_t)t->half_val[0] & 0xffff;
		else if (n >= 2)
			h = (uint32_t)tally_get_le(c, 2);
		else
			return false;
		*v = t->dtype == DT_HALF_ ? half_to_double(h) : bfloat16_to_double(h);
		return true;
	}
	default:
		return false;
	}
}

static bool declares_scalar(const Tfevents__SummaryMetadata *m)
{
	return m && (m->data_class == DATA_CLASS_SCALAR ||
	             (m->plugin_data && !strcmp(m->plugin_data->plugin_name, "scalars")));
}

static bool has_tag(const tally_strlist *tags, const char *tag)
{
	for (size_t i = 0; i < tags->n; i++)
		if (!strcmp(tags->items[i], tag))
			return true;
	return false;
}

static int emit_value(tally_tfevents_decoder *d, const Tfevents__Summary__Value *val, int64_t step, int64_t time_ms,
                      tally_scalar_cb cb, void *ctx)
{
	double v;
	if (val->value_case == TFEVENTS__SUMMARY__VALUE__VALUE_SIMPLE_VALUE) {
		v = (double)val->simple_value;
	} else if (val->value_case == TFEVENTS__SUMMARY__VALUE__VALUE_TENSOR) {
		if (declares_scalar(val->metadata)) {
			if (!has_tag(&d->scalar_tags, val->tag) && tally_strlist_push(&d->scalar_tags, val->tag) < 0)
				return 0;
		} else if (!has_tag(&d->scalar_tags, val->tag)) {
			return 0; /* a histogram, an image, a text… */
		}
		if (!tensor_value(val->tensor, &v))
			return 0;
	} else {
		return 0;
	}
	if (!*val->tag)
		return 0;
	char tag[512];
	int n = snprintf(tag, sizeof tag, "%s%s", d->prefix, val->tag);
	if (n < 0 || (size_t)n >= sizeof tag)
		return 0;
	return cb(ctx, tag, step, v, time_ms);
}

static int decode_event(tally_tfevents_decoder *d, const unsigned char *data, size_t len, tally_scalar_cb cb, void *ctx)
{
	Tfevents__Event *ev = tfevents__event__unpack(NULL, len, data);
	if (!ev) {
		d->bad_records++;
		return 0;
	}
	int rc = 0;
	if (ev->what_case == TFEVENTS__EVENT__WHAT_SUMMARY && ev->summary) {
		double ms = ev->wall_time * 1000.0;
		int64_t time_ms = isfinite(ms) && fabs(ms) < 9e15 ? (int64_t)ms : 0;
		for (size_t i = 0; i < ev->summary->n_value && !rc; i++)
			rc = emit_value(d, ev->summary->value[i], ev->step, time_ms, cb, ctx);
	}
	tfevents__event__free_unpacked(ev, NULL);
	return rc;
}

size_t tally__tfevents_decode(tally_tfevents_decoder *d, const unsigned char *buf, size_t len, tally_scalar_cb cb,
                              void *ctx)
{
	size_t at = 0;
	while (!d->framing_lost && len - at >= HEADER_LEN) {
		const unsigned char *h = buf + at;
		if ((uint32_t)tally_get_le(h + 8, 4) != tally__tfrecord_masked_crc(h, 8)) {
			d->framing_lost = true;
			break;
		}
		uint64_t n = tally_get_le(h, 8);
		if (n > MAX_RECORD) {
			d->framing_lost = true;
			break;
		}
		if (len - at < HEADER_LEN + n + FOOTER_LEN)
			break; /* not all there yet */
		const unsigned char *data = h + HEADER_LEN;
		d->records++;
		at += HEADER_LEN + (size_t)n + FOOTER_LEN;
		if ((uint32_t)tally_get_le(data + n, 4) != tally__tfrecord_masked_crc(data, (size_t)n)) {
			d->bad_records++;
			continue;
		}
		if (decode_event(d, data, (size_t)n, cb, ctx))
			break;
	}
	return at;
}

/* ---- following the event files of a running run ---- */

#define POLL_BUDGET (8u << 20)   /* bytes read per file per poll while the run goes */

typedef struct {
	char *path;      /* relative to the run directory */
	dev_t dev;
	ino_t ino;
	off_t offset;    /* bytes consumed */
	tally_buf partial;  /* bytes read past `offset`: an unfinished record */
	tally_tfevents_decoder *decoder;
	bool ignored;    /* there before the script started (copied sources), or not an event file */
	bool reported;
	bool seen;       /* found by the latest walk */
} event_file;

struct tally_tfevents_reader {
	char *run_dir;
	event_file *files;
	size_t n_files;
	size_t scan_entries;  /* entries stat'ed by the current walk */
	size_t scan_names;    /* names read by it */
	bool files_limit_hit, limit_reported;
};

static void walk(tally_tfevents_reader *r);

int tally__tfevents_reader_new(tally_tfevents_reader **out, const char *run_dir)
{
	*out = calloc(1, sizeof **out);
	if (!*out || !((*out)->run_dir = strdup(run_dir))) {
		free(*out);
		*out = NULL;
		return tally__error_oom();
	}
	/* What is there now came with the sources (an earlier run's logs/, a
	 * tfevents_utils.py): never the new run's scalars. */
	walk(*out);
	for (size_t i = 0; i < (*out)->n_files; i++)
		(*out)->files[i].ignored = true;
	return 0;
}

static void file_release(event_file *f)
{
	free(f->path);
	tally_buf_release(&f->partial);
	tally__tfevents_decoder_free(f->decoder);
}

void tally__tfevents_reader_free(tally_tfevents_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		file_release(&r->files[i]);
	free(r->files);
	free(r->run_dir);
	free(r);
}

/* PyTorch's SummaryWriter() folder, runs/<Mon><DD>_<HH-MM-SS>_<host>: a new name every run. */
static bool is_pytorch_default_dir(const char *name, size_t len)
{
	static const char shape[] = "Aaa00_00-00-00_";
	if (len < sizeof shape)
		return false;
	for (size_t i = 0; i + 1 < sizeof shape; i++) {
		char c = name[i], want = shape[i];
		if ((want == 'A' && !(c >= 'A' && c <= 'Z')) || (want == 'a' && !(c >= 'a' && c <= 'z')) ||
		    (want == '0' && !(c >= '0' && c <= '9')) || (strchr("_-", want) && c != want))
			return false;
	}
	return true;
}

/*
 * The tag prefix of an event file in folder `dir` (relative to the run):
 * the folder path with a conventional log root (logs/, log/, tb/,
 * tensorboard/, tb_logs/, runs/) left out, so Keras' logs/train/ gives
 * "train/", and with PyTorch's dated default folder left out too, so that
 * runs/Nov24_04-22-10_host/ gives no prefix and tags compare across runs.
 */
char *tally__tfevents_tag_prefix(const char *dir)
{
	static const char *const roots[] = {"logs", "log", "tb", "tensorboard", "tb_logs", "runs"};
	const char *rest = dir;
	const char *slash = strchr(dir, '/');
	size_t first = slash ? (size_t)(slash - dir) : strlen(dir);
	for (size_t i = 0; i < sizeof roots / sizeof *roots; i++)
		if (strlen(roots[i]) == first && !strncmp(dir, roots[i], first))
			rest = slash ? slash + 1 : "";
	if (rest != dir && !strncmp(dir, "runs", 4)) {
		const char *next = strchr(rest, '/');
		size_t len = next ? (size_t)(next - rest) : strlen(rest);
		if (is_pytorch_default_dir(rest, len))
			rest = next ? next + 1 : "";
	}
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_adds(&p, rest);
	if (*rest)
		tally_buf_addc(&p, '/');
	char *s = tally_buf_detach(&p);
	tally_buf_release(&p);
	return s;
}

static bool is_event_file_name(const char *name)
{
	return strstr(name, "tfevents") != NULL;
}

static void follow_file(tally_tfevents_reader *r, const char *rel, const char *dir_rel)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (!strcmp(r->files[i].path, rel)) {
			r->files[i].seen = true;
			return;
		}
	if (r->n_files >= MAX_FILES) {
		r->files_limit_hit = true;
		return;
	}
	event_file *grown = realloc(r->files, (r->n_files + 1) * sizeof *grown);
	if (!grown)
		return;
	r->files = grown;
	event_file *f = &r->files[r->n_files];
	memset(f, 0, sizeof *f);
	f->partial = (tally_buf)TALLY_BUF_INIT;
	f->seen = true;
	char *prefix = tally__tfevents_tag_prefix(dir_rel);
	f->path = strdup(rel);
	if (!prefix || !f->path || tally__tfevents_decoder_new(&f->decoder, prefix)) {
		free(prefix);
		free(f->path);
		return;
	}
	free(prefix);
	r->n_files++;
}

/* Walk the run directory for event files: no symbolic links (the project's
 * entries are linked into the run), not tally's own folder, and a stat only
 * for folders and candidate names (a folder of checkpoints costs a readdir). */
static void scan_dir(tally_tfevents_reader *r, int dir_fd, const char *rel, int depth)
{
	DIR *d = fdopendir(dir_fd);
	if (!d) {
		close(dir_fd);
		return;
	}
	struct dirent *e;
	while (r->scan_entries < MAX_SCAN_ENTRIES && r->scan_names < MAX_SCAN_NAMES && (e = readdir(d))) {
		r->scan_names++;
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..") || !strcmp(e->d_name, TALLY_META_DIR)))
			continue;
		bool candidate = is_event_file_name(e->d_name);
		if (e->d_type == DT_REG && candidate) {
			/* below */
		} else if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) {
			continue;
		} else if (e->d_type == DT_DIR && depth >= MAX_SCAN_DEPTH) {
			continue;
		}
		r->scan_entries++;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char path[4096];
		int n = snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (n < 0 || (size_t)n >= sizeof path)
			continue;
		if (S_ISREG(st.st_mode) && candidate) {
			follow_file(r, path, rel);
		} else if (S_ISDIR(st.st_mode) && depth < MAX_SCAN_DEPTH) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				scan_dir(r, sub, path, depth + 1);
		}
	}
	closedir(d);
}

/* Find event files; forget those that are gone (a name reused later is a new file). */
static void walk(tally_tfevents_reader *r)
{
	int fd = open(r->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		r->files[i].seen = false;
	r->scan_entries = r->scan_names = 0;
	scan_dir(r, fd, "", 0);
	if (r->scan_entries >= MAX_SCAN_ENTRIES || r->scan_names >= MAX_SCAN_NAMES)
		return; /* a partial walk proves nothing about files it did not reach */
	size_t kept = 0;
	for (size_t i = 0; i < r->n_files; i++) {
		if (r->files[i].seen)
			r->files[kept++] = r->files[i];
		else
			file_release(&r->files[i]);
	}
	r->n_files = kept;
}

static int import_point(void *log, const char *tag, int64_t step, double value, int64_t time_ms)
{
	tally__scalar_log_import(log, tag, step, value, time_ms);
	return 0;
}

/* Start `f` over: its path now names another file, or the file was truncated. */
static void restart(event_file *f, const struct stat *st)
{
	tally_tfevents_decoder *fresh;
	if (tally__tfevents_decoder_new(&fresh, f->decoder->prefix)) {
		f->ignored = true;
		return;
	}
	tally__tfevents_decoder_free(f->decoder);
	f->decoder = fresh;
	f->offset = 0;
	tally_buf_release(&f->partial);
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->reported = false;
}

/* Read what was appended to `f` since the last poll (at most POLL_BUDGET unless `final`). */
static void read_new(tally_tfevents_reader *r, event_file *f, tally_scalar_log *log, bool final)
{
	if (f->ignored || f->decoder->framing_lost)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", r->run_dir, f->path);
	/* O_NONBLOCK: a FIFO put in the file's place must not block the supervisor */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	if (!f->dev && !f->ino) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	} else if (f->dev != st.st_dev || f->ino != st.st_ino || st.st_size < f->offset + (off_t)f->partial.len) {
		restart(f, &st);
	}
	off_t at = f->offset + (off_t)f->partial.len;
	size_t budget = final ? SIZE_MAX : POLL_BUDGET;
	while (budget > 0 && !f->ignored) {
		if (!tally_buf_grow(&f->partial, READ_CHUNK))
			break;
		ssize_t got = pread(fd, f->partial.ptr + f->partial.len, READ_CHUNK, at);
		if (got <= 0)
			break;
		budget = (size_t)got >= budget ? 0 : budget - (size_t)got;
		f->partial.len += (size_t)got;
		at += got;
		size_t used = tally__tfevents_decode(f->decoder, (unsigned char *)f->partial.ptr, f->partial.len,
		                                     import_point, log);
		if (f->offset == 0 && used == 0 && f->decoder->framing_lost) {
			f->ignored = true; /* its very first header is wrong: not an event file at all */
			break;
		}
		memmove(f->partial.ptr, f->partial.ptr + used, f->partial.len - used);
		tally_buf_truncate(&f->partial, f->partial.len - used);
		f->offset += (off_t)used;
		if (f->decoder->framing_lost)
			break;
	}
	if (!f->partial.len)
		tally_buf_release(&f->partial); /* a followed file keeps no buffer between polls */
	close(fd);
}

void tally__tfevents_reader_poll(tally_tfevents_reader *r, tally_scalar_log *log, bool final)
{
	walk(r);
	for (size_t i = 0; i < r->n_files; i++)
		read_new(r, &r->files[i], log, final);
}

size_t tally__tfevents_reader_report(tally_tfevents_reader *r, tally_buf *warnings)
{
	size_t total = 0;
	for (size_t i = 0; i < r->n_files; i++) {
		event_file *f = &r->files[i];
		size_t bad = f->ignored ? 0 : tally__tfevents_decoder_bad(f->decoder);
		total += bad;
		if (!bad || f->reported || !warnings)
			continue;
		f->reported = true;
		tally_buf_printf(warnings, "%s: %zu damaged record%s skipped%s\n", f->path, bad, bad == 1 ? "" : "s",
		                 f->decoder->framing_lost ? ", the rest of the file is unreadable" : "");
	}
	if (r->files_limit_hit && !r->limit_reported && warnings) {
		r->limit_reported = true;
		tally_buf_printf(warnings, "more than %d TensorBoard event files in the run: only the first %d were read\n",
		                 MAX_FILES, MAX_FILES);
	}
	return total;
}

/* ---- writing an event file ---- */

struct tally_tfevents_writer {
	char *path;
	int fd;             /* -1 until the first point */
	tally_buf pending;
	bool failed;
};

static void add_record(tally_buf *out, const unsigned char *data, size_t len)
{
	unsigned char h[HEADER_LEN], footer[FOOTER_LEN];
	tally_put_le(h, len, 8);
	tally_put_le(h + 8, tally__tfrecord_masked_crc(h, 8), 4);
	tally_put_le(footer, tally__tfrecord_masked_crc(data, len), 4);
	tally_buf_add(out, h, sizeof h);
	tally_buf_add(out, data, len);
	tally_buf_add(out, footer, sizeof footer);
}

static void add_event(tally_buf *out, const Tfevents__Event *ev)
{
	unsigned char small[512];
	size_t n = tfevents__event__get_packed_size(ev);
	unsigned char *data = n <= sizeof small ? small : malloc(n);
	if (!data) {
		out->oom = true;
		return;
	}
	tfevents__event__pack(ev, data);
	add_record(out, data, n);
	if (data != small)
		free(data);
}

void tally__tfevents_encode_scalar(tally_buf *out, const char *tag, int64_t step, double value, int64_t time_ms)
{
	Tfevents__Summary__Value val = TFEVENTS__SUMMARY__VALUE__INIT;
	Tfevents__Summary__Value *vals[] = {&val};
	Tfevents__Summary sum = TFEVENTS__SUMMARY__INIT;
	Tfevents__Event ev = TFEVENTS__EVENT__INIT;
	val.tag = (char *)tag;
	val.value_case = TFEVENTS__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
	val.simple_value = (float)value;
	sum.n_value = 1;
	sum.value = vals;
	ev.wall_time = (double)time_ms / 1000.0;
	ev.step = step;
	ev.what_case = TFEVENTS__EVENT__WHAT_SUMMARY;
	ev.summary = &sum;
	add_event(out, &ev);
}

void tally__tfevents_encode_version(tally_buf *out, int64_t time_ms)
{
	Tfevents__Event ev = TFEVENTS__EVENT__INIT;
	ev.wall_time = (double)time_ms / 1000.0;
	ev.what_case = TFEVENTS__EVENT__WHAT_FILE_VERSION;
	ev.file_version = (char *)"brain.Event:2";
	add_event(out, &ev);
}

int tally__tfevents_writer_new(tally_tfevents_writer **out, const char *path)
{
	*out = calloc(1, sizeof **out);
	if (!*out || !((*out)->path = strdup(path))) {
		free(*out);
		*out = NULL;
		return tally__error_oom();
	}
	(*out)->fd = -1;
	(*out)->pending = (tally_buf)TALLY_BUF_INIT;
	return 0;
}

void tally__tfevents_writer_add(tally_tfevents_writer *w, const char *tag, int64_t step, double value, int64_t time_ms)
{
	if (w->failed)
		return;
	if (w->fd < 0 && !w->pending.len)
		tally__tfevents_encode_version(&w->pending, time_ms);
	tally__tfevents_encode_scalar(&w->pending, tag, step, value, time_ms);
}

int tally__tfevents_writer_flush(tally_tfevents_writer *w)
{
	if (w->failed || !w->pending.len)
		return 0;
	if (w->fd < 0)
		w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (w->fd < 0 || tally_buf_oom(&w->pending) || tally_write_all(w->fd, w->pending.ptr, w->pending.len) < 0) {
		/* the event file is a convenience copy: the scalar log has every point */
		w->failed = true;
		return -1;
	}
	tally_buf_clear(&w->pending);
	return 0;
}

void tally__tfevents_writer_free(tally_tfevents_writer *w)
{
	if (!w)
		return;
	tally__tfevents_writer_flush(w);
	if (w->fd >= 0)
		close(w->fd);
	tally_buf_release(&w->pending);
	free(w->path);
	free(w);
}

/* The writer as a scalar log's mirror (the casts are the callbacks' contract). */
static void mirror_add(void *w, const char *tag, int64_t step, double value, int64_t time_ms)
{
	tally__tfevents_writer_add(w, tag, step, value, time_ms);
}

static int mirror_flush(void *w)
{
	return tally__tfevents_writer_flush(w);
}

static void mirror_free(void *w)
{
	tally__tfevents_writer_free(w);
}

int tally__tfevents_mirror_log(tally_scalar_log *log, const char *run_dir)
{
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	host[strcspn(host, "/")] = 0;
	tally_buf path = TALLY_BUF_INIT;
	/* TensorBoard's own naming: events.out.tfevents.<seconds>.<host>[suffix] */
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/events.out.tfevents.%lld.%s.tally", run_dir,
	                 (long long)(tally_now_ms() / 1000), host);
	tally_tfevents_writer *w = NULL;
	int rc = tally_buf_oom(&path) ? tally__error_oom() : tally__tfevents_writer_new(&w, path.ptr);
	tally_buf_release(&path);
	if (!rc)
		tally__scalar_log_set_mirror(log, (tally_scalar_mirror){w, mirror_add, mirror_flush, mirror_free});
	return rc;
}

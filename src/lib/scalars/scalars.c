/*
 * The scalar log: every (tag, step, value, time) point of a run, appended to
 * .tally/scalars.log, plus a per-tag summary in .tally/scalars.json that the
 * index reads.
 *
 * File format 2 (little-endian; docs/run-format.md):
 *   "TALLYSC2"                                  8-byte header
 *   record*: u32 crc32c(body) | u32 len(body) | body
 *   body 'T': u8 'T' | u32 tag_id | name bytes  defines a tag
 *   body 'B': u8 'B' | point*                   a block of points, in arrival order
 *   body 'I': the same, points read from the run's own TensorBoard event files
 *   point: uvarint(tag_id << 2 | kind) | svarint Δstep | svarint Δtime_ms | value
 * Δstep is from the same tag's previous point in the block, Δtime from the
 * block's previous point (both from 0 for the first), so a block reads on its
 * own.  The value is, by kind: 0 the f64's 8 bytes; 1 an f32's 4 bytes (the
 * double is exactly that float); 2 uvarint(zigzag(m) << 4 | k) for the double
 * m / 10^k (0 <= k <= 15), which is how printed metrics ("loss: 0.3124")
 * mostly look.  A point of printed output costs 5 to 6 bytes instead of
 * format 1's 37.
 *
 * Format 1 ("TALLYSC1") had one record per point instead of blocks,
 *   body 'P': u8 'P' | u32 tag_id | i64 step | f64 value | i64 time_ms,
 * and is still read; a writer appending to a format-1 log keeps writing 'P'.
 * A crash can only tear the last record, whose CRC or length then fails:
 * readers stop there.
 */
#include "lib/scalars/scalars.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/le.h"
#include "util/timeutil.h"

#define LOG_MAGIC "TALLYSC2"
#define LOG_MAGIC_V1 "TALLYSC1"
#define LOG_BUFFER 65536
#define MAX_BLOCK 65536                              /* a block record's body, at most */
#define MAX_POINT_BYTES (3 * TALLY_VARINT_MAX + 8)   /* one encoded point, at most */
#define VALUE_F64 0
#define VALUE_F32 1
#define VALUE_DECIMAL 2
#define MAX_DECIMAL_EXP 15
#define MAX_TAGS 10000
#define MAX_TAG_LEN 256

/* ---- CRC-32C (Castagnoli), the checksum TFRecord files use too ---- */

/*
 * Every scalar point is checksummed twice (its log record and its event
 * record), so this is on the output parser's hot path: the SSE 4.2 crc32
 * instruction where the CPU has it, else slicing-by-8 tables (8 bytes per
 * step instead of 1).
 */
static uint32_t crc_tables[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
		crc_tables[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_tables[t][i] = (crc_tables[t - 1][i] >> 8) ^ crc_tables[0][crc_tables[t - 1][i] & 0xff];
}

static uint32_t crc_sliced(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		crc = crc_tables[7][lo & 0xff] ^ crc_tables[6][(lo >> 8) & 0xff] ^ crc_tables[5][(lo >> 16) & 0xff] ^
		      crc_tables[4][lo >> 24] ^ crc_tables[3][p[4]] ^ crc_tables[2][p[5]] ^ crc_tables[1][p[6]] ^
		      crc_tables[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
__attribute__((target("sse4.2"))) static uint32_t crc_hardware(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t word;
		memcpy(&word, p, 8);
		c = _mm_crc32_u64(c, word);
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = _mm_crc32_u8(c32, *p++);
	return c32;
}
#define CRC_HARDWARE_AVAILABLE() __builtin_cpu_supports("sse4.2")
#else
#define crc_hardware crc_sliced
#define CRC_HARDWARE_AVAILABLE() 0
#endif

static int crc_mode; /* 1 tables, 2 hardware */

static void crc_set_up(void)
{
	crc_init();
	crc_mode = CRC_HARDWARE_AVAILABLE() ? 2 : 1;
}

uint32_t tally__crc32c(uint32_t crc, const void *data, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT; /* tally view reads logs on many threads */
	pthread_once(&once, crc_set_up);
	return ~(crc_mode == 2 ? crc_hardware(~crc, data, len) : crc_sliced(~crc, data, len));
}

uint32_t tally__crc32c_portable(uint32_t crc, const void *data, size_t len)
{
	if (!crc_tables[0][1])
		crc_init();
	return ~crc_sliced(~crc, data, len);
}

/* ---- writer ---- */

static int replay_existing(tally_scalar_log *log, const char *path);

typedef struct {
	char *name;
	tally_scalar_summary sum;
	int64_t mark;  /* for the output parser's step tracking (tally__scalar_log_mark) */
	uint64_t block_step;   /* its last step in the open block ... */
	uint64_t block_number; /* ... if this is that block's number */
} log_tag;

struct tally_scalar_log {
	char *dir;
	int fd;
	tally_buf pending;     /* whole records not written yet */
	tally_buf block;       /* the open block's body ('B' or 'I' and points), not a record yet */
	uint64_t block_number; /* counts blocks, from 1 */
	uint64_t block_time;   /* the open block's last time */
	bool format1;          /* appending to a format-1 log: one 'P' record per point */
	log_tag *tags;
	size_t n_tags, cap_tags;
	uint32_t *slots;       /* open-addressing hash of tag index + 1 (0 = empty) */
	size_t n_slots;
	bool summary_dirty;
	bool tag_limit_hit;
	bool replaying;        /* defining tags read back from the file: write nothing */
	bool summary_unsynced; /* scalars.json was last written without fsync */
	tally_scalar_mirror mirror;     /* where appended points are copied (a TensorBoard file), if anywhere */
};

static uint64_t hash_name(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int rehash(tally_scalar_log *log, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < log->n_tags; i++) {
		const char *name = log->tags[i].name;
		size_t s = hash_name(name, strlen(name)) & (n_slots - 1);
		while (slots[s])
			s = (s + 1) & (n_slots - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(log->slots);
	log->slots = slots;
	log->n_slots = n_slots;
	return 0;
}

static void add_record(tally_scalar_log *log, const unsigned char *body, size_t len)
{
	unsigned char head[8];
	tally_put_le(head, tally__crc32c(0, body, len), 4);
	tally_put_le(head + 4, (uint32_t)len, 4);
	tally_buf_add(&log->pending, head, sizeof head);
	tally_buf_add(&log->pending, body, len);
}

/* Close the open block: it becomes a record. */
static void end_block(tally_scalar_log *log)
{
	if (!log->block.len)
		return;
	add_record(log, (const unsigned char *)log->block.ptr, log->block.len);
	tally_buf_clear(&log->block);
}

/* Find or define a tag; -1 when the tag limit is reached or memory runs out. */
static long tag_index(tally_scalar_log *log, const char *name, size_t len)
{
	size_t mask = log->n_slots - 1;
	size_t s = hash_name(name, len) & mask;
	for (; log->slots[s]; s = (s + 1) & mask) {
		log_tag *t = &log->tags[log->slots[s] - 1];
		if (strlen(t->name) == len && !memcmp(t->name, name, len))
			return (long)log->slots[s] - 1;
	}
	if (log->n_tags + 1 >= log->n_slots)
		return -1; /* only after failed rehashes: the probe loop needs a free slot */
	if (log->n_tags >= MAX_TAGS) {
		log->tag_limit_hit = true;
		return -1;
	}
	if (log->n_tags == log->cap_tags) {
		size_t cap = log->cap_tags ? log->cap_tags * 2 : 16;
		log_tag *grown = realloc(log->tags, cap * sizeof *grown);
		if (!grown)
			return -1;
		log->tags = grown;
		log->cap_tags = cap;
	}
	log_tag *t = &log->tags[log->n_tags];
	memset(t, 0, sizeof *t);
	t->mark = INT64_MIN;
	if (!(t->name = strndup(name, len)))
		return -1;
	log->slots[s] = (uint32_t)++log->n_tags;
	if (!log->replaying) { /* the definition is recorded before anything can fail */
		end_block(log); /* it precedes every point of the tag */
		unsigned char body[5 + MAX_TAG_LEN];
		body[0] = 'T';
		tally_put_le(body + 1, (uint32_t)(log->n_tags - 1), 4);
		memcpy(body + 5, name, len);
		add_record(log, body, 5 + len);
	}
	/* A failed rehash leaves the (still valid, fuller) table in place. */
	if (log->n_tags * 2 > log->n_slots)
		rehash(log, log->n_slots * 2);
	return (long)log->n_tags - 1;
}

static void summary_add(tally_scalar_summary *s, int64_t step, double value)
{
	if (s->count == 0) {
		s->first = s->last = s->min = s->max = value;
		s->first_step = s->last_step = s->min_step = s->max_step = step;
	} else {
		if (step >= s->last_step) {
			s->last = value;
			s->last_step = step;
		}
		/* NaN never becomes the minimum or maximum, but a first NaN is replaced. */
		if (value < s->min || isnan(s->min)) {
			s->min = value;
			s->min_step = step;
		}
		if (value > s->max || isnan(s->max)) {
			s->max = value;
			s->max_step = step;
		}
	}
	if (isfinite(value))
		s->sum += value;
	s->count++;
}

int tally__scalar_log_open(tally_scalar_log **out, const char *dir)
{
	*out = NULL;
	tally_scalar_log *log = calloc(1, sizeof *log);
	tally_buf path = TALLY_BUF_INIT;
	if (!log)
		return tally__error_oom();
	log->fd = -1;
	log->pending = (tally_buf)TALLY_BUF_INIT;
	log->block = (tally_buf)TALLY_BUF_INIT;
	log->dir = strdup(dir);
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/scalars.log", dir);
	if (!log->dir || tally_buf_oom(&path) || rehash(log, 64) < 0) {
		tally_buf_release(&path);
		tally__scalar_log_free(log);
		return tally__error_oom();
	}
	log->fd = open(path.ptr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (log->fd < 0) {
		int rc = tally__error_errno(TALLY_ERROR, "cannot open '%s'", path.ptr);
		tally_buf_release(&path);
		tally__scalar_log_free(log);
		return rc;
	}
	off_t size = lseek(log->fd, 0, SEEK_END);
	int rc = 0;
	if (size == 0)
		tally_buf_add(&log->pending, LOG_MAGIC, 8);
	else
		rc = replay_existing(log, path.ptr);
	tally_buf_release(&path);
	if (rc) {
		tally__scalar_log_free(log);
		return rc;
	}
	*out = log;
	return 0;
}

static int append_point(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms,
                        bool mirror);

int tally__scalar_log_append(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms)
{
	return append_point(log, tag, step, value, time_ms, true);
}

int tally__scalar_log_import(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms)
{
	return append_point(log, tag, step, value, time_ms, false);
}

void tally__scalar_log_set_mirror(tally_scalar_log *log, tally_scalar_mirror mirror)
{
	if (log->mirror.free)
		log->mirror.free(log->mirror.ctx);
	log->mirror = mirror;
}

static const double pow10[MAX_DECIMAL_EXP + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                  1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/*
 * m / 10^k rounded once to a double, the same on every machine: one IEEE
 * division of two exact doubles (|m| < 2^53, 10^k for k <= 22 are exact).
 * Where doubles are computed in x87's wider registers (FLT_EVAL_METHOD != 0,
 * 32-bit x86) the division would round twice, so strtod, which rounds
 * correctly, makes it instead.
 */
static double decimal_value(int64_t m, unsigned k)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
	char text[48];
	snprintf(text, sizeof text, "%lldE-%u", (long long)m, k);
	return strtod(text, NULL);
#else
	return (double)m / pow10[k];
#endif
}

/* The value as m / 10^k, when that gives exactly its bits back (as the reader computes it). */
static bool as_decimal(double value, int64_t *mantissa, unsigned *exp)
{
	if (!isfinite(value))
		return false;
	for (unsigned k = 0; k <= MAX_DECIMAL_EXP; k++) {
		double scaled = rint(value * pow10[k]);
		if (!(fabs(scaled) < 9007199254740992.0)) /* 2^53: beyond it m / 10^k is not exact */
			return false;
		int64_t m = (int64_t)scaled;
		double back = decimal_value(m, k);
		if (!memcmp(&back, &value, sizeof back)) { /* bits, so -0.0 is not 0 */
			*mantissa = m;
			*exp = k;
			return true;
		}
	}
	return false;
}

/* Whether the double is exactly a float (TensorBoard's values, float32 metrics); NaNs keep their 8 bytes. */
static bool exactly_f32(double value, float *narrow)
{
	if (isnan(value) || (isfinite(value) && fabs(value) > (double)FLT_MAX))
		return false;
	*narrow = (float)value;
	return (double)*narrow == value;
}

/* Append one point to the open block (format 2), starting one when needed. */
static void block_add(tally_scalar_log *log, long idx, int64_t step, double value, int64_t time_ms, bool imported)
{
	char kind = imported ? 'I' : 'B';
	if (log->block.len && (log->block.ptr[0] != kind || log->block.len + MAX_POINT_BYTES > MAX_BLOCK))
		end_block(log);
	if (!log->block.len) {
		tally_buf_add(&log->block, &kind, 1);
		log->block_number++;
		log->block_time = 0;
	}
	log_tag *t = &log->tags[idx];
	uint64_t prev_step = t->block_number == log->block_number ? t->block_step : 0;
	unsigned char p[MAX_POINT_BYTES];
	size_t n = 0;
	int64_t mantissa;
	unsigned exp;
	float narrow = 0;
	unsigned value_kind = as_decimal(value, &mantissa, &exp) ? VALUE_DECIMAL
	                      : exactly_f32(value, &narrow)      ? VALUE_F32
	                                                         : VALUE_F64;
	n += tally_put_uvarint(p + n, (uint64_t)idx << 2 | value_kind);
	n += tally_put_uvarint(p + n, tally_zigzag((uint64_t)step - prev_step));
	n += tally_put_uvarint(p + n, tally_zigzag((uint64_t)time_ms - log->block_time));
	if (value_kind == VALUE_DECIMAL) {
		n += tally_put_uvarint(p + n, tally_zigzag((uint64_t)mantissa) << 4 | exp);
	} else if (value_kind == VALUE_F32) {
		uint32_t bits;
		memcpy(&bits, &narrow, sizeof bits);
		tally_put_le(p + n, bits, 4);
		n += 4;
	} else {
		uint64_t bits;
		memcpy(&bits, &value, sizeof bits);
		tally_put_le(p + n, bits, 8);
		n += 8;
	}
	tally_buf_add(&log->block, p, n);
	t->block_step = (uint64_t)step;
	t->block_number = log->block_number;
	log->block_time = (uint64_t)time_ms;
}

/* A format-1 point record. */
static void point_record(tally_scalar_log *log, long idx, int64_t step, double value, int64_t time_ms)
{
	unsigned char body[29];
	uint64_t bits;
	memcpy(&bits, &value, sizeof bits);
	body[0] = 'P';
	tally_put_le(body + 1, (uint32_t)idx, 4);
	tally_put_le(body + 5, (uint64_t)step, 8);
	tally_put_le(body + 13, bits, 8);
	tally_put_le(body + 21, (uint64_t)time_ms, 8);
	add_record(log, body, sizeof body);
}

static int append_point(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms,
                        bool mirror)
{
	size_t len = strlen(tag);
	if (len == 0 || len > MAX_TAG_LEN)
		return tally__error(TALLY_EINVALID, "scalar tag must be 1 to %d bytes long", MAX_TAG_LEN);
	long idx = tag_index(log, tag, len);
	if (idx < 0)
		return log->tag_limit_hit ? tally__error(TALLY_EINVALID, "too many scalar tags (limit %d)", MAX_TAGS)
		                          : tally__error_oom();
	if (log->format1)
		point_record(log, idx, step, value, time_ms);
	else
		block_add(log, idx, step, value, time_ms, !mirror);
	summary_add(&log->tags[idx].sum, step, value);
	log->summary_dirty = true;
	if (mirror && log->mirror.add)
		log->mirror.add(log->mirror.ctx, tag, step, value, time_ms);
	if (log->pending.len + log->block.len >= LOG_BUFFER)
		return tally__scalar_log_flush(log);
	return 0;
}

int tally__scalar_log_flush(tally_scalar_log *log)
{
	end_block(log);
	if (tally_buf_oom(&log->pending))
		return tally__error_oom();
	if (log->mirror.flush)
		log->mirror.flush(log->mirror.ctx);
	if (!log->pending.len)
		return 0;
	int rc = 0;
	off_t before = lseek(log->fd, 0, SEEK_END);
	if (tally_write_all(log->fd, log->pending.ptr, log->pending.len) < 0) {
		rc = tally__error_errno(TALLY_ERROR, "cannot write scalars of run '%s' — is the disk full?", log->dir);
		/* Never leave a torn record in the middle of the log: later records would be unreadable. */
		if (before >= 0 && ftruncate(log->fd, before) < 0) {
			/* the reader stops at the torn record; nothing more to do */
		}
	}
	tally_buf_clear(&log->pending);
	return rc;
}

static json_t *json_number(double v)
{
	if (isnan(v))
		return json_string("nan");
	if (isinf(v))
		return json_string(v > 0 ? "inf" : "-inf");
	return json_real(v);
}

json_t *tally__scalar_summary_json(const tally_scalar_summary *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "last", json_number(s->last));
	json_object_set_new(o, "last_step", json_integer(s->last_step));
	json_object_set_new(o, "first", json_number(s->first));
	json_object_set_new(o, "first_step", json_integer(s->first_step));
	json_object_set_new(o, "min", json_number(s->min));
	json_object_set_new(o, "min_step", json_integer(s->min_step));
	json_object_set_new(o, "max", json_number(s->max));
	json_object_set_new(o, "max_step", json_integer(s->max_step));
	json_object_set_new(o, "avg", json_number(s->count ? s->sum / (double)s->count : 0.0));
	json_object_set_new(o, "count", json_integer(s->count));
	return o;
}

int tally__scalar_log_write_summary(tally_scalar_log *log, int flags)
{
	/* Unchanged: nothing to do, unless a durable copy is wanted of one written unsynced. */
	if (!log->summary_dirty && !((flags & TALLY_DURABLE) && log->summary_unsynced))
		return 0;
	json_t *all = json_object();
	for (size_t i = 0; i < log->n_tags; i++)
		if (log->tags[i].sum.count)
			json_object_set_new(all, log->tags[i].name, tally__scalar_summary_json(&log->tags[i].sum));
	char *text = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_decref(all);
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/scalars.json", log->dir);
	int rc = 0;
	if (!text || tally_buf_oom(&path))
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path.ptr, text, strlen(text), flags) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", path.ptr);
	else {
		log->summary_dirty = false;
		log->summary_unsynced = !(flags & TALLY_DURABLE);
	}
	free(text);
	tally_buf_release(&path);
	return rc;
}

int64_t *tally__scalar_log_mark(tally_scalar_log *log, const char *tag, size_t len)
{
	if (len == 0 || len > MAX_TAG_LEN)
		return NULL;
	long idx = tag_index(log, tag, len);
	return idx < 0 ? NULL : &log->tags[idx].mark;
}

void tally__scalar_log_free(tally_scalar_log *log)
{
	if (!log)
		return;
	if (log->fd >= 0) {
		tally__scalar_log_flush(log);
		close(log->fd);
	}
	for (size_t i = 0; i < log->n_tags; i++)
		free(log->tags[i].name);
	if (log->mirror.free)
		log->mirror.free(log->mirror.ctx);
	free(log->tags);
	free(log->slots);
	free(log->dir);
	tally_buf_release(&log->pending);
	tally_buf_release(&log->block);
	free(log);
}

/* ---- reader ---- */

static bool is_log_magic(const char *head)
{
	return !memcmp(head, LOG_MAGIC, 8) || !memcmp(head, LOG_MAGIC_V1, 8);
}

typedef struct {
	int (*on_tag)(void *ctx, uint32_t id, const char *name, size_t len);
	/* `imported`: read from the run's own event files (an 'I' block) */
	int (*on_point)(void *ctx, uint32_t id, int64_t step, double value, int64_t time_ms, bool imported);
	void *ctx;
} record_sink;

/* Each tag's last step within the block being decoded (a block's deltas need nothing outside it). */
typedef struct {
	uint64_t *step, *block; /* by tag id: the step, valid when block[id] is the current block */
	size_t cap;
	uint64_t number;        /* the current block */
} block_state;

static bool block_state_reach(block_state *st, uint64_t id)
{
	if (id < st->cap)
		return true;
	if (id >= MAX_TAGS)
		return false;
	size_t cap = st->cap ? st->cap : 64;
	while (cap <= id)
		cap *= 2;
	uint64_t *step = realloc(st->step, cap * sizeof *step);
	if (step)
		st->step = step;
	uint64_t *block = step ? realloc(st->block, cap * sizeof *block) : NULL;
	if (!block)
		return false;
	memset(block + st->cap, 0, (cap - st->cap) * sizeof *block);
	st->block = block;
	st->cap = cap;
	return true;
}

/* One point of a block; false when the block is malformed. */
static bool decode_point(const unsigned char **p, const unsigned char *end, block_state *st, uint64_t *time,
                         uint32_t *tag, int64_t *step, double *value)
{
	uint64_t head, dstep, dtime;
	if (!tally_get_uvarint(p, end, &head) || !tally_get_uvarint(p, end, &dstep) ||
	    !tally_get_uvarint(p, end, &dtime) || !block_state_reach(st, head >> 2))
		return false;
	uint64_t id = head >> 2;
	uint64_t prev = st->block[id] == st->number ? st->step[id] : 0;
	st->step[id] = prev + tally_unzigzag(dstep);
	st->block[id] = st->number;
	*time += tally_unzigzag(dtime);
	*tag = (uint32_t)id;
	*step = (int64_t)st->step[id];
	switch (head & 3) {
	case VALUE_F64:
	case VALUE_F32: {
		int size = (head & 3) == VALUE_F64 ? 8 : 4;
		if (end - *p < size)
			return false;
		uint64_t bits = tally_get_le(*p, size);
		*p += size;
		if (size == 8) {
			memcpy(value, &bits, sizeof *value);
		} else {
			uint32_t narrow_bits = (uint32_t)bits;
			float narrow;
			memcpy(&narrow, &narrow_bits, sizeof narrow);
			*value = (double)narrow;
		}
		return true;
	}
	case VALUE_DECIMAL: {
		uint64_t packed;
		if (!tally_get_uvarint(p, end, &packed))
			return false;
		*value = decimal_value((int64_t)tally_unzigzag(packed >> 4), (unsigned)(packed & 15));
		return true;
	}
	default:
		return false;
	}
}

/*
 * Hand out the points of a block body, skipping the first `*skip` (handed out
 * by an earlier call that stopped inside it).  Returns -1 when the block is
 * malformed or a callback refused; 1 when one asked to stop before the block's
 * end (`*skip` is then the points handed out: the block is read again from
 * there); 2 when it asked so at the block's last point; 0 at its end.
 */
static int walk_block(const unsigned char *p, const unsigned char *end, const record_sink *sink, block_state *st,
                      size_t *skip)
{
	bool imported = p[-1] == 'I';
	uint64_t time = 0;
	st->number++;
	for (size_t i = 0; p < end; i++) {
		uint32_t tag;
		int64_t step;
		double value;
		if (!decode_point(&p, end, st, &time, &tag, &step, &value))
			return -1;
		if (i < *skip)
			continue;
		int stop = sink->on_point(sink->ctx, tag, step, value, (int64_t)time, imported);
		if (stop < 0)
			return -1;
		if (stop > 0 && p < end) {
			*skip = i + 1;
			return 1;
		}
		if (stop > 0) {
			*skip = 0;
			return 2;
		}
	}
	*skip = 0;
	return 0;
}

/*
 * Walk the records of a log image; returns the length of its intact prefix
 * (a torn or corrupt record and everything after it is not part of it).
 * A sink callback returning non-zero stops the walk: the offset returned is
 * then where to go on from, and `*skip` the points of that record's block
 * already handed out.
 */
static size_t walk_records(const unsigned char *p, size_t len, const record_sink *sink, bool *truncated, size_t *skip,
                           bool *undecodable)
{
	*undecodable = false;
	size_t off = 8;
	block_state st = {0};
	bool stopped = false;
	while (off < len) {
		if (len - off < 8)
			break;
		uint32_t crc = (uint32_t)tally_get_le(p + off, 4), blen = (uint32_t)tally_get_le(p + off + 4, 4);
		if (blen == 0 || blen > len - off - 8 || tally__crc32c(0, p + off + 8, blen) != crc)
			break;
		const unsigned char *b = p + off + 8;
		int stop = 0;
		if (b[0] == 'T' && blen > 5 && blen <= 5 + MAX_TAG_LEN)
			stop = sink->on_tag(sink->ctx, (uint32_t)tally_get_le(b + 1, 4), (const char *)b + 5, blen - 5);
		else if (b[0] == 'B' || b[0] == 'I') {
			stop = walk_block(b + 1, b + blen, sink, &st, skip);
			if (stop == 1) { /* stopped inside the block: go on from it next time */
				stopped = true;
				break;
			}
			if (stop == 2) /* at its last point: go on after it */
				stop = 1;
		} else if (b[0] == 'P' && blen == 29) {
			uint64_t bits = tally_get_le(b + 13, 8);
			double value;
			memcpy(&value, &bits, sizeof value);
			stop = sink->on_point(sink->ctx, (uint32_t)tally_get_le(b + 1, 4), (int64_t)tally_get_le(b + 5, 8), value,
			                      (int64_t)tally_get_le(b + 21, 8), false);
		}
		/* unknown record types are skipped: later versions may add some */
		if (stop < 0) { /* whole and checksummed, yet it does not read */
			*undecodable = true;
			break;
		}
		off += 8 + blen;
		if (stop > 0) {
			stopped = true;
			break;
		}
	}
	free(st.step);
	free(st.block);
	*truncated = !stopped && off < len;
	return off;
}

/* Tag ids → names while reading; a tag id may be redefined by a later writer. */
typedef struct {
	char **names;
	size_t n;
	tally_scalar_cb cb;
	void *ctx;
	bool own_only; /* leave out the points read from the run's own event files */
	bool stopped;  /* cb asked to stop */
} reader;

static int reader_tag(void *ctx, uint32_t id, const char *name, size_t len)
{
	reader *r = ctx;
	if (id > r->n)
		return -1; /* ids are dense: a gap means damage */
	if (id == r->n) {
		char **grown = realloc(r->names, (r->n + 1) * sizeof *grown);
		if (!grown)
			return -1;
		r->names = grown;
		r->names[r->n++] = NULL;
	}
	free(r->names[id]);
	r->names[id] = strndup(name, len);
	return r->names[id] ? 0 : -1;
}

static int reader_point(void *ctx, uint32_t id, int64_t step, double value, int64_t time_ms, bool imported)
{
	reader *r = ctx;
	if (r->stopped)
		return 1; /* the caller said so: not one point more */
	if (id >= r->n)
		return -1;
	if (imported && r->own_only)
		return 0;
	if (r->cb(r->ctx, r->names[id], step, value, time_ms))
		r->stopped = true;
	return r->stopped ? 1 : 0;
}

struct tally_scalar_cursor {
	char *path;
	int fd;              /* -1 until the log exists */
	off_t offset;        /* file bytes moved into `buf` so far */
	tally_buf buf;       /* the magic, then bytes not yet walked (an unfinished record) */
	size_t skip;         /* points of the first record's block handed out already */
	reader names;        /* tag ids seen so far */
	bool damaged;        /* not a log, or a record that will never read: nothing more */
};

static int read_log(const char *dir, tally_scalar_cb cb, void *ctx, bool *truncated, bool own_only)
{
	/* A megabyte at a time: a log of millions of points is never held whole. */
	tally_scalar_cursor *c;
	int rc = tally__scalar_cursor_open(&c, dir);
	if (rc)
		return rc;
	c->names.own_only = own_only;
	rc = tally__scalar_cursor_read(c, cb, ctx);
	*truncated = tally__scalar_cursor_damaged(c);
	tally__scalar_cursor_free(c);
	return rc;
}

int tally__scalar_log_read(const char *dir, tally_scalar_cb cb, void *ctx, bool *truncated)
{
	return read_log(dir, cb, ctx, truncated, false);
}

int tally__scalar_log_read_own(const char *dir, tally_scalar_cb cb, void *ctx, bool *truncated)
{
	return read_log(dir, cb, ctx, truncated, true);
}

/* ---- following a log that is being written ---- */


/* More unwalked bytes than any record holds: the log is damaged there, not unfinished. */
#define MAX_RECORD_BYTES (8 + MAX_BLOCK)

int tally__scalar_cursor_open(tally_scalar_cursor **out, const char *dir)
{
	tally_scalar_cursor *c = calloc(1, sizeof *c);
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/scalars.log", dir);
	if (!c || tally_buf_oom(&path) || !(c->path = tally_buf_detach(&path))) {
		tally_buf_release(&path);
		free(c);
		return tally__error_oom();
	}
	c->fd = -1;
	c->buf = (tally_buf)TALLY_BUF_INIT;
	*out = c;
	return 0;
}

bool tally__scalar_cursor_damaged(const tally_scalar_cursor *c)
{
	return c->damaged || (!c->names.stopped && c->buf.len > 8);
}

/* Hand out the whole records in the buffer; false when the reading must stop. */
static bool cursor_walk(tally_scalar_cursor *c)
{
	if (c->buf.len < 8)
		return true;
	if (!is_log_magic(c->buf.ptr)) {
		c->damaged = true;
		return false;
	}
	record_sink sink = {reader_tag, reader_point, &c->names};
	bool truncated;
	bool undecodable;
	size_t used = walk_records((const unsigned char *)c->buf.ptr, c->buf.len, &sink, &truncated, &c->skip, &undecodable);
	memmove(c->buf.ptr + 8, c->buf.ptr + used, c->buf.len - used);
	tally_buf_truncate(&c->buf, 8 + (c->buf.len - used));
	if (c->names.stopped)
		return false; /* the records after the stop stay buffered for the next call */
	if (c->buf.len - 8 > MAX_RECORD_BYTES) {
		c->damaged = true;
		return false;
	}
	return true;
}

int tally__scalar_cursor_read(tally_scalar_cursor *c, tally_scalar_cb cb, void *ctx)
{
	if (c->damaged)
		return 0;
	if (c->fd < 0 && (c->fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : tally__error_errno(TALLY_ERROR, "cannot read '%s'", c->path);
	c->names.cb = cb;
	c->names.ctx = ctx;
	c->names.stopped = false;
	for (;;) {
		if (!cursor_walk(c))
			return 0;
		if (!tally_buf_grow(&c->buf, 1 << 20))
			return tally__error_oom();
		ssize_t got = pread(c->fd, c->buf.ptr + c->buf.len, 1 << 20, c->offset);
		if (got < 0)
			return tally__error_errno(TALLY_ERROR, "cannot read '%s'", c->path);
		if (got == 0)
			return 0;
		c->buf.len += (size_t)got;
		c->offset += got;
	}
}

void tally__scalar_cursor_free(tally_scalar_cursor *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	for (size_t i = 0; i < c->names.n; i++)
		free(c->names.names[i]);
	free(c->names.names);
	tally_buf_release(&c->buf);
	free(c->path);
	free(c);
}

/* ---- reopening: the writer picks up where an earlier writer stopped ---- */

static int replay_tag(void *ctx, uint32_t id, const char *name, size_t len)
{
	tally_scalar_log *log = ctx;
	if (id != log->n_tags)
		return -1; /* a writer never redefines: anything else is damage */
	log->replaying = true;
	long idx = tag_index(log, name, len);
	log->replaying = false;
	return idx == (long)id ? 0 : -1;
}

static int replay_point(void *ctx, uint32_t id, int64_t step, double value, int64_t time_ms, bool imported)
{
	(void)time_ms;
	(void)imported;
	tally_scalar_log *log = ctx;
	if (id >= log->n_tags)
		return -1;
	summary_add(&log->tags[id].sum, step, value);
	return 0;
}

/* Load the tags and summaries of an existing log and cut off a torn tail. */
static int replay_existing(tally_scalar_log *log, const char *path)
{
	tally_buf data = TALLY_BUF_INIT;
	int rc = 0;
	if (tally_read_file(&data, path, 0) < 0) {
		rc = tally__error_errno(TALLY_ERROR, "cannot read '%s'", path);
	} else if (data.len < 8 || !is_log_magic(data.ptr)) {
		if (ftruncate(log->fd, 0) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot repair '%s'", path);
		else
			tally_buf_add(&log->pending, LOG_MAGIC, 8);
	} else {
		bool truncated = false;
		size_t skip = 0;
		log->format1 = !memcmp(data.ptr, LOG_MAGIC_V1, 8); /* an older tally's log stays in its format */
		record_sink sink = {replay_tag, replay_point, log};
		bool undecodable;
		size_t good = walk_records((const unsigned char *)data.ptr, data.len, &sink, &truncated, &skip, &undecodable);
		if (undecodable) /* not a torn tail: cutting it off would lose what a newer tally wrote */
			rc = tally__error(TALLY_ERROR, "'%s' holds a record this tally cannot read — was it written by a newer "
			                  "tally? Append to it with that one", path);
		else if (truncated && ftruncate(log->fd, (off_t)good) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot repair '%s'", path);
		log->summary_dirty = true;
	}
	tally_buf_release(&data);
	return rc;
}

/* ---- summaries rebuilt from the log ---- */

typedef struct {
	json_t *index;                 /* tag → position in sums */
	tally_scalar_summary *sums;
	char **names;
	size_t n, cap;
} summarizer;

static int summarize_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	(void)time_ms;
	summarizer *z = ctx;
	json_t *at = json_object_get(z->index, tag);
	size_t i;
	if (at) {
		i = (size_t)json_integer_value(at);
	} else {
		if (z->n == z->cap) {
			size_t cap = z->cap ? z->cap * 2 : 16;
			tally_scalar_summary *sums = realloc(z->sums, cap * sizeof *sums);
			char **names = sums ? realloc(z->names, cap * sizeof *names) : NULL;
			if (sums)
				z->sums = sums;
			if (!names)
				return 1;
			z->names = names;
			z->cap = cap;
		}
		i = z->n++;
		memset(&z->sums[i], 0, sizeof z->sums[i]);
		z->names[i] = strdup(tag);
		json_object_set_new(z->index, tag, json_integer((json_int_t)i));
	}
	summary_add(&z->sums[i], step, value);
	return 0;
}

json_t *tally__scalar_log_summarize(const char *dir)
{
	summarizer z = {json_object(), NULL, NULL, 0, 0};
	bool truncated;
	json_t *out = NULL;
	if (tally__scalar_log_read(dir, summarize_point, &z, &truncated) == 0 && z.n) {
		out = json_object();
		for (size_t i = 0; i < z.n; i++)
			if (z.names[i])
				json_object_set_new(out, z.names[i], tally__scalar_summary_json(&z.sums[i]));
	}
	for (size_t i = 0; i < z.n; i++)
		free(z.names[i]);
	free(z.names);
	free(z.sums);
	json_decref(z.index);
	return out;
}

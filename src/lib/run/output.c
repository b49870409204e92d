/*
 * Console output of a run, kept byte for byte.
 *
 *   .tally/output      stdout and stderr interleaved in arrival order, as the
 *                      terminal showed them (progress bars' \r included)
 *   .tally/output.idx  one record per chunk read from the child: where it
 *                      starts, its stream, its time (docs/run-format.md)
 *
 * A chunk is what one read(2) returned, so every line's timestamp is the
 * arrival time of its first byte and its stream is exact, at the cost of one
 * record per read instead of per line — which keeps capture near `cat` speed.
 *
 * The index is packed (format 2): an 8-byte magic, then 4 KiB blocks of
 * records of two varints, (offset delta << 1 | stream) + 1 and the zigzagged
 * time delta, each relative to the record before in the same block (the
 * first of a block to zero, so absolute); a block's unused tail is zero
 * bytes, which no record starts with.  A line printed and flushed at a time
 * costs 2–3 bytes instead of 16, and a reader still finds an offset by
 * binary search over the blocks.  Runs recorded before (format 1: 16-byte
 * records u64 offset << 1 | stream, i64 time_ms; the file starts with the
 * first record, 0 or 1) are read as they are.
 * Lines are also cut (per stream, \n or \r) for the scalar parser; a line
 * longer than the parser cares about is recorded but not parsed, so memory
 * stays flat whatever the child prints.
 */
#include "lib/run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <immintrin.h>
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_AVX2_SCAN 1 /* chosen at run time */
#endif
#endif

#include "util/fsutil.h"
#include "util/le.h"
#include "util/timeutil.h"

#define LINE_MAX_PARSED 4096
#define IDX_BLOCK 4096          /* records never straddle one; each block starts absolute */
#define IDX_MAGIC "TLYOIDX2"   /* 8 bytes; a format-1 index starts with 0 or 1 */
#define IDX_MAGIC_LEN 8
#define IDX_RECORD_MAX (2 * TALLY_VARINT_MAX)
/* Written out when it holds a block's worth: room for one more block's padding and record. */
#define IDX_BUFFER (2 * IDX_BLOCK + IDX_RECORD_MAX)

typedef struct {
	char line[LINE_MAX_PARSED];
	size_t len;
	bool overlong;
} line_state;

struct tally_output {
	int fd, idx_fd;
	uint64_t offset;
	unsigned char idx[IDX_BUFFER];
	size_t idx_len;
	bool idx_v1;          /* an older index found in place: 16-byte records go on */
	uint64_t idx_pos;     /* bytes of output.idx, written and buffered */
	uint64_t prev_offset; /* of the record before, in this block */
	int64_t prev_time;
	int last_stream;  /* of the last chunk, -1 before the first */
	line_state streams[2];
	tally_outparse *parser;
	tally_scalar_log *log;
	char *dir;
	bool avx2; /* lines are cut 32 bytes per compare */
};

static int open_meta_file(const char *dir, const char *name)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_META_DIR "/%s", dir, name);
	/* O_RDWR: an index already there is read for its format */
	int fd = tally_buf_oom(&p) ? -1 : open(p.ptr, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	tally_buf_release(&p);
	return fd;
}

int tally__output_open(tally_output **out, const char *dir, tally_outparse *parser, tally_scalar_log *log)
{
	*out = NULL;
	tally_output *o = calloc(1, sizeof *o);
	if (!o || !(o->dir = strdup(dir))) {
		free(o);
		return tally__error_oom();
	}
	o->parser = parser;
	o->log = log;
	o->last_stream = -1;
#ifdef HAVE_AVX2_SCAN
	o->avx2 = __builtin_cpu_supports("avx2");
#endif
	o->fd = open_meta_file(dir, "output");
	o->idx_fd = open_meta_file(dir, "output.idx");
	struct stat st, out_st;
	if (o->fd < 0 || o->idx_fd < 0 || fstat(o->idx_fd, &st) < 0 || fstat(o->fd, &out_st) < 0) {
		int rc = tally__error_errno(TALLY_ERROR, "cannot create output files in '%s'", dir);
		tally__output_close(o);
		return rc;
	}
	if (st.st_size == 0) { /* new: packed; the magic goes out with the first records */
		memcpy(o->idx, IDX_MAGIC, IDX_MAGIC_LEN);
		o->idx_len = o->idx_pos = IDX_MAGIC_LEN;
	} else { /* an index already there (never a new run's): its format goes on */
		unsigned char head[IDX_MAGIC_LEN];
		o->idx_v1 = pread(o->idx_fd, head, sizeof head, 0) != IDX_MAGIC_LEN || memcmp(head, IDX_MAGIC, IDX_MAGIC_LEN);
		o->idx_pos = (uint64_t)st.st_size;
		o->prev_offset = UINT64_MAX; /* the next record starts a block afresh */
		o->offset = (uint64_t)out_st.st_size;
	}
	*out = o;
	return 0;
}

static int flush_idx(tally_output *o)
{
	int rc = 0;
	if (o->idx_len && tally_write_all(o->idx_fd, o->idx, o->idx_len) < 0) {
		rc = tally__error_errno(TALLY_ERROR, "cannot write output index of '%s' — is the disk full?", o->dir);
		/* Back to the last whole write, and the next record starts a block:
		 * the blocks stay where readers look for them (these records are lost). */
		uint64_t before = o->idx_pos - o->idx_len;
		if (ftruncate(o->idx_fd, (off_t)before) == 0) {
			o->idx_pos = before;
			o->prev_offset = UINT64_MAX;
		}
		if (!o->idx_v1 && before == 0) { /* the magic went too: it goes out again first */
			memcpy(o->idx, IDX_MAGIC, IDX_MAGIC_LEN);
			o->idx_len = o->idx_pos = IDX_MAGIC_LEN;
			return rc;
		}
	}
	o->idx_len = 0;
	return rc;
}

static void add_idx(tally_output *o, int stream, int64_t time_ms)
{
	if (o->idx_v1) {
		if (o->idx_len + 16 > sizeof o->idx)
			flush_idx(o);
		tally_put_le(o->idx + o->idx_len, o->offset << 1 | (uint64_t)stream, 8);
		tally_put_le(o->idx + o->idx_len + 8, (uint64_t)time_ms, 8);
		o->idx_len += 16;
		return;
	}
	/* Room for a block's padding and a record first: no flush below moves idx_pos under us. */
	if (o->idx_len >= IDX_BLOCK)
		flush_idx(o);
	unsigned char rec[IDX_RECORD_MAX];
	size_t used = (size_t)(o->idx_pos % IDX_BLOCK), len;
	bool reopened = o->prev_offset == UINT64_MAX; /* deltas from what came before are unknown */
	bool fresh = used == 0 || reopened;
	for (;;) {
		uint64_t base = fresh ? 0 : o->prev_offset;
		int64_t tbase = fresh ? 0 : o->prev_time;
		len = tally_put_uvarint(rec, ((o->offset - base) << 1 | (uint64_t)stream) + 1);
		len += tally_put_uvarint(rec + len, tally_zigzag((uint64_t)time_ms - (uint64_t)tbase));
		if (used == 0 || (used + len <= IDX_BLOCK && !reopened))
			break;
		reopened = false;
		/* no room left in this block: zeros to its end, the record starts the next */
		size_t pad = IDX_BLOCK - used;
		memset(o->idx + o->idx_len, 0, pad);
		o->idx_len += pad;
		o->idx_pos += pad;
		used = 0;
		fresh = true;
	}
	memcpy(o->idx + o->idx_len, rec, len);
	o->idx_len += len;
	o->idx_pos += len;
	o->prev_offset = o->offset;
	o->prev_time = time_ms;
}

static void parse_line(tally_output *o, const char *line, size_t len, int64_t time_ms)
{
	if (len && o->parser && o->log)
		tally__outparse_line(o->parser, line, len, o->log, time_ms);
}

/* The partial line carried over from earlier chunks ends here. */
static void end_carried_line(tally_output *o, line_state *ls, int64_t time_ms)
{
	if (!ls->overlong)
		parse_line(o, ls->line, ls->len, time_ms);
	ls->len = 0;
	ls->overlong = false;
}

static void carry(line_state *ls, const char *data, size_t len)
{
	if (ls->overlong)
		return;
	if (ls->len + len > sizeof ls->line) {
		ls->overlong = true;
		return;
	}
	memcpy(ls->line + ls->len, data, len);
	ls->len += len;
}

/* The first line terminator (\n or \r) in [p, end), or NULL. */
static const char *first_terminator(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *cr = memchr(p, '\r', (size_t)((nl ? nl : end) - p));
	return cr ? cr : nl;
}

/* The last line terminator in [p, end), or NULL. */
static const char *last_terminator(const char *p, const char *end)
{
	const char *nl = memrchr(p, '\n', (size_t)(end - p));
	const char *from = nl ? nl + 1 : p;
	const char *cr = memrchr(from, '\r', (size_t)(end - from));
	return cr ? cr : nl;
}

/* A line that ends at `stop` goes to the parser unless its first non-blank
 * byte rules it out: that is nearly every line of a chatty log, dropped here
 * without a call. */
__attribute__((always_inline)) static inline void consider_line(tally_output *o, const tally_outparse_filter *filter, const char *p, const char *stop,
                                 int64_t time_ms)
{
	const char *q = p;
	while (q < stop && (*q == ' ' || *q == '\t' || *q == '\v' || *q == '\f'))
		q++; /* the blanks tally__outparse_line() skips too */
	if (q == stop)
		return;
	unsigned char c = (unsigned char)*q;
	if ((!filter->first || (filter->first[c / 8] & (1u << (c % 8)))) &&
	    !(filter->digits_progress && c >= '0' && c <= '9' && !tally__progress_line(q, (size_t)(stop - q))))
		parse_line(o, p, (size_t)(stop - p), time_ms);
}

#ifdef __SSE2__
/* Bit i set where p[i] is \n or \r, for the 64 bytes at p. */
static inline uint64_t terminators64_sse2(const char *p)
{
	const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	uint64_t m = 0;
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr));
		m |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * k);
	}
	return m;
}

#ifdef HAVE_AVX2_SCAN
__attribute__((target("avx2"))) static inline uint64_t terminators64_avx2(const char *p)
{
	const __m256i nl = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(a, nl), _mm256_cmpeq_epi8(a, cr)));
	uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(b, nl), _mm256_cmpeq_epi8(b, cr)));
	return (uint64_t)hi << 32 | lo;
}
#endif
#endif

/*
 * Hand the complete lines in [p, end) — `end` is just past a terminator — to
 * the parser: the hot loop of output capture.  Terminators (\n and \r) are
 * found 64 bytes at a time as a bit mask, so a short line costs a few
 * instructions rather than a call to memchr.
 */
#ifdef __SSE2__
#define CUT_LINES(name, terminators64, attr)                                                                  \
	attr static void name(tally_output *o, const tally_outparse_filter *filter, const char *p, const char *end, \
	                      int64_t time_ms)                                                                      \
	{                                                                                                           \
		const char *line = p;                                                                                   \
		for (const char *block = p; block < end; block += 64) {                                                 \
			uint64_t m = 0;                                                                                     \
			if (end - block >= 64) {                                                                            \
				m = terminators64(block);                                                                       \
			} else {                                                                                            \
				for (size_t i = 0; block + i < end; i++)                                                        \
					if (block[i] == '\n' || block[i] == '\r')                                                   \
						m |= (uint64_t)1 << i;                                                                  \
			}                                                                                                   \
			while (m) {                                                                                         \
				const char *stop = block + __builtin_ctzll(m);                                                  \
				m &= m - 1;                                                                                     \
				consider_line(o, filter, line, stop, time_ms);                                                  \
				line = stop + 1;                                                                                \
			}                                                                                                   \
		}                                                                                                       \
	}
CUT_LINES(cut_lines_sse2, terminators64_sse2, )
#ifdef HAVE_AVX2_SCAN
CUT_LINES(cut_lines_avx2, terminators64_avx2, __attribute__((target("avx2"))))
#endif
#endif

static void parse_complete_lines(tally_output *o, const char *p, const char *end, int64_t time_ms)
{
	tally_outparse_filter filter = tally__outparse_filter(o->parser);
#ifdef __SSE2__
#ifdef HAVE_AVX2_SCAN
	if (o->avx2) {
		cut_lines_avx2(o, &filter, p, end, time_ms);
		return;
	}
#endif
	cut_lines_sse2(o, &filter, p, end, time_ms);
#else
	while (p < end) {
		const char *stop = first_terminator(p, end);
		if (!stop)
			return;
		consider_line(o, &filter, p, stop, time_ms);
		p = stop + 1;
	}
#endif
}

/*
 * Cut a chunk into lines (ended by \n or \r) for the scalar parser.  Whole
 * lines are parsed where they lie; only a line split across chunks is copied.
 */
static void feed_lines(tally_output *o, line_state *ls, const char *data, size_t len, int64_t time_ms)
{
	const char *end = data + len;
	if (!o->parser || !o->log)
		return;
	if (ls->len || ls->overlong) { /* finish the line carried over from earlier chunks */
		const char *stop = first_terminator(data, end);
		if (!stop) {
			carry(ls, data, len);
			return;
		}
		carry(ls, data, (size_t)(stop - data));
		end_carried_line(o, ls, time_ms);
		data = stop + 1;
	}
	const char *last = data < end ? last_terminator(data, end) : NULL;
	if (!last) {
		carry(ls, data, (size_t)(end - data));
		return;
	}
	parse_complete_lines(o, data, last + 1, time_ms);
	carry(ls, last + 1, (size_t)(end - last - 1)); /* the unterminated tail */
}

int tally__output_chunk(tally_output *o, int stream, const char *data, size_t len, int64_t time_ms)
{
	int rc = 0;
	/* The index record goes first, and reaches the file before the bytes
	 * when the stream changes: a reader of a live run then knows that bytes
	 * past the last record it sees are of that record's stream. */
	add_idx(o, stream, time_ms);
	if (stream != o->last_stream)
		rc = flush_idx(o);
	o->last_stream = stream;
	if (tally_write_all(o->fd, data, len) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot record output of '%s'", o->dir);
	o->offset += len;
	feed_lines(o, &o->streams[stream], data, len, time_ms);
	return rc;
}

int tally__output_flush(tally_output *o)
{
	return o ? flush_idx(o) : 0;
}

int tally__output_close(tally_output *o)
{
	if (!o)
		return 0;
	int rc = 0;
	/* A last line without a newline ends now. */
	for (int s = 0; s < 2; s++)
		end_carried_line(o, &o->streams[s], tally_now_ms());
	if (o->idx_fd >= 0)
		rc = flush_idx(o);
	if (o->fd >= 0 && close(o->fd) < 0 && !rc)
		rc = tally__error_errno(TALLY_ERROR, "cannot record output of '%s'", o->dir);
	if (o->idx_fd >= 0)
		close(o->idx_fd);
	free(o->dir);
	free(o);
	return rc;
}

int tally__output_tail(const char *dir, size_t max_lines, tally_buf *out)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_META_DIR "/output", dir);
	int fd = open(p.ptr, O_RDONLY | O_CLOEXEC);
	tally_buf_release(&p);
	if (fd < 0)
		return errno == ENOENT ? 0 : tally__error_errno(TALLY_ERROR, "cannot read output of '%s'", dir);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return tally__error_errno(TALLY_ERROR, "cannot read output of '%s'", dir);
	}
	/* Read backwards in blocks until enough newlines are seen (or the start). */
	size_t want = 64 * 1024;
	off_t start;
	char *buf = NULL;
	size_t got = 0;
	for (;;) {
		start = st.st_size > (off_t)want ? st.st_size - (off_t)want : 0;
		free(buf);
		buf = malloc((size_t)(st.st_size - start) + 1);
		if (!buf) {
			close(fd);
			return tally__error_oom();
		}
		ssize_t n = pread(fd, buf, (size_t)(st.st_size - start), start);
		got = n > 0 ? (size_t)n : 0;
		size_t lines = 0;
		for (size_t i = 0; i < got; i++)
			lines += buf[i] == '\n';
		if (start == 0 || lines > max_lines || want >= (16u << 20))
			break;
		want *= 4;
	}
	close(fd);
	/* Keep the last max_lines lines (a final line without \n counts too). */
	size_t end = got, count = 0, from;
	if (end && buf[end - 1] == '\n')
		end--;
	for (from = end; from > 0; from--)
		if (buf[from - 1] == '\n' && ++count == max_lines)
			break;
	tally_buf_add(out, buf + from, got - from);
	free(buf);
	return 0;
}

/* ---- reading the recorded output by chunk ---- */

/*
 * Reading output.idx, either format, one record after the other: where each
 * chunk starts, its stream and its time.  A record cut short at the end (a
 * live run's index being written) is not there yet.
 */
typedef struct {
	int fd;
	uint64_t size;   /* of the index when opened */
	bool packed;     /* format 2 */
	uint64_t pos;    /* of the next record */
	uint64_t prev_offset;
	int64_t prev_time;
	unsigned char buf[IDX_BLOCK];
	uint64_t buf_at; /* the file position buf[0] holds */
	size_t buf_len;
} idx_reader;

static bool idx_open(idx_reader *r, int fd, uint64_t size)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->size = size;
	unsigned char head[IDX_MAGIC_LEN];
	r->packed = size >= IDX_MAGIC_LEN && pread(fd, head, sizeof head, 0) == IDX_MAGIC_LEN &&
	            !memcmp(head, IDX_MAGIC, IDX_MAGIC_LEN);
	r->pos = r->packed ? IDX_MAGIC_LEN : 0;
	return true;
}

/* The byte at `pos` (-1 past the end), read a block at a time. */
static int idx_byte(idx_reader *r, uint64_t pos)
{
	if (pos >= r->size)
		return -1;
	if (pos < r->buf_at || pos >= r->buf_at + r->buf_len) {
		r->buf_at = pos / IDX_BLOCK * IDX_BLOCK;
		uint64_t want = r->size - r->buf_at < IDX_BLOCK ? r->size - r->buf_at : IDX_BLOCK;
		ssize_t got = pread(r->fd, r->buf, (size_t)want, (off_t)r->buf_at);
		r->buf_len = got > 0 ? (size_t)got : 0;
		if (pos >= r->buf_at + r->buf_len)
			return -1;
	}
	return r->buf[pos - r->buf_at];
}

static bool idx_varint(idx_reader *r, uint64_t *pos, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		int c = idx_byte(r, (*pos)++);
		if (c < 0)
			return false;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false; /* longer than any varint tally writes */
}

/* The next record; false at the end. */
static bool idx_next(idx_reader *r, uint64_t *start, int *stream, int64_t *time_ms)
{
	if (!r->packed) {
		unsigned char rec[16];
		if (r->pos + 16 > r->size || pread(r->fd, rec, 16, (off_t)r->pos) != 16)
			return false;
		r->pos += 16;
		uint64_t word = tally_get_le(rec, 8);
		*start = word >> 1;
		*stream = (int)(word & 1);
		*time_ms = (int64_t)tally_get_le(rec + 8, 8);
		return true;
	}
	for (;;) {
		if (r->pos % IDX_BLOCK == 0 || r->pos == IDX_MAGIC_LEN) /* a block starts: absolute values */
			r->prev_offset = 0, r->prev_time = 0;
		int c = idx_byte(r, r->pos);
		if (c < 0)
			return false;
		if (c == 0) { /* the rest of the block is padding */
			r->pos = (r->pos / IDX_BLOCK + 1) * IDX_BLOCK;
			continue;
		}
		uint64_t pos = r->pos, a, t;
		if (!idx_varint(r, &pos, &a) || !idx_varint(r, &pos, &t))
			return false;
		if ((pos - 1) / IDX_BLOCK != r->pos / IDX_BLOCK)
			return false; /* records never straddle blocks: a damaged index ends here */
		a -= 1;
		r->pos = pos;
		r->prev_offset += a >> 1;
		r->prev_time = (int64_t)((uint64_t)r->prev_time + tally_unzigzag(t));
		*start = r->prev_offset;
		*stream = (int)(a & 1);
		*time_ms = r->prev_time;
		return true;
	}
}

/* Where the first record of packed block `k` starts in the output (false: none there). */
static bool idx_block_start(idx_reader *r, uint64_t k, uint64_t *start)
{
	r->pos = k ? k * IDX_BLOCK : IDX_MAGIC_LEN;
	int stream;
	int64_t t;
	return idx_next(r, start, &stream, &t) && r->pos <= (k + 1) * IDX_BLOCK;
}

/* Position the reader at a record at or before the last whose chunk starts
 * at or before `offset` (records are in offset order): binary search over
 * fixed-size records, or over the packed blocks. */
static void idx_seek(idx_reader *r, uint64_t offset)
{
	uint64_t unit = r->packed ? IDX_BLOCK : 16, first = r->packed ? IDX_MAGIC_LEN : 0;
	uint64_t n = r->packed ? (r->size + IDX_BLOCK - 1) / IDX_BLOCK : r->size / 16;
	uint64_t lo = 0, hi = n ? n : 1; /* the answer is in [lo, hi) */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2, start;
		bool ok;
		if (r->packed) {
			ok = idx_block_start(r, mid, &start);
		} else {
			int stream;
			int64_t t;
			r->pos = mid * 16;
			ok = idx_next(r, &start, &stream, &t);
		}
		if (ok && start <= offset)
			lo = mid;
		else
			hi = mid;
	}
	r->pos = lo ? lo * unit : first;
}

/*
 * Hand every recorded chunk of `streams` (bit 1 << TALLY_STREAM_STDOUT,
 * 1 << TALLY_STREAM_STDERR) between the byte offsets `from` and `to` to
 * `visit`, in arrival order, and set `*size` to the output's size.  Chunks
 * are cut where output.idx says a read() began (and at `from` and `to`); a
 * chunk larger than the buffer comes in pieces.  Bytes of a live run that
 * output.idx does not cover yet count as the last chunk's.  An index record
 * pointing past the output (a crash between the two writes) ends the reading.
 */
int tally__output_read_range(const char *dir, int streams, uint64_t from, uint64_t to, tally_output_visitor visit,
                             void *ctx, uint64_t *size)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/output", dir);
	int out_fd = tally_buf_oom(&path) ? -1 : open(path.ptr, O_RDONLY | O_CLOEXEC);
	tally_buf_adds(&path, ".idx");
	int idx_fd = tally_buf_oom(&path) ? -1 : open(path.ptr, O_RDONLY | O_CLOEXEC);
	tally_buf_release(&path);
	int rc = 0;
	struct stat st, idx_st;
	idx_reader *r = NULL;
	if (size)
		*size = 0;
	if (out_fd < 0 || idx_fd < 0 || fstat(out_fd, &st) < 0 || fstat(idx_fd, &idx_st) < 0) {
		if (errno != ENOENT)
			rc = tally__error_errno(TALLY_ERROR, "cannot read the output of '%s'", dir);
		goto done;
	}
	if (size)
		*size = (uint64_t)st.st_size;
	if (to > (uint64_t)st.st_size)
		to = (uint64_t)st.st_size;
	char buf[65536];
	if (!(r = malloc(sizeof *r))) {
		rc = tally__error_oom();
		goto done;
	}
	idx_open(r, idx_fd, (uint64_t)idx_st.st_size);
	idx_seek(r, from);
	uint64_t start, next_start;
	int stream, next_stream;
	int64_t time_ms, next_time;
	bool have = idx_next(r, &start, &stream, &time_ms), have_next = have && idx_next(r, &next_start, &next_stream, &next_time);
	while (have_next && next_start <= from) { /* to the last chunk starting at or before `from` */
		start = next_start, stream = next_stream, time_ms = next_time;
		have_next = idx_next(r, &next_start, &next_stream, &next_time);
	}
	while (have && !rc) {
		uint64_t end = have_next ? next_start : (uint64_t)st.st_size;
		if (end > (uint64_t)st.st_size) /* the next record is there, its bytes not yet: read what is */
			end = (uint64_t)st.st_size;
		if (start > (uint64_t)st.st_size || end < start || start >= to)
			break;
		for (uint64_t p = start > from ? start : from; (streams & (1 << stream)) && p < end && p < to && !rc;) {
			uint64_t stop = end < to ? end : to;
			size_t want = stop - p < sizeof buf ? (size_t)(stop - p) : sizeof buf;
			ssize_t got = pread(out_fd, buf, want, (off_t)p);
			if (got <= 0)
				break;
			rc = visit(ctx, stream, buf, (size_t)got, time_ms);
			p += (uint64_t)got;
		}
		if (!(have = have_next))
			break;
		start = next_start, stream = next_stream, time_ms = next_time;
		have_next = idx_next(r, &next_start, &next_stream, &next_time);
	}
done:
	free(r);
	if (out_fd >= 0)
		close(out_fd);
	if (idx_fd >= 0)
		close(idx_fd);
	return rc < 0 ? rc : 0;
}

int tally__output_read(const char *dir, int streams, tally_output_visitor visit, void *ctx)
{
	return tally__output_read_range(dir, streams, 0, UINT64_MAX, visit, ctx, NULL);
}

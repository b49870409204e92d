/*
 * Console output of a run, kept byte for byte.
 *
 *   .tally/output      stdout and stderr interleaved in arrival order, as the
 *                      terminal showed them (progress bars' \r included)
 *   .tally/output.idx  one 16-byte record per chunk read from the child:
 *                      u64 (offset << 1 | stream), i64 time_ms (little-endian)
 *
 * A chunk is what one read(2) returned, so every line's timestamp is the
 * arrival time of its first byte and its stream is exact, at a cost of 16
 * bytes per read instead of per line — which keeps capture near `cat` speed.
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
#define IDX_BUFFER 4096

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
	int fd = tally_buf_oom(&p) ? -1 : open(p.ptr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
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
	if (o->fd < 0 || o->idx_fd < 0) {
		int rc = tally__error_errno(TALLY_ERROR, "cannot create output files in '%s'", dir);
		tally__output_close(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int flush_idx(tally_output *o)
{
	int rc = 0;
	if (o->idx_len && tally_write_all(o->idx_fd, o->idx, o->idx_len) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write output index of '%s'", o->dir);
	o->idx_len = 0;
	return rc;
}

static void add_idx(tally_output *o, int stream, int64_t time_ms)
{
	if (o->idx_len + 16 > sizeof o->idx)
		flush_idx(o);
	tally_put_le(o->idx + o->idx_len, o->offset << 1 | (uint64_t)stream, 8);
	tally_put_le(o->idx + o->idx_len + 8, (uint64_t)time_ms, 8);
	o->idx_len += 16;
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

/* The index record `i` of output.idx: where its chunk starts, its stream and time. */
static bool idx_record(int idx_fd, uint64_t i, uint64_t *start, int *stream, int64_t *time_ms)
{
	unsigned char rec[16];
	if (pread(idx_fd, rec, 16, (off_t)(i * 16)) != 16)
		return false;
	uint64_t word = tally_get_le(rec, 8);
	*start = word >> 1;
	*stream = (int)(word & 1);
	*time_ms = (int64_t)tally_get_le(rec + 8, 8);
	return true;
}

/* The last record whose chunk starts at or before `offset` (records are in offset order). */
static uint64_t idx_find(int idx_fd, uint64_t records, uint64_t offset)
{
	uint64_t lo = 0, hi = records; /* the answer is in [lo, hi) */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2, start;
		int stream;
		int64_t t;
		if (idx_record(idx_fd, mid, &start, &stream, &t) && start <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
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
	uint64_t records = (uint64_t)idx_st.st_size / 16;
	for (uint64_t i = records ? idx_find(idx_fd, records, from) : 0; i < records && !rc; i++) {
		uint64_t start, end = (uint64_t)st.st_size, next_start;
		int stream, next_stream;
		int64_t time_ms, next_time;
		if (!idx_record(idx_fd, i, &start, &stream, &time_ms))
			break;
		if (i + 1 < records && idx_record(idx_fd, i + 1, &next_start, &next_stream, &next_time))
			end = next_start;
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
	}
done:
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

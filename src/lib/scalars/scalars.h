/*
 * Scalars (libtally, internal): the append-only scalar log and its summary,
 * scalars from output lines, the scalar file a script appends to, and
 * TensorBoard event files.
 */
#ifndef TALLY_LIB_SCALARS_H
#define TALLY_LIB_SCALARS_H

#include "lib/core/core.h"

/* ---- scalars (scalars.c) ---- */

typedef struct tally_scalar_log tally_scalar_log;

typedef struct {
	double first, last, min, max, sum;
	int64_t first_step, last_step, min_step, max_step, count;
} tally_scalar_summary;

/* Open (create) the append-only scalar log of a run directory for writing. */
int tally__scalar_log_open(tally_scalar_log **out, const char *dir);
int tally__scalar_log_append(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms);
/* The same for a point read from the run's own event files: not mirrored. */
int tally__scalar_log_import(tally_scalar_log *log, const char *tag, int64_t step, double value, int64_t time_ms);
/* Where a log copies every appended point (not imported ones) as it comes;
 * `flush` is called when the log flushes, `free` when it is freed. */
typedef struct {
	void *ctx;
	void (*add)(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms);
	int (*flush)(void *ctx);
	void (*free)(void *ctx);
} tally_scalar_mirror;
/* Give `log` a mirror (replacing and freeing the one it had). */
void tally__scalar_log_set_mirror(tally_scalar_log *log, tally_scalar_mirror mirror);
/* Push buffered records to the file (they are then visible to readers). */
int tally__scalar_log_flush(tally_scalar_log *log);
/* Write the per-tag summary (scalars.json) atomically, if anything changed
 * (`flags` TALLY_DURABLE to fsync it). */
int tally__scalar_log_write_summary(tally_scalar_log *log, int flags);
/* A per-tag integer the output parser keeps (INT64_MIN initially); NULL if the tag is refused. */
int64_t *tally__scalar_log_mark(tally_scalar_log *log, const char *tag, size_t len);
void tally__scalar_log_free(tally_scalar_log *log);

typedef int (*tally_scalar_cb)(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms);
/* Read every intact record of `dir`'s scalar log; a torn or corrupt tail is
 * ignored (`*truncated` set).  Stops early when `cb` returns non-zero. */
int tally__scalar_log_read(const char *dir, tally_scalar_cb cb, void *ctx, bool *truncated);
/* The same without the points read from the run's own event files (TensorBoard shows those already). */
int tally__scalar_log_read_own(const char *dir, tally_scalar_cb cb, void *ctx, bool *truncated);

/* Reads a log as it grows: each call hands the intact records added since the last. */
typedef struct tally_scalar_cursor tally_scalar_cursor;
int tally__scalar_cursor_open(tally_scalar_cursor **out, const char *dir);
int tally__scalar_cursor_read(tally_scalar_cursor *c, tally_scalar_cb cb, void *ctx);
/* Whether the log ends in a torn or damaged record (so far). */
bool tally__scalar_cursor_damaged(const tally_scalar_cursor *c);
void tally__scalar_cursor_free(tally_scalar_cursor *c);

json_t *tally__scalar_summary_json(const tally_scalar_summary *s);
/* The per-tag summary computed from the log itself (NULL when it holds no point). */
json_t *tally__scalar_log_summarize(const char *dir);
uint32_t tally__crc32c(uint32_t crc, const void *data, size_t len);
/* The same without the CPU's crc32 instruction (tests compare the two). */
uint32_t tally__crc32c_portable(uint32_t crc, const void *data, size_t len);

/* ---- output line parsing for scalars (outparse.c) ---- */

typedef struct tally_outparse tally_outparse;

/* `ignore` holds `n_ignore` names (the run's flags) that are never scalars.  `patterns`
 * (NULL: the defaults) are "key\tPATTERN", "step\tPATTERN" or "tag:NAME\tPATTERN". */
int tally__outparse_new(tally_outparse **out, const char *const *ignore, size_t n_ignore, char *const *patterns);
/* Whether `pattern` works as an output-scalars rule of `kind` ("key", "step" or a tag);
 * TALLY_EINVALID with the reason in `err`. */
int tally__outparse_check_pattern(const char *kind, const char *pattern, char *err, size_t err_size);
/* Feed one complete line (no terminator); found scalars go to `log`. */
void tally__outparse_line(tally_outparse *p, const char *line, size_t len, tally_scalar_log *log, int64_t time_ms);
/*
 * What a line (after leading blanks) must look like to hold a scalar, so
 * that the recorder skips nearly every line of a chatty log without a call:
 * `first` the bytes it may start with (NULL: any); with `digits_progress`,
 * a line starting with a digit matters only if it looks like a progress line.
 */
typedef struct {
	const uint8_t *first;
	bool digits_progress;
} tally_outparse_filter;
tally_outparse_filter tally__outparse_filter(const tally_outparse *p);

/* "1875/1875 " — how a Keras progress line starts. */
static inline bool tally__progress_line(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		i++;
	if (i == 0 || i >= len || line[i] != '/')
		return false;
	size_t j = ++i;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		i++;
	return i > j && i < len && (line[i] == ' ' || line[i] == '\t');
}
void tally__outparse_free(tally_outparse *p);

/* ---- the scalar file a script may append JSON lines to (scalarfile.c) ---- */

typedef struct tally_scalar_file tally_scalar_file;
int tally__scalar_file_new(tally_scalar_file **out, const char *run_dir);
const char *tally__scalar_file_path(const tally_scalar_file *f);
/* Read what was appended since the last call; `final`: the script has ended. */
void tally__scalar_file_poll(tally_scalar_file *f, tally_scalar_log *log, bool final);
size_t tally__scalar_file_skipped(const tally_scalar_file *f);
void tally__scalar_file_free(tally_scalar_file *f);

/* ---- TensorBoard event files (tfevents.c) ---- */

/* TFRecord's checksum: CRC-32C rotated right by 15 bits plus a constant. */
uint32_t tally__tfrecord_masked_crc(const void *data, size_t len);

/* Decodes the scalars of one event file's record stream. */
typedef struct tally_tfevents_decoder tally_tfevents_decoder;
/* `prefix` goes before every tag ("train/"). */
int tally__tfevents_decoder_new(tally_tfevents_decoder **out, const char *prefix);
/* Decode the complete records at the start of `buf`, handing each scalar
 * to `cb`; returns the bytes consumed (an unfinished record is left). */
size_t tally__tfevents_decode(tally_tfevents_decoder *d, const unsigned char *buf, size_t len, tally_scalar_cb cb,
                              void *ctx);
/* Damaged records met so far (a lost framing counts once). */
size_t tally__tfevents_decoder_bad(const tally_tfevents_decoder *d);
void tally__tfevents_decoder_free(tally_tfevents_decoder *d);

/* The tag prefix of event files in folder `dir` of a run ("train/" for
 * logs/train; "" at the top): malloc'ed, NULL when out of memory. */
char *tally__tfevents_tag_prefix(const char *dir);

/* Follows every event file below a run directory (not through links). */
typedef struct tally_tfevents_reader tally_tfevents_reader;
int tally__tfevents_reader_new(tally_tfevents_reader **out, const char *run_dir);
/* Look for new event files and read what was appended into `log` (a few MB
 * per file unless `final`).  Files there when the reader was made are never read. */
void tally__tfevents_reader_poll(tally_tfevents_reader *r, tally_scalar_log *log, bool final);
/* Damaged records skipped so far; a line per file not reported yet is appended to `warnings`. */
size_t tally__tfevents_reader_report(tally_tfevents_reader *r, tally_buf *warnings);
void tally__tfevents_reader_free(tally_tfevents_reader *r);

/* One Event record holding a scalar (simple_value), or the file_version record. */
void tally__tfevents_encode_scalar(tally_buf *out, const char *tag, int64_t step, double value, int64_t time_ms);
void tally__tfevents_encode_version(tally_buf *out, int64_t time_ms);
/* An event file written as points come; created with the first one. */
typedef struct tally_tfevents_writer tally_tfevents_writer;
int tally__tfevents_writer_new(tally_tfevents_writer **out, const char *path);
void tally__tfevents_writer_add(tally_tfevents_writer *w, const char *tag, int64_t step, double value, int64_t time_ms);
int tally__tfevents_writer_flush(tally_tfevents_writer *w);
void tally__tfevents_writer_free(tally_tfevents_writer *w);
/* Mirror every point appended to `log` into a TensorBoard event file of the
 * run in `run_dir` (.tally/events.out.tfevents.*), so TensorBoard shows it. */
int tally__tfevents_mirror_log(tally_scalar_log *log, const char *run_dir);

/* ---- event files on demand (tbexport.c) ---- */

/* Bring `run_dir`'s on-demand event file up to date with its scalar log
 * (`*points`: the points added; tally_run_write_event_file()). */
int tally__tfevents_export(const char *run_dir, tally_event_file_state *state, int64_t *points);
/* Remove the on-demand event file (never a live one); `*removed` whether there was one. */
int tally__tfevents_export_remove(const char *run_dir, bool *removed);

#endif

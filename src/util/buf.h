/*
 * tally_buf — a growable byte string in the spirit of git's strbuf.
 *
 * `ptr` is never NULL (it points at a shared empty string until something
 * is appended) and is always NUL-terminated, so it can be printed directly.
 * An allocation failure makes the buffer sticky-failed: later appends do
 * nothing and tally_buf_oom() reports it, so callers check once at the end
 * instead of after every append.  tally_buf_detach() is the only way to take
 * ownership of the memory.
 */
#ifndef TALLY_BUF_H
#define TALLY_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct {
	char *ptr;
	size_t len;
	size_t cap;  /* 0 while ptr is the shared empty string */
	bool oom;
} tally_buf;

extern char tally_buf__empty[1];
#define TALLY_BUF_INIT {tally_buf__empty, 0, 0, false}

bool tally_buf_grow(tally_buf *b, size_t extra);
void tally_buf__add_slow(tally_buf *b, const void *data, size_t len);

/* Append `len` bytes.  Inline: listings append a million cells. */
static inline void tally_buf_add(tally_buf *b, const void *data, size_t len)
{
	if (b->len + len < b->cap) {
		memcpy(b->ptr + b->len, data, len);
		b->len += len;
		b->ptr[b->len] = '\0';
	} else {
		tally_buf__add_slow(b, data, len);
	}
}
void tally_buf_adds(tally_buf *b, const char *s);
void tally_buf_addc(tally_buf *b, char c);
void tally_buf_printf(tally_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tally_buf_vprintf(tally_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append `s` quoted for a POSIX shell, for display only (never executed). */
void tally_buf_add_shell_quoted(tally_buf *b, const char *s);
void tally_buf_truncate(tally_buf *b, size_t len);
static inline void tally_buf_clear(tally_buf *b) { tally_buf_truncate(b, 0); }
static inline bool tally_buf_oom(const tally_buf *b) { return b->oom; }
/* Hand the string to the caller (NULL if the buffer failed); the buffer is reset. */
char *tally_buf_detach(tally_buf *b);
void tally_buf_release(tally_buf *b);

/* Whether `s` (NUL-terminated) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool tally_utf8_valid(const char *s);
/* The shortest text that reads back as `v` ("0.1", "1e-05"); nan, inf, -inf. */
void tally_format_double(char *out, size_t size, double v);
/* The same for people: 6 significant digits (0.558011, 30.3327), whole numbers whole. */
void tally_format_rounded(char *out, size_t size, double v);
/* Append `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD. */
void tally_buf_add_utf8_lossy(tally_buf *b, const char *s);

#endif

#include "util/buf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char tally_buf__empty[1];

bool tally_buf_grow(tally_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t want = b->cap ? b->cap : 64;
	while (want < b->len + extra + 1) {
		if (want > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		want *= 2;
	}
	char *p = realloc(b->cap ? b->ptr : NULL, want);
	if (!p) {
		b->oom = true;
		return false;
	}
	if (!b->cap)
		p[0] = '\0';
	b->ptr = p;
	b->cap = want;
	return true;
}

void tally_buf__add_slow(tally_buf *b, const void *data, size_t len)
{
	if (!len || !tally_buf_grow(b, len))
		return;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void tally_buf_adds(tally_buf *b, const char *s)
{
	tally_buf_add(b, s, strlen(s));
}

void tally_buf_addc(tally_buf *b, char c)
{
	tally_buf_add(b, &c, 1);
}

void tally_buf_vprintf(tally_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || !tally_buf_grow(b, (size_t)n))
		return;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void tally_buf_printf(tally_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tally_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void tally_buf_add_shell_quoted(tally_buf *b, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:@%") == strlen(s)) {
		tally_buf_adds(b, s);
		return;
	}
	tally_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			tally_buf_adds(b, "'\\''");
		else
			tally_buf_addc(b, *s);
	}
	tally_buf_addc(b, '\'');
}

void tally_buf_truncate(tally_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		if (b->cap)
			b->ptr[len] = '\0';
	}
}

char *tally_buf_detach(tally_buf *b)
{
	char *p = NULL;
	if (!b->oom)
		p = b->cap ? b->ptr : strdup("");
	else if (b->cap)
		free(b->ptr);
	*b = (tally_buf)TALLY_BUF_INIT;
	return p;
}

void tally_buf_release(tally_buf *b)
{
	if (b->cap)
		free(b->ptr);
	*b = (tally_buf)TALLY_BUF_INIT;
}

/* Length of the valid UTF-8 sequence at `s`, or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
	if (n == 0 || (n == 3 && c > 0xEF))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || /* overlong, surrogates */
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))   /* overlong, > U+10FFFF */
		return 0;
	return n;
}

bool tally_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p < 0x80) { /* ASCII, the usual case, without a call per byte */
			p++;
			continue;
		}
		size_t n = utf8_sequence(p);
		if (!n)
			return false;
		p += n;
	}
	return true;
}

void tally_buf_add_utf8_lossy(tally_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_sequence(p);
		if (n) {
			tally_buf_add(b, p, n);
			p += n;
		} else {
			tally_buf_adds(b, "\xEF\xBF\xBD");
			p++;
		}
	}
}

void tally_format_double(char *out, size_t size, double v)
{
	if (isnan(v) || isinf(v)) {
		snprintf(out, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

void tally_format_rounded(char *out, size_t size, double v)
{
	if (isnan(v) || isinf(v) || (v == floor(v) && fabs(v) < 1e15)) /* whole numbers whole: 1875, not 1.875e+03 */
		tally_format_double(out, size, v);
	else
		snprintf(out, size, "%.6g", v);
}

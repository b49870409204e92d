#include "util/buf.h"

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

void tally_buf_add(tally_buf *b, const void *data, size_t len)
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

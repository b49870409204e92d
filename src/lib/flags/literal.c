/*
 * Literals as Python and R write them — numbers, strings, booleans — read
 * into typed flag values.  Anything else (an expression, an f-string, bytes,
 * a complex number) is not a literal, so not a flag.
 */
#include "lib/flags/flagdefs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool number_value(tally_flag *out, const char *lit, size_t len, bool python)
{
	char buf[128];
	size_t n = 0;
	bool r_integer = false;
	for (size_t i = 0; i < len; i++) {
		char c = lit[i];
		if (python && c == '_')
			continue; /* 1_000 */
		if (!python && c == 'L' && i == len - 1) {
			r_integer = true; /* 64L */
			continue;
		}
		if (n + 1 >= sizeof buf)
			return false;
		buf[n++] = c;
	}
	buf[n] = '\0';
	const char *p = buf + (buf[0] == '-' || buf[0] == '+');
	bool negative = buf[0] == '-';
	errno = 0;
	char *end;
	if (p[0] == '0' && p[1] && strchr("xXoObB", p[1])) {
		int base = strchr("xX", p[1]) ? 16 : strchr("oO", p[1]) ? 8 : 2;
		if (!python && base != 16)
			return false;
		long long v = strtoll(p + 2, &end, base);
		if (*end || errno || end == p + 2)
			return false;
		out->type = TALLY_FLAG_INT;
		out->i = negative ? -v : v;
	} else {
		bool has_dot_or_exp = strpbrk(p, ".eE") != NULL;
		if (!has_dot_or_exp || r_integer) {
			for (const char *q = p; *q; q++)
				if (!isdigit((unsigned char)*q))
					return false;
			if (!*p || (python && p[0] == '0' && p[1])) /* Python forbids 007 */
				return false;
			long long v = strtoll(p, &end, 10);
			if (errno)
				return false;
			out->type = TALLY_FLAG_INT;
			out->i = negative ? -v : v;
		} else {
			double v = strtod(p, &end);
			if (*end || end == p || !isfinite(v))
				return false;
			out->type = TALLY_FLAG_FLOAT;
			out->f = negative ? -v : v;
		}
	}
	/* The text a script receives: the number as written (without _ or L),
	 * in decimal when it was written in another base. */
	if (strpbrk(p, "xXoObB") && out->type == TALLY_FLAG_INT) {
		out->text = malloc(24);
		if (out->text)
			snprintf(out->text, 24, "%lld", (long long)out->i);
	} else {
		out->text = strdup(buf + (buf[0] == '+'));
	}
	return out->text != NULL;
}

static int hex_digit(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ? (tolower((unsigned char)c) - 'a' + 10) : -1;
}

static void add_code_point(tally_buf *b, unsigned long cp)
{
	if (cp < 0x80) {
		tally_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		tally_buf_addc(b, (char)(0xC0 | (cp >> 6)));
		tally_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		tally_buf_addc(b, (char)(0xE0 | (cp >> 12)));
		tally_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		tally_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		tally_buf_addc(b, (char)(0xF0 | (cp >> 18)));
		tally_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		tally_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		tally_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	}
}

/* Decode the escapes both languages share; false on one we do not know. */
static bool unescape(tally_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			tally_buf_addc(out, s[i]);
			continue;
		}
		if (++i >= len)
			return false;
		char c = s[i];
		const char *simple = strchr("nrtabfv0\\'\"", c);
		if (simple && c) {
			static const char map[] = "\n\r\t\a\b\f\v";
			size_t k = (size_t)(simple - "nrtabfv0\\'\"");
			tally_buf_addc(out, k < 7 ? map[k] : k == 7 ? '\0' : c);
			if (k == 7)
				return false; /* a NUL inside a flag value: not text we can pass on */
			continue;
		}
		int width = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
		if (!width || i + (size_t)width >= len + 0)
			return false;
		unsigned long cp = 0;
		for (int k = 1; k <= width; k++) {
			int d = hex_digit(s[i + (size_t)k]);
			if (d < 0)
				return false;
			cp = cp * 16 + (unsigned long)d;
		}
		if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		add_code_point(out, cp);
		i += (size_t)width;
	}
	return true;
}

static bool string_value(tally_flag *out, const char *lit, size_t len, bool python)
{
	size_t p = 0;
	bool raw = false;
	while (p < len && isalpha((unsigned char)lit[p])) {
		char c = (char)tolower((unsigned char)lit[p]);
		if (c == 'r')
			raw = true;
		else if (!python || c != 'u')
			return false; /* bytes and f-strings are not flag values */
		p++;
	}
	if (p >= len)
		return false;
	char q = lit[p];
	const char *body;
	size_t body_len;
	if (python && len - p >= 6 && lit[p + 1] == q && lit[p + 2] == q) {
		body = lit + p + 3;
		body_len = len - p - 6;
		if (len - p < 6 || lit[len - 1] != q || lit[len - 2] != q || lit[len - 3] != q)
			return false;
	} else if (!python && raw) {
		/* R raw string: r"(...)", r"[...]", r"{...}", with optional dashes */
		size_t open = p + 1, dashes = 0;
		while (open < len && lit[open] == '-')
			open++, dashes++;
		if (open >= len || !strchr("([{", lit[open]))
			return false;
		char close = lit[open] == '(' ? ')' : lit[open] == '[' ? ']' : '}';
		size_t tail = 1 + dashes + 1; /* close + dashes + quote */
		if (len < open + 1 + tail || lit[len - 1] != q || lit[len - tail] != close)
			return false;
		body = lit + open + 1;
		body_len = len - tail - open - 1;
	} else {
		if (len - p < 2 || lit[len - 1] != q)
			return false;
		body = lit + p + 1;
		body_len = len - p - 2;
	}
	tally_buf text = TALLY_BUF_INIT;
	tally_buf_adds(&text, "");
	bool ok = raw ? (tally_buf_add(&text, body, body_len), true) : unescape(&text, body, body_len);
	if (!ok || tally_buf_oom(&text) || memchr(text.ptr, '\n', text.len) || !tally_utf8_valid(text.ptr)) {
		tally_buf_release(&text);
		return false;
	}
	out->type = TALLY_FLAG_STRING;
	out->text = tally_buf_detach(&text);
	return out->text != NULL;
}

bool tally__literal_value(tally_flag *out, const char *lit, size_t len, bool python)
{
	memset(out, 0, sizeof *out);
	if (!len)
		return false;
	const char *t = python ? "True" : "TRUE", *f = python ? "False" : "FALSE";
	if ((len == strlen(t) && !memcmp(lit, t, len)) || (len == strlen(f) && !memcmp(lit, f, len))) {
		out->type = TALLY_FLAG_BOOL;
		out->b = lit[0] == 'T';
		return (out->text = strdup(out->b ? "true" : "false")) != NULL;
	}
	if (python && len == 4 && !memcmp(lit, "None", 4)) {
		out->type = TALLY_FLAG_NULL;
		return (out->text = strdup("null")) != NULL;
	}
	size_t sign = lit[0] == '-' || lit[0] == '+';
	/* a sign and blanks before a number: "- 1" is -1 too */
	if (sign) {
		size_t k = 1;
		while (k < len && (lit[k] == ' ' || lit[k] == '\t'))
			k++;
		if (k < len && (isdigit((unsigned char)lit[k]) || lit[k] == '.')) {
			char buf[128];
			if (len - k + 2 > sizeof buf)
				return false;
			buf[0] = lit[0];
			memcpy(buf + 1, lit + k, len - k);
			bool ok = number_value(out, buf, len - k + 1, python);
			if (!ok)
				tally__flag_release(out);
			return ok;
		}
		return false;
	}
	bool ok = isdigit((unsigned char)lit[0]) || lit[0] == '.' ? number_value(out, lit, len, python)
	                                                           : string_value(out, lit, len, python);
	if (!ok)
		tally__flag_release(out);
	return ok;
}

/* HTML text: escaping, base64, and a small syntax colouring for source files. */
#include "lib/report/report.h"

#include <ctype.h>
#include <string.h>

void tally__html_text(tally_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x80 && !strchr("&<>\"'", *p))
			p++;
		tally_buf_add(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		switch (*p) {
		case '&': tally_buf_adds(out, "&amp;"); p++; continue;
		case '<': tally_buf_adds(out, "&lt;"); p++; continue;
		case '>': tally_buf_adds(out, "&gt;"); p++; continue;
		case '"': tally_buf_adds(out, "&quot;"); p++; continue;
		case '\'': tally_buf_adds(out, "&#39;"); p++; continue;
		default: break;
		}
		if (*p < 0x20) { /* tabs and newlines as they are; other controls not at all */
			if (*p == '\n' || *p == '\t')
				tally_buf_addc(out, (char)*p);
			p++;
			continue;
		}
		/* a UTF-8 sequence: copied when whole and valid, else U+FFFD */
		size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 ? 2 : 0;
		bool ok = n && p + n <= end && *p <= 0xF4;
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xC0) == 0x80;
		if (ok && n == 3)
			ok = !(*p == 0xE0 && p[1] < 0xA0) && !(*p == 0xED && p[1] > 0x9F);
		if (ok && n == 4)
			ok = !(*p == 0xF0 && p[1] < 0x90) && !(*p == 0xF4 && p[1] > 0x8F);
		if (ok) {
			tally_buf_add(out, p, n);
			p += n;
		} else {
			tally_buf_adds(out, "\xEF\xBF\xBD");
			p++;
		}
	}
}

void tally__html_str(tally_buf *out, const char *s)
{
	tally__html_text(out, s ? s : "", s ? strlen(s) : 0);
}

void tally__base64(tally_buf *out, const unsigned char *data, size_t len)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char quad[4];
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0) |
		             (i + 2 < len ? data[i + 2] : 0);
		quad[0] = digits[v >> 18 & 63];
		quad[1] = digits[v >> 12 & 63];
		quad[2] = i + 1 < len ? digits[v >> 6 & 63] : '=';
		quad[3] = i + 2 < len ? digits[v & 63] : '=';
		tally_buf_add(out, quad, 4);
	}
}

/* ---- syntax colouring ---- */

typedef struct {
	const char *comment;       /* line comment, or NULL */
	bool c_comments;           /* also slash-star comments */
	const char *const *keywords;
} language;

static const char *const py_words[] = {"False", "None", "True", "and", "as", "assert", "break", "class", "continue",
                                       "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
                                       "if", "import", "in", "is", "lambda", "not", "or", "pass", "raise", "return",
                                       "try", "while", "with", "yield", NULL};
static const char *const r_words[] = {"if", "else", "for", "while", "repeat", "function", "return", "next", "break",
                                      "TRUE", "FALSE", "NULL", "NA", "Inf", "NaN", "library", "require", "in", NULL};
static const char *const sh_words[] = {"if", "then", "else", "elif", "fi", "for", "while", "do", "done", "case",
                                       "esac", "in", "function", "return", "export", "local", "echo", NULL};
static const char *const c_words[] = {"int", "char", "double", "float", "void", "return", "if", "else", "for",
                                      "while", "struct", "static", "const", "include", "define", "typedef",
                                      "unsigned", "long", "size_t", "bool", "true", "false", "NULL", NULL};
static const char *const yml_words[] = {"true", "false", "null", NULL};

static const language *language_of(const char *path)
{
	static const language py = {"#", false, py_words}, r = {"#", false, r_words}, sh = {"#", false, sh_words},
	                      c = {"//", true, c_words}, yml = {"#", false, yml_words}, json = {NULL, false, yml_words};
	const char *dot = strrchr(path, '.');
	if (!dot)
		return NULL;
	if (!strcmp(dot, ".py"))
		return &py;
	if (!strcmp(dot, ".R") || !strcmp(dot, ".r"))
		return &r;
	if (!strcmp(dot, ".sh") || !strcmp(dot, ".bash"))
		return &sh;
	if (!strcmp(dot, ".c") || !strcmp(dot, ".h") || !strcmp(dot, ".cc") || !strcmp(dot, ".cpp"))
		return &c;
	if (!strcmp(dot, ".yml") || !strcmp(dot, ".yaml"))
		return &yml;
	if (!strcmp(dot, ".json"))
		return &json;
	return NULL;
}

static void span(tally_buf *out, const char *cls, const char *s, size_t len)
{
	tally_buf_printf(out, "<span class=\"%s\">", cls);
	tally__html_text(out, s, len);
	tally_buf_adds(out, "</span>");
}

static bool is_keyword(const language *l, const char *s, size_t len)
{
	for (const char *const *k = l->keywords; *k; k++)
		if (strlen(*k) == len && !strncmp(*k, s, len))
			return true;
	return false;
}

void tally__html_highlight(tally_buf *out, const char *path, const char *text, size_t len)
{
	const language *l = language_of(path);
	if (!l) {
		tally__html_text(out, text, len);
		return;
	}
	const char *p = text, *end = text + len;
	size_t comment_len = l->comment ? strlen(l->comment) : 0;
	while (p < end) {
		const char *start = p;
		if (comment_len && (size_t)(end - p) >= comment_len && !strncmp(p, l->comment, comment_len)) {
			while (p < end && *p != '\n')
				p++;
			span(out, "c", start, (size_t)(p - start));
		} else if (l->c_comments && end - p >= 2 && p[0] == '/' && p[1] == '*') {
			const char *close = NULL;
			for (const char *q = p + 2; q + 1 < end && !close; q++)
				if (q[0] == '*' && q[1] == '/')
					close = q + 2;
			p = close ? close : end;
			span(out, "c", start, (size_t)(p - start));
		} else if (*p == '"' || *p == '\'') {
			char quote = *p++;
			while (p < end && *p != quote && *p != '\n')
				p += *p == '\\' && p + 1 < end ? 2 : 1;
			if (p < end && *p == quote)
				p++;
			span(out, "s", start, (size_t)(p - start));
		} else if (isdigit((unsigned char)*p) || (*p == '.' && p + 1 < end && isdigit((unsigned char)p[1]))) {
			while (p < end && (isalnum((unsigned char)*p) || *p == '.' ||
			                   ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'))))
				p++;
			span(out, "n", start, (size_t)(p - start));
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
				p++;
			if (is_keyword(l, start, (size_t)(p - start)))
				span(out, "k", start, (size_t)(p - start));
			else
				tally__html_text(out, start, (size_t)(p - start));
		} else {
			while (p < end && !isalnum((unsigned char)*p) && !strchr("_\"'#/.", *p))
				p++;
			if (p == start)
				p++;
			tally__html_text(out, start, (size_t)(p - start));
		}
	}
}

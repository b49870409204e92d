/*
 * Flags of an R script, found by reading it:
 *
 *   units <- 64                  top-level assignments (<- or =) of one literal:
 *   activation = "relu"          number, negative number, string, TRUE/FALSE;
 *                                the first assignment of a name wins
 *   FLAGS <- flags(              tfruns declarations, with their type and description
 *     flag_numeric("dropout", 0.4, "Dropout rate"),
 *     flag_integer("units", 128))
 *
 * "Top level" is what R itself would see: not inside braces or brackets,
 * and not the continuation of an unfinished expression (a trailing
 * operator, or the body of `if (…)`, `for (…)`, `function (…)`).
 */
#include "lib/flags/flagdefs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_NAME, T_NUMBER, T_STRING, T_OP, T_NEWLINE, T_END } tok_kind;

typedef struct {
	tok_kind kind;
	size_t off, len;
	int line;
	bool stmt_start;   /* begins a top-level statement */
} token;

typedef struct {
	token *t;
	size_t n, cap;
} tokens;

static int push(tokens *ts, tok_kind kind, size_t off, size_t len, int line)
{
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 256;
		token *grown = realloc(ts->t, cap * sizeof *grown);
		if (!grown)
			return -1;
		ts->t = grown;
		ts->cap = cap;
	}
	ts->t[ts->n++] = (token){kind, off, len, line, false};
	return 0;
}

static size_t quoted_end(const char *s, size_t len, size_t i, int *lines)
{
	char q = s[i++];
	while (i < len && s[i] != q) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		if (s[i] == '\n')
			(*lines)++;
		i++;
	}
	return i < len ? i + 1 : len;
}

/* r"(...)" with optional dashes: i at the quote */
static size_t raw_end(const char *s, size_t len, size_t i, int *lines)
{
	char q = s[i];
	size_t k = i + 1, dashes = 0;
	while (k < len && s[k] == '-')
		k++, dashes++;
	if (k >= len || !strchr("([{", s[k]))
		return quoted_end(s, len, i, lines);
	char close = s[k] == '(' ? ')' : s[k] == '[' ? ']' : '}';
	for (k++; k < len; k++) {
		if (s[k] == '\n')
			(*lines)++;
		if (s[k] != close)
			continue;
		size_t d = 0;
		while (d < dashes && k + 1 + d < len && s[k + 1 + d] == '-')
			d++;
		if (d == dashes && k + 1 + d < len && s[k + 1 + d] == q)
			return k + 2 + d;
	}
	return len;
}

static int tokenize(tokens *ts, const char *s, size_t len)
{
	size_t i = 0;
	int line = 1;
	while (i < len) {
		char c = s[i];
		if (c == '\n') {
			if (push(ts, T_NEWLINE, i, 1, line) < 0)
				return -1;
			line++, i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			i++;
		} else if (c == '#') {
			while (i < len && s[i] != '\n')
				i++;
		} else if ((c == 'r' || c == 'R') && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\'')) {
			int lines = 0;
			size_t end = raw_end(s, len, i + 1, &lines);
			if (push(ts, T_STRING, i, end - i, line) < 0)
				return -1;
			line += lines, i = end;
		} else if (c == '"' || c == '\'') {
			int lines = 0;
			size_t end = quoted_end(s, len, i, &lines);
			if (push(ts, T_STRING, i, end - i, line) < 0)
				return -1;
			line += lines, i = end;
		} else if (c == '`') {
			int lines = 0;
			size_t end = quoted_end(s, len, i, &lines);
			if (push(ts, T_NAME, i, end - i, line) < 0)
				return -1;
			line += lines, i = end;
		} else if (isdigit((unsigned char)c) || (c == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
			size_t st = i;
			bool hex = c == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X');
			while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' ||
			                   (!hex && (s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
				i++;
			if (push(ts, T_NUMBER, st, i - st, line) < 0)
				return -1;
		} else if (isalpha((unsigned char)c) || c == '.' || (unsigned char)c >= 0x80) {
			size_t st = i;
			while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || (unsigned char)s[i] >= 0x80))
				i++;
			if (push(ts, T_NAME, st, i - st, line) < 0)
				return -1;
		} else if (c == '%') { /* %in%, %>% … */
			size_t st = i++;
			while (i < len && s[i] != '%' && s[i] != '\n')
				i++;
			i = i < len && s[i] == '%' ? i + 1 : i;
			if (push(ts, T_OP, st, i - st, line) < 0)
				return -1;
		} else {
			static const char *const ops[] = {"<<-", "->>", "<-", "->", "<=", ">=", "==", "!=", "&&", "||", "|>", ":::", "::"};
			size_t n = 1;
			for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
				if (i + strlen(ops[k]) <= len && !memcmp(s + i, ops[k], strlen(ops[k]))) {
					n = strlen(ops[k]);
					break;
				}
			if (push(ts, T_OP, i, n, line) < 0)
				return -1;
			i += n;
		}
	}
	return push(ts, T_END, len, 0, line);
}

static bool tok_is(const token *t, const char *s, const char *text)
{
	size_t n = strlen(text);
	return t->len == n && !memcmp(s + t->off, text, n);
}

static bool op(const token *t, const char *s, const char *text)
{
	return t->kind == T_OP && tok_is(t, s, text);
}

/*
 * Mark the tokens that begin top-level statements.  A newline ends a
 * statement only at depth 0 and only when the expression is complete.
 */
static void mark_statements(tokens *ts, const char *s)
{
	enum { MAX_DEPTH = 256 };
	bool body_after_close[MAX_DEPTH] = {false}; /* the ')' at this depth ends an if/for/while/function header */
	int depth = 0;
	bool need_more = false, at_start = true, keyword_pending = false;
	for (size_t i = 0; i < ts->n; i++) {
		token *t = &ts->t[i];
		if (t->kind == T_NEWLINE || t->kind == T_END) {
			if (depth == 0 && !need_more)
				at_start = true;
			continue;
		}
		if (depth == 0 && at_start) {
			t->stmt_start = true;
			at_start = false;
		}
		need_more = false;
		if (t->kind == T_NAME && (tok_is(t, s, "if") || tok_is(t, s, "for") || tok_is(t, s, "while") ||
		                          tok_is(t, s, "function"))) {
			keyword_pending = true;
			need_more = true;
			continue;
		}
		if (t->kind == T_NAME && (tok_is(t, s, "else") || tok_is(t, s, "repeat"))) {
			need_more = true;
			continue;
		}
		if (t->kind == T_OP) {
			char c = s[t->off];
			if (t->len == 1 && (c == '(' || c == '[' || c == '{')) {
				if (depth + 1 < MAX_DEPTH)
					body_after_close[depth + 1] = c == '(' && keyword_pending;
				depth++;
			} else if (t->len == 1 && (c == ')' || c == ']' || c == '}')) {
				if (depth > 0) {
					need_more = depth < MAX_DEPTH && body_after_close[depth] && c == ')';
					depth--;
				}
			} else if (t->len == 1 && c == ';') {
				if (depth == 0)
					at_start = true;
			} else {
				need_more = true; /* a binary operator (or unary !, -): more follows */
			}
			keyword_pending = false;
			continue;
		}
		keyword_pending = false;
	}
}

/* A literal at token i: its token count, 0 when none. */
static size_t literal_tokens(const tokens *ts, size_t i, const char *s)
{
	const token *t = &ts->t[i];
	if ((op(t, s, "-") || op(t, s, "+")) && ts->t[i + 1].kind == T_NUMBER)
		return 2;
	if (t->kind == T_NUMBER || t->kind == T_STRING)
		return 1;
	if (t->kind == T_NAME && (tok_is(t, s, "TRUE") || tok_is(t, s, "FALSE")))
		return 1;
	return 0;
}

static bool literal_at(tally_flag *out, const tokens *ts, size_t i, size_t n, const char *s)
{
	size_t off = ts->t[i].off, end = ts->t[i + n - 1].off + ts->t[i + n - 1].len;
	/* a string spanning lines is no single-line literal */
	return !memchr(s + off, '\n', end - off) && tally__literal_value(out, s + off, end - off, false);
}

static bool ends_statement(const token *t, const char *s)
{
	return t->kind == T_NEWLINE || t->kind == T_END || op(t, s, ";");
}

static bool is_assign(const token *t, const char *s)
{
	return op(t, s, "<-") || op(t, s, "=");
}

/* The name of token t (backticks removed). */
static void name_of(const token *t, const char *s, const char **name, size_t *len)
{
	*name = s + t->off;
	*len = t->len;
	if (*len >= 2 && **name == '`')
		(*name)++, *len -= 2;
}

static int detect_globals(tally_script_flags *sf, const tokens *ts, const char *s)
{
	tally_strlist seen = TALLY_STRLIST_INIT;
	int rc = 0;
	for (size_t i = 0; i + 2 < ts->n && !rc; i++) {
		const token *t = &ts->t[i];
		if (!t->stmt_start || t->kind != T_NAME || !is_assign(&ts->t[i + 1], s))
			continue;
		const char *name;
		size_t name_len;
		name_of(t, s, &name, &name_len);
		if (tally_strlist_seen(&seen, name, name_len))
			continue;
		size_t n = literal_tokens(ts, i + 2, s);
		tally_flag value;
		if (!n || !ends_statement(&ts->t[i + 2 + n], s) || !literal_at(&value, ts, i + 2, n, s))
			continue;
		size_t lit_off = ts->t[i + 2].off, lit_len = ts->t[i + 1 + n].off + ts->t[i + 1 + n].len - lit_off;
		tally_flagdef *def = tally__flagdef_add_global(sf, name, name_len, &value, t->line, lit_off, lit_len);
		if (!def) {
			rc = tally__error_oom();
			break;
		}
		def->lit_r_integer = def->type == TALLY_FLAG_INT && s[lit_off + lit_len - 1] == 'L';
		def->type_declared = def->lit_r_integer; /* 64L says integer; 64 is just a number */
	}
	tally_strlist_release(&seen);
	return rc;
}

/* ---- tfruns: flags(flag_numeric("name", default, "description"), …) ---- */

static tally_flag_type tfruns_type(const token *t, const char *s)
{
	if (tok_is(t, s, "flag_numeric"))
		return TALLY_FLAG_FLOAT;
	if (tok_is(t, s, "flag_integer"))
		return TALLY_FLAG_INT;
	if (tok_is(t, s, "flag_boolean"))
		return TALLY_FLAG_BOOL;
	if (tok_is(t, s, "flag_string"))
		return TALLY_FLAG_STRING;
	return TALLY_FLAG_NULL;
}

/* One flag_*() call whose '(' is token `open`; returns the index after its ')'. */
static size_t tfruns_flag(tally_script_flags *sf, const tokens *ts, size_t open, const char *s, tally_flag_type type)
{
	static const char *const params[] = {"name", "default", "description"};
	size_t arg_start[3] = {0, 0, 0}, arg_len[3] = {0, 0, 0};
	size_t positional = 0, i = open + 1;
	int depth = 0;
	while (i < ts->n && ts->t[i].kind != T_END) {
		/* one argument: [NAME =] tokens up to ',' or ')' at this depth */
		size_t start = i, slot = positional;
		bool named = false;
		while (ts->t[start].kind == T_NEWLINE)
			start++;
		if (ts->t[start].kind == T_NAME && op(&ts->t[start + 1], s, "=")) {
			for (size_t k = 0; k < 3; k++)
				if (tok_is(&ts->t[start], s, params[k]))
					slot = k, named = true;
			start += 2;
		}
		for (i = start; i < ts->n && ts->t[i].kind != T_END; i++) {
			const token *t = &ts->t[i];
			if (op(t, s, "(") || op(t, s, "[") || op(t, s, "{"))
				depth++;
			else if ((op(t, s, ")") || op(t, s, "]") || op(t, s, "}")) && depth > 0)
				depth--;
			else if (depth == 0 && (op(t, s, ",") || op(t, s, ")")))
				break;
		}
		size_t end = i;
		while (end > start && ts->t[end - 1].kind == T_NEWLINE)
			end--;
		if (slot < 3) {
			arg_start[slot] = start;
			arg_len[slot] = end - start;
		}
		if (!named)
			positional++;
		if (i >= ts->n || op(&ts->t[i], s, ")"))
			break;
		i++;
	}
	tally_flag name_v, default_v, desc_v;
	if (arg_len[0] != 1 || !literal_at(&name_v, ts, arg_start[0], 1, s))
		return i + 1;
	if (name_v.type != TALLY_FLAG_STRING || tally__flagdef_find(sf, name_v.text)) {
		tally__flag_release(&name_v);
		return i + 1;
	}
	tally_flagdef *def = tally__flagdef_add(sf, name_v.text, strlen(name_v.text));
	tally__flag_release(&name_v);
	if (!def)
		return i + 1;
	def->type = type;
	def->type_declared = true;
	def->line = ts->t[open].line;
	if (arg_len[1] && literal_tokens(ts, arg_start[1], s) == arg_len[1] &&
	    literal_at(&default_v, ts, arg_start[1], arg_len[1], s)) {
		def->def = default_v;
		def->has_default = true;
		if (tally__flag_check(&def->def, def, sf->display ? sf->display : "the script"))
			def->has_default = false;
		def->script_default = def->has_default;
	}
	if (arg_len[2] == 1 && literal_at(&desc_v, ts, arg_start[2], 1, s)) {
		if (desc_v.type == TALLY_FLAG_STRING) {
			def->description = desc_v.text;
			desc_v.text = NULL;
		}
		tally__flag_release(&desc_v);
	}
	return i + 1;
}

static bool detect_tfruns(tally_script_flags *sf, const tokens *ts, const char *s)
{
	bool found = false;
	for (size_t i = 0; i + 1 < ts->n; i++) {
		const token *t = &ts->t[i];
		if (t->kind != T_NAME || !tok_is(t, s, "flags") || !op(&ts->t[i + 1], s, "("))
			continue;
		/* flags( … ) at the top level, possibly as FLAGS <- flags( or tfruns::flags( */
		size_t k = i;
		if (k >= 2 && op(&ts->t[k - 1], s, "::"))
			k -= 2;
		if (!(ts->t[k].stmt_start || (k >= 2 && is_assign(&ts->t[k - 1], s) && ts->t[k - 2].stmt_start)))
			continue;
		int depth = 0;
		for (size_t j = i + 1; j < ts->n && ts->t[j].kind != T_END; j++) {
			const token *u = &ts->t[j];
			if (op(u, s, "(") || op(u, s, "[") || op(u, s, "{"))
				depth++;
			else if (op(u, s, ")") || op(u, s, "]") || op(u, s, "}")) {
				if (--depth == 0)
					break;
			}
			tally_flag_type type = u->kind == T_NAME ? tfruns_type(u, s) : TALLY_FLAG_NULL;
			if (type != TALLY_FLAG_NULL && op(&ts->t[j + 1], s, "(")) {
				found = true;
				size_t next = tfruns_flag(sf, ts, j + 1, s, type);
				j = next - 1; /* the loop's j++ lands after the call's ')' */
			}
		}
	}
	return found;
}

int tally__detect_r(tally_script_flags *sf, const char *text, size_t len)
{
	tokens ts = {NULL, 0, 0};
	if (tokenize(&ts, text, len) < 0) {
		free(ts.t);
		return tally__error_oom();
	}
	mark_statements(&ts, text);
	int rc = 0;
	if (detect_tfruns(sf, &ts, text)) {
		sf->origin = "tfruns flags()";
		sf->dest = TALLY_DEST_ARGS_EQ;
	} else {
		sf->origin = "globals";
		sf->dest = TALLY_DEST_GLOBALS;
		rc = detect_globals(sf, &ts, text);
	}
	free(ts.t);
	return rc;
}

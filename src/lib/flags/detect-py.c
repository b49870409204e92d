/*
 * Flags of a Python script, found by reading it (never by running it):
 *
 *   lr = 0.01                      module-level assignments of one literal
 *   units: int = 64                (annotated too); names starting with _ are not flags
 *   parser.add_argument("--lr", type=float, default=0.01, help="…", choices=[…])
 *   @click.option("--lr", default=0.01, type=float, help="…")
 *
 * A script that declares argparse or click options is taken at its word:
 * those options are its flags and its globals are not.  The tokenizer knows
 * strings (prefixes, triple quotes), comments, brackets and line joining, so
 * text that merely looks like an assignment is never mistaken for one.
 */
#include "lib/flags/flagdefs.h"
#include "util/strlist.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_NAME, T_NUMBER, T_STRING, T_OP, T_NEWLINE, T_END } tok_kind;

typedef struct {
	tok_kind kind;
	size_t off, len;
	int line;
	int indent;   /* column where this token's logical line starts */
	bool multiline;
} token;

typedef struct {
	token *t;
	size_t n, cap;
} tokens;

static int push(tokens *ts, tok_kind kind, size_t off, size_t len, int line, int indent, bool multiline)
{
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 256;
		token *grown = realloc(ts->t, cap * sizeof *grown);
		if (!grown)
			return -1;
		ts->t = grown;
		ts->cap = cap;
	}
	ts->t[ts->n++] = (token){kind, off, len, line, indent, multiline};
	return 0;
}

static bool is_string_prefix(const char *s, size_t len)
{
	static const char *const prefixes[] = {"r", "u", "b", "f", "br", "rb", "fr", "rf"};
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		if (strlen(prefixes[i]) != len)
			continue;
		size_t k = 0;
		while (k < len && tolower((unsigned char)s[k]) == prefixes[i][k])
			k++;
		if (k == len)
			return true;
	}
	return false;
}

/* End of a string literal starting at the quote `s[i]`; counts newlines. */
static size_t string_end(const char *s, size_t len, size_t i, int *lines, bool raw)
{
	char q = s[i];
	bool triple = i + 2 < len && s[i + 1] == q && s[i + 2] == q;
	i += triple ? 3 : 1;
	while (i < len) {
		if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == '\n')
				(*lines)++;
			i += 2;
			continue;
		}
		(void)raw; /* a raw string still cannot end on an escaped quote */
		if (s[i] == '\n') {
			if (!triple)
				return i; /* unterminated: stop at the line's end */
			(*lines)++;
		}
		if (s[i] == q && (!triple || (i + 2 < len && s[i + 1] == q && s[i + 2] == q)))
			return i + (triple ? 3 : 1);
		i++;
	}
	return len;
}

static int tokenize(tokens *ts, const char *s, size_t len)
{
	size_t i = 0;
	int line = 1, depth = 0, indent = 0;
	bool line_start = true;
	while (i < len) {
		char c = s[i];
		if (line_start && depth == 0) {
			/* a new logical line: its indentation, unless it is blank or a comment */
			size_t k = i;
			int col = 0;
			while (k < len && (s[k] == ' ' || s[k] == '\t'))
				col += s[k] == '\t' ? 8 - col % 8 : 1, k++;
			if (k < len && s[k] != '\n' && s[k] != '#' && s[k] != '\r') {
				indent = col;
				line_start = false;
			}
			i = k;
			if (i >= len)
				break;
			c = s[i];
		}
		if (c == '\n') {
			if (depth == 0 && !line_start && push(ts, T_NEWLINE, i, 1, line, indent, false) < 0)
				return -1;
			if (depth == 0)
				line_start = true;
			line++, i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			i++;
		} else if (c == '#') {
			while (i < len && s[i] != '\n')
				i++;
		} else if (c == '\\' && i + 1 < len && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
			i += s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n' ? 3 : 2;
			line++;
		} else if (isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80) {
			size_t st = i;
			while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_' || (unsigned char)s[i] >= 0x80))
				i++;
			if (i < len && (s[i] == '\'' || s[i] == '"') && is_string_prefix(s + st, i - st)) {
				int lines = 0;
				bool raw = memchr(s + st, 'r', i - st) || memchr(s + st, 'R', i - st);
				size_t end = string_end(s, len, i, &lines, raw);
				if (push(ts, T_STRING, st, end - st, line, indent, lines > 0) < 0)
					return -1;
				line += lines;
				i = end;
			} else if (push(ts, T_NAME, st, i - st, line, indent, false) < 0) {
				return -1;
			}
		} else if (isdigit((unsigned char)c) || (c == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
			size_t st = i;
			while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' ||
			                   ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
			                    !(s[st] == '0' && st + 1 < len && (s[st + 1] == 'x' || s[st + 1] == 'X')))))
				i++;
			if (push(ts, T_NUMBER, st, i - st, line, indent, false) < 0)
				return -1;
		} else if (c == '\'' || c == '"') {
			int lines = 0;
			size_t end = string_end(s, len, i, &lines, false);
			if (push(ts, T_STRING, i, end - i, line, indent, lines > 0) < 0)
				return -1;
			line += lines;
			i = end;
		} else {
			if (c == '(' || c == '[' || c == '{')
				depth++;
			else if ((c == ')' || c == ']' || c == '}') && depth > 0)
				depth--;
			/* two-character operators that contain '=' must not read as assignments */
			size_t n = 1;
			if (i + 1 < len && s[i + 1] == '=' && strchr("=!<>+-*/%&|^:@", c))
				n = 2;
			if (push(ts, T_OP, i, n, line, indent, false) < 0)
				return -1;
			i += n;
		}
	}
	if (!line_start && push(ts, T_NEWLINE, len, 0, line, indent, false) < 0)
		return -1;
	return push(ts, T_END, len, 0, line, indent, false);
}

static bool tok_is(const token *t, const char *s, const char *text)
{
	size_t n = strlen(text);
	return t->len == n && !memcmp(s + t->off, text, n);
}

static bool op(const token *t, const char *s, char c)
{
	return t->kind == T_OP && t->len == 1 && s[t->off] == c;
}

/* A literal starting at token i: its token count (0 when none). */
static size_t literal_tokens(const tokens *ts, size_t i, const char *s)
{
	const token *t = &ts->t[i];
	if ((op(t, s, '-') || op(t, s, '+')) && ts->t[i + 1].kind == T_NUMBER)
		return 2;
	if (t->kind == T_NUMBER)
		return 1;
	if (t->kind == T_STRING && !t->multiline && ts->t[i + 1].kind != T_STRING)
		return 1;
	if (t->kind == T_NAME && (tok_is(t, s, "True") || tok_is(t, s, "False") || tok_is(t, s, "None")))
		return 1;
	return 0;
}

static bool literal_at(tally_flag *out, const tokens *ts, size_t i, size_t n, const char *s)
{
	size_t off = ts->t[i].off, end = ts->t[i + n - 1].off + ts->t[i + n - 1].len;
	return tally__literal_value(out, s + off, end - off, true);
}

static tally_flag_type type_from_name(const token *t, const char *s)
{
	if (tok_is(t, s, "int"))
		return TALLY_FLAG_INT;
	if (tok_is(t, s, "float"))
		return TALLY_FLAG_FLOAT;
	if (tok_is(t, s, "bool"))
		return TALLY_FLAG_BOOL;
	if (tok_is(t, s, "str"))
		return TALLY_FLAG_STRING;
	return TALLY_FLAG_NULL;
}

static bool is_keyword(const token *t, const char *s)
{
	static const char *const keywords[] = {"False", "None", "True", "and", "as", "assert", "async", "await",
	                                       "break", "class", "continue", "def", "del", "elif", "else", "except",
	                                       "finally", "for", "from", "global", "if", "import", "in", "is",
	                                       "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
	                                       "while", "with", "yield", "match", "case"};
	for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
		if (tok_is(t, s, keywords[i]))
			return true;
	return false;
}

static int detect_globals(tally_script_flags *sf, const tokens *ts, const char *s)
{
	tally_strlist seen = TALLY_STRLIST_INIT;
	int rc = 0;
	bool statement_start = true, compound_line = false;
	for (size_t i = 0; i < ts->n && ts->t[i].kind != T_END && !rc; i++) {
		const token *t = &ts->t[i];
		bool at_start = statement_start;
		if (at_start && t->kind != T_NEWLINE && (i == 0 || ts->t[i - 1].kind == T_NEWLINE))
			compound_line = t->kind == T_NAME && is_keyword(t, s); /* `if x: a = 1; b = 2` is all inside the if */
		/* after `;` a statement starts, unless the line opened a block */
		statement_start = t->kind == T_NEWLINE || (op(t, s, ';') && !compound_line);
		if (!at_start || t->kind != T_NAME || t->indent != 0 || is_keyword(t, s))
			continue;
		size_t k = i + 1;
		tally_flag_type annotated = TALLY_FLAG_NULL;
		if (op(&ts->t[k], s, ':') && ts->t[k + 1].kind == T_NAME) { /* units: int = 64 */
			annotated = type_from_name(&ts->t[k + 1], s);
			k += 2;
		}
		if (!op(&ts->t[k], s, '='))
			continue;
		bool first = !tally_strlist_seen(&seen, s + t->off, t->len);
		size_t n = literal_tokens(ts, k + 1, s);
		const token *after = n ? &ts->t[k + 1 + n] : NULL;
		if (!first || !n || !(after->kind == T_NEWLINE || op(after, s, ';')) || s[t->off] == '_')
			continue;
		tally_flag value;
		if (!literal_at(&value, ts, k + 1, n, s))
			continue;
		size_t lit_off = ts->t[k + 1].off, lit_len = ts->t[k + n].off + ts->t[k + n].len - lit_off;
		tally_flagdef *def = tally__flagdef_add_global(sf, s + t->off, t->len, &value, t->line, lit_off, lit_len);
		if (!def) {
			rc = tally__error_oom();
			break;
		}
		def->type = annotated != TALLY_FLAG_NULL ? annotated : def->def.type;
		def->type_declared = annotated != TALLY_FLAG_NULL;
		if (def->type_declared && tally__flag_check(&def->def, def, sf->display ? sf->display : "the script"))
			def->type_declared = false; /* `x: int = "a"`: the annotation is wrong, keep the value */
	}
	tally_strlist_release(&seen);
	return rc;
}

/* ---- argparse / click options ---- */

typedef struct {
	size_t start, end;   /* token range of one argument */
	size_t kw;           /* token of its keyword, or 0 */
} call_arg;

/* Split the call whose '(' is token `open` into arguments; returns the ')' token. */
static size_t call_args(const tokens *ts, size_t open, const char *s, call_arg *args, size_t max, size_t *n_args)
{
	int depth = 0;
	size_t i = open + 1, start = open + 1;
	*n_args = 0;
	for (; i < ts->n && ts->t[i].kind != T_END; i++) {
		const token *t = &ts->t[i];
		if (t->kind != T_OP)
			continue;
		char c = s[t->off];
		if (t->len == 1 && (c == '(' || c == '[' || c == '{'))
			depth++;
		else if (t->len == 1 && (c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (depth == 0 && t->len == 1 && (c == ',' || c == ')')) {
			if (i > start && *n_args < max) {
				call_arg *a = &args[(*n_args)++];
				a->start = start;
				a->end = i;
				a->kw = 0;
				if (ts->t[start].kind == T_NAME && i > start + 1 && op(&ts->t[start + 1], s, '=')) {
					a->kw = start;
					a->start = start + 2;
				}
			}
			start = i + 1;
			if (c == ')')
				return i;
		}
	}
	return i;
}

/* The decoded text of a one-token string argument, or NULL. */
static char *string_arg(const tokens *ts, const call_arg *a, const char *s)
{
	if (a->end != a->start + 1 || ts->t[a->start].kind != T_STRING)
		return NULL;
	tally_flag v;
	if (!literal_at(&v, ts, a->start, 1, s))
		return NULL;
	char *text = v.text;
	v.text = NULL;
	tally__flag_release(&v);
	return text;
}

static bool arg_literal(tally_flag *out, const tokens *ts, const call_arg *a, const char *s)
{
	size_t n = literal_tokens(ts, a->start, s);
	return n && a->start + n == a->end && literal_at(out, ts, a->start, n, s);
}

/* default=[128, 64] or (128, 64): a list value (an argparse nargs default). */
static bool arg_list_literal(tally_flag *out, const tokens *ts, const call_arg *a, const char *s)
{
	size_t i = a->start;
	memset(out, 0, sizeof *out);
	if (!(op(&ts->t[i], s, '[') || op(&ts->t[i], s, '(')))
		return false;
	tally_flag_list elements = {NULL, 0};
	bool ok = true;
	for (i++; ok && i < a->end && !op(&ts->t[i], s, ']') && !op(&ts->t[i], s, ')');) {
		size_t n = literal_tokens(ts, i, s);
		tally_flag v;
		ok = n && literal_at(&v, ts, i, n, s) && tally__flag_list_append(&elements, &v) == 0;
		i += n;
		if (ok && op(&ts->t[i], s, ','))
			i++;
	}
	ok = ok && elements.count && i + 1 == a->end && tally__flag_make_list(out, &elements) == 0;
	tally__flag_list_release(&elements);
	return ok;
}

/* choices=[a, b, c] or (a, b, c) */
static void arg_choices(tally_flagdef *def, const tokens *ts, const call_arg *a, const char *s)
{
	size_t i = a->start;
	if (!(op(&ts->t[i], s, '[') || op(&ts->t[i], s, '(')))
		return;
	for (i++; i < a->end;) {
		size_t n = literal_tokens(ts, i, s);
		tally_flag v;
		if (!n || !literal_at(&v, ts, i, n, s))
			return;
		tally_flag *grown = realloc(def->choices, (def->n_choices + 1) * sizeof *grown);
		if (!grown) {
			tally__flag_release(&v);
			return;
		}
		def->choices = grown;
		def->choices[def->n_choices++] = v;
		i += n;
		if (op(&ts->t[i], s, ','))
			i++;
		else
			break;
	}
}

static bool kw_is(const tokens *ts, const call_arg *a, const char *s, const char *name)
{
	return a->kw && tok_is(&ts->t[a->kw], s, name);
}

static const tally_flagdef *find_named(const tally_script_flags *sf, const char *name, size_t len)
{
	for (size_t i = 0; sf && i < sf->n; i++)
		if (strlen(sf->items[i].name) == len && !memcmp(sf->items[i].name, name, len))
			return &sf->items[i];
	return NULL;
}

/* One add_argument()/option() call: a flag for its long option, if it has one. */
static int option_call(tally_script_flags *sf, const tokens *ts, size_t open, const char *s, bool click,
                       const tally_script_flags *globals)
{
	call_arg args[32];
	size_t n;
	call_args(ts, open, s, args, 32, &n);
	char *option = NULL, *option_off = NULL, *dest = NULL;
	for (size_t i = 0; i < n && !args[i].kw; i++) {
		char *text = string_arg(ts, &args[i], s);
		if (text && !strncmp(text, "--", 2) && !option) {
			char *slash = click ? strchr(text, '/') : NULL; /* click's --flag/--no-flag */
			if (slash) {
				*slash = '\0';
				const char *off = slash + 1;
				while (*off == ' ')
					off++;
				option_off = *off ? strdup(off) : NULL;
			}
			option = text;
		} else if (text && click && text[0] != '-' && !dest) {
			dest = text; /* click: a bare name is the parameter's name */
		} else {
			free(text);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (kw_is(ts, &args[i], s, "dest")) {
			free(dest);
			dest = string_arg(ts, &args[i], s);
		}
	if (!option) { /* positional arguments are not flags */
		free(dest);
		free(option_off);
		return 0;
	}
	const char *name = dest ? dest : option + 2;
	char *flag_name = strdup(name);
	for (char *p = flag_name; p && *p; p++)
		if (*p == '-')
			*p = '_';
	tally_flagdef *def = flag_name && !tally__flagdef_find(sf, flag_name) ? tally__flagdef_add(sf, flag_name, strlen(flag_name)) : NULL;
	free(flag_name);
	free(dest);
	if (!def) {
		free(option);
		free(option_off);
		return 0; /* declared twice (or no memory): the first one stands */
	}
	def->option = option;
	def->option_off = option_off;
	if (option_off)
		def->arg_style = TALLY_ARG_SWITCH;
	def->line = ts->t[open].line;
	def->type = TALLY_FLAG_STRING; /* argparse's default type */
	bool typed = false;
	for (size_t i = 0; i < n; i++) {
		const call_arg *a = &args[i];
		if (kw_is(ts, a, s, "type") && a->end == a->start + 1 && ts->t[a->start].kind == T_NAME) {
			tally_flag_type t = type_from_name(&ts->t[a->start], s);
			if (t != TALLY_FLAG_NULL)
				def->type = t, typed = true;
		} else if (kw_is(ts, a, s, "default")) {
			tally_flag v;
			/* default=learning_rate, a module-level literal: its value */
			const tally_flagdef *g = a->end == a->start + 1 && ts->t[a->start].kind == T_NAME
			                             ? find_named(globals, s + ts->t[a->start].off, ts->t[a->start].len)
			                             : NULL;
			if (g && g->has_default) {
				memset(&v, 0, sizeof v);
				v = g->def;
				v.name = NULL;
				v.text = g->def.text ? strdup(g->def.text) : NULL;
				tally__flag_release(&def->def);
				def->def = v;
				def->has_default = v.type != TALLY_FLAG_NULL;
			} else if (arg_literal(&v, ts, a, s) || arg_list_literal(&v, ts, a, s)) {
				tally__flag_release(&def->def);
				def->def = v;
				def->has_default = v.type != TALLY_FLAG_NULL;
			}
		} else if (kw_is(ts, a, s, "nargs")) {
			/* nargs="+", "*" or a number: the option takes a list ("?" takes one value or none) */
			char *nargs = string_arg(ts, a, s);
			def->list = nargs ? strcmp(nargs, "?") != 0
			                  : a->end == a->start + 1 && ts->t[a->start].kind == T_NUMBER;
			free(nargs);
		} else if (kw_is(ts, a, s, "help")) {
			free(def->description);
			def->description = string_arg(ts, a, s);
		} else if (kw_is(ts, a, s, "choices")) {
			arg_choices(def, ts, a, s);
		} else if (kw_is(ts, a, s, "required")) {
			def->required = a->end == a->start + 1 && tok_is(&ts->t[a->start], s, "True");
		} else if (kw_is(ts, a, s, "action")) {
			char *action = string_arg(ts, a, s);
			if (action && !strcmp(action, "store_true"))
				def->arg_style = TALLY_ARG_STORE_TRUE;
			else if (action && !strcmp(action, "store_false"))
				def->arg_style = TALLY_ARG_STORE_FALSE;
			else if (!action && a->end > a->start && tok_is(&ts->t[a->end - 1], s, "BooleanOptionalAction")) {
				/* argparse.BooleanOptionalAction: --name / --no-name */
				tally_buf off = TALLY_BUF_INIT;
				tally_buf_printf(&off, "--no-%s", def->option + 2);
				free(def->option_off);
				def->option_off = tally_buf_oom(&off) ? NULL : tally_buf_detach(&off);
				tally_buf_release(&off);
				if (def->option_off)
					def->arg_style = TALLY_ARG_SWITCH;
			}
			free(action);
		} else if (kw_is(ts, a, s, "is_flag")) {
			if (a->end == a->start + 1 && tok_is(&ts->t[a->start], s, "True"))
				def->arg_style = TALLY_ARG_STORE_TRUE;
		}
	}
	if (def->arg_style != TALLY_ARG_VALUE) {
		def->type = TALLY_FLAG_BOOL;
		if (!def->has_default) {
			tally__flag_release(&def->def);
			def->def.type = TALLY_FLAG_BOOL;
			def->def.b = def->arg_style == TALLY_ARG_STORE_FALSE;
			def->def.text = strdup(def->def.b ? "true" : "false");
			def->has_default = def->def.text != NULL;
		}
	} else if (!typed && def->has_default && def->def.type == TALLY_FLAG_LIST) {
		/* default=[128, 64]: a list, of what its first element is */
		tally_flag_list elements;
		def->list = true;
		if (tally__flag_list_elements(&def->def, &elements) == 0) {
			def->type = elements.count ? elements.items[0].type : TALLY_FLAG_STRING;
			tally__flag_list_release(&elements);
		}
	} else if (!typed && def->has_default) {
		/* click infers the type from the default; for argparse it is what the script
		 * gets when the option is not given, so values are checked against it too */
		def->type = def->def.type;
	}
	if (def->has_default && def->def.type == TALLY_FLAG_LIST)
		def->list = true;
	def->type_declared = typed || def->arg_style != TALLY_ARG_VALUE;
	if (def->has_default && tally__flag_check(&def->def, def, sf->display ? sf->display : "the script"))
		def->has_default = false; /* a default argparse would convert (e.g. "0.1" for float): keep it unchecked */
	def->script_default = def->has_default;
	return 0;
}

static int detect_options(tally_script_flags *sf, const tokens *ts, const char *s, bool *argparse, bool *click,
                          const tally_script_flags *globals)
{
	for (size_t i = 0; i + 1 < ts->n; i++) {
		const token *t = &ts->t[i];
		if (t->kind != T_NAME || !op(&ts->t[i + 1], s, '(') || i == 0 || !op(&ts->t[i - 1], s, '.'))
			continue;
		if (tok_is(t, s, "add_argument")) {
			*argparse = true;
			option_call(sf, ts, i + 1, s, false, globals);
		} else if (tok_is(t, s, "option") && i >= 2 && tok_is(&ts->t[i - 2], s, "click")) {
			*click = true;
			option_call(sf, ts, i + 1, s, true, globals);
		}
	}
	return 0;
}

int tally__detect_python(tally_script_flags *sf, const char *text, size_t len)
{
	tokens ts = {NULL, 0, 0};
	if (tokenize(&ts, text, len) < 0) {
		free(ts.t);
		return tally__error_oom();
	}
	bool argparse = false, click = false;
	tally_script_flags globals = TALLY_SCRIPT_FLAGS_INIT;
	int rc = detect_globals(&globals, &ts, text);
	if (!rc)
		rc = detect_options(sf, &ts, text, &argparse, &click, &globals);
	if (!rc && (argparse || click)) {
		sf->origin = argparse ? "argparse" : "click";
		sf->dest = TALLY_DEST_ARGS;
	} else if (!rc) {
		sf->origin = "globals";
		sf->dest = TALLY_DEST_GLOBALS;
		tally__script_flags_take_items(sf, &globals); /* the globals become the script's flags */
	}
	tally__script_flags_release(&globals);
	free(ts.t);
	return rc;
}

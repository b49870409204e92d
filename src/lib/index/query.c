/*
 * The run query language of `tally runs --where EXPR --sort KEYS`, compiled
 * to a parameterized SQLite WHERE clause and ORDER BY over the index (no
 * user text ever becomes SQL text: every literal is a bound parameter).
 *
 *   expr    := or
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | test
 *   test    := '(' expr ')' | operand [cmp operand | 'in' list | 'not' 'in' list
 *              | 'contains' operand | '~' operand | 'is' ['not'] 'missing']
 *   operand := number | 'string' | "string" | true | false | NAME | AGG '(' NAME ')'
 *   list    := '[' [operand (',' operand)*] ']'
 *   cmp     := = | == | != | < | <= | > | >=
 *
 * NAME is a run attribute (status, started, stopped, duration, label,
 * script, host, exit_status, id, tags), a flag or a scalar; `attr.`,
 * `flag.` and `scalar.` say which, and a bare name is an attribute if one
 * is called so, else the flag, else the scalar (its last value).  tfruns'
 * column names work too: flag_X, metric_X (scalar X) and eval_X (scalar
 * eval_X or test_X).  AGG is min, max, first, last, avg or count.  A bare
 * word on the right of a comparison is a string (status = completed) unless
 * it names an attribute or starts with attr., flag. or scalar.
 * Against started and stopped, strings are dates: ISO (2026-11-24,
 * 2026-11-24T10:00), today, yesterday, 'last hour', 'last N days',
 * '3 days ago'.  A comparison with a missing value is false, and `not`
 * makes it true: `not val_loss < 1` includes runs without val_loss.
 */
#include "lib/index/index.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/suggest.h"
#include "util/timeutil.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef enum { T_END, T_NUMBER, T_STRING, T_WORD, T_OP, T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_COMMA, T_MINUS } tok_kind;

typedef struct {
	tok_kind kind;
	const char *start;
	size_t len;
	size_t column;   /* 1-based, for errors */
	char *text;      /* T_STRING: the unquoted text; T_WORD: a copy */
	double number;
} token;

typedef struct {
	const char *src;
	const char *what;  /* "--where" or "--sort" */
	const char *p;
	token tok;
	tally_query *q;
	int64_t now_ms;
	int depth;
} parser;

/* An operand compiled: its SQL text and what kind of thing it is. */
typedef enum { V_VALUE, V_TEXT_LITERAL, V_DATE_ATTR, V_TAGS } value_kind;

typedef struct {
	tally_buf sql;
	value_kind kind;
	bool literal;       /* a literal (its bound parameter is the last one) */
	char *text;         /* the literal's text, for dates */
	/* A single flag or scalar: a test of it becomes "the runs in this table
	 * whose row passes", found through the table's index, not a lookup per run. */
	const char *table, *key, *column;  /* "scalars", "tag", "min" */
	size_t name_param;                 /* the ?N holding its name */
	const char *attribute;             /* the run attribute it is ("status"), or NULL */
} operand;

#define OPERAND_INIT {TALLY_BUF_INIT, V_VALUE, false, NULL, NULL, NULL, NULL, 0, NULL}

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static int syntax_error(parser *ps, size_t column, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tally__error(TALLY_EINVALID, "%s '%s': %s at column %zu — see `tally help runs` for the query language",
	                    ps->what, ps->src, msg, column);
}

/* ---- tokens ---- */

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '/' || c == ':' || (unsigned char)c >= 0x80;
}

static int next_token(parser *ps)
{
	free(ps->tok.text);
	memset(&ps->tok, 0, sizeof ps->tok);
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
		ps->p++;
	token *t = &ps->tok;
	t->start = ps->p;
	t->column = (size_t)(ps->p - ps->src) + 1;
	char c = *ps->p;
	if (!c) {
		t->kind = T_END;
		return 0;
	}
	if (c == '\'' || c == '"') {
		const char *end = strchr(ps->p + 1, c);
		if (!end)
			return syntax_error(ps, t->column, "%s", "unterminated string");
		t->kind = T_STRING;
		t->text = strndup(ps->p + 1, (size_t)(end - ps->p - 1));
		ps->p = end + 1;
	} else if (isdigit((unsigned char)c) || ((c == '-' || c == '+' || c == '.') && isdigit((unsigned char)ps->p[1]))) {
		char *end;
		t->number = strtod(ps->p, &end);
		/* 2026-11-24, a run id and 64x are words, not numbers */
		if ((word_char(*end) && *end != '.') || (*end == '-' && isalnum((unsigned char)end[1])))
			goto word;
		t->kind = T_NUMBER;
		ps->p = end;
	} else if (word_char(c)) {
	word:
		t->kind = T_WORD;
		while (word_char(*ps->p) || (*ps->p == '-' && ps->p > t->start))
			ps->p++;
		t->text = strndup(t->start, (size_t)(ps->p - t->start));
	} else if (strchr("=!<>~", c)) {
		t->kind = T_OP;
		ps->p++;
		if (*ps->p == '=' && c != '~')
			ps->p++;
		if (c == '!' && ps->p - t->start == 1)
			return syntax_error(ps, t->column, "%s", "'!' must be '!='");
	} else {
		static const char singles[] = "()[],-";
		static const tok_kind kinds[] = {T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_COMMA, T_MINUS};
		const char *at = strchr(singles, c);
		if (!at)
			return syntax_error(ps, t->column, "unexpected '%s'", (char[]){c, 0});
		t->kind = kinds[at - singles];
		ps->p++;
	}
	t->len = (size_t)(ps->p - t->start);
	if ((t->kind == T_WORD || t->kind == T_STRING) && !t->text)
		return tally__error_oom();
	return 0;
}

static bool is_keyword(const token *t, const char *kw)
{
	return t->kind == T_WORD && strlen(kw) == t->len && !strncasecmp(t->start, kw, t->len);
}

static bool is_op(const token *t, const char *op)
{
	return t->kind == T_OP && strlen(op) == t->len && !strncmp(t->start, op, t->len);
}

static int expect_end_of(parser *ps, const char *what)
{
	if (ps->tok.kind == T_END)
		return syntax_error(ps, ps->tok.column, "expected %s, found the end", what);
	char found[64];
	snprintf(found, sizeof found, "%.*s", (int)(ps->tok.len < 40 ? ps->tok.len : 40), ps->tok.start);
	char msg[160];
	snprintf(msg, sizeof msg, "expected %s, found '%s'", what, found);
	return syntax_error(ps, ps->tok.column, "%s", msg);
}

/* ---- binding literals ---- */

/* "?N" for the parameter bound next: numbered, because a sort key's SQL appears twice. */
static void add_param(tally_query *q, tally_buf *sql)
{
	tally_buf_printf(sql, "?%zu", q->n_binds + TALLY_QUERY_FIRST_PARAM);
}

static int bind(tally_query *q, tally_query_bind b)
{
	if (q->n_binds == q->cap_binds) {
		size_t cap = q->cap_binds ? q->cap_binds * 2 : 8;
		tally_query_bind *grown = realloc(q->binds, cap * sizeof *grown);
		if (!grown) {
			free(b.text);
			return tally__error_oom();
		}
		q->binds = grown;
		q->cap_binds = cap;
	}
	q->binds[q->n_binds++] = b;
	return 0;
}

static int bind_text(tally_query *q, const char *s)
{
	char *copy = strdup(s);
	return copy ? bind(q, (tally_query_bind){TALLY_BIND_TEXT, 0, 0, copy}) : tally__error_oom();
}

static int bind_number(tally_query *q, double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		return bind(q, (tally_query_bind){TALLY_BIND_INT, (int64_t)v, 0, NULL});
	return bind(q, (tally_query_bind){TALLY_BIND_REAL, 0, v, NULL});
}

/* ---- names ---- */

static const struct {
	const char *name, *sql;
	value_kind kind;
} attributes[] = {
	{"status", "r.status", V_VALUE},
	{"started", "r.started", V_DATE_ATTR},
	{"stopped", "r.stopped", V_DATE_ATTR},
	{"duration", "((COALESCE(r.stopped, ?NOW) - r.started) / 1000.0)", V_VALUE},
	{"label", "r.label", V_VALUE},
	{"script", "r.script", V_VALUE},
	{"host", "r.host", V_VALUE},
	{"exit_status", "r.exit_status", V_VALUE},
	{"id", "r.id", V_VALUE},
	{"name", "r.name", V_VALUE},
	{"sweep", "r.sweep", V_VALUE},
	{"trial", "r.trial", V_VALUE},
	{"marked", "r.marked", V_VALUE},
	{"tags", "NULL", V_TAGS},
	{"tag", "NULL", V_TAGS},
};

static const char *const aggregates[] = {"last", "first", "min", "max", "avg", "count"};

static int attribute_sql(parser *ps, operand *o, const char *name, bool *found)
{
	*found = false;
	for (size_t i = 0; i < sizeof attributes / sizeof *attributes; i++) {
		if (strcasecmp(name, attributes[i].name))
			continue;
		*found = true;
		o->kind = attributes[i].kind;
		o->attribute = attributes[i].name;
		const char *now = strstr(attributes[i].sql, "?NOW");
		if (now) { /* "now" is a parameter too: the SQL text never holds a value */
			tally_buf_add(&o->sql, attributes[i].sql, (size_t)(now - attributes[i].sql));
			add_param(ps->q, &o->sql);
			tally_buf_adds(&o->sql, now + 4);
			return bind(ps->q, (tally_query_bind){TALLY_BIND_INT, ps->now_ms, 0, NULL});
		}
		tally_buf_adds(&o->sql, attributes[i].sql);
		return 0;
	}
	return 0;
}

static int lookup_sql(parser *ps, operand *o, const char *table, const char *key, const char *column,
                      const char *name)
{
	bool alone = o->sql.len == 0;
	tally_buf_printf(&o->sql, "(SELECT x.%s FROM %s x WHERE x.rid = r.rid AND x.%s = ", column, table, key);
	size_t param = ps->q->n_binds + TALLY_QUERY_FIRST_PARAM;
	add_param(ps->q, &o->sql);
	tally_buf_adds(&o->sql, ")");
	if (alone) { /* the whole operand is this one lookup */
		o->table = table;
		o->key = key;
		o->column = column;
		o->name_param = param;
	}
	return bind_text(ps->q, name);
}

static int flag_sql(parser *ps, operand *o, const char *name)
{
	return lookup_sql(ps, o, "flags", "name", "value", name);
}

static int scalar_sql(parser *ps, operand *o, const char *agg, const char *tag)
{
	return lookup_sql(ps, o, "scalars", "tag", agg, tag);
}

/* Whether any run has a flag (1) or a scalar (2) called `name`; 3 when not known. */
static int name_kinds(parser *ps, const char *name)
{
	return ps->q->resolve ? ps->q->resolve(ps->q->resolve_ctx, name) : 3;
}

/* ---- likely mistakes: warnings, with the nearest name ---- */

static void consider_name(void *arg, const char *name)
{
	tally_suggest_consider(arg, name);
}

/* No run has a flag or scalar `name`: say so, with the nearest attribute, flag or scalar. */
static void warn_unknown_name(parser *ps, const char *name)
{
	tally_suggest s;
	tally_suggest_init(&s, name);
	for (size_t i = 0; i < sizeof attributes / sizeof *attributes; i++)
		tally_suggest_consider(&s, attributes[i].name);
	if (ps->q->each_name)
		ps->q->each_name(ps->q->resolve_ctx, consider_name, &s);
	const char *best = tally_suggest_best(&s);
	tally_buf_printf(&ps->q->warnings, "no run has a flag or scalar '%s' (missing in every run)%s%s%s\n", name,
	                 best ? " — did you mean " : "", best ? best : "", best ? "?" : "");
}

static const char *const statuses[] = {"running", "completed", "error", "terminated", "pruned", "pending", "queued"};
/* What people call a status that tally names otherwise. */
static const char *const status_synonyms[][2] = {
	{"failed", "error"},      {"failure", "error"},      {"crashed", "error"},      {"errored", "error"},
	{"done", "completed"},    {"finished", "completed"}, {"success", "completed"},  {"succeeded", "completed"},
	{"complete", "completed"}, {"killed", "terminated"}, {"stopped", "terminated"}, {"interrupted", "terminated"},
	{"cancelled", "terminated"}, {"canceled", "terminated"}, {"early_stopped", "pruned"}, {"stopped_early", "pruned"},
};

/* `status = VALUE` with a value no run can have. */
static void check_status_value(parser *ps, const char *value)
{
	for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
		if (!strcmp(value, statuses[i]))
			return;
	const char *best = NULL;
	for (size_t i = 0; !best && i < sizeof status_synonyms / sizeof *status_synonyms; i++)
		if (!strcasecmp(value, status_synonyms[i][0]))
			best = status_synonyms[i][1];
	tally_suggest s;
	tally_suggest_init(&s, value);
	for (size_t i = 0; !best && i < sizeof statuses / sizeof *statuses; i++)
		tally_suggest_consider(&s, statuses[i]);
	if (!best)
		best = tally_suggest_best(&s);
	tally_buf_printf(&ps->q->warnings, "'%s' is not a status (running, completed, error, terminated, pruned, pending, queued)%s%s%s\n",
	                 value, best ? " — did you mean " : "", best ? best : "", best ? "?" : "");
}

/* flag_X, metric_X, eval_X (test_X) naming a flag or scalar some run has. */
static bool known_tfruns_name(parser *ps, const char *name)
{
	if ((!strncmp(name, "flag_", 5) || !strncmp(name, "metric_", 7)) && name_kinds(ps, strchr(name, '_') + 1) != 0)
		return true;
	if (strncmp(name, "eval_", 5) || !name[5])
		return false;
	char test[300];
	snprintf(test, sizeof test, "test_%s", name + 5);
	return name_kinds(ps, test) != 0;
}

/* A bare name: the flag, else the scalar, with tfruns' column names understood. */
static int flag_or_scalar_sql(parser *ps, operand *o, const char *name)
{
	int rc;
	/* The index knows which it is: one lookup instead of a COALESCE of several. */
	int kinds = name_kinds(ps, name);
	bool tfruns_name = (!strncmp(name, "flag_", 5) && name[5]) || (!strncmp(name, "metric_", 7) && name[7]) ||
	                   (!strncmp(name, "eval_", 5) && name[5]);
	if (!tfruns_name && kinds == 1)
		return flag_sql(ps, o, name);
	if (!tfruns_name && kinds == 2)
		return scalar_sql(ps, o, "last", name);
	if (!strncmp(name, "metric_", 7) && name[7] && kinds == 0 && name_kinds(ps, name + 7) == 2)
		return scalar_sql(ps, o, "last", name + 7);
	if (!strncmp(name, "flag_", 5) && name[5] && kinds == 0 && name_kinds(ps, name + 5) == 1)
		return flag_sql(ps, o, name + 5);
	if (kinds == 0 && !known_tfruns_name(ps, name))
		warn_unknown_name(ps, name);
	tally_buf_adds(&o->sql, "COALESCE(");
	if ((rc = flag_sql(ps, o, name)))
		return rc;
	tally_buf_adds(&o->sql, ", ");
	if (!strncmp(name, "flag_", 5) && name[5]) {
		rc = flag_sql(ps, o, name + 5);
	} else if (!strncmp(name, "metric_", 7) && name[7]) {
		if (!(rc = scalar_sql(ps, o, "last", name))) {
			tally_buf_adds(&o->sql, ", ");
			rc = scalar_sql(ps, o, "last", name + 7);
		}
	} else if (!strncmp(name, "eval_", 5) && name[5]) {
		char test[300];
		snprintf(test, sizeof test, "test_%s", name + 5);
		if (!(rc = scalar_sql(ps, o, "last", name))) {
			tally_buf_adds(&o->sql, ", ");
			rc = scalar_sql(ps, o, "last", test);
		}
	} else {
		rc = scalar_sql(ps, o, "last", name);
	}
	tally_buf_adds(&o->sql, ")");
	return rc;
}

static int name_sql(parser *ps, operand *o, const char *name, size_t column)
{
	bool found;
	int rc;
	if (!strncasecmp(name, "attr.", 5)) {
		if ((rc = attribute_sql(ps, o, name + 5, &found)) || found)
			return rc;
		return syntax_error(ps, column, "'%s' is not a run attribute (status, started, stopped, duration, label, "
		                                "script, host, exit_status, id, name, marked, tags)", name + 5);
	}
	if (!strncasecmp(name, "flag.", 5) && name[5])
		return flag_sql(ps, o, name + 5);
	if (!strncasecmp(name, "scalar.", 7) && name[7])
		return scalar_sql(ps, o, "last", name + 7);
	if ((rc = attribute_sql(ps, o, name, &found)) || found)
		return rc;
	return flag_or_scalar_sql(ps, o, name);
}

/* ---- operands ---- */

static void operand_release(operand *o)
{
	tally_buf_release(&o->sql);
	free(o->text);
}

static bool has_name_prefix(const char *word)
{
	return !strncasecmp(word, "attr.", 5) || !strncasecmp(word, "flag.", 5) || !strncasecmp(word, "scalar.", 7);
}

/* A value or a name; on the right of a comparison a bare word is text
 * (status = completed, script = train.py) unless it says attr./flag./scalar. */
static int parse_operand(parser *ps, operand *o, bool right_side)
{
	token *t = &ps->tok;
	int rc;
	*o = (operand)OPERAND_INIT;
	if (t->kind == T_NUMBER) {
		o->literal = true;
		add_param(ps->q, &o->sql);
		if ((rc = bind_number(ps->q, t->number)))
			return rc;
		o->text = strndup(t->start, t->len);
		return next_token(ps);
	}
	if (t->kind == T_STRING || (t->kind == T_WORD && right_side && !is_keyword(t, "true") && !is_keyword(t, "false") &&
	                            !has_name_prefix(t->text) && ps->p[0] != '(')) {
		bool found = false;
		if (t->kind == T_WORD) { /* a bare word on the right: an attribute if it names one, else text */
			operand probe = OPERAND_INIT;
			size_t binds = ps->q->n_binds;
			rc = attribute_sql(ps, &probe, t->text, &found);
			while (ps->q->n_binds > binds)
				free(ps->q->binds[--ps->q->n_binds].text);
			operand_release(&probe);
			if (rc)
				return rc;
		}
		if (!found) {
			o->literal = true;
			o->kind = V_TEXT_LITERAL;
			add_param(ps->q, &o->sql);
			if ((rc = bind_text(ps->q, t->text)) || !(o->text = strdup(t->text)))
				return rc ? rc : tally__error_oom();
			return next_token(ps);
		}
	}
	if (is_keyword(t, "true") || is_keyword(t, "false")) {
		o->literal = true;
		add_param(ps->q, &o->sql);
		if ((rc = bind_number(ps->q, is_keyword(t, "true") ? 1 : 0)))
			return rc;
		return next_token(ps);
	}
	if (t->kind != T_WORD)
		return expect_end_of(ps, "a name or a value");
	char *name = strdup(t->text);
	size_t column = t->column;
	if (!name)
		return tally__error_oom();
	if ((rc = next_token(ps))) {
		free(name);
		return rc;
	}
	if (ps->tok.kind == T_LPAREN) { /* an aggregate of a scalar: min(val_loss) */
		size_t agg = 0;
		while (agg < sizeof aggregates / sizeof *aggregates && strcasecmp(aggregates[agg], name))
			agg++;
		if (agg == sizeof aggregates / sizeof *aggregates) {
			rc = syntax_error(ps, column, "unknown function '%s' (min, max, first, last, avg, count)", name);
		} else if (!(rc = next_token(ps)) && ps->tok.kind != T_WORD) {
			rc = expect_end_of(ps, "a scalar name");
		} else if (!rc) {
			const char *tag = !strncasecmp(ps->tok.text, "scalar.", 7) ? ps->tok.text + 7 : ps->tok.text;
			if (!(rc = scalar_sql(ps, o, aggregates[agg], tag)) && !(rc = next_token(ps)) && ps->tok.kind != T_RPAREN)
				rc = expect_end_of(ps, "')'");
			if (!rc)
				rc = next_token(ps);
		}
		free(name);
		return rc;
	}
	rc = name_sql(ps, o, name, column);
	free(name);
	return rc;
}

/* ---- dates ---- */

static int64_t local_midnight(int64_t now_ms, int days_back)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

static int64_t unit_ms(const char *unit)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"minute", 60000}, {"min", 60000}, {"hour", 3600000}, {"day", 86400000}, {"week", 604800000},
	             {"month", 2592000000}, {"year", 31536000000}};
	size_t len = strlen(unit);
	if (len > 1 && unit[len - 1] == 's')
		len--; /* hours, days */
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (strlen(units[i].name) == len && !strncasecmp(unit, units[i].name, len))
			return units[i].ms;
	return 0;
}

/* A date as the user writes it, in epoch ms; false when it is none. */
bool tally__query_parse_date(const char *text, int64_t now_ms, int64_t *out)
{
	char word[32] = "", unit[32] = "", ago[8] = "";
	long n = 1;
	int used = 0;
	if (!strcasecmp(text, "now")) {
		*out = now_ms;
		return true;
	}
	if (!strcasecmp(text, "today")) {
		*out = local_midnight(now_ms, 0);
		return true;
	}
	if (!strcasecmp(text, "yesterday")) {
		*out = local_midnight(now_ms, 1);
		return true;
	}
	/* last hour, last 3 days */
	if (sscanf(text, "%31s %ld %31s%n", word, &n, unit, &used) == 3 && !text[used] && !strcasecmp(word, "last") &&
	    n > 0 && unit_ms(unit) && n <= INT64_MAX / unit_ms(unit)) {
		*out = now_ms - n * unit_ms(unit);
		return true;
	}
	if (sscanf(text, "%31s %31s%n", word, unit, &used) == 2 && !text[used] && !strcasecmp(word, "last") &&
	    unit_ms(unit)) {
		*out = now_ms - unit_ms(unit);
		return true;
	}
	/* 3 days ago */
	if (sscanf(text, "%ld %31s %7s%n", &n, unit, ago, &used) == 3 && !text[used] && !strcasecmp(ago, "ago") &&
	    n >= 0 && unit_ms(unit) && n <= INT64_MAX / unit_ms(unit)) {
		*out = now_ms - n * unit_ms(unit);
		return true;
	}
	/* 2026-11-24, 2026-11-24T10:00[:00], 2026-11-24 10:00 — local time */
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	int y, mo, d, h = 0, mi = 0, s = 0;
	char sep;
	int k = sscanf(text, "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s);
	if (k == 3 || ((k == 6 || k == 7) && (sep == 'T' || sep == ' '))) {
		if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
			return false;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = s;
		tm.tm_isdst = -1;
		*out = (int64_t)mktime(&tm) * 1000;
		return true;
	}
	return false;
}

/* A string compared with started/stopped becomes its date; its bound text is replaced. */
static int as_date(parser *ps, operand *lit, size_t column)
{
	int64_t ms;
	if (!tally__query_parse_date(lit->text, ps->now_ms, &ms))
		return syntax_error(ps, column, "'%s' is not a date (2026-11-24, 2026-11-24T10:00, today, yesterday, "
		                                "'last hour', 'last 3 days', '2 weeks ago')", lit->text);
	/* the literal's parameter is the last one bound */
	tally_query_bind *b = &ps->q->binds[ps->q->n_binds - 1];
	free(b->text);
	*b = (tally_query_bind){TALLY_BIND_INT, ms, 0, NULL};
	return 0;
}

/* ---- tests and logic ---- */

/* A test of one flag or scalar: the runs whose row in its table passes `predicate` (over x.column). */
static void lookup_test(tally_buf *out, const tally_query *q, const operand *o, bool negate, const char *predicate)
{
	if (q->correlated)
		tally_buf_printf(out, "%sEXISTS (SELECT 1 FROM %s x WHERE x.rid = r.rid AND x.%s = ?%zu AND %s)",
		                 negate ? "NOT " : "", o->table, o->key, o->name_param, predicate);
	else
		tally_buf_printf(out, "r.rid %sIN (SELECT x.rid FROM %s x WHERE x.%s = ?%zu AND %s)", negate ? "NOT " : "",
		                 o->table, o->key, o->name_param, predicate);
}

/* "x.column" of a lookup operand, for the predicates above. */
static const char *column_of(const operand *o, char *buf, size_t size)
{
	snprintf(buf, size, "x.%s", o->column);
	return buf;
}

static int parse_expr(parser *ps, tally_buf *out);

static int parse_list(parser *ps, tally_buf *out)
{
	int rc;
	if (ps->tok.kind != T_LBRACKET)
		return expect_end_of(ps, "'[' to start a list");
	if ((rc = next_token(ps)))
		return rc;
	tally_buf_adds(out, "(");
	for (bool first = true; ps->tok.kind != T_RBRACKET; first = false) {
		if (!first) {
			if (ps->tok.kind != T_COMMA)
				return expect_end_of(ps, "',' or ']'");
			if ((rc = next_token(ps)))
				return rc;
		}
		operand item;
		size_t column = ps->tok.column;
		rc = parse_operand(ps, &item, true);
		if (!rc && !item.literal)
			rc = syntax_error(ps, column, "%s", "a list holds values, not names");
		if (!rc)
			tally_buf_printf(out, "%s%s", first ? "" : ", ", item.sql.ptr);
		operand_release(&item);
		if (rc)
			return rc;
	}
	tally_buf_adds(out, ")");
	return next_token(ps);
}

static int parse_test(parser *ps, tally_buf *out)
{
	int rc;
	if (ps->tok.kind == T_LPAREN) {
		if (++ps->depth > 100)
			return syntax_error(ps, ps->tok.column, "%s", "parentheses nested too deep");
		if ((rc = next_token(ps)))
			return rc;
		tally_buf_adds(out, "(");
		if ((rc = parse_expr(ps, out)))
			return rc;
		if (ps->tok.kind != T_RPAREN)
			return expect_end_of(ps, "')'");
		tally_buf_adds(out, ")");
		ps->depth--;
		return next_token(ps);
	}
	size_t column = ps->tok.column;
	operand left;
	if ((rc = parse_operand(ps, &left, false))) {
		operand_release(&left);
		return rc;
	}
	token *t = &ps->tok;
	operand right = OPERAND_INIT;
	if (t->kind == T_OP && !is_op(t, "~")) {
		const char *op = is_op(t, "==") ? "=" : is_op(t, "!=") ? "<>" : NULL;
		char op_text[4];
		snprintf(op_text, sizeof op_text, "%.*s", (int)t->len, t->start);
		size_t right_column = 0;
		if (!(rc = next_token(ps))) {
			right_column = ps->tok.column;
			rc = parse_operand(ps, &right, true);
		}
		if (!rc && left.kind == V_TAGS)
			rc = syntax_error(ps, column, "%s", "tags are tested with 'contains' (tags contains best)");
		if (!rc && left.kind == V_DATE_ATTR && right.kind == V_TEXT_LITERAL)
			rc = as_date(ps, &right, right_column);
		if (!rc && left.attribute && !strcmp(left.attribute, "status") && right.kind == V_TEXT_LITERAL && right.text &&
		    (!strcmp(op_text, "=") || !strcmp(op_text, "==") || !strcmp(op_text, "!=")))
			check_status_value(ps, right.text);
		if (!rc && left.table && right.literal) {
			char col[40], pred[600];
			snprintf(pred, sizeof pred, "%s %s %s", column_of(&left, col, sizeof col), op ? op : op_text, right.sql.ptr);
			lookup_test(out, ps->q, &left, false, pred);
		} else if (!rc) {
			tally_buf_printf(out, "COALESCE(%s %s %s, 0)", left.sql.ptr, op ? op : op_text, right.sql.ptr);
		}
	} else if (is_op(t, "~")) {
		if (!(rc = next_token(ps)))
			rc = parse_operand(ps, &right, true);
		if (!rc && right.kind != V_TEXT_LITERAL)
			rc = syntax_error(ps, column, "%s", "'~' takes a regular expression in quotes");
		if (!rc) {
			int err;
			PCRE2_SIZE at;
			pcre2_code *code = pcre2_compile((PCRE2_SPTR)right.text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &at, NULL);
			if (!code) {
				PCRE2_UCHAR why[120];
				pcre2_get_error_message(err, why, sizeof why);
				rc = syntax_error(ps, column, "bad regular expression: %s", (const char *)why);
			}
			pcre2_code_free(code);
		}
		if (!rc && left.kind == V_TAGS) {
			tally_buf_printf(out, "EXISTS(SELECT 1 FROM tags t WHERE t.rid = r.rid AND tally_regexp(%s, t.tag))",
			                 right.sql.ptr);
		} else if (!rc && left.table) {
			char col[40], pred[600];
			snprintf(pred, sizeof pred, "tally_regexp(%s, %s)", right.sql.ptr, column_of(&left, col, sizeof col));
			lookup_test(out, ps->q, &left, false, pred);
		} else if (!rc) {
			tally_buf_printf(out, "COALESCE(tally_regexp(%s, %s), 0)", right.sql.ptr, left.sql.ptr);
		}
	} else if (is_keyword(t, "contains")) {
		if (!(rc = next_token(ps)))
			rc = parse_operand(ps, &right, true);
		if (!rc && left.kind == V_TAGS) {
			tally_buf_printf(out, ps->q->correlated ? "EXISTS (SELECT 1 FROM tags t WHERE t.rid = r.rid AND t.tag = %s)"
			                                        : "r.rid IN (SELECT t.rid FROM tags t WHERE t.tag = %s)",
			                 right.sql.ptr);
		} else if (!rc && left.table && right.literal) {
			char col[40], pred[600];
			snprintf(pred, sizeof pred, "instr(%s, %s) > 0", column_of(&left, col, sizeof col), right.sql.ptr);
			lookup_test(out, ps->q, &left, false, pred);
		} else if (!rc) {
			tally_buf_printf(out, "COALESCE(instr(%s, %s) > 0, 0)", left.sql.ptr, right.sql.ptr);
		}
	} else if (is_keyword(t, "in") || is_keyword(t, "not")) {
		bool negate = is_keyword(t, "not");
		if (!(rc = next_token(ps)) && negate && !is_keyword(&ps->tok, "in"))
			rc = expect_end_of(ps, "'in' after 'not'");
		if (!rc && negate)
			rc = next_token(ps);
		if (!rc && left.kind == V_TAGS) {
			tally_buf list = TALLY_BUF_INIT;
			if (!(rc = parse_list(ps, &list)))
				tally_buf_printf(out, "%sEXISTS(SELECT 1 FROM tags t WHERE t.rid = r.rid AND t.tag IN %s)",
				                 negate ? "NOT " : "", list.ptr);
			tally_buf_release(&list);
		} else if (!rc) {
			tally_buf list = TALLY_BUF_INIT;
			if (!(rc = parse_list(ps, &list)) && left.table) {
				char col[40];
				tally_buf pred = TALLY_BUF_INIT;
				tally_buf_printf(&pred, "%s %sIN %s", column_of(&left, col, sizeof col), negate ? "NOT " : "", list.ptr);
				lookup_test(out, ps->q, &left, false, pred.ptr);
				tally_buf_release(&pred);
			} else if (!rc) {
				tally_buf_printf(out, "COALESCE(%s %sIN %s, 0)", left.sql.ptr, negate ? "NOT " : "", list.ptr);
			}
			tally_buf_release(&list);
		}
	} else if (is_keyword(t, "is")) {
		bool negate = false;
		if (!(rc = next_token(ps)) && is_keyword(&ps->tok, "not")) {
			negate = true;
			rc = next_token(ps);
		}
		if (!rc && !is_keyword(&ps->tok, "missing"))
			rc = expect_end_of(ps, "'missing'");
		if (!rc)
			rc = next_token(ps);
		if (!rc && left.kind == V_TAGS) {
			tally_buf_printf(out, "%sEXISTS(SELECT 1 FROM tags t WHERE t.rid = r.rid)", negate ? "" : "NOT ");
		} else if (!rc && left.table) {
			char col[40], pred[80];
			snprintf(pred, sizeof pred, "%s IS NOT NULL", column_of(&left, col, sizeof col));
			lookup_test(out, ps->q, &left, !negate, pred);
		} else if (!rc) {
			tally_buf_printf(out, "(%s IS %sNULL)", left.sql.ptr, negate ? "NOT " : "");
		}
	} else if (left.literal) {
		rc = expect_end_of(ps, "a comparison");
	} else {
		/* a name alone: true when it is there and not 0/false/empty (`--where marked`) */
		if (left.table) {
			char col[40], pred[80];
			snprintf(pred, sizeof pred, "%s NOT IN (0, '')", column_of(&left, col, sizeof col));
			lookup_test(out, ps->q, &left, false, pred);
		} else {
			tally_buf_printf(out, "COALESCE(%s NOT IN (0, ''), 0)", left.sql.ptr);
		}
	}
	operand_release(&left);
	operand_release(&right);
	return rc;
}

static int parse_not(parser *ps, tally_buf *out)
{
	if (is_keyword(&ps->tok, "not")) {
		int rc = next_token(ps);
		if (rc)
			return rc;
		if (++ps->depth > 100)
			return syntax_error(ps, ps->tok.column, "%s", "'not' nested too deep");
		tally_buf_adds(out, "NOT ");
		rc = parse_not(ps, out);
		ps->depth--;
		return rc;
	}
	return parse_test(ps, out);
}

static int parse_and(parser *ps, tally_buf *out)
{
	int rc = parse_not(ps, out);
	while (!rc && is_keyword(&ps->tok, "and")) {
		tally_buf_adds(out, " AND ");
		if (!(rc = next_token(ps)))
			rc = parse_not(ps, out);
	}
	return rc;
}

static int parse_expr(parser *ps, tally_buf *out)
{
	int rc = parse_and(ps, out);
	while (!rc && is_keyword(&ps->tok, "or")) {
		tally_buf_adds(out, " OR ");
		if (!(rc = next_token(ps)))
			rc = parse_and(ps, out);
	}
	return rc;
}

/* ---- entry points ---- */

void tally__query_release(tally_query *q)
{
	for (size_t i = 0; i < q->n_binds; i++)
		free(q->binds[i].text);
	free(q->binds);
	tally_buf_release(&q->where);
	tally_buf_release(&q->order);
	tally_buf_release(&q->warnings);
	memset(q, 0, sizeof *q);
}

int tally__query_where(tally_query *q, const char *expr)
{
	parser ps = {expr, "--where", expr, {0}, q, tally_now_ms(), 0};
	tally_buf clause = TALLY_BUF_INIT;
	int rc = next_token(&ps);
	if (!rc && ps.tok.kind == T_END)
		rc = syntax_error(&ps, 1, "%s", "the expression is empty");
	if (!rc)
		rc = parse_expr(&ps, &clause);
	if (!rc && ps.tok.kind != T_END)
		rc = expect_end_of(&ps, "'and', 'or' or the end");
	if (!rc) {
		tally_buf_printf(&q->where, "%s(%s)", q->where.len ? " AND " : "", clause.ptr);
		if (tally_buf_oom(&q->where))
			rc = tally__error_oom();
	}
	free(ps.tok.text);
	tally_buf_release(&clause);
	return rc;
}

int tally__query_sort(tally_query *q, const char *keys)
{
	parser ps = {keys, "--sort", keys, {0}, q, tally_now_ms(), 0};
	int rc = next_token(&ps);
	if (!rc && ps.tok.kind == T_END)
		rc = syntax_error(&ps, 1, "%s", "no sort key");
	while (!rc && ps.tok.kind != T_END) {
		bool descending = ps.tok.kind == T_MINUS; /* -val_acc: largest first */
		if (descending && (rc = next_token(&ps)))
			break;
		operand key;
		rc = parse_operand(&ps, &key, false);
		if (!rc && (key.literal || key.kind == V_TAGS))
			rc = syntax_error(&ps, ps.tok.column, "%s", "a sort key is a run attribute, a flag or a scalar");
		bool first = !q->order.len;
		if (!rc)
			tally_buf_printf(&q->order, "%s%s IS NULL, %s %s", q->order.len ? ", " : "", key.sql.ptr, key.sql.ptr,
			                 descending ? "DESC" : "ASC");
		/* a flag's value or a scalar's last value: its index (flags_by_name, scalars_by_tag) is in that order */
		if (!rc && first && key.table &&
		    (!strcmp(key.column, "value") || (!strcmp(key.table, "scalars") && !strcmp(key.column, "last")))) {
			q->drive.table = key.table;
			q->drive.key = key.key;
			q->drive.column = key.column;
			q->drive.name_param = key.name_param;
			q->drive.descending = descending;
			q->drive.rest_at = q->order.len;
		}
		operand_release(&key);
		if (!rc && ps.tok.kind == T_COMMA)
			rc = next_token(&ps);
		else if (!rc && ps.tok.kind != T_END)
			rc = expect_end_of(&ps, "',' or the end");
	}
	free(ps.tok.text);
	return rc;
}

/* ---- tally_regexp(pattern, text) for '~' ---- */

static void free_code(void *code)
{
	pcre2_code_free((pcre2_code *)code);
}

static void sql_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const unsigned char *text = sqlite3_value_text(argv[1]);
	if (!text) {
		sqlite3_result_null(ctx);
		return;
	}
	/* compiled once per statement: SQLite keeps it with the (constant) pattern argument */
	pcre2_code *code = sqlite3_get_auxdata(ctx, 0);
	if (!code) {
		const unsigned char *pattern = sqlite3_value_text(argv[0]);
		int err;
		PCRE2_SIZE at;
		code = pattern ? pcre2_compile(pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &at,
		                               NULL)
		               : NULL;
		if (!code) {
			sqlite3_result_error(ctx, "invalid regular expression in '~'", -1);
			return;
		}
		sqlite3_set_auxdata(ctx, 0, code, free_code);
		code = sqlite3_get_auxdata(ctx, 0);
		if (!code) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	if (!md) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	int rc = pcre2_match(code, text, (PCRE2_SIZE)sqlite3_value_bytes(argv[1]), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	sqlite3_result_int(ctx, rc >= 0);
}

int tally__query_register_functions(sqlite3 *db)
{
	return sqlite3_create_function(db, "tally_regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_regexp, NULL,
	                               NULL) == SQLITE_OK ? 0 : tally__error(TALLY_ERROR, "cannot set up the index: %s",
	                                                                     sqlite3_errmsg(db));
}

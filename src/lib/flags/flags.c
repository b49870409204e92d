/*
 * Flags: NAME=VALUE assignments from the command line, typed the way YAML
 * types a scalar (so `1e-3` is a float, `true` a bool, `"007"` a string).
 * libyaml does the tokenizing — quotes and escapes — and the plain scalars
 * are resolved with YAML 1.2's core schema.
 */
#include "lib/flags/flags.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static bool valid_flag_name(const char *name, size_t len)
{
	if (!len || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)name[i]) || strchr("_.-", name[i])))
			return false;
	return true;
}

static bool matches_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool matches_float(const char *s)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF"))
		return true;
	if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN")))
		return true;
	bool digits = false;
	while (isdigit((unsigned char)*p))
		p++, digits = true;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static double parse_float(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+');
	if (*p == '.' && (p[1] == 'i' || p[1] == 'I'))
		return *s == '-' ? -HUGE_VAL : HUGE_VAL;
	if (*p == '.' && (p[1] == 'n' || p[1] == 'N'))
		return (double)NAN;
	return strtod(s, NULL);
}

/* Resolve a plain (unquoted) YAML scalar to a type. */
static void resolve_plain(tally_flag *out, const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
	    !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		out->type = TALLY_FLAG_BOOL;
		out->b = s[0] == 't' || s[0] == 'T';
	} else if (!strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL") || !strcmp(s, "~")) {
		out->type = TALLY_FLAG_NULL;
	} else if (matches_int(s)) {
		errno = 0;
		long long v = strtoll(s, NULL, 10);
		if (errno == ERANGE) {
			out->type = TALLY_FLAG_FLOAT;
			out->f = strtod(s, NULL);
		} else {
			out->type = TALLY_FLAG_INT;
			out->i = v;
		}
	} else if (matches_float(s)) {
		out->type = TALLY_FLAG_FLOAT;
		out->f = parse_float(s);
	} else {
		out->type = TALLY_FLAG_STRING;
	}
}

/* Whether a plain scalar's value is all of `text` (but the blanks around it). */
static bool covers_input(const char *value, const char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	return strlen(value) == n && !memcmp(value, text, n);
}

static int parse_list_value(tally_flag *out, const char *text);

int tally__flag_parse_value(tally_flag *out, const char *text)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0;
	bool got_scalar = false, plain = false;

	/* libyaml would take a leading byte-order mark as an encoding switch. */
	if (!tally_utf8_valid(text) || !strncmp(text, "\xEF\xBB\xBF", 3))
		return tally__error(TALLY_EINVALID, "value is not plain UTF-8 text — give it as UTF-8 without a byte-order mark");
	if (!yaml_parser_initialize(&parser))
		return tally__error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = tally__error(TALLY_EINVALID, "value '%s' is not valid YAML (%s) — quote it, e.g. name='\"%s\"'",
			                  text, parser.problem ? parser.problem : "syntax error", text);
			break;
		}
		yaml_event_type_t type = ev.type;
		if (type == YAML_SEQUENCE_START_EVENT && !got_scalar) { /* [128, 64]: a list value */
			yaml_event_delete(&ev);
			yaml_parser_delete(&parser);
			return parse_list_value(out, text);
		} else if (type == YAML_SEQUENCE_START_EVENT) {
			rc = tally__error(TALLY_EINVALID, "value '%s' is not a single value — quote it to pass a string", text);
		} else if (type == YAML_MAPPING_START_EVENT || (type == YAML_SCALAR_EVENT && got_scalar)) {
			rc = tally__error(TALLY_EINVALID, "value '%s' is not a single value — quote it to pass a string", text);
		} else if (type == YAML_SCALAR_EVENT) {
			got_scalar = true;
			free(out->text);
			out->text = strdup((const char *)ev.data.scalar.value);
			if (!out->text)
				rc = tally__error_oom();
			else if ((plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
				resolve_plain(out, out->text);
			else
				out->type = TALLY_FLAG_STRING;
		}
		yaml_event_delete(&ev);
		if (rc || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	if (!rc && (!got_scalar || (plain && !covers_input(out->text, text)))) {
		/* Nothing, or less than was typed, came out as a YAML scalar (a comment
		 * in `run #2`, an anchor in `&x`): the text as typed is the string. */
		free(out->text);
		if (!(out->text = strdup(text)))
			return tally__error_oom();
		out->type = TALLY_FLAG_STRING;
	}
	return rc;
}

int tally__flag_parse_assignment(tally_flag *out, const char *arg)
{
	memset(out, 0, sizeof *out);
	const char *eq = strchr(arg, '=');
	if (!eq)
		return tally__error(TALLY_EINVALID, "'%s' is not a flag assignment — write NAME=VALUE", arg);
	size_t len = (size_t)(eq - arg);
	if (!valid_flag_name(arg, len))
		return tally__error(TALLY_EINVALID, "invalid flag name '%.*s' — use letters, digits, '_', '-' or '.', starting with a letter",
		                    (int)len, arg);
	out->name = strndup(arg, len);
	if (!out->name)
		return tally__error_oom();
	int rc = tally__flag_parse_value(out, eq + 1);
	if (rc) {
		/* Name the flag in the message. */
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", tally_error_last());
		tally__error(rc, "flag %s: %s", out->name, msg);
		tally__flag_release(out);
	}
	return rc;
}

void tally__flag_release(tally_flag *flag)
{
	free(flag->name);
	free(flag->text);
	memset(flag, 0, sizeof *flag);
}

int tally__flag_list_set(tally_flag_list *list, tally_flag *flag)
{
	for (size_t i = 0; i < list->count; i++) {
		if (!strcmp(list->items[i].name, flag->name)) {
			tally__flag_release(&list->items[i]);
			list->items[i] = *flag;
			return 0;
		}
	}
	tally_flag *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
	if (!grown)
		return tally__error_oom();
	list->items = grown;
	list->items[list->count++] = *flag;
	return 0;
}

int tally__flag_list_append(tally_flag_list *list, tally_flag *flag)
{
	tally_flag *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
	if (!grown) {
		tally__flag_release(flag);
		return tally__error_oom();
	}
	list->items = grown;
	list->items[list->count++] = *flag;
	memset(flag, 0, sizeof *flag);
	return 0;
}

void tally__flag_list_release(tally_flag_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		tally__flag_release(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

const char *tally__flag_type_name(tally_flag_type type)
{
	switch (type) {
	case TALLY_FLAG_INT: return "int";
	case TALLY_FLAG_FLOAT: return "float";
	case TALLY_FLAG_BOOL: return "bool";
	case TALLY_FLAG_NULL: return "null";
	case TALLY_FLAG_LIST: return "list";
	case TALLY_FLAG_STRING: break;
	}
	return "string";
}

json_t *tally__flag_to_json(const tally_flag *flag)
{
	switch (flag->type) {
	case TALLY_FLAG_INT: return json_integer(flag->i);
	case TALLY_FLAG_FLOAT:
		/* JSON has no NaN or infinity: those stay as their YAML text. */
		return isfinite(flag->f) ? json_real(flag->f) : json_string(flag->text);
	case TALLY_FLAG_BOOL: return json_boolean(flag->b);
	case TALLY_FLAG_NULL: return json_null();
	case TALLY_FLAG_LIST: {
		json_t *list = flag->text ? json_loads(flag->text, 0, NULL) : NULL;
		return list ? list : json_array();
	}
	case TALLY_FLAG_STRING: break;
	}
	return json_string(flag->text);
}

char *tally__flag_env_name(const char *name)
{
	size_t len = strlen(name);
	char *env = malloc(len + 6);
	if (!env)
		return NULL;
	memcpy(env, "FLAG_", 5);
	for (size_t i = 0; i < len; i++)
		env[5 + i] = isalnum((unsigned char)name[i]) ? (char)toupper((unsigned char)name[i]) : '_';
	env[5 + len] = '\0';
	return env;
}

void tally__flag_json_text(tally_buf *out, json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_STRING: tally_buf_adds(out, json_string_value(value)); break;
	case JSON_INTEGER: tally_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(value)); break;
	case JSON_REAL: tally_buf_printf(out, "%.10g", json_real_value(value)); break;
	case JSON_TRUE: tally_buf_adds(out, "true"); break;
	case JSON_FALSE: tally_buf_adds(out, "false"); break;
	case JSON_NULL: tally_buf_adds(out, "null"); break;
	default: {
		char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s)
			tally_buf_adds(out, s);
		free(s);
	}
	}
}

/*
 * A YAML flow sequence of scalars, "[0.1, 0.3, 'a,b']", into typed values
 * (names left NULL): the lists of a sweep.  Nested lists and maps are errors.
 */
int tally__flag_parse_list(tally_flag_list *out, const char *text)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, depth = 0;
	bool ended = false;
	tally_flag_list inner = {NULL, 0};

	out->items = NULL;
	out->count = 0;
	if (!tally_utf8_valid(text) || !strncmp(text, "\xEF\xBB\xBF", 3))
		return tally__error(TALLY_EINVALID, "list '%s' is not plain UTF-8 text", text);
	if (!yaml_parser_initialize(&parser))
		return tally__error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	while (!rc) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = tally__error(TALLY_EINVALID, "list '%s' is not valid (%s) — write [a, b, c], quoting values "
			                  "that hold commas or brackets", text, parser.problem ? parser.problem : "syntax error");
			break;
		}
		yaml_event_type_t type = ev.type;
		if (type == YAML_SEQUENCE_START_EVENT && (ended || depth >= 2)) {
			rc = tally__error(TALLY_EINVALID, "list '%s' holds a list of lists — give single values or lists of them", text);
		} else if (type == YAML_SEQUENCE_START_EVENT && depth++ == 1) {
			inner = (tally_flag_list){NULL, 0};   /* an element that is a list */
		} else if (type == YAML_SEQUENCE_END_EVENT && depth == 2) {
			depth--;
			tally_flag v = {0};
			rc = inner.count ? tally__flag_make_list(&v, &inner)
			                 : tally__error(TALLY_EINVALID, "list '%s' holds an empty list", text);
			tally__flag_list_release(&inner);
			if (rc)
				tally__flag_release(&v);
			else
				rc = tally__flag_list_append(out, &v);
		} else if (type == YAML_SEQUENCE_END_EVENT) {
			depth--;
			ended = true;
		} else if (type == YAML_MAPPING_START_EVENT) {
			rc = tally__error(TALLY_EINVALID, "list '%s' holds a map — give single values", text);
		} else if (type == YAML_SCALAR_EVENT && depth != 1 && depth != 2) {
			rc = tally__error(TALLY_EINVALID, "'%s' is not a list — write [a, b, c]", text);
		} else if (type == YAML_SCALAR_EVENT) {
			tally_flag v = {0};
			v.text = strdup((const char *)ev.data.scalar.value);
			if (!v.text)
				rc = tally__error_oom();
			else if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				resolve_plain(&v, v.text);
			else
				v.type = TALLY_FLAG_STRING;
			if (rc)
				tally__flag_release(&v);
			else
				rc = tally__flag_list_append(depth == 2 ? &inner : out, &v);
		}
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	tally__flag_list_release(&inner);
	if (!rc && !ended)
		rc = tally__error(TALLY_EINVALID, "'%s' is not a list — write [a, b, c]", text);
	if (!rc && !out->count)
		rc = tally__error(TALLY_EINVALID, "list '%s' is empty — give at least one value", text);
	if (rc)
		tally__flag_list_release(out);
	return rc;
}

int tally__flag_make_list(tally_flag *out, const tally_flag_list *elements)
{
	for (size_t i = 0; i < elements->count; i++)
		if (elements->items[i].type == TALLY_FLAG_LIST)
			return tally__error(TALLY_EINVALID, "a list value holds single values, not lists");
	json_t *array = json_array();
	for (size_t i = 0; array && i < elements->count; i++)
		json_array_append_new(array, tally__flag_to_json(&elements->items[i]));
	char *text = array ? json_dumps(array, JSON_ENCODE_ANY | TALLY_JSON_REALS) : NULL;
	json_decref(array);
	if (!text)
		return tally__error_oom();
	free(out->text);
	out->text = text;
	out->type = TALLY_FLAG_LIST;
	return 0;
}

int tally__flag_list_elements(const tally_flag *list, tally_flag_list *out)
{
	return tally__flag_parse_list(out, list->text ? list->text : "[]");
}

/* "[128, 64]" as one value: a list of single values. */
static int parse_list_value(tally_flag *out, const char *text)
{
	tally_flag_list elements;
	int rc = tally__flag_parse_list(&elements, text);
	if (!rc && (rc = tally__flag_make_list(out, &elements))) /* [[1], [2]] is a sweep's, not a value */
		tally__error(rc, "value '%s' holds a list — a flag's list holds single values", text);
	tally__flag_list_release(&elements);
	return rc;
}

/* NAME=VALUE text that tally__flag_parse_assignment() reads back as `value`. */
void tally__flag_assignment_text(tally_buf *out, const char *name, json_t *value)
{
	tally_buf_printf(out, "%s=", name);
	if (json_is_string(value)) { /* single-quoted YAML: only ' is escaped, as '' */
		tally_buf_addc(out, '\'');
		for (const char *p = json_string_value(value); *p; p++) {
			if (*p == '\'')
				tally_buf_addc(out, '\'');
			tally_buf_addc(out, *p);
		}
		tally_buf_addc(out, '\'');
	} else if (json_is_real(value)) {
		char text[40];
		tally_format_double(text, sizeof text, json_real_value(value));
		tally_buf_adds(out, text);
		if (!strpbrk(text, ".eEn")) /* 3.0 stays a float */
			tally_buf_adds(out, ".0");
	} else {
		tally__flag_json_text(out, value);
	}
}

int tally_flag_assignment(char **out, const char *name, const char *json_value)
{
	*out = NULL;
	json_t *v = json_loads(json_value, JSON_DECODE_ANY, NULL);
	if (!v || json_is_object(v)) {
		json_decref(v);
		return tally__error(TALLY_EINVALID, "flag %s: '%s' is not a single JSON value or a list", name, json_value);
	}
	tally_buf text = TALLY_BUF_INIT;
	tally__flag_assignment_text(&text, name, v);
	json_decref(v);
	if (tally_buf_oom(&text)) {
		tally_buf_release(&text);
		return tally__error_oom();
	}
	*out = text.ptr; /* the buffer's string, handed over */
	return 0;
}

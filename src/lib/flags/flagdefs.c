/*
 * Flag values against their definitions: coercion to the declared type,
 * min/max/choices, and resolution in tfruns' order of precedence —
 * defaults < flags file < command line.
 */
#include "lib/flags/flagdefs.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "util/suggest.h"

/* ---- the model ---- */

void tally__flagdef_release(tally_flagdef *def)
{
	free(def->name);
	tally__flag_release(&def->def);
	free(def->description);
	for (size_t i = 0; i < def->n_choices; i++)
		tally__flag_release(&def->choices[i]);
	free(def->choices);
	free(def->option);
	free(def->option_off);
	memset(def, 0, sizeof *def);
}

void tally__script_flags_release(tally_script_flags *sf)
{
	for (size_t i = 0; i < sf->n; i++)
		tally__flagdef_release(&sf->items[i]);
	free(sf->items);
	free(sf->dest_file);
	free(sf->language);
	free(sf->display);
	tally_strlist_release(&sf->src_exclude);
	tally_strlist_release(&sf->src_include);
	tally_strlist_release(&sf->output_patterns);
	tally_strlist_release(&sf->slurm_options);
	tally_script_flags empty = TALLY_SCRIPT_FLAGS_INIT;
	*sf = empty;
}

tally_flagdef *tally__flagdef_find(const tally_script_flags *sf, const char *name)
{
	for (size_t i = 0; i < sf->n; i++)
		if (!strcmp(sf->items[i].name, name))
			return &sf->items[i];
	return NULL;
}

tally_flagdef *tally__flagdef_add(tally_script_flags *sf, const char *name, size_t len)
{
	tally_flagdef *grown = realloc(sf->items, (sf->n + 1) * sizeof *grown);
	if (!grown)
		return NULL;
	sf->items = grown;
	tally_flagdef *def = &sf->items[sf->n];
	memset(def, 0, sizeof *def);
	def->type = TALLY_FLAG_NULL;
	if (!(def->name = strndup(name, len)))
		return NULL;
	sf->n++;
	return def;
}

tally_flagdef *tally__flagdef_add_global(tally_script_flags *sf, const char *name, size_t len, tally_flag *value,
                                         int line, size_t lit_off, size_t lit_len)
{
	tally_flagdef *def = tally__flagdef_add(sf, name, len);
	if (!def) {
		tally__flag_release(value);
		return NULL;
	}
	def->def = *value;
	memset(value, 0, sizeof *value);
	def->has_default = true;
	def->script_default = true;
	def->type = def->def.type;
	def->line = line;
	def->lit_off = lit_off;
	def->lit_len = lit_len;
	return def;
}

void tally__script_flags_take_items(tally_script_flags *to, tally_script_flags *from)
{
	for (size_t i = 0; i < to->n; i++)
		tally__flagdef_release(&to->items[i]);
	free(to->items);
	to->items = from->items;
	to->n = from->n;
	from->items = NULL;
	from->n = 0;
}

/* ---- checking one value ---- */

static const char *where(const tally_flagdef *def, const char *display, char *buf, size_t size)
{
	if (def->line > 0)
		snprintf(buf, size, " (%s line %d)", display, def->line);
	else
		snprintf(buf, size, " (%s)", display);
	return buf;
}

static bool bool_word(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "y", "on", "1"};
	static const char *const no[] = {"false", "no", "n", "off", "0"};
	for (size_t i = 0; i < 5; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = true, true;
		if (!strcasecmp(s, no[i]))
			return *out = false, true;
	}
	return false;
}

static void set_text(tally_flag *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_text(tally_flag *v, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *copy = strdup(buf);
	if (copy) {
		free(v->text);
		v->text = copy;
	}
}

/* Coerce to `type`; false when the value cannot be one. */
static bool coerce(tally_flag *v, tally_flag_type type)
{
	if (type == TALLY_FLAG_NULL || v->type == type)
		return true;
	switch (type) {
	case TALLY_FLAG_FLOAT:
		if (v->type != TALLY_FLAG_INT)
			return false;
		v->f = (double)v->i;
		v->type = TALLY_FLAG_FLOAT;
		return true;
	case TALLY_FLAG_INT:
		/* 1e3 for an integer flag is 1000; 1.5 is an error */
		if (v->type != TALLY_FLAG_FLOAT || !isfinite(v->f) || v->f != floor(v->f) || fabs(v->f) > 9e15)
			return false;
		v->i = (int64_t)v->f;
		v->type = TALLY_FLAG_INT;
		set_text(v, "%lld", (long long)v->i);
		return true;
	case TALLY_FLAG_BOOL: {
		bool b;
		if (!v->text || !bool_word(v->text, &b))
			return false;
		v->b = b;
		v->type = TALLY_FLAG_BOOL;
		set_text(v, "%s", b ? "true" : "false");
		return true;
	}
	case TALLY_FLAG_STRING:
		/* The text as typed: `007` stays "007" for a string flag. */
		v->type = TALLY_FLAG_STRING;
		return v->text != NULL;
	case TALLY_FLAG_NULL:
	case TALLY_FLAG_LIST: break;
	}
	return false;
}

static double numeric(const tally_flag *v)
{
	return v->type == TALLY_FLAG_INT ? (double)v->i : v->f;
}

static bool same_value(const tally_flag *a, const tally_flag *b)
{
	bool an = a->type == TALLY_FLAG_INT || a->type == TALLY_FLAG_FLOAT;
	bool bn = b->type == TALLY_FLAG_INT || b->type == TALLY_FLAG_FLOAT;
	if (an && bn)
		return numeric(a) == numeric(b);
	if (a->type != b->type)
		return a->text && b->text && !strcmp(a->text, b->text) && (a->type == TALLY_FLAG_STRING || b->type == TALLY_FLAG_STRING);
	if (a->type == TALLY_FLAG_BOOL)
		return a->b == b->b;
	if (a->type == TALLY_FLAG_NULL)
		return true;
	return a->text && b->text && !strcmp(a->text, b->text);
}

static void choices_text(tally_buf *out, const tally_flagdef *def)
{
	for (size_t i = 0; i < def->n_choices; i++)
		tally_buf_printf(out, "%s%s", i ? ", " : "", def->choices[i].text ? def->choices[i].text : "null");
}

static int check_single(tally_flag *value, const tally_flagdef *def, const char *display);

/* The elements a value of a list flag gives: a list's own; the words of a
 * text ("128 64", "128,64"), each typed as NAME=VALUE types it; else the
 * value alone. */
static int list_elements_of(const tally_flag *value, const tally_flagdef *def, tally_flag_list *out)
{
	if (value->type == TALLY_FLAG_LIST)
		return tally__flag_list_elements(value, out);
	*out = (tally_flag_list){NULL, 0};
	const char *text = value->text ? value->text : "";
	int rc = 0;
	if (value->type != TALLY_FLAG_STRING || !strpbrk(text, " \t,")) {
		tally_flag element = *value;
		element.name = NULL;
		element.text = value->text ? strdup(value->text) : NULL;
		return value->text && !element.text ? tally__error_oom() : tally__flag_list_append(out, &element);
	}
	for (const char *p = text + strspn(text, " \t,"); !rc && *p; p += strspn(p, " \t,")) {
		size_t len = strcspn(p, " \t,");
		char *word = strndup(p, len);
		tally_flag element = {0};
		rc = word ? tally__flag_parse_value(&element, word) : tally__error_oom();
		free(word);
		rc = rc ? (tally__flag_release(&element), rc) : tally__flag_list_append(out, &element);
		p += len;
	}
	if (!rc && !out->count)
		rc = tally__error(TALLY_EINVALID, "flag %s: an empty list", def->name);
	return rc;
}

int tally__flag_check(tally_flag *value, const tally_flagdef *def, const char *display)
{
	char loc[512];
	if (value->type == TALLY_FLAG_LIST && !def->list)
		return tally__error(TALLY_EINVALID, "flag %s=%s takes one value, not a list%s", def->name, value->text,
		                    where(def, display, loc, sizeof loc));
	if (!def->list)
		return check_single(value, def, display);
	/* a list flag: each element checked as a single value, the list rebuilt from them */
	tally_flag_list elements;
	int rc = list_elements_of(value, def, &elements);
	for (size_t i = 0; !rc && i < elements.count; i++) {
		tally_flag *e = &elements.items[i];
		if (e->type == TALLY_FLAG_LIST)
			rc = tally__error(TALLY_EINVALID, "flag %s=%s holds a list — give single values%s", def->name,
			                  value->text, where(def, display, loc, sizeof loc));
		else
			rc = check_single(e, def, display);
	}
	if (!rc)
		rc = tally__flag_make_list(value, &elements);
	tally__flag_list_release(&elements);
	return rc;
}

static int check_single(tally_flag *value, const tally_flagdef *def, const char *display)
{
	char loc[512];
	/* A type guessed from a literal (`decay <- 0`) is a hint: an int default
	 * takes 0.01 too (1e2 still becomes 100). */
	bool widened = !def->type_declared && def->type == TALLY_FLAG_INT && value->type == TALLY_FLAG_FLOAT &&
	               !coerce(value, TALLY_FLAG_INT);
	if (!widened && !coerce(value, def->type))
		return tally__error(TALLY_EINVALID, "flag %s=%s is not %s %s%s", def->name, value->text ? value->text : "null",
		                    def->type == TALLY_FLAG_INT ? "an" : "a",
		                    def->type == TALLY_FLAG_BOOL ? "boolean (true/false)" : tally__flag_type_name(def->type),
		                    where(def, display, loc, sizeof loc));
	bool num = value->type == TALLY_FLAG_INT || value->type == TALLY_FLAG_FLOAT;
	if (num && def->has_min && numeric(value) < def->min)
		return tally__error(TALLY_EINVALID, "flag %s=%s is below its minimum %.15g%s", def->name, value->text, def->min,
		                    where(def, display, loc, sizeof loc));
	if (num && def->has_max && numeric(value) > def->max)
		return tally__error(TALLY_EINVALID, "flag %s=%s is above its maximum %.15g%s", def->name, value->text, def->max,
		                    where(def, display, loc, sizeof loc));
	if (def->n_choices) {
		for (size_t i = 0; i < def->n_choices; i++)
			if (same_value(value, &def->choices[i]))
				return 0;
		tally_buf list = TALLY_BUF_INIT;
		choices_text(&list, def);
		int rc = tally__error(TALLY_EINVALID, "flag %s=%s is not one of %s%s", def->name, value->text ? value->text : "null",
		                      list.ptr ? list.ptr : "", where(def, display, loc, sizeof loc));
		tally_buf_release(&list);
		return rc;
	}
	return 0;
}

/* ---- resolving ---- */

const char *tally__flag_origin_name(tally_flag_origin origin)
{
	switch (origin) {
	case TALLY_FROM_FILE: return "flags file";
	case TALLY_FROM_COMMAND_LINE: return "command line";
	case TALLY_FROM_DEFAULT: break;
	}
	return "default";
}

void tally__resolved_flags_release(tally_resolved_flags *r)
{
	tally__flag_list_release(&r->values);
	free(r->origins);
	r->origins = NULL;
	free(r->as_default);
	r->as_default = NULL;
}

static int copy_flag(tally_flag *out, const tally_flag *in, const char *name)
{
	*out = *in;
	out->name = strdup(name);
	out->text = in->text ? strdup(in->text) : NULL;
	if (!out->name || (in->text && !out->text)) {
		tally__flag_release(out);
		return tally__error_oom();
	}
	return 0;
}

/* Set `name` in `r` (replacing an earlier value) with its origin. */
static int put(tally_resolved_flags *r, const tally_flag *value, const char *name, tally_flag_origin origin)
{
	tally_flag f;
	int rc = copy_flag(&f, value, name);
	if (rc)
		return rc;
	size_t before = r->values.count;
	size_t at = before;
	for (size_t i = 0; i < before; i++)
		if (!strcmp(r->values.items[i].name, name))
			at = i;
	if ((rc = tally__flag_list_set(&r->values, &f))) {
		tally__flag_release(&f);
		return rc;
	}
	if (at == before) {
		tally_flag_origin *grown = realloc(r->origins, r->values.count * sizeof *grown);
		if (!grown)
			return tally__error_oom();
		r->origins = grown;
	}
	r->origins[at] = origin;
	return 0;
}

static int undeclared(const tally_script_flags *sf, const char *name)
{
	tally_buf names = TALLY_BUF_INIT;
	for (size_t i = 0; i < sf->n && i < 12; i++)
		tally_buf_printf(&names, "%s%s", i ? ", " : "", sf->items[i].name);
	if (sf->n > 12)
		tally_buf_adds(&names, ", …");
	int rc = tally__error(TALLY_EINVALID, "%s has no flag '%s' — its flags are %s; --force-flags passes it anyway",
	                      sf->display ? sf->display : "the script", name, names.ptr ? names.ptr : "none");
	tally_buf_release(&names);
	return rc;
}

const tally_flagdef *tally__flagdef_find_spelled(const tally_script_flags *sf, const char *name, size_t len)
{
	for (size_t i = 0; i < sf->n; i++) /* the exact name first */
		if (strlen(sf->items[i].name) == len && !strncmp(sf->items[i].name, name, len))
			return &sf->items[i];
	for (size_t i = 0; i < sf->n; i++)
		if (tally_same_flag_name(sf->items[i].name, name, len))
			return &sf->items[i];
	return NULL;
}

/* Apply one layer of values (file or command line). */
static int apply_layer(tally_resolved_flags *r, const tally_script_flags *sf, const tally_flag_list *layer,
                       tally_flag_origin origin, bool force)
{
	for (size_t i = 0; layer && i < layer->count; i++) {
		const tally_flag *given = &layer->items[i];
		const tally_flagdef *def = tally__flagdef_find_spelled(sf, given->name, strlen(given->name));
		if (!def && sf->declared && !force)
			return undeclared(sf, given->name);
		const char *name = def ? def->name : given->name;
		tally_flag v;
		int rc = copy_flag(&v, given, name);
		if (!rc && def)
			rc = tally__flag_check(&v, def, sf->display ? sf->display : "the script");
		if (!rc)
			rc = put(r, &v, name, origin);
		tally__flag_release(&v);
		if (rc)
			return rc;
	}
	return 0;
}

int tally__flags_resolve(tally_resolved_flags *out, const tally_script_flags *sf, const tally_flag_list *file_values,
                         const tally_flag_list *given, bool force)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	for (size_t i = 0; i < sf->n && !rc; i++)
		if (sf->items[i].has_default)
			rc = put(out, &sf->items[i].def, sf->items[i].name, TALLY_FROM_DEFAULT);
	if (!rc)
		rc = apply_layer(out, sf, file_values, TALLY_FROM_FILE, force);
	if (!rc)
		rc = apply_layer(out, sf, given, TALLY_FROM_COMMAND_LINE, force);
	if (!rc && !(out->as_default = calloc(out->values.count ? out->values.count : 1, sizeof *out->as_default)))
		rc = tally__error_oom();
	for (size_t i = 0; !rc && i < out->values.count; i++) {
		const tally_flagdef *def = tally__flagdef_find(sf, out->values.items[i].name);
		out->as_default[i] = out->origins[i] != TALLY_FROM_DEFAULT && def && def->has_default &&
		                     same_value(&out->values.items[i], &def->def);
	}
	for (size_t i = 0; i < sf->n && !rc; i++) {
		const tally_flagdef *def = &sf->items[i];
		bool have = false;
		for (size_t k = 0; k < out->values.count; k++)
			have = have || !strcmp(out->values.items[k].name, def->name);
		if (def->required && !have)
			rc = tally__error(TALLY_EINVALID, "flag %s is required — give it as %s=VALUE", def->name, def->name);
	}
	if (rc)
		tally__resolved_flags_release(out);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *tally__flags_default_label(const tally_resolved_flags *r)
{
	const char **names = calloc(r->values.count + 1, sizeof *names);
	size_t n = 0;
	for (size_t i = 0; names && i < r->values.count; i++)
		if (r->origins[i] != TALLY_FROM_DEFAULT && !(r->as_default && r->as_default[i]))
			names[n++] = r->values.items[i].name;
	if (!names)
		return NULL;
	qsort(names, n, sizeof *names, by_name);
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_adds(&out, "");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < r->values.count; k++)
			if (r->values.items[k].name == names[i])
				tally_buf_printf(&out, "%s%s=%s", i ? " " : "", names[i],
				                 r->values.items[k].text ? r->values.items[k].text : "null");
	free(names);
	if (tally_buf_oom(&out)) {
		tally_buf_release(&out);
		return NULL;
	}
	return tally_buf_detach(&out);
}

/* ---- flags files ---- */

static int yaml_file_error(const char *path, const yaml_parser_t *p)
{
	return tally__error(TALLY_EINVALID, "%s line %lu column %lu: %s — fix the YAML", path,
	                    (unsigned long)p->problem_mark.line + 1, (unsigned long)p->problem_mark.column + 1,
	                    p->problem ? p->problem : "syntax error");
}

static const char *scalar(yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

/* A scalar node as a typed flag value (quoted scalars are strings). */
/* A YAML sequence of single values as a list value (flags files, `#|` defaults). */
static int list_from_yaml_node(tally_flag *out, yaml_document_t *doc, yaml_node_t *node)
{
	tally_flag_list elements = {NULL, 0};
	int rc = 0;
	for (yaml_node_item_t *it = node->data.sequence.items.start; !rc && it < node->data.sequence.items.top; it++) {
		tally_flag e;
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!item || item->type != YAML_SCALAR_NODE)
			rc = tally__error(TALLY_EINVALID, "a list value holds single values, not lists or maps");
		else if (!(rc = tally__flag_from_yaml_node(&e, item)))
			rc = tally__flag_list_append(&elements, &e);
	}
	if (!rc && !elements.count)
		rc = tally__error(TALLY_EINVALID, "a list value cannot be empty");
	if (!rc)
		rc = tally__flag_make_list(out, &elements);
	tally__flag_list_release(&elements);
	return rc;
}

int tally__flag_from_yaml(tally_flag *out, yaml_document_t *doc, yaml_node_t *node)
{
	if (node && node->type == YAML_SEQUENCE_NODE) {
		memset(out, 0, sizeof *out);
		return list_from_yaml_node(out, doc, node);
	}
	return tally__flag_from_yaml_node(out, node);
}

int tally__flag_from_yaml_node(tally_flag *out, yaml_node_t *node)
{
	memset(out, 0, sizeof *out);
	if (!node || node->type != YAML_SCALAR_NODE)
		return tally__error(TALLY_EINVALID, "a flag value must be a single value");
	const char *text = scalar(node);
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		out->type = TALLY_FLAG_STRING;
		return (out->text = strdup(text)) ? 0 : tally__error_oom();
	}
	return tally__flag_parse_value(out, text);
}

/* The map holding the flags: the whole document, or tfruns' config section. */
static yaml_node_t *flags_map(yaml_document_t *doc, yaml_node_t *root)
{
	const char *active = getenv("R_CONFIG_ACTIVE");
	if (!active || !*active)
		active = "default";
	bool all_maps = root->data.mapping.pairs.start != root->data.mapping.pairs.top;
	yaml_node_t *section = NULL;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		if (!v || v->type != YAML_MAPPING_NODE)
			all_maps = false;
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		if (k && !strcmp(k, active))
			section = v;
	}
	return all_maps ? section : root;
}

int tally__flags_file_load(tally_flag_list *out, const char *path)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "rb");
	if (!f)
		return tally__error_errno(TALLY_ENOTFOUND, "cannot read flags file '%s'", path);
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = 0;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return tally__error_oom();
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_file_error(path, &parser);
		yaml_parser_delete(&parser);
		fclose(f);
		return rc;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		yaml_node_t *map = flags_map(&doc, root);
		for (yaml_node_pair_t *p = map ? map->data.mapping.pairs.start : NULL; p && p < map->data.mapping.pairs.top && !rc; p++) {
			const char *name = scalar(yaml_document_get_node(&doc, p->key));
			tally_flag flag;
			if (!name) {
				rc = tally__error(TALLY_EINVALID, "%s: flag names must be plain text", path);
				break;
			}
			if ((rc = tally__flag_from_yaml(&flag, &doc, yaml_document_get_node(&doc, p->value)))) {
				char msg[512];
				snprintf(msg, sizeof msg, "%s", tally_error_last());
				rc = tally__error(rc, "%s line %lu: flag %s: %s", path,
				                  (unsigned long)yaml_document_get_node(&doc, p->value)->start_mark.line + 1, name, msg);
				break;
			}
			if (!(flag.name = strdup(name)) || (rc = tally__flag_list_set(out, &flag))) {
				tally__flag_release(&flag);
				rc = rc ? rc : tally__error_oom();
			}
		}
	} else if (root) {
		rc = tally__error(TALLY_EINVALID, "%s: expected a map of flag names to values", path);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc)
		tally__flag_list_release(out);
	return rc;
}

/* ---- templates: --label, tally.yml extra-args ---- */

int tally__template_expand(char **out, const char *tmpl, const tally_resolved_flags *r, const char *const *vars)
{
	*out = NULL;
	tally_buf b = TALLY_BUF_INIT;
	tally_buf_adds(&b, "");
	for (const char *p = tmpl; *p;) {
		const char *open = strstr(p, "${");
		if (!open) {
			tally_buf_adds(&b, p);
			break;
		}
		tally_buf_add(&b, p, (size_t)(open - p));
		const char *close = strchr(open + 2, '}');
		if (!close) {
			tally_buf_release(&b);
			return tally__error(TALLY_EINVALID, "template '%s' has an unclosed ${ — write ${NAME}", tmpl);
		}
		size_t n = (size_t)(close - open - 2);
		const char *value = NULL;
		for (const char *const *v = vars; v && v[0]; v += 2)
			if (strlen(v[0]) == n && !strncmp(v[0], open + 2, n))
				value = v[1];
		for (size_t i = 0; !value && r && i < r->values.count; i++)
			if (strlen(r->values.items[i].name) == n && !strncmp(r->values.items[i].name, open + 2, n))
				value = r->values.items[i].text ? r->values.items[i].text : "null";
		if (!value) {
			tally_buf names = TALLY_BUF_INIT;
			for (const char *const *v = vars; v && v[0]; v += 2)
				tally_buf_printf(&names, ", %s", v[0]);
			int rc = tally__error(TALLY_EINVALID, "template '%s': no flag or variable '%.*s' — use a flag's name%s",
			                      tmpl, (int)n, open + 2, names.ptr ? names.ptr : "");
			tally_buf_release(&names);
			tally_buf_release(&b);
			return rc;
		}
		tally_buf_adds(&b, value);
		p = close + 1;
	}
	if (tally_buf_oom(&b)) {
		tally_buf_release(&b);
		return tally__error_oom();
	}
	*out = tally_buf_detach(&b);
	return 0;
}

int tally__label_expand(char **out, const char *tmpl, const tally_resolved_flags *r)
{
	char *label = tally__flags_default_label(r);
	if (!label)
		return tally__error_oom();
	const char *vars[] = {"default_label", label, NULL, NULL};
	int rc = tally__template_expand(out, tmpl, r, vars);
	free(label);
	return rc;
}

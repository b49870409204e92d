/*
 * Detecting a script's flags: the language scanner for its extension, then
 * its `#|` annotations and front matter.  The result is cached by the
 * script's content (SHA-256) under the user's cache directory, so a repeat
 * run of an unchanged script reads one small JSON file.
 */
#include "lib/flags/flagdefs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "build-id.h"
#include "util/digest.h"
#include "util/fsutil.h"

#define MAX_SCRIPT_BYTES (8u << 20) /* larger scripts: no detection */

/* ---- the JSON form (cache, `tally flags --format json`) ---- */

static const char *arg_style_name(tally_arg_style s)
{
	return s == TALLY_ARG_STORE_TRUE ? "store_true" : s == TALLY_ARG_STORE_FALSE ? "store_false"
	     : s == TALLY_ARG_SWITCH ? "switch" : "value";
}

static json_t *value_json(const tally_flag *v)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(tally__flag_type_name(v->type)));
	json_object_set_new(o, "text", v->text ? json_string(v->text) : json_null());
	json_object_set_new(o, "value", tally__flag_to_json(v));
	return o;
}

static bool value_from_json(tally_flag *out, json_t *o)
{
	memset(out, 0, sizeof *out);
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *text = json_string_value(json_object_get(o, "text"));
	json_t *v = json_object_get(o, "value");
	if (!type || !v)
		return false;
	out->text = text ? strdup(text) : NULL;
	if (!strcmp(type, "int") && json_is_integer(v))
		out->type = TALLY_FLAG_INT, out->i = json_integer_value(v);
	else if (!strcmp(type, "float") && json_is_number(v))
		out->type = TALLY_FLAG_FLOAT, out->f = json_number_value(v);
	else if (!strcmp(type, "bool") && json_is_boolean(v))
		out->type = TALLY_FLAG_BOOL, out->b = json_is_true(v);
	else if (!strcmp(type, "null"))
		out->type = TALLY_FLAG_NULL;
	else if (!strcmp(type, "string") && text)
		out->type = TALLY_FLAG_STRING;
	else if (!strcmp(type, "list") && text && json_is_array(v))
		out->type = TALLY_FLAG_LIST;
	else
		return tally__flag_release(out), false;
	return true;
}

static json_t *strlist_json(const tally_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->items[i]));
	return a;
}

json_t *tally__script_flags_json(const tally_script_flags *sf)
{
	json_t *o = json_object(), *flags = json_array();
	json_object_set_new(o, "origin", sf->origin ? json_string(sf->origin) : json_null());
	json_object_set_new(o, "declared", json_boolean(sf->declared));
	json_object_set_new(o, "dest", json_string(tally__dest_name(sf)));
	json_object_set_new(o, "dest_explicit", json_boolean(sf->dest_explicit));
	json_object_set_new(o, "language", sf->language ? json_string(sf->language) : json_null());
	for (size_t i = 0; i < sf->n; i++) {
		const tally_flagdef *d = &sf->items[i];
		json_t *f = json_object();
		json_object_set_new(f, "name", json_string(d->name));
		json_object_set_new(f, "type", json_string(tally__flag_type_name(d->type)));
		json_object_set_new(f, "type_declared", json_boolean(d->type_declared));
		if (d->list)
			json_object_set_new(f, "list", json_true()); /* of `type` */
		if (d->has_default)
			json_object_set_new(f, "default", value_json(&d->def));
		json_object_set_new(f, "script_default", json_boolean(d->script_default));
		if (d->description)
			json_object_set_new(f, "description", json_string(d->description));
		if (d->has_min)
			json_object_set_new(f, "min", json_real(d->min));
		if (d->has_max)
			json_object_set_new(f, "max", json_real(d->max));
		if (d->n_choices) {
			json_t *c = json_array();
			for (size_t k = 0; k < d->n_choices; k++)
				json_array_append_new(c, value_json(&d->choices[k]));
			json_object_set_new(f, "choices", c);
		}
		json_object_set_new(f, "required", json_boolean(d->required));
		json_object_set_new(f, "line", json_integer(d->line));
		if (d->lit_len)
			json_object_set_new(f, "literal", json_pack("[II]", (json_int_t)d->lit_off, (json_int_t)d->lit_len));
		if (d->lit_r_integer)
			json_object_set_new(f, "r_integer", json_true());
		if (d->option)
			json_object_set_new(f, "option", json_string(d->option));
		if (d->option_off)
			json_object_set_new(f, "option_off", json_string(d->option_off));
		json_object_set_new(f, "arg", json_string(arg_style_name(d->arg_style)));
		json_array_append_new(flags, f);
	}
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "sourcecode_exclude", strlist_json(&sf->src_exclude));
	json_object_set_new(o, "sourcecode_include", strlist_json(&sf->src_include));
	json_object_set_new(o, "output_scalars", json_boolean(!sf->output_scalars_off));
	json_object_set_new(o, "output_patterns", strlist_json(&sf->output_patterns));
	json_object_set_new(o, "output_explicit", json_boolean(sf->output_explicit));
	return o;
}

static const char *const origins[] = {"globals", "tfruns flags()", "argparse", "click", "front matter", "tally.yml"};

static bool flagdef_from_json(tally_script_flags *sf, json_t *f)
{
	const char *name = json_string_value(json_object_get(f, "name"));
	if (!name)
		return false;
	tally_flagdef *d = tally__flagdef_add(sf, name, strlen(name));
	if (!d)
		return false;
	const char *type = json_string_value(json_object_get(f, "type"));
	static const tally_flag_type types[] = {TALLY_FLAG_STRING, TALLY_FLAG_INT, TALLY_FLAG_FLOAT, TALLY_FLAG_BOOL,
	                                        TALLY_FLAG_NULL};
	for (size_t i = 0; type && i < 5; i++)
		if (!strcmp(type, tally__flag_type_name(types[i])))
			d->type = types[i];
	d->type_declared = json_is_true(json_object_get(f, "type_declared"));
	d->list = json_is_true(json_object_get(f, "list"));
	d->script_default = json_is_true(json_object_get(f, "script_default"));
	json_t *v = json_object_get(f, "default");
	if (v && !(d->has_default = value_from_json(&d->def, v)))
		return false;
	const char *desc = json_string_value(json_object_get(f, "description"));
	d->description = desc ? strdup(desc) : NULL;
	if ((d->has_min = json_is_number(json_object_get(f, "min"))))
		d->min = json_number_value(json_object_get(f, "min"));
	if ((d->has_max = json_is_number(json_object_get(f, "max"))))
		d->max = json_number_value(json_object_get(f, "max"));
	json_t *choices = json_object_get(f, "choices");
	if (json_array_size(choices)) {
		d->choices = calloc(json_array_size(choices), sizeof *d->choices);
		size_t i;
		json_t *c;
		json_array_foreach(choices, i, c) if (d->choices && value_from_json(&d->choices[d->n_choices], c)) d->n_choices++;
	}
	d->required = json_is_true(json_object_get(f, "required"));
	d->line = (int)json_integer_value(json_object_get(f, "line"));
	json_t *lit = json_object_get(f, "literal");
	if (json_array_size(lit) == 2) {
		d->lit_off = (size_t)json_integer_value(json_array_get(lit, 0));
		d->lit_len = (size_t)json_integer_value(json_array_get(lit, 1));
	}
	d->lit_r_integer = json_is_true(json_object_get(f, "r_integer"));
	const char *option = json_string_value(json_object_get(f, "option"));
	d->option = option ? strdup(option) : NULL;
	const char *arg = json_string_value(json_object_get(f, "arg"));
	const char *option_off = json_string_value(json_object_get(f, "option_off"));
	d->option_off = option_off ? strdup(option_off) : NULL;
	d->arg_style = arg && !strcmp(arg, "store_true") ? TALLY_ARG_STORE_TRUE
	             : arg && !strcmp(arg, "store_false") ? TALLY_ARG_STORE_FALSE
	             : arg && !strcmp(arg, "switch") && d->option_off ? TALLY_ARG_SWITCH
	                                                               : TALLY_ARG_VALUE;
	return true;
}

static bool from_json(tally_script_flags *sf, json_t *o)
{
	const char *origin = json_string_value(json_object_get(o, "origin"));
	for (size_t i = 0; origin && i < sizeof origins / sizeof *origins; i++)
		if (!strcmp(origin, origins[i]))
			sf->origin = origins[i];
	sf->declared = json_is_true(json_object_get(o, "declared"));
	const char *dest = json_string_value(json_object_get(o, "dest"));
	tally_dest_kind k = tally__dest_parse(dest, &sf->dest_file);
	if ((int)k < 0)
		return false;
	sf->dest = k;
	sf->dest_explicit = json_is_true(json_object_get(o, "dest_explicit"));
	sf->output_scalars_off = json_is_false(json_object_get(o, "output_scalars"));
	sf->output_explicit = json_is_true(json_object_get(o, "output_explicit"));
	const char *lang = json_string_value(json_object_get(o, "language"));
	sf->language = lang ? strdup(lang) : NULL;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(o, "flags"), i, f) if (!flagdef_from_json(sf, f)) return false;
	json_array_foreach(json_object_get(o, "sourcecode_exclude"), i, f) tally_strlist_push(&sf->src_exclude, json_string_value(f));
	json_array_foreach(json_object_get(o, "sourcecode_include"), i, f) tally_strlist_push(&sf->src_include, json_string_value(f));
	json_array_foreach(json_object_get(o, "output_patterns"), i, f) tally_strlist_push(&sf->output_patterns, json_string_value(f));
	return true;
}

/* ---- the cache ---- */

static char *cache_path(const char *key)
{
	tally_buf p = TALLY_BUF_INIT;
	if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME"))
		tally_buf_printf(&p, "%s/tally", getenv("XDG_CACHE_HOME"));
	else if (getenv("HOME") && *getenv("HOME"))
		tally_buf_printf(&p, "%s/.cache/tally", getenv("HOME"));
	else
		return NULL;
	tally_buf_printf(&p, "/flags/%s.json", key);
	return tally_buf_oom(&p) ? (tally_buf_release(&p), NULL) : tally_buf_detach(&p);
}

static bool cache_load(tally_script_flags *sf, const char *path)
{
	json_t *o = path ? json_load_file(path, 0, NULL) : NULL;
	bool ok = o && from_json(sf, o);
	json_decref(o);
	if (!ok && o) {
		char *display = sf->display;
		sf->display = NULL;
		tally__script_flags_release(sf);
		sf->display = display;
	}
	return ok;
}

static void cache_store(const tally_script_flags *sf, const char *path)
{
	json_t *o = tally__script_flags_json(sf);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	/* best effort: a cache that cannot be written just is not used */
	if (text && path && tally_mkdir_p_parent(path) == 0)
		tally_write_file_atomic(path, text, strlen(text), 0);
	free(text);
	json_decref(o);
}

static const char *language_of(const char *script)
{
	const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;
	const char *dot = strrchr(base, '.');
	if (dot && !strcmp(dot, ".py"))
		return "Python";
	if (dot && (!strcmp(dot, ".R") || !strcmp(dot, ".r")))
		return "R";
	return NULL;
}

static int detect_text(tally_script_flags *sf, const char *text, size_t len, const char *lang)
{
	int rc = 0;
	sf->origin = NULL;
	sf->dest = TALLY_DEST_ARGS;
	if (lang && !(sf->language = strdup(lang)))
		return tally__error_oom();
	/* A UTF-8 byte-order mark (Windows editors) is not part of the first name. */
	size_t bom = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
	if (lang && !strcmp(lang, "Python"))
		rc = tally__detect_python(sf, text + bom, len - bom);
	else if (lang && !strcmp(lang, "R"))
		rc = tally__detect_r(sf, text + bom, len - bom);
	if (!rc)
		rc = tally__apply_annotations(sf, text + bom, len - bom);
	for (size_t i = 0; i < sf->n; i++)
		if (sf->items[i].lit_len)
			sf->items[i].lit_off += bom;
	if (!rc && sf->n && !sf->declared)
		sf->declared = true; /* found some: the script's flags are known */
	if (!rc && !sf->n && !sf->declared && !sf->dest_explicit) {
		sf->origin = NULL; /* nothing declared: any NAME=VALUE goes as --NAME VALUE */
		sf->dest = TALLY_DEST_ARGS;
	}
	return rc;
}

int tally__script_flags_detect(tally_script_flags *out, const char *script, const char *display)
{
	tally_script_flags empty = TALLY_SCRIPT_FLAGS_INIT;
	*out = empty;
	if (!(out->display = strdup(display ? display : script)))
		return tally__error_oom();
	tally_buf text = TALLY_BUF_INIT;
	if (tally_read_file(&text, script, MAX_SCRIPT_BYTES) < 0) {
		int e = errno;
		tally_buf_release(&text);
		if (e == EFBIG)
			return 0; /* too large to be a script worth scanning */
		errno = e;
		return tally__error_errno(TALLY_EINVALID, "cannot read script '%s'", script);
	}
	const char *lang = language_of(script);
	/* The key covers the detector (tally's version and commit), the language and the bytes. */
	tally_buf keyed = TALLY_BUF_INIT;
	tally_buf_printf(&keyed, "tally %s %s flags v4 %s\n", TALLY_VERSION, TALLY_BUILD_ID, lang ? lang : "-");
	tally_buf_add(&keyed, text.ptr ? text.ptr : "", text.len);
	char hex[65];
	char *path = NULL;
	if (!tally_buf_oom(&keyed) && tally_sha256_hex(keyed.ptr, keyed.len, hex) == 0)
		path = cache_path(hex);
	tally_buf_release(&keyed);
	int rc = 0;
	if (!cache_load(out, path)) {
		rc = detect_text(out, text.ptr ? text.ptr : "", text.len, lang);
		if (!rc)
			cache_store(out, path);
	}
	free(path);
	tally_buf_release(&text);
	if (rc) {
		char *display_copy = out->display;
		out->display = NULL;
		tally__script_flags_release(out);
		out->display = display_copy;
	}
	return rc;
}

int tally_describe_flags(const char *script, char **json_out)
{
	*json_out = NULL;
	struct stat st;
	if (stat(script, &st) < 0)
		return tally__error(TALLY_ENOTFOUND, "script '%s' not found — check the path", script);
	if (!S_ISREG(st.st_mode))
		return tally__error(TALLY_EINVALID, "'%s' is not a file — give a script", script);
	const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;
	tally_script_flags sf;
	tally_config cfg;
	int rc = tally__config_load(&cfg, ".");
	if (rc)
		return rc;
	/* as tally run sees it: tally.yml's settings for the script, relative to the project */
	char *abs = realpath(script, NULL);
	const char *rel = abs && cfg.project_dir && !strncmp(abs, cfg.project_dir, strlen(cfg.project_dir)) &&
	                          abs[strlen(cfg.project_dir)] == '/'
	                      ? abs + strlen(cfg.project_dir) + 1
	                      : script;
	rc = tally__script_flags_detect(&sf, script, base);
	if (!rc)
		rc = tally__apply_config_flags(&sf, &cfg, rel);
	free(abs);
	tally__config_release(&cfg);
	if (!rc) {
		json_t *o = tally__script_flags_json(&sf);
		*json_out = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (!*json_out)
			rc = tally__error_oom();
	}
	tally__script_flags_release(&sf);
	return rc;
}

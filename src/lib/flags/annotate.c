/*
 * `#|` YAML in a script's comments, as Guild AI reads it:
 *
 *   #!/usr/bin/env Rscript
 *   #| flags-dest: flags.yml        front matter: the first #| block, before
 *   #| sourcecode:                  anything else; script options
 *   #|   - exclude: "*.csv"
 *
 *   #| description: size of first layer
 *   #| min: 16                      directly above a flag: its annotations
 *   #| max: 256
 *   units <- 64
 *
 * An explicit `flags:` map in the front matter replaces what was detected.
 */
#include "lib/flags/flagdefs.h"
#include "lib/scalars/scalars.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

typedef struct {
	size_t first, last;   /* 1-based lines of a #| block, inclusive */
} block;

/* Start offsets of each line (1-based: starts[1] is line 1). */
typedef struct {
	size_t *starts;
	size_t n;             /* number of lines */
	const char *text;
	size_t len;
} lines;

static int split_lines(lines *ls, const char *text, size_t len)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	ls->starts = malloc((n + 2) * sizeof *ls->starts);
	if (!ls->starts)
		return tally__error_oom();
	size_t k = 1;
	ls->starts[1] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			ls->starts[++k] = i + 1;
	ls->starts[k + 1] = len + 1;
	ls->n = k;
	ls->text = text;
	ls->len = len;
	return 0;
}

static bool is_pipe_line(const lines *ls, size_t line)
{
	if (line < 1 || line > ls->n)
		return false;
	size_t at = ls->starts[line];
	return at + 1 < ls->len && ls->text[at] == '#' && ls->text[at + 1] == '|';
}

/* The block of #| lines ending at `last`, if `last` is one. */
static bool block_ending_at(const lines *ls, size_t last, block *b)
{
	if (!is_pipe_line(ls, last))
		return false;
	b->last = last;
	b->first = last;
	while (is_pipe_line(ls, b->first - 1))
		b->first--;
	return true;
}

/* The YAML inside a block: each line without "#|" and one following blank. */
static char *block_yaml(const lines *ls, const block *b)
{
	tally_buf y = TALLY_BUF_INIT;
	for (size_t l = b->first; l <= b->last; l++) {
		size_t at = ls->starts[l] + 2, end = ls->starts[l + 1] - 1;
		if (at < end && ls->text[at] == ' ')
			at++;
		if (end > at && ls->text[end - 1] == '\r')
			end--;
		tally_buf_add(&y, ls->text + at, end > at ? end - at : 0);
		tally_buf_addc(&y, '\n');
	}
	return tally_buf_oom(&y) ? (tally_buf_release(&y), NULL) : tally_buf_detach(&y);
}

typedef struct {
	yaml_document_t doc;
	const char *display;
	size_t first_line, last_line;     /* of the block, for messages */
} ydoc;

static int yaml_error(const ydoc *d, size_t line_in_block, const char *what)
{
	size_t line = d->first_line + line_in_block;
	return tally__error(TALLY_EINVALID, "%s line %zu: %s", d->display, line > d->last_line ? d->last_line : line, what);
}

static int load_block(ydoc *d, const lines *ls, const block *b, const char *display)
{
	d->display = display;
	d->first_line = b->first;
	d->last_line = b->last;
	char *text = block_yaml(ls, b);
	if (!text)
		return tally__error_oom();
	yaml_parser_t parser;
	int rc = 0;
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		return tally__error_oom();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &d->doc)) {
		char what[256];
		snprintf(what, sizeof what, "bad #| YAML: %s — fix the annotation", parser.problem ? parser.problem : "syntax error");
		rc = yaml_error(d, parser.problem_mark.line, what);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&d->doc);
		if (root && root->type != YAML_MAPPING_NODE) {
			yaml_document_delete(&d->doc);
			rc = yaml_error(d, 0, "#| lines must hold `key: value` pairs");
		} else if (!root) {
			rc = 1; /* empty: nothing to apply */
			yaml_document_delete(&d->doc);
		}
	}
	yaml_parser_delete(&parser);
	free(text);
	return rc;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool parse_single_type(const char *s, tally_flag_type *out);

/* "int", or a list of one: "int list", "list[int]", "list" (of any value). */
static bool parse_type(const char *s, tally_flag_type *out, bool *list)
{
	*list = false;
	if (!s)
		return false;
	size_t len = strlen(s);
	char element[32];
	if (!strcasecmp(s, "list")) {
		*list = true;
		*out = TALLY_FLAG_NULL;
		return true;
	}
	if (len > 5 && len < sizeof element + 5 && !strcasecmp(s + len - 5, " list")) {
		snprintf(element, sizeof element, "%.*s", (int)(len - 5), s);
		return (*list = parse_single_type(element, out));
	}
	if (len > 6 && len < sizeof element + 6 && !strncasecmp(s, "list[", 5) && s[len - 1] == ']') {
		snprintf(element, sizeof element, "%.*s", (int)(len - 6), s + 5);
		return (*list = parse_single_type(element, out));
	}
	return parse_single_type(s, out);
}

static bool parse_single_type(const char *s, tally_flag_type *out)
{
	static const struct {
		const char *name;
		tally_flag_type type;
	} types[] = {{"int", TALLY_FLAG_INT},      {"integer", TALLY_FLAG_INT},    {"float", TALLY_FLAG_FLOAT},
	             {"number", TALLY_FLAG_FLOAT}, {"numeric", TALLY_FLAG_FLOAT},  {"bool", TALLY_FLAG_BOOL},
	             {"boolean", TALLY_FLAG_BOOL}, {"string", TALLY_FLAG_STRING}, {"str", TALLY_FLAG_STRING}};
	for (size_t i = 0; s && i < sizeof types / sizeof *types; i++)
		if (!strcasecmp(s, types[i].name))
			return *out = types[i].type, true;
	return false;
}

static int number_attr(const ydoc *d, yaml_node_t *node, const char *key, double *out)
{
	tally_flag v;
	if (tally__flag_from_yaml_node(&v, node) || (v.type != TALLY_FLAG_INT && v.type != TALLY_FLAG_FLOAT)) {
		tally__flag_release(&v);
		char what[128];
		snprintf(what, sizeof what, "%s must be a number", key);
		return yaml_error(d, node ? node->start_mark.line : 0, what);
	}
	*out = v.type == TALLY_FLAG_INT ? (double)v.i : v.f;
	tally__flag_release(&v);
	return 0;
}

/* Apply one flag's attributes (a YAML mapping) to `def`. */
static int apply_flag_attrs(const ydoc *d, yaml_node_t *map, tally_flagdef *def)
{
	yaml_document_t *doc = (yaml_document_t *)&d->doc;
	int rc = 0;
	yaml_node_t *type_node = NULL, *default_node = NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !rc; p++) {
		const char *key = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		size_t line = v ? v->start_mark.line : 0;
		if (!key) {
			rc = yaml_error(d, line, "annotation keys must be plain words");
		} else if (!strcmp(key, "description")) {
			free(def->description);
			def->description = scalar(v) ? strdup(scalar(v)) : NULL;
		} else if (!strcmp(key, "min")) {
			rc = number_attr(d, v, key, &def->min);
			def->has_min = !rc;
		} else if (!strcmp(key, "max")) {
			rc = number_attr(d, v, key, &def->max);
			def->has_max = !rc;
		} else if (!strcmp(key, "type")) {
			type_node = v;
		} else if (!strcmp(key, "default")) {
			default_node = v;
		} else if (!strcmp(key, "required")) {
			tally_flag b;
			rc = tally__flag_from_yaml_node(&b, v);
			if (!rc && b.type != TALLY_FLAG_BOOL)
				rc = yaml_error(d, line, "required must be true or false");
			def->required = !rc && b.b;
			tally__flag_release(&b);
		} else if (!strcmp(key, "choices")) {
			if (!v || v->type != YAML_SEQUENCE_NODE) {
				rc = yaml_error(d, line, "choices must be a list, e.g. [relu, tanh]");
				break;
			}
			for (size_t i = 0; i < def->n_choices; i++)
				tally__flag_release(&def->choices[i]);
			free(def->choices);
			def->choices = NULL;
			def->n_choices = 0;
			size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
			def->choices = calloc(n ? n : 1, sizeof *def->choices);
			for (yaml_node_item_t *it = v->data.sequence.items.start; def->choices && it < v->data.sequence.items.top && !rc; it++) {
				rc = tally__flag_from_yaml_node(&def->choices[def->n_choices], yaml_document_get_node(doc, *it));
				if (rc)
					rc = yaml_error(d, line, "choices must be single values");
				else
					def->n_choices++;
			}
		} else {
			char what[160];
			snprintf(what, sizeof what,
			         "unknown flag annotation '%.60s' — use description, type, default, min, max, choices or required", key);
			rc = yaml_error(d, line, what);
		}
	}
	if (!rc && type_node) {
		tally_flag_type t;
		if (!parse_type(scalar(type_node), &t, &def->list))
			return yaml_error(d, type_node->start_mark.line,
			                  "type must be int, float, bool or string, or a list of one: int list, list[int], list");
		def->type = t;
		def->type_declared = true;
	}
	if (!rc && default_node) {
		tally_flag v;
		if ((rc = tally__flag_from_yaml(&v, doc, default_node)))
			return yaml_error(d, default_node->start_mark.line, "default must be a single value or a list of them");
		if (v.type == TALLY_FLAG_LIST)
			def->list = true;
		tally__flag_release(&def->def);
		def->def = v;
		def->has_default = true;
		def->script_default = false; /* the script says otherwise: the value must reach it */
		if (v.type == TALLY_FLAG_LIST && !type_node) { /* default: [128, 64]: a list of what its first value is */
			tally_flag_list elements;
			if (tally__flag_list_elements(&v, &elements) == 0) {
				def->type = elements.count ? elements.items[0].type : TALLY_FLAG_NULL;
				tally__flag_list_release(&elements);
			}
		} else if (def->type == TALLY_FLAG_NULL || (!type_node && def->lit_len == 0 && !def->option)) {
			def->type = v.type == TALLY_FLAG_NULL ? def->type : v.type;
		}
	}
	/* Annotations must agree with the default they annotate; a mismatch is
	 * reported where the annotation is. */
	size_t line = d->first_line + map->start_mark.line;
	char where[512];
	snprintf(where, sizeof where, "%s line %zu", d->display, line > d->last_line ? d->last_line : line);
	int def_line = def->line;
	def->line = 0;
	for (size_t i = 0; !rc && i < def->n_choices; i++)
		rc = tally__flag_check(&def->choices[i], def, where);
	if (!rc && def->has_default && def->def.type != TALLY_FLAG_NULL)
		rc = tally__flag_check(&def->def, def, where);
	def->line = def_line;
	return rc;
}

/* `flags:` in the front matter: NAME: VALUE or NAME: {attributes}. */
static int apply_explicit_flags(tally_script_flags *sf, const ydoc *d, yaml_node_t *map)
{
	yaml_document_t *doc = (yaml_document_t *)&d->doc;
	if (map->type != YAML_MAPPING_NODE)
		return yaml_error(d, map->start_mark.line, "flags: must map flag names to values or attributes");
	/* keep what detection found for the names listed (literal spans, options), drop the rest */
	tally_script_flags kept = TALLY_SCRIPT_FLAGS_INIT;
	int rc = 0;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !rc; p++) {
		const char *name = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		if (!name || !*name) {
			rc = yaml_error(d, v ? v->start_mark.line : 0, "flag names must be plain words");
			break;
		}
		tally_flagdef *found = tally__flagdef_find(sf, name);
		tally_flagdef *def = tally__flagdef_add(&kept, name, strlen(name));
		if (!def) {
			rc = tally__error_oom();
			break;
		}
		if (found) {
			char *keep_name = def->name;
			*def = *found;
			def->name = keep_name;
			free(found->name);
			memset(found, 0, sizeof *found);
			found->name = strdup("");
		}
		def->line = def->line ? def->line : (int)(d->first_line + (v ? v->start_mark.line : 0));
		if (v && v->type == YAML_MAPPING_NODE) {
			rc = apply_flag_attrs(d, v, def);
		} else {
			tally_flag value;
			if ((rc = tally__flag_from_yaml_node(&value, v))) {
				rc = yaml_error(d, v ? v->start_mark.line : 0, "a flag's default must be a single value");
				break;
			}
			tally__flag_release(&def->def);
			def->def = value;
			def->has_default = true;
			def->script_default = false;
			if (def->type == TALLY_FLAG_NULL || !found)
				def->type = value.type;
		}
	}
	if (rc) {
		tally__script_flags_release(&kept);
		return rc;
	}
	tally__script_flags_take_items(sf, &kept);
	tally__script_flags_release(&kept);
	sf->origin = "front matter";
	sf->declared = true;
	return 0;
}

static int add_rules(tally_script_flags *sf, const ydoc *d, yaml_node_t *v)
{
	yaml_document_t *doc = (yaml_document_t *)&d->doc;
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return yaml_error(d, v ? v->start_mark.line : 0, "sourcecode: must be a list like [{exclude: '*.csv'}]");
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *rule = yaml_document_get_node(doc, *it);
		const char *glob = scalar(rule);
		if (glob) { /* a bare pattern includes */
			tally_strlist_push(&sf->src_include, glob);
			continue;
		}
		if (!rule || rule->type != YAML_MAPPING_NODE)
			return yaml_error(d, rule ? rule->start_mark.line : 0, "a sourcecode rule is exclude: GLOB or include: GLOB");
		for (yaml_node_pair_t *p = rule->data.mapping.pairs.start; p < rule->data.mapping.pairs.top; p++) {
			const char *k = scalar(yaml_document_get_node(doc, p->key));
			const char *g = scalar(yaml_document_get_node(doc, p->value));
			if (!k || !g || (strcmp(k, "exclude") && strcmp(k, "include")))
				return yaml_error(d, rule->start_mark.line, "a sourcecode rule is exclude: GLOB or include: GLOB");
			tally_strlist_push(!strcmp(k, "exclude") ? &sf->src_exclude : &sf->src_include, g);
		}
	}
	return 0;
}

/*
 * output-scalars: off, or a list of rules replacing the defaults (Guild's
 * form): "PATTERN" with (\key) and (\value), {TAG: "PATTERN"} with
 * (\value), {step: "PATTERN"} with (\step).
 */
static int output_scalars(tally_script_flags *sf, const ydoc *d, yaml_node_t *v)
{
	yaml_document_t *doc = (yaml_document_t *)&d->doc;
	size_t line = v ? v->start_mark.line : 0;
	tally_strlist_release(&sf->output_patterns);
	sf->output_scalars_off = false;
	if (v && v->type == YAML_SCALAR_NODE) {
		const char *t = scalar(v);
		if (t && (!strcmp(t, "off") || !strcmp(t, "no") || !strcmp(t, "false"))) {
			sf->output_scalars_off = true;
			return 0;
		}
	}
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return yaml_error(d, line, "output-scalars must be off or a list of patterns, e.g. ['(\\key)=(\\value)']");
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		const char *kind = "key", *pattern = scalar(item);
		if (item && item->type == YAML_MAPPING_NODE && item->data.mapping.pairs.top - item->data.mapping.pairs.start == 1) {
			kind = scalar(yaml_document_get_node(doc, item->data.mapping.pairs.start->key));
			pattern = scalar(yaml_document_get_node(doc, item->data.mapping.pairs.start->value));
		}
		if (!kind || !pattern)
			return yaml_error(d, item ? item->start_mark.line : line,
			                  "an output-scalars rule is a pattern, TAG: PATTERN or step: PATTERN");
		char err[256], what[700];
		tally_buf rule = TALLY_BUF_INIT;
		tally_buf_printf(&rule, "%s%s\t%s", strcmp(kind, "step") ? "tag:" : "", kind, pattern);
		if (item->type == YAML_SCALAR_NODE) { /* a plain pattern: key and value groups */
			tally_buf_clear(&rule);
			tally_buf_printf(&rule, "key\t%s", pattern);
		}
		int rc = tally__outparse_check_pattern(item->type == YAML_SCALAR_NODE ? "key" : kind, pattern, err, sizeof err);
		if (!rc && tally_strlist_push(&sf->output_patterns, rule.ptr) < 0)
			rc = tally__error_oom();
		tally_buf_release(&rule);
		if (rc == TALLY_EINVALID) {
			snprintf(what, sizeof what, "output-scalars pattern '%.200s' does not work: %s", pattern, err);
			return yaml_error(d, item->start_mark.line, what);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* `root` maps option names to values; from tally.yml, what the script's own front matter set wins. */
static int apply_front_matter(tally_script_flags *sf, const ydoc *d, yaml_node_t *root, bool from_config)
{
	yaml_document_t *doc = (yaml_document_t *)&d->doc;
	bool script_dest = from_config && sf->dest_explicit;
	bool script_flags = from_config && sf->origin && !strcmp(sf->origin, "front matter");
	int rc = 0;
	yaml_node_t *explicit_flags = NULL;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && !rc; p++) {
		const char *key = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		size_t line = v ? v->start_mark.line : 0;
		if (!key) {
			rc = yaml_error(d, line, "front matter keys must be plain words");
		} else if (!strcmp(key, "flags-dest")) {
			if (script_dest)
				continue;
			char *file = NULL;
			tally_dest_kind k = tally__dest_parse(scalar(v), &file);
			if ((int)k < 0)
				rc = yaml_error(d, line,
				                "flags-dest must be args, globals, env, or a file (.yml, .yaml, .json, .R, .py) inside the run");
			else {
				sf->dest = k;
				sf->dest_explicit = true;
				free(sf->dest_file);
				sf->dest_file = file;
			}
		} else if (!strcmp(key, "flags")) {
			explicit_flags = script_flags ? NULL : v;
		} else if (!strcmp(key, "sourcecode")) {
			rc = add_rules(sf, d, v);
		} else if (!strcmp(key, "output-scalars")) {
			if (from_config && sf->output_explicit)
				continue;
			rc = output_scalars(sf, d, v);
			sf->output_explicit = !from_config;
		} else if (!strcmp(key, "slurm")) {
			if (from_config && sf->slurm_explicit)
				continue;
			tally_strlist_release(&sf->slurm_options);
			if (tally__slurm_options_from_yaml(&sf->slurm_options, doc, v))
				rc = yaml_error(d, line, "slurm must be sbatch options, as one string or a list (\"--time=2:00:00\")");
			sf->slurm_explicit = !from_config;
		} else {
			char what[200];
			snprintf(what, sizeof what,
			         "unknown key '%.60s' — use flags-dest, flags, sourcecode, output-scalars or slurm", key);
			rc = yaml_error(d, line, what);
		}
	}
	if (!rc && explicit_flags) {
		rc = apply_explicit_flags(sf, d, explicit_flags);
		if (!rc && from_config)
			sf->origin = "tally.yml";
	}
	return rc;
}

static bool defines_flag(const tally_script_flags *sf, size_t line)
{
	for (size_t i = 0; i < sf->n; i++)
		if (sf->items[i].line == (int)line)
			return true;
	return false;
}

int tally__apply_annotations(tally_script_flags *sf, const char *text, size_t len)
{
	lines ls = {0};
	int rc = split_lines(&ls, text, len);
	if (rc)
		return rc;
	const char *display = sf->display ? sf->display : "the script";
	/* Front matter: the #| block at the top (after a #! line), unless it annotates the flag below it. */
	size_t top = len >= 2 && text[0] == '#' && text[1] == '!' ? 2 : 1;
	block front = {0, 0};
	bool has_front = false;
	if (is_pipe_line(&ls, top)) {
		size_t last = top;
		while (is_pipe_line(&ls, last + 1))
			last++;
		has_front = !defines_flag(sf, last + 1);
		front = (block){top, last};
	}
	for (size_t i = 0; i < sf->n && !rc; i++) {
		tally_flagdef *def = &sf->items[i];
		block b;
		if (def->line <= 1 || !block_ending_at(&ls, (size_t)def->line - 1, &b))
			continue;
		ydoc d;
		int lrc = load_block(&d, &ls, &b, display);
		if (lrc < 0)
			rc = lrc;
		if (lrc)
			continue;
		rc = apply_flag_attrs(&d, yaml_document_get_root_node(&d.doc), def);
		yaml_document_delete(&d.doc);
	}
	if (!rc && has_front) {
		ydoc d;
		int lrc = load_block(&d, &ls, &front, display);
		if (lrc < 0)
			rc = lrc;
		else if (lrc == 0) {
			rc = apply_front_matter(sf, &d, yaml_document_get_root_node(&d.doc), false);
			yaml_document_delete(&d.doc);
		}
	}
	free(ls.starts);
	return rc;
}

/* ---- tally.yml: flags-dest for every script, and `scripts:` entries ---- */

static bool names_script(const char *key, const char *script)
{
	const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;
	return !strcmp(key, script) || !fnmatch(key, script, 0) || !strcmp(key, base);
}

int tally__apply_config_flags(tally_script_flags *sf, const tally_config *cfg, const char *script)
{
	if (cfg->flags_dest && !sf->dest_explicit) {
		char *file = NULL;
		tally_dest_kind k = tally__dest_parse(cfg->flags_dest, &file);
		if ((int)k >= 0) {
			sf->dest = k;
			free(sf->dest_file);
			sf->dest_file = file;
		}
	}
	if (!cfg->text || !script)
		return 0;
	ydoc d;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return tally__error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)cfg->text, strlen(cfg->text));
	int rc = 0;
	if (!yaml_parser_load(&parser, &d.doc)) {
		yaml_parser_delete(&parser);
		return 0; /* tally__config_load() read it a moment ago */
	}
	yaml_parser_delete(&parser);
	d.display = cfg->path ? cfg->path : "tally.yml";
	d.first_line = 1;
	d.last_line = (size_t)-1;
	yaml_node_t *root = yaml_document_get_root_node(&d.doc);
	/* the project's output-scalars first: a script's entry below may replace it */
	for (yaml_node_pair_t *p = root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
	     p && p < root->data.mapping.pairs.top && !rc; p++) {
		const char *key = scalar(yaml_document_get_node(&d.doc, p->key));
		if (key && !strcmp(key, "output-scalars") && !sf->output_explicit)
			rc = output_scalars(sf, &d, yaml_document_get_node(&d.doc, p->value));
	}
	for (yaml_node_pair_t *p = root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
	     p && p < root->data.mapping.pairs.top && !rc; p++) {
		const char *key = scalar(yaml_document_get_node(&d.doc, p->key));
		yaml_node_t *scripts = yaml_document_get_node(&d.doc, p->value);
		if (!key || strcmp(key, "scripts") || !scripts || scripts->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *q = scripts->data.mapping.pairs.start; q < scripts->data.mapping.pairs.top && !rc; q++) {
			const char *name = scalar(yaml_document_get_node(&d.doc, q->key));
			yaml_node_t *settings = yaml_document_get_node(&d.doc, q->value);
			if (!name || !names_script(name, script))
				continue;
			if (!settings || settings->type != YAML_MAPPING_NODE)
				rc = yaml_error(&d, settings ? settings->start_mark.line : 0,
				                "a script's settings are a map: flags-dest, flags, sourcecode, output-scalars, slurm");
			else
				rc = apply_front_matter(sf, &d, settings, true);
			break; /* the first entry that names the script */
		}
	}
	yaml_document_delete(&d.doc);
	if (!rc && sf->n)
		sf->declared = true;
	return rc;
}

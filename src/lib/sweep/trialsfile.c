/*
 * Trials files (tally tune --trials FILE): one trial per row, the way
 * guildai takes a data frame of flags.
 *  - .csv: a header of flag names, then rows.  Unquoted fields are typed
 *    like NAME=VALUE (0.1 float, 64 int, relu string); quoted fields are
 *    strings, as R's write.csv() quotes character columns.  An empty or NA
 *    field leaves the flag at its default; a column without a name (R's row
 *    names) is ignored.
 *  - .yml/.yaml: a list of maps.
 *  - .json: an array of objects.
 */
#include "lib/flags/flagdefs.h"
#include "lib/sweep/sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TRIALS_FILE_MAX (64u << 20)

static int read_file(const char *path, tally_buf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return tally__error(TALLY_ENOTFOUND, "cannot read trials file '%s': %s", path, strerror(errno));
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len <= TRIALS_FILE_MAX)
		tally_buf_add(out, chunk, n);
	bool failed = ferror(f);
	fclose(f);
	if (failed)
		return tally__error(TALLY_ERROR, "cannot read trials file '%s'", path);
	if (out->len > TRIALS_FILE_MAX)
		return tally__error(TALLY_EINVALID, "trials file '%s' is larger than %u MiB", path, TRIALS_FILE_MAX >> 20);
	return tally_buf_oom(out) ? tally__error_oom() : 0;
}

/* ---- CSV (RFC 4180) ---- */

typedef struct {
	const char *p, *end;
	size_t line;
} csv_reader;

/* The next field into `field`; `quoted` says how it was written.  Returns
 * 1 at the end of a record, 2 at the end of the input, 0 otherwise (more
 * fields follow); negative for a stray quote. */
static int csv_field(csv_reader *r, tally_buf *field, bool *quoted)
{
	tally_buf_clear(field);
	*quoted = r->p < r->end && *r->p == '"';
	if (*quoted) {
		r->p++;
		for (;;) {
			if (r->p >= r->end)
				return -1;
			char c = *r->p++;
			if (c == '"') {
				if (r->p < r->end && *r->p == '"') {
					tally_buf_addc(field, '"');
					r->p++;
					continue;
				}
				break;
			}
			if (c == '\n')
				r->line++;
			tally_buf_addc(field, c);
		}
	} else {
		while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
			if (*r->p == '"')
				return -1;
			tally_buf_addc(field, *r->p++);
		}
	}
	if (r->p >= r->end)
		return 2;
	if (*r->p == ',') {
		r->p++;
		return 0;
	}
	bool cr = *r->p == '\r'; /* CRLF, or a lone CR (old Mac files) */
	if (cr)
		r->p++;
	if (r->p < r->end && *r->p == '\n')
		r->p++;
	else if (!cr && r->p < r->end)
		return -1; /* text after a closing quote */
	r->line++;
	return r->p >= r->end ? 2 : 1;
}

static json_t *csv_value(const char *text, bool quoted)
{
	if (quoted)
		return json_string(text);
	if (!*text || !strcmp(text, "NA"))
		return NULL;
	tally_flag v = {0};
	json_t *out = tally__flag_parse_value(&v, text) ? NULL : tally__flag_to_json(&v);
	tally__flag_release(&v);
	return out ? out : json_string(text);
}

static int load_csv(json_t *trials, const char *path, const tally_buf *text)
{
	csv_reader r = {text->ptr, text->ptr + text->len, 1};
	tally_buf field = TALLY_BUF_INIT;
	json_t *names = json_array();
	int rc = 0, end = 0;
	bool quoted;
	while (!end) { /* the header */
		end = csv_field(&r, &field, &quoted);
		if (end < 0)
			break;
		json_array_append_new(names, json_string(field.ptr ? field.ptr : ""));
	}
	if (end < 0)
		rc = tally__error(TALLY_EINVALID, "%s line %zu: a stray or unclosed quote", path, r.line);
	while (!rc && end == 1) {
		json_t *row = json_object();
		size_t col = 0;
		size_t line = r.line;
		do {
			end = csv_field(&r, &field, &quoted);
			if (end < 0)
				break;
			const char *name = json_string_value(json_array_get(names, col));
			if (name && *name) {
				json_t *v = csv_value(field.ptr ? field.ptr : "", quoted);
				if (v)
					json_object_set_new(row, name, v);
			}
			col++;
		} while (end == 0);
		if (end < 0)
			rc = tally__error(TALLY_EINVALID, "%s line %zu: a stray or unclosed quote", path, r.line);
		else if (col == 1 && !json_object_size(row) && !field.len)
			; /* a blank line */
		else if (col != json_array_size(names))
			rc = tally__error(TALLY_EINVALID, "%s line %zu: %zu fields, but the header names %zu", path, line, col,
			                  json_array_size(names));
		else
			json_array_append(trials, row);
		json_decref(row);
	}
	tally_buf_release(&field);
	json_decref(names);
	return rc;
}

/* ---- YAML ---- */

static int load_yaml(json_t *trials, const char *path, const tally_buf *text)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return tally__error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text->ptr, text->len);
	int rc = 0;
	if (!yaml_parser_load(&parser, &doc)) {
		rc = tally__error(TALLY_EINVALID, "%s line %lu: %s — fix the YAML", path,
		                  (unsigned long)parser.problem_mark.line + 1, parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_SEQUENCE_NODE)
		rc = tally__error(TALLY_EINVALID, "%s: expected a list of trials, each a map of flag values", path);
	for (yaml_node_item_t *it = root && !rc ? root->data.sequence.items.start : NULL;
	     it && it < root->data.sequence.items.top && !rc; it++) {
		yaml_node_t *item = yaml_document_get_node(&doc, *it);
		size_t n = (size_t)(it - root->data.sequence.items.start) + 1;
		if (!item || item->type != YAML_MAPPING_NODE) {
			rc = tally__error(TALLY_EINVALID, "%s: trial %zu is not a map of flag values", path, n);
			break;
		}
		json_t *row = json_object();
		for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top && !rc; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);
			tally_flag v;
			if (!k || k->type != YAML_SCALAR_NODE) {
				rc = tally__error(TALLY_EINVALID, "%s: trial %zu has a flag name that is not text", path, n);
			} else if ((rc = tally__flag_from_yaml_node(&v, yaml_document_get_node(&doc, p->value)))) {
				rc = tally__error(rc, "%s: trial %zu, flag %s: give a single value", path, n,
				                  (const char *)k->data.scalar.value);
			} else {
				json_object_set_new(row, (const char *)k->data.scalar.value, tally__flag_to_json(&v));
				tally__flag_release(&v);
			}
		}
		json_array_append_new(trials, row);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- JSON ---- */

static int load_json(json_t *trials, const char *path, const tally_buf *text)
{
	json_error_t err;
	json_t *doc = json_loadb(text->ptr ? text->ptr : "", text->len, JSON_REJECT_DUPLICATES, &err);
	if (!doc)
		return tally__error(TALLY_EINVALID, "%s line %d: %s — fix the JSON", path, err.line, err.text);
	int rc = 0;
	if (!json_is_array(doc))
		rc = tally__error(TALLY_EINVALID, "%s: expected an array of trials, each an object of flag values", path);
	size_t i;
	json_t *row;
	json_array_foreach(rc ? NULL : doc, i, row) {
		const char *name;
		json_t *v;
		if (!json_is_object(row)) {
			rc = tally__error(TALLY_EINVALID, "%s: trial %zu is not an object of flag values", path, i + 1);
			break;
		}
		json_object_foreach(row, name, v) {
			if (json_is_object(v) || json_is_array(v)) {
				rc = tally__error(TALLY_EINVALID, "%s: trial %zu, flag %s: give a single value", path, i + 1, name);
				break;
			}
		}
		if (rc)
			break;
		json_array_append(trials, row);
	}
	json_decref(doc);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

int tally__trials_parse(json_t **out, const char *path, const char *text, size_t len)
{
	*out = NULL;
	int (*load)(json_t *, const char *, const tally_buf *) =
		ends_with(path, ".csv")                              ? load_csv
		: ends_with(path, ".yml") || ends_with(path, ".yaml") ? load_yaml
		: ends_with(path, ".json")                            ? load_json
		                                                      : NULL;
	if (!load)
		return tally__error(TALLY_EINVALID, "trials file '%s': name it .csv, .yml or .json", path);
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) { /* a byte-order mark (Excel's "CSV UTF-8") */
		text += 3;
		len -= 3;
	}
	tally_buf buf = TALLY_BUF_INIT;
	tally_buf_add(&buf, text, len); /* NUL-terminated, for the checks and parsers */
	int rc = tally_buf_oom(&buf) ? tally__error_oom() : 0;
	if (!rc && (memchr(text, '\0', len) || !tally_utf8_valid(buf.ptr ? buf.ptr : "")))
		rc = tally__error(TALLY_EINVALID, "trials file '%s' is not UTF-8 text", path);
	json_t *trials = json_array();
	if (!rc)
		rc = load(trials, path, &buf);
	if (!rc && !json_array_size(trials))
		rc = tally__error(TALLY_EINVALID, "trials file '%s' holds no trial", path);
	tally_buf_release(&buf);
	if (rc)
		json_decref(trials);
	else
		*out = trials;
	return rc;
}

int tally__trials_file_load(json_t **out, const char *path)
{
	*out = NULL;
	if (!ends_with(path, ".csv") && !ends_with(path, ".yml") && !ends_with(path, ".yaml") && !ends_with(path, ".json"))
		return tally__error(TALLY_EINVALID, "trials file '%s': name it .csv, .yml or .json", path);
	tally_buf text = TALLY_BUF_INIT;
	int rc = read_file(path, &text);
	if (!rc)
		rc = tally__trials_parse(out, path, text.ptr ? text.ptr : "", text.len);
	tally_buf_release(&text);
	return rc;
}

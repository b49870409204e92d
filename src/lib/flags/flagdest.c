/*
 * Flag destinations: how resolved values reach an unmodified script.
 *
 *   args      --name value (argparse; store_true options appear or not)
 *   args=     --name=value (tfruns' flags() parses this form)
 *   globals   the literal of each changed flag is replaced in the run's copy
 *             of the script; every other byte (and the line count) is kept
 *   FILE      flags.yml / .json / .R / .py written into the run directory
 *   env       only FLAG_NAME, which every destination also sets
 */
#include "lib/flags/flagdefs.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static bool flags_file_name(const char *s)
{
	return ends_with(s, ".yml") || ends_with(s, ".yaml") || ends_with(s, ".json") || ends_with(s, ".R") ||
	       ends_with(s, ".r") || ends_with(s, ".py");
}

tally_dest_kind tally__dest_parse(const char *text, char **file_out)
{
	*file_out = NULL;
	if (!text)
		return (tally_dest_kind)-1;
	if (!strcmp(text, "args"))
		return TALLY_DEST_ARGS;
	if (!strcmp(text, "args=") || !strcmp(text, "tfruns"))
		return TALLY_DEST_ARGS_EQ;
	if (!strcmp(text, "globals"))
		return TALLY_DEST_GLOBALS;
	if (!strcmp(text, "env") || !strcmp(text, "none"))
		return TALLY_DEST_NONE;
	const char *f = !strncmp(text, "./", 2) ? text + 2 : text;
	/* a file inside the run directory: relative, no way out of it */
	if (!*f || f[0] == '/' || !strcmp(f, "..") || !strncmp(f, "../", 3) || strstr(f, "/../") || ends_with(f, "/..") ||
	    !flags_file_name(f))
		return (tally_dest_kind)-1;
	*file_out = strdup(f);
	return *file_out ? TALLY_DEST_FILE : (tally_dest_kind)-1;
}

const char *tally__dest_name(const tally_script_flags *sf)
{
	switch (sf->dest) {
	case TALLY_DEST_ARGS: return "args";
	case TALLY_DEST_ARGS_EQ: return "args=";
	case TALLY_DEST_GLOBALS: return "globals";
	case TALLY_DEST_FILE: return sf->dest_file ? sf->dest_file : "file";
	case TALLY_DEST_NONE: break;
	}
	return "env";
}

/* A string literal both languages read back as `s` (double quotes, C-style escapes). */
static void quoted(tally_buf *out, const char *s)
{
	tally_buf_addc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': tally_buf_adds(out, "\\\""); break;
		case '\\': tally_buf_adds(out, "\\\\"); break;
		case '\n': tally_buf_adds(out, "\\n"); break;
		case '\r': tally_buf_adds(out, "\\r"); break;
		case '\t': tally_buf_adds(out, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				tally_buf_printf(out, "\\x%02x", c);
			else
				tally_buf_addc(out, (char)c);
		}
	}
	tally_buf_addc(out, '"');
}

/* Shortest text that reads back as the same double, and still reads as a float. */
static void float_text(tally_buf *out, double v, bool python)
{
	char buf[40];
	if (!isfinite(v)) {
		tally_buf_adds(out, isnan(v) ? (python ? "float(\"nan\")" : "NaN")
		                             : v > 0 ? (python ? "float(\"inf\")" : "Inf") : (python ? "-float(\"inf\")" : "-Inf"));
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	tally_buf_adds(out, buf);
	if (python && !strpbrk(buf, ".eEn"))
		tally_buf_adds(out, ".0");
}

void tally__render_literal(tally_buf *out, const tally_flag *value, bool python, const tally_flagdef *like)
{
	switch (value->type) {
	case TALLY_FLAG_INT:
		tally_buf_printf(out, "%lld%s", (long long)value->i, !python && like && like->lit_r_integer ? "L" : "");
		break;
	case TALLY_FLAG_FLOAT: float_text(out, value->f, python); break;
	case TALLY_FLAG_BOOL: tally_buf_adds(out, value->b ? (python ? "True" : "TRUE") : (python ? "False" : "FALSE")); break;
	case TALLY_FLAG_NULL: tally_buf_adds(out, python ? "None" : "NULL"); break;
	case TALLY_FLAG_STRING: quoted(out, value->text ? value->text : ""); break;
	case TALLY_FLAG_LIST: { /* [128, 64] in Python, c(128, 64) in R */
		tally_flag_list elements;
		if (tally__flag_list_elements(value, &elements))
			break;
		tally_buf_adds(out, python ? "[" : "c(");
		for (size_t i = 0; i < elements.count; i++) {
			if (i)
				tally_buf_adds(out, ", ");
			tally__render_literal(out, &elements.items[i], python, like);
		}
		tally_buf_adds(out, python ? "]" : ")");
		tally__flag_list_release(&elements);
		break;
	}
	}
}

/* A list's elements as command-line arguments of their own (argparse's nargs). */
static int push_elements(tally_strlist *argv, const tally_flag *v)
{
	tally_flag_list elements;
	int rc = tally__flag_list_elements(v, &elements);
	for (size_t i = 0; !rc && i < elements.count; i++)
		rc = tally_strlist_push(argv, elements.items[i].text ? elements.items[i].text : "") < 0 ? tally__error_oom() : 0;
	tally__flag_list_release(&elements);
	return rc;
}

/* ---- args ---- */

#define push_arg(argv, ...) (tally_strlist_pushf((argv), __VA_ARGS__) < 0 ? tally__error_oom() : 0)

int tally__flags_to_args(tally_strlist *argv, const tally_script_flags *sf, const tally_resolved_flags *r)
{
	if (sf->dest != TALLY_DEST_ARGS && sf->dest != TALLY_DEST_ARGS_EQ)
		return 0;
	int rc = 0;
	for (size_t i = 0; i < r->values.count && !rc; i++) {
		const tally_flag *v = &r->values.items[i];
		const tally_flagdef *def = tally__flagdef_find(sf, v->name);
		const char *text = v->text ? v->text : "";
		if (v->type == TALLY_FLAG_NULL)
			continue; /* argparse's None default: say nothing */
		/* A script that parses its options (argparse, click, tfruns) applies its own
		 * defaults; passing them would also turn untyped ones into strings. */
		if (def && r->origins[i] == TALLY_FROM_DEFAULT && def->script_default &&
		    (def->option || sf->dest == TALLY_DEST_ARGS_EQ))
			continue;
		if (def && def->arg_style == TALLY_ARG_SWITCH) {
			rc = push_arg(argv, "%s", v->b ? def->option : def->option_off);
			continue;
		}
		if (def && def->arg_style != TALLY_ARG_VALUE) {
			/* store_true appears when true, store_false when false; the other value
			 * is the script's default, or cannot be said on its command line */
			bool says = v->b == (def->arg_style == TALLY_ARG_STORE_TRUE);
			if (says)
				rc = push_arg(argv, "%s", def->option);
			else if (def->has_default && def->def.b != v->b)
				return tally__error(TALLY_EINVALID,
				                    "flag %s=%s cannot reach %s: its option %s can only turn it %s", v->name, text,
				                    sf->display ? sf->display : "the script", def->option,
				                    def->arg_style == TALLY_ARG_STORE_TRUE ? "on" : "off");
			continue;
		}
		if (v->type == TALLY_FLAG_LIST && sf->dest == TALLY_DEST_ARGS) /* --layers 128 64 */
			rc = (def && def->option ? push_arg(argv, "%s", def->option) : push_arg(argv, "--%s", v->name)) ||
			     push_elements(argv, v);
		else if (def && def->option)
			rc = sf->dest == TALLY_DEST_ARGS_EQ ? push_arg(argv, "%s=%s", def->option, text)
			                                    : push_arg(argv, "%s", def->option) || push_arg(argv, "%s", text);
		else if (sf->dest == TALLY_DEST_ARGS_EQ)
			rc = push_arg(argv, "--%s=%s", v->name, text);
		else
			rc = push_arg(argv, "--%s", v->name) || push_arg(argv, "%s", text);
	}
	return rc ? TALLY_ENOMEM : 0;
}

/*
 * The run's directory entries that were not copied are links into the
 * project: writing below one would change the project's own files.  `rel`
 * (a path inside the run) must not pass through such a link.
 */
static int through_link(const char *run_dir, const char *rel, char **link_out)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_adds(&p, run_dir);
	int found = 0;
	for (const char *s = rel, *slash; !found && (slash = strchr(s, '/')); s = slash + 1) {
		tally_buf_addc(&p, '/');
		tally_buf_add(&p, s, (size_t)(slash - s));
		struct stat st;
		if (!tally_buf_oom(&p) && lstat(p.ptr, &st) == 0 && S_ISLNK(st.st_mode)) {
			found = 1;
			*link_out = strndup(rel, (size_t)(slash - rel));
		}
	}
	tally_buf_release(&p);
	return found;
}

/* ---- globals ---- */

/* The definition whose literal resolved value `i` replaces, or NULL: only
 * values that differ from the script's own; the rest keeps its bytes. */
static const tally_flagdef *literal_to_rewrite(const tally_script_flags *sf, const tally_resolved_flags *r, size_t i)
{
	const tally_flagdef *def = tally__flagdef_find(sf, r->values.items[i].name);
	return def && def->lit_len && (r->origins[i] != TALLY_FROM_DEFAULT || !def->script_default) ? def : NULL;
}

bool tally__flags_globals_to_rewrite(const tally_script_flags *sf, const tally_resolved_flags *r)
{
	for (size_t i = 0; sf->dest == TALLY_DEST_GLOBALS && i < r->values.count; i++)
		if (literal_to_rewrite(sf, r, i))
			return true;
	return false;
}

typedef struct {
	size_t off, len;
	const tally_flagdef *def;
	const tally_flag *value;
} edit;

static int by_offset(const void *a, const void *b)
{
	const edit *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int rewrite_copy(const char *copy, const tally_script_flags *sf, const tally_resolved_flags *r);

int tally__flags_rewrite_globals(const char *run_dir, const char *rel, const tally_script_flags *sf,
                                 const tally_resolved_flags *r)
{
	if (sf->dest != TALLY_DEST_GLOBALS)
		return 0;
	char *link = NULL;
	if (through_link(run_dir, rel, &link)) {
		int rc = tally__error(TALLY_EINVALID,
		                      "cannot set the flags of %s: its folder '%s' is linked into the run, not copied "
		                      "(git-ignored or excluded), and the project's file must not change — copy it "
		                      "(#| sourcecode: [include: ...]) or use flags-dest: args",
		                      rel, link ? link : "?");
		free(link);
		return rc;
	}
	char *copy = tally_path_join(run_dir, rel);
	if (!copy)
		return tally__error_oom();
	int rc = rewrite_copy(copy, sf, r);
	free(copy);
	return rc;
}

/* Rewrite the literals in `copy` (a file of the run: a copy, or a link replaced, never written through). */
static int rewrite_copy(const char *copy, const tally_script_flags *sf, const tally_resolved_flags *r)
{
	edit *edits = calloc(r->values.count + 1, sizeof *edits);
	size_t n = 0;
	if (!edits)
		return tally__error_oom();
	for (size_t i = 0; i < r->values.count; i++) {
		const tally_flagdef *def = literal_to_rewrite(sf, r, i);
		if (def)
			edits[n++] = (edit){def->lit_off, def->lit_len, def, &r->values.items[i]};
	}
	if (!n) {
		free(edits);
		return 0;
	}
	qsort(edits, n, sizeof *edits, by_offset);
	tally_buf file = TALLY_BUF_INIT;
	if (tally_read_file(&file, copy, 0) < 0) {
		tally_buf_release(&file);
		free(edits);
		return tally__error_errno(TALLY_ERROR, "cannot read the run's copy of the script '%s' to set its flags", copy);
	}
	const char *text = file.ptr ? file.ptr : "";
	size_t len = file.len;
	bool python = sf->language && !strcmp(sf->language, "Python");
	tally_buf out = TALLY_BUF_INIT;
	size_t at = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (edits[i].off < at || edits[i].off + edits[i].len > len) {
			rc = tally__error(TALLY_ERROR, "the run's copy of the script changed since its flags were read — run again");
			break;
		}
		tally_buf_add(&out, text + at, edits[i].off - at);
		tally__render_literal(&out, edits[i].value, python, edits[i].def);
		at = edits[i].off + edits[i].len;
	}
	tally_buf_add(&out, text + at, len - at);
	/* replace the directory entry (a copy, or a link to the project's file: never written through) */
	if (!rc && (tally_buf_oom(&out) || tally_write_file_atomic(copy, out.ptr ? out.ptr : "", out.len, 0) < 0))
		rc = tally__error_errno(TALLY_ERROR, "cannot write the run's copy of the script '%s'", copy);
	tally_buf_release(&out);
	tally_buf_release(&file);
	free(edits);
	return rc;
}

/* ---- flags files ---- */

static bool python_identifier(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* R's syntactic names; others are written in backticks. */
static bool r_syntactic(const char *s)
{
	if (!(isalpha((unsigned char)*s) || (*s == '.' && !isdigit((unsigned char)s[1]))))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.'))
			return false;
	return true;
}

int tally__flags_check_file_names(const tally_script_flags *sf, const tally_resolved_flags *r)
{
	if (sf->dest != TALLY_DEST_FILE || !sf->dest_file || !ends_with(sf->dest_file, ".py"))
		return 0;
	for (size_t i = 0; i < r->values.count; i++)
		if (!python_identifier(r->values.items[i].name))
			return tally__error(TALLY_EINVALID,
			                    "flag name '%s' cannot be a Python variable in %s — use letters, digits and _",
			                    r->values.items[i].name, sf->dest_file);
	return 0;
}

static void json_value(tally_buf *out, const tally_flag *v)
{
	json_t *j = tally__flag_to_json(v);
	char *s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	tally_buf_adds(out, s ? s : "null");
	free(s);
	json_decref(j);
}

int tally__flags_write_file(const char *run_dir, const tally_script_flags *sf, const tally_resolved_flags *r)
{
	if (sf->dest != TALLY_DEST_FILE || !sf->dest_file)
		return 0;
	const char *f = sf->dest_file;
	char *link = NULL;
	if (through_link(run_dir, f, &link)) {
		int rc = tally__error(TALLY_EINVALID,
		                      "flags-dest %s would write into the project: '%s' is linked into the run, not copied "
		                      "— choose a path of its own, e.g. flags.yml",
		                      f, link ? link : "?");
		free(link);
		return rc;
	}
	bool yaml = ends_with(f, ".yml") || ends_with(f, ".yaml"), json = ends_with(f, ".json");
	bool python = ends_with(f, ".py");
	tally_buf out = TALLY_BUF_INIT;
	if (json)
		tally_buf_adds(&out, "{");
	for (size_t i = 0; i < r->values.count; i++) {
		const tally_flag *v = &r->values.items[i];
		const tally_flagdef *def = tally__flagdef_find(sf, v->name);
		if (json) {
			tally_buf_adds(&out, i ? ",\n  " : "\n  ");
			quoted(&out, v->name);
			tally_buf_adds(&out, ": ");
			json_value(&out, v);
		} else if (yaml) {
			/* JSON scalars are YAML: strings quoted so "007" and "yes" stay strings */
			quoted(&out, v->name);
			tally_buf_adds(&out, ": ");
			json_value(&out, v);
			tally_buf_addc(&out, '\n');
		} else {
			bool quote = !python && !r_syntactic(v->name);
			tally_buf_printf(&out, "%s%s%s %s ", quote ? "`" : "", v->name, quote ? "`" : "", python ? "=" : "<-");
			tally__render_literal(&out, v, python, def);
			tally_buf_addc(&out, '\n');
		}
	}
	if (json)
		tally_buf_adds(&out, r->values.count ? "\n}\n" : "}\n");
	char *path = tally_path_join(run_dir, f);
	int rc = 0;
	if (!path || tally_buf_oom(&out))
		rc = tally__error_oom();
	else if (tally_mkdir_p_parent(path) < 0 || tally_write_file_atomic(path, out.ptr ? out.ptr : "", out.len, 0) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write the flags file '%s'", path);
	free(path);
	tally_buf_release(&out);
	return rc;
}

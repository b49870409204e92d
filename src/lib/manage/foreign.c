/*
 * Runs of other tools turned into tally runs (tally import --from tfruns|guild):
 * tfruns' run directories (runs/<time>/tfruns.d/: flags.json, metrics.json,
 * evaluation.json, properties/, source.tar.gz) and Guild AI's (~/.guild/runs/
 * <id>/.guild/: attrs/, output and output.index, sourcecode/, event files).
 *
 * Each foreign run is converted into a tally run directory of the same id in
 * a scratch directory — the script's files copied, run.json, the scalar log,
 * the output and the source manifest written — and the lot is then handed to
 * tally_import(), which checks, moves in and indexes runs as it does for an
 * export.  The originals are only read.  A run that cannot be converted is
 * left out with a line in `skipped`.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/manage/archivelib.h"
#include "lib/manage/manage.h"
#include "util/digest.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

#define SMALL_FILE_MAX (64u << 20)   /* a metadata file, an output, a source file */
#define EVENT_FILE_MAX (1u << 30)    /* an event file read whole; a larger one is left out */

typedef struct {
	const char *tool;       /* "tfruns", "guild" */
	const char *meta_dir;   /* the tool's folder inside a run directory */
} foreign_tool;

static const foreign_tool tools[] = {
	[TALLY_FOREIGN_TFRUNS] = {"tfruns", "tfruns.d"},
	[TALLY_FOREIGN_GUILD] = {"guild", ".guild"},
};

/* ---- small helpers ---- */

static char *join(const char *a, const char *b)
{
	return tally_path_join(a, b);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A small text file's content, or NULL (missing, unreadable, too large). */
static char *read_text(const char *dir, const char *name)
{
	char *path = join(dir, name);
	tally_buf b = TALLY_BUF_INIT;
	char *out = NULL;
	if (path && tally_read_regular_file(&b, path, SMALL_FILE_MAX) == 0)
		out = tally_buf_detach(&b);
	tally_buf_release(&b);
	free(path);
	return out;
}

static json_t *read_json(const char *dir, const char *name)
{
	char *text = read_text(dir, name);
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	free(text);
	return v;
}

/* A YAML scalar as YAML's core schema types it. */
static json_t *yaml_scalar(const yaml_node_t *node)
{
	const char *s = (const char *)node->data.scalar.value;
	size_t len = node->data.scalar.length;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	if (!len || !strcmp(s, "~") || !strcmp(s, "null"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False"))
		return json_false();
	char *end;
	errno = 0;
	long long i = strtoll(s, &end, 10);
	if (!*end && !errno)
		return json_integer(i);
	double d = strtod(s, &end);
	if (!*end && isfinite(d))
		return json_real(d);
	return json_stringn(s, len);
}

/* `budget`: nodes left to convert, so aliases repeated into a "billion laughs" stay small. */
static json_t *yaml_node_json(yaml_document_t *doc, yaml_node_t *node, int depth, int *budget)
{
	if (!node || depth > 32 || --*budget < 0)
		return json_null();
	if (node->type == YAML_SCALAR_NODE)
		return yaml_scalar(node);
	if (node->type == YAML_SEQUENCE_NODE) {
		json_t *a = json_array();
		for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top; i++)
			json_array_append_new(a, yaml_node_json(doc, yaml_document_get_node(doc, *i), depth + 1, budget));
		return a;
	}
	json_t *o = json_object();
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE)
			json_object_set_new(o, (const char *)k->data.scalar.value,
			                    yaml_node_json(doc, yaml_document_get_node(doc, p->value), depth + 1, budget));
	}
	return o;
}

/* A file holding one YAML value (Guild's attrs), as JSON; NULL when missing or not YAML. */
static json_t *read_yaml(const char *dir, const char *name)
{
	char *text = read_text(dir, name);
	if (!text)
		return NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *out = NULL;
	if (yaml_parser_initialize(&parser)) {
		yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
		if (yaml_parser_load(&parser, &doc)) {
			yaml_node_t *root = yaml_document_get_root_node(&doc);
			int budget = 10000;
			out = root ? yaml_node_json(&doc, root, 0, &budget) : json_null();
			yaml_document_delete(&doc);
		}
		yaml_parser_delete(&parser);
	}
	free(text);
	return out;
}

/* ---- the converted run ---- */

typedef struct {
	const char *src;     /* the foreign run directory */
	char *dir;           /* its tally copy */
	json_t *meta;        /* run.json */
	json_t *sources;     /* the manifest: [{path, size, sha256}] */
	tally_scalar_log *log;
	int64_t started_ms, stopped_ms;
} conversion;

/* Copy what the script left in the run directory, the tool's folder aside. */
static int copy_tree(const char *from, const char *to, const char *skip)
{
	DIR *d = opendir(from);
	if (!d)
		return tally__error_errno(TALLY_ERROR, "cannot read '%s'", from);
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (skip && !strcmp(e->d_name, skip)) ||
		    !strcmp(e->d_name, TALLY_META_DIR))
			continue;
		char *a = join(from, e->d_name), *b = join(to, e->d_name);
		struct stat st;
		if (!a || !b)
			rc = tally__error_oom();
		else if (lstat(a, &st) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot read '%s'", a);
		else if (S_ISDIR(st.st_mode)) {
			if (mkdir(b, 0755) < 0)
				rc = tally__error_errno(TALLY_ERROR, "cannot create '%s'", b);
			else
				rc = copy_tree(a, b, NULL);
		} else if (S_ISREG(st.st_mode)) {
			if (tally_copy_file(a, b) < 0)
				rc = tally__error_errno(TALLY_ERROR, "cannot copy '%s'", a);
		} /* links, devices, sockets: left behind (a link may lead anywhere) */
		free(a);
		free(b);
	}
	closedir(d);
	return rc;
}

/* A point of the run's metrics; `from_event_file`: read from an event file the run keeps
 * (TensorBoard shows it there, so tally tensorboard leaves it out of tally's own). */
static void add_point(conversion *c, const char *tag, int64_t step, double value, int64_t time_ms,
                      bool from_event_file)
{
	if (!isfinite(value) || !tag || !*tag)
		return;
	if (from_event_file)
		tally__scalar_log_import(c->log, tag, step, value, time_ms);
	else
		tally__scalar_log_append(c->log, tag, step, value, time_ms);
}

/* A source file: into the run directory (unless the script made one of that
 * name) and into the manifest. */
static int add_source(conversion *c, const char *rel, const void *data, size_t len)
{
	size_t meta = strlen(TALLY_META_DIR);
	if (!tally__plain_path(rel) || (!strncmp(rel, TALLY_META_DIR, meta) && (!rel[meta] || rel[meta] == '/')))
		return 0; /* "..", absolute, or inside tally's own folder: not a source of this run */
	char *path = join(c->dir, rel);
	if (!path)
		return tally__error_oom();
	struct stat st;
	int rc = 0;
	if (lstat(path, &st) < 0) {
		if (tally_mkdir_p_parent(path) < 0 || tally_write_file_atomic(path, data, len, 0) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", path);
	}
	char hex[65];
	if (!rc && tally_sha256_hex(data, len, hex) == 0)
		json_array_append_new(c->sources, json_pack("{s:s, s:I, s:s}", "path", rel, "size", (json_int_t)len,
		                                             "sha256", hex));
	free(path);
	return rc;
}

/* tfruns' source.tar.gz: its regular files, through libarchive. */
static int add_source_archive(conversion *c, const char *archive)
{
	if (access(archive, R_OK) != 0)
		return 0;
	const tally_archivelib *ar = tally__archivelib();
	if (!ar)
		return TALLY_ERROR;
	struct archive *in = ar->read_new();
	struct archive_entry *e = ar->entry_new();
	tally_buf data = TALLY_BUF_INIT;
	int rc = in && e ? 0 : tally__error_oom();
	if (!rc) {
		ar->read_support_filter_all(in);
		ar->read_support_format_tar(in);
		if (ar->read_open_filename(in, archive, 65536) != ARCHIVE_OK)
			rc = tally__error(TALLY_EINVALID, "cannot read the source archive '%s'", archive);
	}
	while (!rc && ar->read_next_header2(in, e) == ARCHIVE_OK) {
		const char *path = ar->entry_pathname(e);
		if (!path || ar->entry_filetype(e) != AE_IFREG || ar->entry_size(e) > (int64_t)SMALL_FILE_MAX)
			continue;
		while (!strncmp(path, "./", 2))
			path += 2;
		tally_buf_clear(&data);
		const void *block;
		size_t size;
		int64_t offset;
		int r;
		while ((r = ar->read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK)
			tally_buf_add(&data, block, size);
		if (r != ARCHIVE_EOF) {
			rc = tally__error(TALLY_EINVALID, "cannot read '%s' in '%s'", path, archive);
			break;
		}
		rc = add_source(c, path, data.ptr ? data.ptr : "", data.len);
	}
	ar->read_free(in);
	ar->entry_free(e);
	tally_buf_release(&data);
	return rc;
}

/* Called for each regular file a walk meets: its path relative to the root, and its full path. */
typedef int (*file_visitor)(conversion *c, const char *rel, const char *path);

/* Every regular file below ROOT/REL, depth first, not through links; folders named `skip` aside. */
static int walk_files(conversion *c, const char *root, const char *rel, int depth, const char *skip,
                      file_visitor visit)
{
	char *dir = rel[0] ? join(root, rel) : strdup(root);
	DIR *d = dir && depth < 16 ? opendir(dir) : NULL;
	int rc = dir ? 0 : tally__error_oom();
	struct dirent *e;
	while (!rc && d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		tally_buf child = TALLY_BUF_INIT;
		tally_buf_printf(&child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		char *path = join(root, child.ptr);
		struct stat st;
		if (!path || tally_buf_oom(&child))
			rc = tally__error_oom();
		else if (lstat(path, &st) < 0)
			; /* gone since the listing */
		else if (S_ISDIR(st.st_mode) && !(skip && !strcmp(e->d_name, skip)))
			rc = walk_files(c, root, child.ptr, depth + 1, skip, visit);
		else if (S_ISREG(st.st_mode))
			rc = visit(c, child.ptr, path);
		free(path);
		tally_buf_release(&child);
	}
	if (d)
		closedir(d);
	free(dir);
	return rc;
}

/* Guild's sourcecode/ folder, file by file. */
static int take_source_file(conversion *c, const char *rel, const char *path)
{
	tally_buf b = TALLY_BUF_INIT;
	int rc = tally_read_regular_file(&b, path, SMALL_FILE_MAX) == 0 ? add_source(c, rel, b.ptr ? b.ptr : "", b.len) : 0;
	tally_buf_release(&b);
	return rc;
}

static void set_times(conversion *c)
{
	char iso[40];
	if (c->started_ms > 0) {
		tally_format_iso_ms(iso, sizeof iso, c->started_ms);
		json_object_set_new(c->meta, "started", json_string(iso));
		json_object_set_new(c->meta, "started_ms", json_integer(c->started_ms));
	}
	if (c->stopped_ms > 0) {
		tally_format_iso_ms(iso, sizeof iso, c->stopped_ms);
		json_object_set_new(c->meta, "stopped", json_string(iso));
		json_object_set_new(c->meta, "stopped_ms", json_integer(c->stopped_ms));
	}
}

static void set_flags(conversion *c, json_t *flags)
{
	json_t *values = json_object(), *types = json_object(), *sources = json_object();
	const char *name;
	json_t *v;
	json_object_foreach(flags, name, v) {
		json_object_set(values, name, v);
		json_object_set_new(types, name, json_string(tally__json_type_name(v)));
		json_object_set_new(sources, name, json_string("imported"));
	}
	json_object_set_new(c->meta, "flags", values);
	json_object_set_new(c->meta, "flag_types", types);
	json_object_set_new(c->meta, "flag_sources", sources);
}

/* ---- tfruns ---- */

/* "2017-10-02T14-23-38Z" (a tfruns run's name) as epoch ms, or 0. */
static int64_t tfruns_name_time(const char *name)
{
	char iso[32];
	int y, mo, d, h, mi, s;
	if (sscanf(name, "%4d-%2d-%2dT%2d-%2d-%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
		return 0;
	snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
	return tally_parse_iso_ms(iso);
}

/* A property file: "1506950618.5" seconds, as tfruns writes times. */
static int64_t seconds_ms(const char *text)
{
	char *end;
	double v = text ? strtod(text, &end) : 0;
	return text && end != text && v > 0 ? (int64_t)llround(v * 1000.0) : 0;
}

static char *trimmed(char *text)
{
	if (!text)
		return NULL;
	size_t n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		text[--n] = '\0';
	return text;
}

static int convert_tfruns(conversion *c, const char *meta_dir)
{
	char *props = join(meta_dir, "properties");
	char *start = trimmed(read_text(props, "start")), *end = trimmed(read_text(props, "end"));
	char *completed = trimmed(read_text(props, "completed")), *script = trimmed(read_text(props, "script"));
	char *error = trimmed(read_text(props, "error_message"));
	char *output = read_text(props, "output");
	if (!output)
		output = read_text(meta_dir, "output");
	c->started_ms = seconds_ms(start);
	if (!c->started_ms)
		c->started_ms = tfruns_name_time(strrchr(c->dir, '/') + 1);
	c->stopped_ms = seconds_ms(end);
	set_times(c);
	const char *status = completed ? (!strcmp(completed, "TRUE") ? "completed" : "error")
	                               : c->stopped_ms ? "completed" : "terminated";
	json_object_set_new(c->meta, "status", json_string(status));
	json_object_set_new(c->meta, "exit_status", !strcmp(status, "completed") ? json_integer(0)
	                                            : !strcmp(status, "error") ? json_integer(1) : json_null());
	if (!strcmp(status, "terminated"))
		json_object_set_new(c->meta, "stop_reason", json_string("no end recorded (imported from tfruns)"));
	if (error && *error)
		json_object_set_new(c->meta, "error_message", tally__json_text(error));
	if (script)
		json_object_set_new(c->meta, "script", tally__json_text(script));
	json_t *flags = read_json(meta_dir, "flags.json");
	set_flags(c, json_is_object(flags) ? flags : NULL);
	json_decref(flags);

	/* metrics.json: metric -> [value per epoch]; evaluation.json: name -> value */
	json_t *metrics = read_json(meta_dir, "metrics.json");
	int64_t epochs = 0;
	const char *tag;
	json_t *series;
	json_object_foreach(metrics, tag, series) {
		size_t i;
		json_t *v;
		json_array_foreach(series, i, v) {
			if (json_is_number(v)) {
				add_point(c, tag, (int64_t)i + 1, json_number_value(v), c->started_ms, false);
				if ((int64_t)i + 1 > epochs)
					epochs = (int64_t)i + 1;
			}
		}
	}
	json_decref(metrics);
	json_t *evaluation = read_json(meta_dir, "evaluation.json");
	json_t *v;
	json_object_foreach(evaluation, tag, v) {
		if (!json_is_number(v))
			continue;
		tally_buf name = TALLY_BUF_INIT;
		tally_buf_printf(&name, "%s%s", strncmp(tag, "eval_", 5) ? "eval_" : "", tag);
		add_point(c, name.ptr, epochs, json_number_value(v), c->stopped_ms ? c->stopped_ms : c->started_ms, false);
		tally_buf_release(&name);
	}
	json_decref(evaluation);

	int rc = 0;
	if (output && *output) {
		tally_output *o = NULL;
		if (!(rc = tally__output_open(&o, c->dir, NULL, NULL))) {
			rc = tally__output_chunk(o, TALLY_STREAM_STDOUT, output, strlen(output), c->started_ms);
			int closed = tally__output_close(o);
			rc = rc ? rc : closed;
		}
	}
	char *archive = join(meta_dir, "source.tar.gz");
	if (!rc)
		rc = add_source_archive(c, archive);
	free(archive);
	free(props);
	free(start);
	free(end);
	free(completed);
	free(script);
	free(error);
	free(output);
	return rc;
}

/* ---- Guild AI ---- */

static int64_t guild_time_ms(const json_t *v)
{
	return json_is_integer(v) ? (int64_t)(json_integer_value(v) / 1000) : 0; /* microseconds */
}

/* output + output.index (per line: u64 big-endian time ms, u8 stream) as tally chunks. */
static int convert_guild_output(conversion *c, const char *meta_dir)
{
	char *output_path = join(meta_dir, "output"), *index_path = join(meta_dir, "output.index");
	tally_buf out = TALLY_BUF_INIT, idx = TALLY_BUF_INIT;
	int rc = 0;
	if (!output_path || !index_path)
		rc = tally__error_oom();
	else if (tally_read_regular_file(&out, output_path, SMALL_FILE_MAX) == 0 && out.len) {
		tally_read_regular_file(&idx, index_path, SMALL_FILE_MAX);
		tally_output *o = NULL;
		if (!(rc = tally__output_open(&o, c->dir, NULL, NULL))) {
			size_t at = 0, entry = 0;
			while (!rc && at < out.len) {
				const char *nl = memchr(out.ptr + at, '\n', out.len - at);
				size_t len = nl ? (size_t)(nl - (out.ptr + at)) + 1 : out.len - at;
				int64_t time_ms = c->started_ms;
				int stream = TALLY_STREAM_STDOUT;
				if ((entry + 1) * 9 <= idx.len) { /* this line has its index entry */
					const unsigned char *p = (const unsigned char *)idx.ptr + entry * 9;
					uint64_t t = 0;
					for (int i = 0; i < 8; i++)
						t = t << 8 | p[i];
					time_ms = (int64_t)t;
					stream = p[8] ? TALLY_STREAM_STDERR : TALLY_STREAM_STDOUT;
				}
				rc = tally__output_chunk(o, stream, out.ptr + at, len, time_ms);
				at += len;
				entry++;
			}
			int closed = tally__output_close(o);
			rc = rc ? rc : closed;
		}
	}
	tally_buf_release(&out);
	tally_buf_release(&idx);
	free(output_path);
	free(index_path);
	return rc;
}

static int take_event_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	add_point(ctx, tag, step, value, time_ms, true);
	return 0;
}

/* A TensorBoard event file of the run (Guild's own in .guild/ too), its tags
 * prefixed by its folder as a run's own files are; Guild's folder gives none. */
static int take_event_file(conversion *c, const char *rel, const char *path)
{
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	if (!strstr(name, "tfevents"))
		return 0;
	char *folder = strndup(rel, (size_t)(name - rel) - (name > rel));
	char *prefix = folder ? tally__tfevents_tag_prefix(strcmp(folder, ".guild") ? folder : "") : NULL;
	tally_tfevents_decoder *dec = NULL;
	tally_buf data = TALLY_BUF_INIT;
	if (prefix && tally__tfevents_decoder_new(&dec, prefix) == 0 && tally_read_regular_file(&data, path, EVENT_FILE_MAX) == 0 &&
	    data.len)
		tally__tfevents_decode(dec, (const unsigned char *)data.ptr, data.len, take_event_point, c);
	tally__tfevents_decoder_free(dec);
	tally_buf_release(&data);
	free(prefix);
	free(folder);
	return 0;
}

static int convert_guild(conversion *c, const char *meta_dir)
{
	char *attrs = join(meta_dir, "attrs");
	if (!attrs)
		return tally__error_oom();
	if (!is_dir(attrs)) {
		free(attrs);
		return tally__error(TALLY_ECORRUPT, "no .guild/attrs folder");
	}
	json_t *started = read_yaml(attrs, "started"), *stopped = read_yaml(attrs, "stopped");
	json_t *exit_status = read_yaml(attrs, "exit_status"), *flags = read_yaml(attrs, "flags");
	json_t *label = read_yaml(attrs, "label"), *tags = read_yaml(attrs, "tags"), *cmd = read_yaml(attrs, "cmd");
	json_t *host = read_yaml(attrs, "host"), *user = read_yaml(attrs, "user"), *op = read_yaml(attrs, "op");
	c->started_ms = guild_time_ms(started);
	c->stopped_ms = guild_time_ms(stopped);
	set_times(c);
	const char *status = !c->stopped_ms ? "terminated"
	                     : json_is_integer(exit_status) && json_integer_value(exit_status) == 0 ? "completed"
	                     : json_is_integer(exit_status) && json_integer_value(exit_status) < 0 ? "terminated"
	                                                                                          : "error";
	json_object_set_new(c->meta, "status", json_string(status));
	json_object_set_new(c->meta, "exit_status", json_is_integer(exit_status) && json_integer_value(exit_status) >= 0
	                                                ? json_integer(json_integer_value(exit_status))
	                                                : json_null());
	if (!c->stopped_ms)
		json_object_set_new(c->meta, "stop_reason", json_string("no end recorded (imported from Guild AI)"));
	set_flags(c, json_is_object(flags) ? flags : NULL);
	if (json_is_string(label))
		json_object_set(c->meta, "label", label);
	if (json_is_array(tags))
		json_object_set(c->meta, "tags", tags);
	if (json_is_array(cmd))
		json_object_set(c->meta, "command", cmd);
	if (json_is_string(host))
		json_object_set(c->meta, "host", host);
	if (json_is_string(user))
		json_object_set(c->meta, "user", user);
	/* the operation: a script's name (train.py) or a Guild file's operation */
	json_t *op_name = json_object_get(json_object_get(op, "opref"), "op_name");
	if (json_is_string(op_name))
		json_object_set(c->meta, "script", op_name);
	json_decref(started);
	json_decref(stopped);
	json_decref(exit_status);
	json_decref(flags);
	json_decref(label);
	json_decref(tags);
	json_decref(cmd);
	json_decref(host);
	json_decref(user);
	json_decref(op);
	free(attrs);

	int rc = convert_guild_output(c, meta_dir);
	if (!rc)
		rc = walk_files(c, c->src, "", 0, "sourcecode", take_event_file);
	char *sourcecode = join(meta_dir, "sourcecode");
	if (!rc && sourcecode && is_dir(sourcecode))
		rc = walk_files(c, sourcecode, "", 0, NULL, take_source_file);
	free(sourcecode);
	return rc;
}

/* A run id must name a directory: no slash, no dot first, not too long. */
static bool usable_id(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/') && strlen(name) < TALLY_ID_MAX;
}

/* ---- one run, and all of them ---- */

static int convert_run(tally_foreign_kind kind, const char *src, const char *into, const char *id)
{
	conversion c = {src, join(into, id), NULL, json_array(), NULL, 0, 0};
	char *meta_dir = join(src, tools[kind].meta_dir);
	char *tally_dir = c.dir ? join(c.dir, TALLY_META_DIR) : NULL;
	int rc = c.dir && meta_dir && tally_dir && c.sources ? 0 : tally__error_oom();
	bool made = false; /* c.dir is ours to remove on failure only once we created it */
	if (!rc && !usable_id(id))
		rc = tally__error(TALLY_EINVALID, "'%s' cannot be a run id", id);
	if (!rc && mkdir(c.dir, 0755) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot create '%s'", c.dir);
	made = !rc;
	if (!rc && mkdir(tally_dir, 0755) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot create '%s'", tally_dir);
	if (!rc)
		rc = copy_tree(src, c.dir, tools[kind].meta_dir);
	if (!rc) {
		c.meta = json_pack("{s:i, s:s, s:s, s:n, s:[], s:{}, s:s, s:[], s:s, s:n, s:s, s:{s:s, s:s}}", "format", TALLY_RUN_FORMAT,
		                   "id", id, "status", "completed", "script", "command", "flags", "label", "", "tags",
		                   "host", "", "user", "tally_version", tally_version(), "imported_from", "tool",
		                   tools[kind].tool, "path", src);
		rc = c.meta ? tally__scalar_log_open(&c.log, c.dir) : tally__error_oom();
	}
	if (!rc)
		rc = kind == TALLY_FOREIGN_TFRUNS ? convert_tfruns(&c, meta_dir) : convert_guild(&c, meta_dir);
	if (!rc && c.log) {
		rc = tally__scalar_log_flush(c.log);
		if (!rc)
			rc = tally__scalar_log_write_summary(c.log, 0);
	}
	if (!rc) {
		json_object_set_new(c.meta, "sources", json_integer((json_int_t)json_array_size(c.sources)));
		char *text = json_dumps(c.sources, JSON_INDENT(1));
		char *path = join(tally_dir, "sources.json");
		if (!text || !path || tally_write_file_atomic(path, text, strlen(text), 0) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot write the source manifest of %s", id);
		free(text);
		free(path);
	}
	if (!rc)
		rc = tally__meta_save(c.dir, c.meta, 0);
	tally__scalar_log_free(c.log);
	if (rc && made)
		tally_remove_tree(c.dir);
	json_decref(c.meta);
	json_decref(c.sources);
	free(c.dir);
	free(meta_dir);
	free(tally_dir);
	return rc;
}

static void note_skipped(tally_buf *skipped, const char *id, const char *why)
{
	tally_buf_printf(skipped, "%s: %s\n", id, why);
}

/* The foreign runs of `src`: itself when it is one, else its folders that are. */
static int convert_all(tally_foreign_kind kind, const char *src, const char *into, size_t *converted,
                       tally_buf *skipped)
{
	char *own = join(src, tools[kind].meta_dir);
	bool single = own && is_dir(own);
	free(own);
	if (single) { /* its id is its real name: "..", "." or "/" say nothing */
		char *real = realpath(src, NULL);
		if (!real)
			return tally__error_errno(TALLY_ENOTFOUND, "cannot read '%s'", src);
		const char *id = strrchr(real, '/') + 1;
		int rc = convert_run(kind, real, into, id);
		if (rc == 0)
			(*converted)++;
		free(real);
		return rc;
	}
	DIR *d = opendir(src);
	if (!d)
		return tally__error_errno(TALLY_ENOTFOUND, "cannot read '%s'", src);
	tally_strlist names = TALLY_STRLIST_INIT;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			tally_strlist_push(&names, e->d_name);
	closedir(d);
	tally_strlist_sort(&names);
	int rc = 0;
	for (size_t i = 0; !rc && i < names.n; i++) {
		char *run = join(src, names.items[i]);
		char *meta = run ? join(run, tools[kind].meta_dir) : NULL;
		if (!run || !meta)
			rc = tally__error_oom();
		else if (is_dir(meta)) {
			if (!usable_id(names.items[i]))
				note_skipped(skipped, names.items[i], "not a usable run id");
			else if (convert_run(kind, run, into, names.items[i]) == 0)
				(*converted)++;
			else
				note_skipped(skipped, names.items[i], tally_error_last());
		}
		free(run);
		free(meta);
	}
	tally_strlist_release(&names);
	return rc;
}

int tally_import_foreign(tally_store *store, tally_foreign_kind kind, const char *src, size_t *imported,
                         char **skipped)
{
	*imported = 0;
	*skipped = NULL;
	if (kind != TALLY_FOREIGN_TFRUNS && kind != TALLY_FOREIGN_GUILD)
		return tally__error(TALLY_EINVALID, "unknown kind of runs to import (%d)", (int)kind);
	if (!is_dir(src))
		return tally__error(TALLY_ENOTFOUND, "'%s' is not a directory of %s runs", src, tools[kind].tool);
	if (kind == TALLY_FOREIGN_TFRUNS && !tally__archivelib())
		return TALLY_ERROR; /* source archives need libarchive: say so before anything */
	const char *tmp = getenv("TMPDIR");
	tally_buf scratch = TALLY_BUF_INIT;
	tally_buf_printf(&scratch, "%s/tally-convert-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (tally_buf_oom(&scratch))
		return tally__error_oom();
	if (!mkdtemp(scratch.ptr)) {
		int rc = tally__error_errno(TALLY_ERROR, "cannot create a scratch directory '%s'", scratch.ptr);
		tally_buf_release(&scratch);
		return rc;
	}
	tally_buf skip = TALLY_BUF_INIT;
	size_t converted = 0;
	int rc = convert_all(kind, src, scratch.ptr, &converted, &skip);
	if (!rc && !converted)
		rc = tally__error(TALLY_EINVALID, "'%s' holds no %s runs that could be read (each has a %s/ folder)%s%s", src,
		                  tools[kind].tool, tools[kind].meta_dir, skip.len ? " — " : "",
		                  skip.len ? skip.ptr : "");
	char *also = NULL;
	if (!rc)
		rc = tally_import(store, scratch.ptr, NULL, imported, &also);
	if (also)
		tally_buf_adds(&skip, also);
	free(also);
	tally_remove_tree(scratch.ptr);
	tally_buf_release(&scratch);
	if (skip.len)
		*skipped = tally_buf_detach(&skip);
	tally_buf_release(&skip);
	return rc;
}

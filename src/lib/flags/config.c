/*
 * The project configuration file, tally.yml, in the project directory.
 *
 *   runs-dir: runs                # where runs live (TALLY_RUNS_DIR and --runs-dir win)
 *   interpreters:                 # file extension → command that runs such a script
 *     py: /opt/venv/bin/python
 *     R: Rscript --vanilla
 *   sources:                      # what is copied into each run
 *     max-file-size: 1048576      # bytes; larger files are linked, not copied
 *     max-files: 1000
 *     exclude: ["*.csv", "data"]
 *   venv: .venv                   # .py scripts run with .venv/bin/python
 *   flags-dest: args              # where flag values go, for every script
 *   extra-args: [--log-dir, "${run_dir}/logs"]   # appended to every command
 *   system-metrics: 5             # seconds between sys/... samples (CPU, memory, GPU); off
 *   tensorboard: on               # also write each run's scalars to a TensorBoard event file as it goes
 *   slurm: --partition=gpu --time=2:00:00   # sbatch options of runs sent to Slurm (or a list)
 *   scripts:                      # per script: what its front matter could say
 *     train.R: {flags-dest: flags.yml, flags: {lr: 0.1}, slurm: --gres=gpu:1}
 *
 * Unknown keys are errors, so that a typo never silently does nothing.
 */
#include "lib/flags/flags.h"
#include "lib/flags/flagdefs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/slurm/slurm.h"
#include "util/fsutil.h"
#include "util/strlist.h"

#define DEFAULT_MAX_FILE_SIZE (1024 * 1024)
#define DEFAULT_MAX_FILES 1000

char **tally__split_command(const char *command)
{
	tally_strlist argv = TALLY_STRLIST_INIT;
	char *copy = strdup(command), *save = NULL;
	bool ok = copy != NULL;
	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w && ok; w = strtok_r(NULL, " \t", &save))
		ok = tally_strlist_push(&argv, w) == 0;
	free(copy);
	if (!ok || argv.n == 0) {
		tally_strlist_release(&argv);
		return NULL;
	}
	return argv.items; /* NULL-terminated; freed with tally__argv_free() */
}

void tally__argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static const char *scalar_of(yaml_document_t *doc, yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static int config_error(const char *path, yaml_node_t *node, const char *what)
{
	return tally__error(TALLY_EINVALID, "%s line %lu column %lu: %s", path,
	                    node ? (unsigned long)node->start_mark.line + 1 : 0UL,
	                    node ? (unsigned long)node->start_mark.column + 1 : 0UL, what);
}

static int load_string_list(char ***out, yaml_document_t *doc, yaml_node_t *v, const char *path, const char *what)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return config_error(path, v, what);
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	tally__argv_free(*out); /* a repeated key: the last one wins */
	if (!(*out = calloc(n + 1, sizeof(char *))))
		return tally__error_oom();
	for (size_t i = 0; i < n; i++) {
		const char *item = scalar_of(doc, yaml_document_get_node(doc, v->data.sequence.items.start[i]));
		if (!item)
			return config_error(path, v, what);
		if (!((*out)[i] = strdup(item)))
			return tally__error_oom();
	}
	return 0;
}

int tally__slurm_options_from_yaml(tally_strlist *out, yaml_document_t *doc, yaml_node_t *v)
{
	if (v && v->type == YAML_SCALAR_NODE)
		return tally__slurm_split_options(out, scalar_of(doc, v), "slurm");
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return TALLY_EINVALID;
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		const char *item = scalar_of(doc, yaml_document_get_node(doc, *i));
		int rc = item ? tally__slurm_split_options(out, item, "slurm") : TALLY_EINVALID;
		if (rc)
			return rc;
	}
	return 0;
}

/* `venv: DIR`: scripts ending in .py run with DIR/bin/python (unless `interpreters: py:` says otherwise). */
static int load_venv(tally_config *cfg, yaml_document_t *doc, yaml_node_t *v, const char *path)
{
	const char *dir = scalar_of(doc, v);
	if (!dir || !*dir)
		return config_error(path, v, "'venv' must be the directory of a virtual environment");
	tally_buf python = TALLY_BUF_INIT;
	if (dir[0] == '/')
		tally_buf_printf(&python, "%s/bin/python", dir);
	else
		tally_buf_printf(&python, "%s/%s/bin/python", cfg->project_dir, dir);
	int rc = 0;
	if (tally_buf_oom(&python))
		rc = tally__error_oom();
	else if (access(python.ptr, X_OK) != 0)
		rc = config_error(path, v, "'venv' has no bin/python — give the directory made by python3 -m venv");
	else if (!tally__config_interpreter(cfg, "py")) {
		tally_interpreter *grown = realloc(cfg->interpreters, (cfg->n_interpreters + 1) * sizeof *grown);
		if (!grown)
			rc = tally__error_oom();
		else {
			cfg->interpreters = grown;
			tally_interpreter *it = &cfg->interpreters[cfg->n_interpreters++];
			it->ext = strdup("py");
			it->argv = calloc(2, sizeof(char *));
			if (!it->ext || !it->argv || !(it->argv[0] = strdup(python.ptr)))
				rc = tally__error_oom();
		}
	}
	tally_buf_release(&python);
	return rc;
}

static int parse_int64(const char *text, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* YAML's booleans: 1 on, 0 off, -1 neither. */
static int yaml_boolean(const char *text)
{
	static const char *const on[] = {"on", "true", "yes", "On", "True", "Yes", "ON", "TRUE", "YES"};
	static const char *const off[] = {"off", "false", "no", "Off", "False", "No", "OFF", "FALSE", "NO"};
	for (size_t i = 0; text && i < sizeof on / sizeof *on; i++) {
		if (!strcmp(text, on[i]))
			return 1;
		if (!strcmp(text, off[i]))
			return 0;
	}
	return -1;
}

/* `system-metrics:` on, off (YAML's booleans), or seconds between samples. */
static int load_system_metrics(tally_config *cfg, const char *text)
{
	if (!text)
		return -1;
	int on = yaml_boolean(text);
	if (on >= 0) {
		cfg->system_metrics_ms = on ? TALLY_SYSTEM_METRICS_MS : 0;
		return 0;
	}
	char *end;
	double seconds = strtod(text, &end);
	if (end == text || *end || !(seconds >= 0.5 && seconds <= 3600))
		return -1;
	cfg->system_metrics_ms = (int64_t)(seconds * 1000);
	return 0;
}

static int load_interpreters(tally_config *cfg, yaml_document_t *doc, yaml_node_t *map, const char *path)
{
	if (map->type != YAML_MAPPING_NODE)
		return config_error(path, map, "'interpreters' must be a map from extension to command");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *ext = scalar_of(doc, yaml_document_get_node(doc, p->key));
		yaml_node_t *vnode = yaml_document_get_node(doc, p->value);
		const char *cmd = scalar_of(doc, vnode);
		if (!ext || !cmd || !cmd[strspn(cmd, " \t")])
			return config_error(path, vnode, "an interpreter must be a command, e.g. 'py: /usr/bin/python3'");
		tally_interpreter *grown = realloc(cfg->interpreters, (cfg->n_interpreters + 1) * sizeof *grown);
		if (!grown)
			return tally__error_oom();
		cfg->interpreters = grown;
		tally_interpreter *it = &cfg->interpreters[cfg->n_interpreters];
		it->ext = strdup(ext[0] == '.' ? ext + 1 : ext);
		it->argv = tally__split_command(cmd);
		cfg->n_interpreters++;
		if (!it->ext || !it->argv)
			return tally__error_oom();
	}
	return 0;
}

static int load_sources(tally_config *cfg, yaml_document_t *doc, yaml_node_t *map, const char *path)
{
	if (map->type != YAML_MAPPING_NODE)
		return config_error(path, map, "'sources' must be a map");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *key = scalar_of(doc, yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		if (key && !strcmp(key, "max-file-size")) {
			if (!scalar_of(doc, v) || parse_int64(scalar_of(doc, v), &cfg->source_max_file_size) < 0)
				return config_error(path, v, "'max-file-size' must be a number of bytes");
		} else if (key && !strcmp(key, "max-files")) {
			if (!scalar_of(doc, v) || parse_int64(scalar_of(doc, v), &cfg->source_max_files) < 0)
				return config_error(path, v, "'max-files' must be a non-negative number");
		} else if (key && !strcmp(key, "exclude")) {
			int rc = load_string_list(&cfg->source_exclude, doc, v, path, "'exclude' must be a list of patterns");
			if (rc)
				return rc;
		} else {
			return config_error(path, v, "unknown key under 'sources' (known: max-file-size, max-files, exclude)");
		}
	}
	return 0;
}

static int load_document(tally_config *cfg, yaml_document_t *doc, const char *path)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root || (root->type == YAML_SCALAR_NODE && !*scalar_of(doc, root)))
		return 0; /* empty file */
	if (root->type != YAML_MAPPING_NODE)
		return config_error(path, root, "the top level must be a map of settings");
	yaml_node_t *venv = NULL; /* after interpreters, whatever the order: those win */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *key = scalar_of(doc, yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		int rc = 0;
		if (key && !strcmp(key, "runs-dir")) {
			if (!scalar_of(doc, v))
				return config_error(path, v, "'runs-dir' must be a path");
			free(cfg->runs_dir);
			if (!(cfg->runs_dir = strdup(scalar_of(doc, v))))
				return tally__error_oom();
		} else if (key && !strcmp(key, "interpreters")) {
			rc = load_interpreters(cfg, doc, v, path);
		} else if (key && !strcmp(key, "sources")) {
			rc = load_sources(cfg, doc, v, path);
		} else if (key && !strcmp(key, "venv")) {
			venv = v;
		} else if (key && !strcmp(key, "flags-dest")) {
			char *file = NULL;
			const char *dest = scalar_of(doc, v);
			if ((int)tally__dest_parse(dest, &file) < 0)
				rc = config_error(path, v, "'flags-dest' must be args, globals, env, or a file (.yml, .yaml, .json, .R, .py) inside the run");
			free(file);
			free(cfg->flags_dest);
			if (!rc && !(cfg->flags_dest = strdup(dest)))
				rc = tally__error_oom();
		} else if (key && !strcmp(key, "extra-args")) {
			rc = load_string_list(&cfg->extra_args, doc, v, path,
			                      "'extra-args' must be a list of arguments, e.g. [--log-dir, \"${run_dir}/logs\"]");
		} else if (key && !strcmp(key, "system-metrics")) {
			rc = load_system_metrics(cfg, scalar_of(doc, v)) ? config_error(path, v,
			     "'system-metrics' must be on, off, or the seconds between samples (0.5 to 3600)") : 0;
		} else if (key && !strcmp(key, "tensorboard")) {
			int on = yaml_boolean(scalar_of(doc, v));
			if (on < 0)
				rc = config_error(path, v, "'tensorboard' must be on or off (on: each run also writes its scalars "
				                           "to a TensorBoard event file as it goes)");
			cfg->tensorboard_live = on == 1;
		} else if (key && !strcmp(key, "slurm")) {
			tally_strlist_release(&cfg->slurm_options); /* a repeated key: the last one wins */
			if (tally__slurm_options_from_yaml(&cfg->slurm_options, doc, v))
				rc = config_error(path, v, "'slurm' must be sbatch options, as one string or a list "
				                           "(\"--partition=gpu --time=2:00:00\")");
		} else if (key && !strcmp(key, "output-scalars")) {
			/* read with the script's settings (tally__apply_config_flags) */
		} else if (key && !strcmp(key, "scripts")) {
			if (v->type != YAML_MAPPING_NODE)
				rc = config_error(path, v, "'scripts' must map script names to settings (flags-dest, flags, sourcecode)");
		} else {
			rc = config_error(path, v,
			                  "unknown setting (known: runs-dir, interpreters, venv, sources, flags-dest, extra-args, system-metrics, output-scalars, "
			                  "tensorboard, slurm, scripts)");
		}
		if (rc)
			return rc;
	}
	return venv ? load_venv(cfg, doc, venv, path) : 0;
}

int tally__config_load(tally_config *cfg, const char *project_dir)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	bool parser_ok = false, doc_ok = false;
	tally_buf text = TALLY_BUF_INIT;
	char *path = NULL;
	int rc = 0;

	memset(cfg, 0, sizeof *cfg);
	cfg->source_max_file_size = DEFAULT_MAX_FILE_SIZE;
	cfg->source_max_files = DEFAULT_MAX_FILES;
	cfg->system_metrics_ms = TALLY_SYSTEM_METRICS_MS;
	cfg->project_dir = tally_path_absolute(project_dir);
	path = tally_path_join(project_dir, "tally.yml");
	if (!cfg->project_dir || !path) {
		rc = tally__error_oom();
		goto done;
	}
	if (tally_read_file(&text, path, 1 << 20) < 0) {
		if (errno != ENOENT)
			rc = tally__error_errno(TALLY_ERROR, "cannot read '%s'", path);
		goto done;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = tally__error_oom();
		goto done;
	}
	parser_ok = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text.ptr, text.len);
	if (!yaml_parser_load(&parser, &doc)) {
		/* A problem found at the end of the file (an unclosed bracket) is better
		 * reported where the unfinished construct starts. */
		bool at_end = parser.problem_mark.index >= text.len;
		yaml_mark_t mark = parser.context && at_end ? parser.context_mark : parser.problem_mark;
		rc = tally__error(TALLY_EINVALID, "%s line %lu column %lu: %s%s%s — fix the YAML syntax", path,
		                  (unsigned long)mark.line + 1, (unsigned long)mark.column + 1,
		                  parser.problem ? parser.problem : "malformed YAML",
		                  parser.context ? " " : "", parser.context ? parser.context : "");
		goto done;
	}
	doc_ok = true;
	rc = load_document(cfg, &doc, path);
	if (!rc) { /* kept for the per-script settings */
		cfg->text = tally_buf_detach(&text);
		cfg->path = path;
		path = NULL;
		if (!cfg->text)
			rc = tally__error_oom();
	}
done:
	if (doc_ok)
		yaml_document_delete(&doc);
	if (parser_ok)
		yaml_parser_delete(&parser);
	tally_buf_release(&text);
	free(path);
	if (rc)
		tally__config_release(cfg);
	return rc;
}

void tally__config_release(tally_config *cfg)
{
	free(cfg->project_dir);
	free(cfg->runs_dir);
	for (size_t i = 0; i < cfg->n_interpreters; i++) {
		free(cfg->interpreters[i].ext);
		tally__argv_free(cfg->interpreters[i].argv);
	}
	free(cfg->interpreters);
	tally__argv_free(cfg->source_exclude);
	tally__argv_free(cfg->extra_args);
	tally_strlist_release(&cfg->slurm_options);
	free(cfg->flags_dest);
	free(cfg->text);
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}

char *const *tally__config_interpreter(const tally_config *cfg, const char *ext)
{
	for (size_t i = 0; i < cfg->n_interpreters; i++)
		if (!strcmp(cfg->interpreters[i].ext, ext))
			return cfg->interpreters[i].argv;
	return NULL;
}

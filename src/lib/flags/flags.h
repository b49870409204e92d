/*
 * Flag values and the project configuration (libtally, internal).  The
 * definitions a script declares, and finding them, are in flagdefs.h.
 */
#ifndef TALLY_LIB_FLAGS_H
#define TALLY_LIB_FLAGS_H

#include "lib/core/core.h"

/* ---- project configuration (config.c) ---- */

typedef struct {
	char *ext;      /* file extension without the dot: "py", "R" */
	char **argv;    /* the interpreter command, NULL-terminated */
} tally_interpreter;

/* `system-metrics:`, the sampling interval (ms) of the sys/... scalars, unless tally.yml says otherwise. */
#define TALLY_SYSTEM_METRICS_MS 5000

typedef struct {
	char *project_dir;         /* absolute */
	char *runs_dir;            /* as written in tally.yml, or NULL */
	tally_interpreter *interpreters;
	size_t n_interpreters;
	int64_t source_max_file_size;  /* bytes */
	int64_t source_max_files;
	char **source_exclude;     /* fnmatch patterns, NULL-terminated */
	char *flags_dest;          /* `flags-dest:` for every script, or NULL */
	char **extra_args;         /* `extra-args:` appended to every command (templates), NULL-terminated */
	int64_t system_metrics_ms; /* `system-metrics:` sampling interval; 0 = off */
	bool tensorboard_live;     /* `tensorboard: on`: runs write a TensorBoard event file as they go */
	tally_strlist slurm_options; /* `slurm:` sbatch options for every script, one word each */
	char *text;                /* the file's text, for the per-script settings (tally__config_script_flags) */
	char *path;                /* tally.yml's path */
} tally_config;

/* Load `project_dir`/tally.yml (absent = defaults).  Malformed YAML is an error. */
int tally__config_load(tally_config *cfg, const char *project_dir);
void tally__config_release(tally_config *cfg);
/* The interpreter argv configured for extension `ext`, or NULL. */
char *const *tally__config_interpreter(const tally_config *cfg, const char *ext);
/* Split a command string on blanks into a NULL-terminated argv (no shell involved). */
char **tally__split_command(const char *command);
void tally__argv_free(char **argv);

/* ---- flags (flags.c) ---- */

/* TALLY_FLAG_LIST: a list of single values (argparse nargs), its `text` the
 * list as JSON ("[128, 64]"), which YAML reads the same way. */
typedef enum { TALLY_FLAG_STRING, TALLY_FLAG_INT, TALLY_FLAG_FLOAT, TALLY_FLAG_BOOL, TALLY_FLAG_NULL, TALLY_FLAG_LIST } tally_flag_type;

typedef struct {
	char *name;
	char *text;   /* the value as the script receives it */
	tally_flag_type type;
	int64_t i;
	double f;
	bool b;
} tally_flag;

typedef struct {
	tally_flag *items;
	size_t count;
} tally_flag_list;

/* Parse "NAME=VALUE" (YAML-style value) into `out`.  TALLY_EINVALID with a message. */
int tally__flag_parse_assignment(tally_flag *out, const char *arg);
/* Parse a YAML scalar `text` into a typed flag value (name untouched). */
int tally__flag_parse_value(tally_flag *out, const char *text);
/* Append `flag` (names may be NULL), taking it over; on failure it is released. */
int tally__flag_list_append(tally_flag_list *list, tally_flag *flag);
/* Add or replace (same name) a flag; takes ownership of `flag`'s strings. */
int tally__flag_list_set(tally_flag_list *list, tally_flag *flag);
void tally__flag_list_release(tally_flag_list *list);
void tally__flag_release(tally_flag *flag);
const char *tally__flag_type_name(tally_flag_type type);
json_t *tally__flag_to_json(const tally_flag *flag);
/* "FLAG_" + upper-cased name with non-alphanumerics as '_' */
char *tally__flag_env_name(const char *name);
/* Render a JSON flag value the way `name=value` text shows it. */
void tally__flag_json_text(tally_buf *out, json_t *value);
/* A YAML flow list "[a, b, 'c,d']" into typed values (names NULL); an
 * element that is itself a flow list of single values is a TALLY_FLAG_LIST
 * ([[128, 64], [256]]: a sweep over lists).  TALLY_EINVALID with a message. */
int tally__flag_parse_list(tally_flag_list *out, const char *text);
/* A TALLY_FLAG_LIST value (name untouched) of copies of `elements`. */
int tally__flag_make_list(tally_flag *out, const tally_flag_list *elements);
/* The elements of a TALLY_FLAG_LIST value (names NULL). */
int tally__flag_list_elements(const tally_flag *list, tally_flag_list *out);
/* NAME=VALUE text that types back to the JSON `value` (strings single-quoted, 3.0 stays a float). */
void tally__flag_assignment_text(tally_buf *out, const char *name, json_t *value);


#endif

/*
 * Flag definitions: what a script declares (detected from its code, its
 * `#|` annotations and front matter, or configuration), how values given
 * on the command line or in a flags file are checked against them, and how
 * the resolved values reach the script (its destination).
 */
#ifndef TALLY_FLAGDEFS_H
#define TALLY_FLAGDEFS_H

#include <yaml.h>

#include "lib/flags/flags.h"
#include "util/strlist.h"

/* How an argparse/click option takes its value. */
typedef enum {
	TALLY_ARG_VALUE,        /* --lr 0.1 */
	TALLY_ARG_STORE_TRUE,   /* --fast when true, nothing when false */
	TALLY_ARG_STORE_FALSE,  /* --quiet when false */
	TALLY_ARG_SWITCH,       /* --shuffle / --no-shuffle (click, argparse.BooleanOptionalAction) */
} tally_arg_style;

typedef struct {
	char *name;
	tally_flag_type type;      /* declared or detected; NULL: any value (of each element, for a list) */
	bool list;                 /* takes a list of values (argparse nargs="+", "*", N; a list literal) */
	bool type_declared;        /* said by the script (argparse type=, tfruns, `#| type:`), not guessed from a literal */
	bool has_default;
	tally_flag def;            /* the default value (def.name unused) */
	bool script_default;       /* the default is the script's own: it needs no passing on */
	char *description;
	bool has_min, has_max;
	double min, max;
	tally_flag *choices;
	size_t n_choices;
	bool required;
	int line;                  /* where the script defines it (1-based); 0: not in the script */
	/* globals: the literal's bytes in the script, replaced in the run's copy */
	size_t lit_off, lit_len;
	bool lit_r_integer;        /* an R literal written `64L` */
	/* args: the option as declared ("--learning-rate"), and how it takes a value */
	char *option;
	char *option_off;          /* TALLY_ARG_SWITCH: the option that says false */
	tally_arg_style arg_style;
} tally_flagdef;

/* Where resolved flag values go (besides FLAG_NAME in the environment, always). */
typedef enum {
	TALLY_DEST_ARGS,           /* --name value */
	TALLY_DEST_ARGS_EQ,        /* --name=value (tfruns' flags() parses this) */
	TALLY_DEST_GLOBALS,        /* literals rewritten in the run's copy of the script */
	TALLY_DEST_FILE,           /* a flags file in the run directory (.yml/.yaml/.json/.R/.py) */
	TALLY_DEST_NONE,           /* the environment only */
} tally_dest_kind;

typedef struct {
	tally_flagdef *items;
	size_t n;
	const char *origin;        /* "globals", "tfruns flags()", "argparse", "click", "front matter", "tally.yml" */
	bool declared;             /* flags are known: undeclared names are errors */
	tally_dest_kind dest;
	bool dest_explicit;        /* set by front matter or configuration, not by detection */
	char *dest_file;           /* TALLY_DEST_FILE: path relative to the run directory */
	char *language;            /* "R", "Python" or NULL */
	tally_strlist src_exclude; /* front matter `sourcecode:` rules */
	tally_strlist src_include;
	char *display;             /* the script as named in messages */
	bool output_scalars_off;   /* `output-scalars: off`: no scalars parsed from the output */
	tally_strlist output_patterns; /* `output-scalars:` rules ("key\tRE", "step\tRE", "tag:NAME\tRE") */
	bool output_explicit;      /* the script's front matter said output-scalars */
	tally_strlist slurm_options; /* `slurm:` sbatch options (front matter, else tally.yml's entry) */
	bool slurm_explicit;       /* the script's front matter said slurm */
} tally_script_flags;

#define TALLY_SCRIPT_FLAGS_INIT                                                                            \
	{NULL, 0, NULL, false, TALLY_DEST_ARGS, false, NULL, NULL, TALLY_STRLIST_INIT, TALLY_STRLIST_INIT, NULL, \
	 false, TALLY_STRLIST_INIT, false, TALLY_STRLIST_INIT, false}

void tally__script_flags_release(tally_script_flags *sf);
/* `slurm:` (tally.yml, front matter) as words: one option string
 * ("--time=1:00 --gres=gpu:1") or a list of them (config.c). */
int tally__slurm_options_from_yaml(tally_strlist *out, yaml_document_t *doc, yaml_node_t *v);
tally_flagdef *tally__flagdef_find(const tally_script_flags *sf, const char *name);
/* The definition `name` (`len` bytes) means: its own, else the one spelled with '-' and '_' swapped. */
const tally_flagdef *tally__flagdef_find_spelled(const tally_script_flags *sf, const char *name, size_t len);
/* A new definition named `name` (replacing none): NULL when out of memory. */
tally_flagdef *tally__flagdef_add(tally_script_flags *sf, const char *name, size_t len);
void tally__flagdef_release(tally_flagdef *def);
/* A global assigned a literal (`value`, taken over) at `line`, its bytes at lit_off/lit_len; NULL when out of memory. */
tally_flagdef *tally__flagdef_add_global(tally_script_flags *sf, const char *name, size_t len, tally_flag *value,
                                         int line, size_t lit_off, size_t lit_len);
/* Replace `to`'s definitions by `from`'s (which is left empty). */
void tally__script_flags_take_items(tally_script_flags *to, tally_script_flags *from);

/* ---- detection (detect.c, detect-r.c, detect-py.c, annotate.c) ---- */

/* Detect the flags `script` declares; `display` names it in messages. */
int tally__script_flags_detect(tally_script_flags *out, const char *script, const char *display);
/* The definitions as JSON (the detection cache, `tally flags --format json`). */
json_t *tally__script_flags_json(const tally_script_flags *sf);
/* Language scanners over a script's text: they add definitions with line and literal span. */
int tally__detect_r(tally_script_flags *sf, const char *text, size_t len);
int tally__detect_python(tally_script_flags *sf, const char *text, size_t len);
/* `#|` front matter and per-flag annotations (YAML), applied after detection. */
int tally__apply_annotations(tally_script_flags *sf, const char *text, size_t len);
/* tally.yml's `flags-dest:` and its `scripts:` entry for `script` (relative to the project). */
int tally__apply_config_flags(tally_script_flags *sf, const tally_config *cfg, const char *script);
/* Parse a literal as the language writes it into a typed value; false if it is no simple literal. */
bool tally__literal_value(tally_flag *out, const char *lit, size_t len, bool python);

/* ---- values (flagdefs.c) ---- */

/* Coerce `value` to the definition's type and check min/max/choices; errors name `where`. */
int tally__flag_check(tally_flag *value, const tally_flagdef *def, const char *display);

/* Where a resolved value came from. */
typedef enum { TALLY_FROM_DEFAULT, TALLY_FROM_FILE, TALLY_FROM_COMMAND_LINE } tally_flag_origin;
const char *tally__flag_origin_name(tally_flag_origin origin);

typedef struct {
	tally_flag_list values;    /* every resolved flag, in definition order then given order */
	tally_flag_origin *origins;
	bool *as_default;          /* given, but the same value as the script's default (NULL: none) */
} tally_resolved_flags;

/* defaults < flags file (`file_values`) < command line (`given`): checked and coerced. */
int tally__flags_resolve(tally_resolved_flags *out, const tally_script_flags *sf, const tally_flag_list *file_values,
                         const tally_flag_list *given, bool force);
void tally__resolved_flags_release(tally_resolved_flags *r);
/* A YAML scalar node as a typed value (quoted scalars are strings). */
struct yaml_node_s;
int tally__flag_from_yaml_node(tally_flag *out, struct yaml_node_s *node);
/* The same, where a sequence of single values is a list value (flags files, `#|` defaults). */
struct yaml_document_s;
int tally__flag_from_yaml(tally_flag *out, struct yaml_document_s *doc, struct yaml_node_s *node);
/* Read a flags file: a YAML map, or tfruns' config form (sections chosen by R_CONFIG_ACTIVE). */
int tally__flags_file_load(tally_flag_list *out, const char *path);
/* The flags whose values differ from the script's defaults, as `name=value`
 * sorted by name (Guild's default label): a flag given its default value is left out. */
char *tally__flags_default_label(const tally_resolved_flags *r);

/* Expand ${NAME}: a variable of `vars` (name, value pairs, NULL-terminated) or a flag's value. */
int tally__template_expand(char **out, const char *tmpl, const tally_resolved_flags *r, const char *const *vars);
/* A --label template: flags and ${default_label}. */
int tally__label_expand(char **out, const char *tmpl, const tally_resolved_flags *r);

/* ---- destinations (flagdest.c) ---- */

/* The literal the language writes for `value`; `like` the definition it replaces (or NULL). */
void tally__render_literal(tally_buf *out, const tally_flag *value, bool python, const tally_flagdef *like);
/* Append the command-line arguments for the args destinations. */
int tally__flags_to_args(tally_strlist *argv, const tally_script_flags *sf, const tally_resolved_flags *r);
/* Whether the globals destination has any literal of the script to change. */
bool tally__flags_globals_to_rewrite(const tally_script_flags *sf, const tally_resolved_flags *r);
/* Rewrite the globals of the run's copy of the script, `rel` inside `run_dir`. */
int tally__flags_rewrite_globals(const char *run_dir, const char *rel, const tally_script_flags *sf,
                                 const tally_resolved_flags *r);
/* Before the run: every name can be written to the flags file (a .py needs identifiers). */
int tally__flags_check_file_names(const tally_script_flags *sf, const tally_resolved_flags *r);
/* Write the flags file destination into `run_dir`. */
int tally__flags_write_file(const char *run_dir, const tally_script_flags *sf, const tally_resolved_flags *r);
tally_dest_kind tally__dest_parse(const char *text, char **file_out);
const char *tally__dest_name(const tally_script_flags *sf);

#endif

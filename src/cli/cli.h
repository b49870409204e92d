/*
 * The tally command-line tool: argument parsing and output formatting on top
 * of libtally.  No run logic lives here.
 *
 * Adding a command:
 *  1. write src/cli/cmd-NAME.c with `int cmd_NAME(int argc, char **argv)`
 *     and its usage text next to its options;
 *  2. declare it below and add a row to the table in main.c;
 *  3. add it to meson.build, tests/t/, the README and docs/.
 */
#ifndef TALLY_CLI_H
#define TALLY_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "tally.h"
#include "util/buf.h"
#include "util/strlist.h"

/* Exit codes, as git and libgit2's CLI use them. */
enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1,  /* a negative answer, or the script's own failure */
	EXIT_FATAL = 128,   /* an error: the message says what */
	EXIT_USAGE = 129,   /* wrong options or arguments */
};

/* A command: its name, entry point, one-line summary and --help text. */
typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
	const char *usage_more; /* the rest of a --help text too long for one C string, or NULL */
} cli_command;

/* The table of commands (commands.c), in the order `tally help` lists them. */
extern const cli_command cli_commands[];
extern const size_t cli_n_commands;
const cli_command *cli_find_command(const char *name);

int cmd_run(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_scalars(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_tensorboard(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_unmark(int argc, char **argv);
int cmd_comment(int argc, char **argv);
int cmd_flags(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_view(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_sweeps(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Their --help texts, one per file (mark and unmark share one). */
extern const char cmd_cat_usage[];
extern const char cmd_comment_usage[];
extern const char cmd_compare_usage[];
extern const char cmd_copy_usage[];
extern const char cmd_delete_usage[];
extern const char cmd_diff_usage[];
extern const char cmd_export_usage[];
extern const char cmd_flags_usage[];
extern const char cmd_import_usage[];
extern const char cmd_label_usage[];
extern const char cmd_lookup_usage[];
extern const char cmd_ls_usage[];
extern const char cmd_mark_usage[];
extern const char cmd_open_usage[];
extern const char cmd_plot_usage[];
extern const char cmd_tensorboard_usage[];
extern const char cmd_purge_usage[];
extern const char cmd_reindex_usage[];
extern const char cmd_report_usage[];
extern const char cmd_reproduce_usage[];
extern const char cmd_restore_usage[];
extern const char cmd_run_usage[];
extern const char cmd_run_usage_more[];
extern const char cmd_tune_usage_more[];
extern const char cmd_runs_usage[];
extern const char cmd_scalars_usage[];
extern const char cmd_show_usage[];
extern const char cmd_stop_usage[];
extern const char cmd_sweeps_usage[];
extern const char cmd_tag_usage[];
extern const char cmd_tail_usage[];
extern const char cmd_view_usage[];
extern const char cmd_tune_usage[];
extern const char cmd_watch_usage[];

/* Hidden commands: `tally __commands` (for the man page generator) and
 * `tally __complete` (for the shell completion scripts; complete.c). */
int cmd_complete(int argc, char **argv);
/* tally help [COMMAND | TOPIC] (help.c), and the list of commands it prints. */
int cmd_help(int argc, char **argv);
void cli_print_main_help(FILE *out);

/* Write the report of `runs` to `path`, then open it on a desktop (`open`) or print its path; 0 or the exit code. */
int cli_write_report(tally_run *const *runs, size_t n, const char *path, bool open);

/* ---- what every command shares (cli.c) ---- */

/* "tally: <message>" on stderr; returns EXIT_FATAL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The library's last error, mapped to an exit code. */
int cli_lib_error(int rc);
/* Print `usage` to stderr with a one-line complaint; returns EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the library's sync warnings, one per line, to stderr. */
void cli_print_warnings(tally_store *store);
/* Open the store honouring a --runs-dir value (NULL: the default resolution). */
int cli_open_store(tally_store **store, const char *runs_dir);
/* Replace `*store` by its archive (RUNS/.archive, where tally delete moves runs). */
int cli_open_archive(tally_store **store);

/* ---- finding the runs a command names (run-args.c) ---- */

/* Look up every reference — an index, a range "1:5" (":5", "3:"), a list
 * "3,7", an id prefix, a run directory — into `*n_out` runs (a run named
 * twice is kept once: NULL in its later slot); on a bad one, print the
 * error and return its exit code. */
int cli_lookup_runs(tally_store *store, char *const *refs, size_t n, tally_run ***out, size_t *n_out);
/* The same, `summaries`: for reading many runs' summaries, from the index
 * where its rows are current (tally_run_lookup_summaries()). */
int cli_lookup_runs_from(tally_store *store, char *const *refs, size_t n, bool summaries, tally_run ***out,
                         size_t *n_out);
void cli_free_runs(tally_run **runs, size_t n);
/* Close up the NULL slots (runs named twice, not selected) of a lookup's result. */
void cli_compact_runs(tally_run **runs, size_t *n);

/* ---- the query options of every command that takes runs (selection.c) ---- */

enum { CLI_OPT_RUNNING = 1000, CLI_OPT_COMPLETED, CLI_OPT_ERROR, CLI_OPT_TERMINATED, CLI_OPT_PRUNED, CLI_OPT_TAG,
       CLI_OPT_LABEL, CLI_OPT_SCRIPT, CLI_OPT_STARTED, CLI_OPT_PATTERN, CLI_OPT_MARKED, CLI_OPT_UNMARKED, CLI_OPT_SORT,
       CLI_OPT_SWEEP, CLI_OPT_QUEUED, CLI_OPT_FIRST_FREE };

/* For a command's getopt_long table: -w is --where; a command whose own -s
 * is not taken adds "s:" to its short options for --sort. */
#define CLI_SELECTION_OPTIONS_BUT_TAG \
	{"where", required_argument, NULL, 'w'}, {"sort", required_argument, NULL, CLI_OPT_SORT}, \
	{"running", no_argument, NULL, CLI_OPT_RUNNING}, {"completed", no_argument, NULL, CLI_OPT_COMPLETED}, \
	{"error", no_argument, NULL, CLI_OPT_ERROR}, {"terminated", no_argument, NULL, CLI_OPT_TERMINATED}, \
	{"pruned", no_argument, NULL, CLI_OPT_PRUNED}, {"queued", no_argument, NULL, CLI_OPT_QUEUED}, \
	{"label", required_argument, NULL, CLI_OPT_LABEL}, \
	{"script", required_argument, NULL, CLI_OPT_SCRIPT}, {"started", required_argument, NULL, CLI_OPT_STARTED}, \
	{"pattern", required_argument, NULL, CLI_OPT_PATTERN}, {"marked", no_argument, NULL, CLI_OPT_MARKED}, \
	{"unmarked", no_argument, NULL, CLI_OPT_UNMARKED}, {"sweep", required_argument, NULL, CLI_OPT_SWEEP}
#define CLI_SELECTION_OPTIONS CLI_SELECTION_OPTIONS_BUT_TAG, {"tag", required_argument, NULL, CLI_OPT_TAG}

/* Their lines for a command's --help. */
/* Their lines for a command that takes one run. */
#define CLI_SELECTION_HELP_FIRST \
	"  -w, --where EXPR, --sort KEYS, --completed, --tag T … (as in tally runs):\n" \
	"                      the first run these select (--sort -val_acc: the best)\n"

#define CLI_SELECTION_HELP \
	"  -w, --where EXPR     runs for which EXPR holds (see tally runs --help)\n" \
	"  -s, --sort KEYS      in this order (-KEY: largest first)\n" \
	"      --running, --completed, --error, --terminated, --pruned,\n" \
	"      --queued         runs with that status (a pruned one was stopped early;\n" \
	"                       a queued one waits in Slurm's queue)\n" \
	"      --tag TAG, --label TEXT, --script NAME, --started WHEN, --pattern REGEX,\n" \
	"      --marked, --unmarked, --sweep ID   as in tally runs\n"

typedef struct cli_selection {
	const char *where, *sort;
	tally_buf filter;    /* the shorthand options as one expression */
	tally_buf statuses;  /* "running, error" */
	bool bad_quote;
	bool used;           /* some query option was given */
	/* Set by a command that only reads the runs' summaries (compare): they
	 * come from the index where it is current (cli_lookup_runs_from()). */
	bool summaries;
} cli_selection;
#define CLI_SELECTION_INIT {NULL, NULL, TALLY_BUF_INIT, TALLY_BUF_INIT, false, false, false}

/* Take option `c` (with its argument) when it is a selection option. */
bool cli_selection_option(cli_selection *sel, int c, const char *arg);
/* For commands that parse arguments by hand: take argv[*i] (long options only) (and its value,
 * moving *i on) when it is a selection option; 1 taken, 0 not one, -1 a
 * value missing or given to a flag. */
int cli_selection_take_arg(cli_selection *sel, int argc, char **argv, int *i);
/* The shorthand options as one query (NULL when none), for tally_iter_options.filter. */
const char *cli_selection_filter(cli_selection *sel);
/* 0, or the exit code after saying what is wrong with the options. */
int cli_selection_check(const cli_selection *sel);
void cli_selection_release(cli_selection *sel);
/* The runs named by `refs` (see cli_lookup_runs) and selected by the query
 * options: with both, the named runs the query selects (the others NULL);
 * with options only, every run they select. */
int cli_select_runs(tally_store *store, cli_selection *sel, char *const *refs, size_t n, tally_run ***out,
                    size_t *n_out);

/* For runs shown side by side (compare, diff, report): the runs `refs` name,
 * in that order; else those the query options select (oldest first unless
 * --sort says); else `defaults`.  Runs named twice are dropped. */
int cli_select_side_by_side(tally_store *store, cli_selection *sel, const char *const *refs, size_t n,
                            const char *const *defaults, size_t n_defaults, tally_run ***out, size_t *n_out);
/* The first run the query options select (among `ref`'s, when given); 0 or the exit code. */
int cli_select_first(tally_store *store, cli_selection *sel, const char *ref, tally_run **run);
/* The runs named, or selected, or (neither given) all of them. */
int cli_select_or_all(tally_store *store, cli_selection *sel, char *const *refs, size_t n, tally_run ***out,
                      size_t *n_out);

/* Open the store and find the one run `ref` names — with query options in `sel` (may be NULL),
 * the first run they select (of `ref`, when given); 0, or the exit code after the message.
 * Free both whatever it returns. */
int cli_open_run(tally_store **store, tally_run **run, const char *runs_dir, const char *ref, cli_selection *sel);

/* ---- changing the runs a command names (change-runs.c) ---- */

/* What a command that changes runs does to each (see cli_change_runs). */
typedef struct {
	const char *verb;   /* "label": what cli_confirm() asks */
	bool yes;           /* -y: do not ask */
	/* Change one run; 0, or the exit code after saying what went wrong. */
	int (*act)(tally_run *run, void *ctx);
	void *ctx;
	bool all_by_default; /* no RUN and no query option: every run (restore, purge) */
} cli_change;
/* Find the runs `refs` name and `sel` selects in `store`, ask (cli_confirm), and
 * act on each until one fails; `*done` counts the runs changed.  0 or the exit code. */
int cli_change_runs(tally_store *store, cli_selection *sel, char *const *refs, size_t n, const cli_change *c,
                    size_t *done);
/* Ask `question` on stderr, read the answer on stdin: whether it was y or yes. */
bool cli_ask(const char *question);
/* Show the runs `what` ("label 3 runs") acts on and ask; 0 to go on, else the exit code. */
int cli_confirm(const char *what, tally_run *const *runs, size_t n, bool yes);

/* ---- tally restore and purge (archived.c) ---- */
typedef struct {
	const char *usage;
	const char *verb;   /* "restore": what cli_confirm() asks */
	const char *done;   /* "Restored": what the closing line says */
	int (*act)(tally_run *run, tally_store *store);  /* on one archived run; `store` the runs directory */
} cli_archived_command;
/* Parse the options, find the archived runs named or selected (or all), ask, act on each. */
int cli_act_on_archived(int argc, char **argv, const cli_archived_command *cmd);

/* ---- stopping a run (cmd-stop.c) ---- */
#define CLI_STOP_GRACE_MS 10000
/* SIGTERM, wait up to `grace_ms` for the run to end, then (force) SIGKILL; 0 once it has ended. */
int cli_stop_run(tally_run *run, int grace_ms, bool force);

/* ---- tally runs --columns (columns.c) ---- */
typedef struct cli_columns cli_columns;
/* Parse "id,started,flag.lr,val_loss,max(val_acc)"; 0 or the exit code after the message. */
int cli_columns_parse(cli_columns **out, const char *text);
/* Whether the columns need the iterator's details (flags, scalars, tags, name). */
bool cli_columns_need_details(const cli_columns *cols);
/* Print the runs of `it` as a table (cells at most `column_width` wide when > 0; ids short
 * unless `full_ids`), csv or tsv. */
int cli_columns_print(const cli_columns *cols, tally_run_iter *it, const char *format, int column_width,
                      bool full_ids, const char *empty);
void cli_columns_free(cli_columns *cols);

/* ---- following a run's output (follow.c) ---- */
typedef struct {
	int fd;
	off_t offset;
	char path[4096];
} cli_follower;
/* Start at the last `tail_lines` lines of the run's output (-1: all); 0 or the exit code. */
int cli_follower_open(cli_follower *f, const tally_run *run, long tail_lines);
/* Copy what was written since to stdout; whether there was anything. */
bool cli_follower_copy(cli_follower *f);
void cli_follower_close(cli_follower *f);
/* Whether a followed run goes on: its tally's lock here, or, for a run sent to
 * Slurm, its job still queued or running (asked of Slurm every 2 s). */
typedef struct {
	bool slurm;
	int64_t next_ms;
	bool last;
} cli_liveness;
void cli_liveness_init(cli_liveness *l, const tally_run *run);
bool cli_run_going(const tally_run *run, cli_liveness *l);
void cli_sleep_ms(long ms);

/* ---- the arguments of tally run and tally tune (script-args.c) ---- */

enum { CLI_OPT_FORCE_FLAGS = 'F', CLI_OPT_NO_SYSMETRICS = 'S', CLI_OPT_RUNS_DIR = 'R' };
/* The launch options both commands take (each handles the rest itself). */
#define CLI_LAUNCH_OPTIONS \
	{"label", required_argument, NULL, 'l'}, {"tag", required_argument, NULL, 't'}, \
	{"comment", required_argument, NULL, 'c'}, {"interpreter", required_argument, NULL, 'i'}, \
	{"flags-file", required_argument, NULL, 'f'}, {"force-flags", no_argument, NULL, CLI_OPT_FORCE_FLAGS}, \
	{"no-system-metrics", no_argument, NULL, CLI_OPT_NO_SYSMETRICS}, \
	{"runs-dir", required_argument, NULL, CLI_OPT_RUNS_DIR}

typedef struct {
	tally_launch_options *launch; /* script, command, flag_args and the CLI_LAUNCH_OPTIONS land here */
	const char **flags, **tags;   /* NULL-terminated; the launch points into them */
	size_t n_flags, n_tags;
	const char *runs_dir;
	tally_strlist made;           /* NAME=VALUE texts made from --NAME VALUE (argparse's habit) */
} cli_script_args;

/* Append to a NULL-terminated list; -1 when out of memory. */
int cli_push_arg(const char ***list, size_t *n, const char *s);
/* Parse argv: options anywhere before "--" (the shared ones taken here, the
 * others handed to on_option, which returns 0, -1 to stop quietly (--help),
 * or an exit code), the first bare word the script, NAME=VALUE words its
 * flags, after "--" the command.  After the script, --NAME VALUE and
 * --NAME=VALUE that are not tally's options are taken as NAME=VALUE when
 * the script declares NAME (argparse's habit); otherwise one line says what
 * to write.  0, -1, or the exit code after a message. */
struct option;
int cli_parse_script_args(cli_script_args *a, int argc, char **argv, const char *shortopts,
                          const struct option *longopts, const char *usage, int (*on_option)(int c, void *ctx),
                          void *ctx);
void cli_script_args_release(cli_script_args *a);

/* ---- sending runs to Slurm (slurm-args.c) ---- */

enum { CLI_OPT_EXECUTOR = 2000, CLI_OPT_SLURM, CLI_OPT_GPUS_PER_TRIAL };
#define CLI_SLURM_OPTIONS \
	{"executor", required_argument, NULL, CLI_OPT_EXECUTOR}, {"slurm", required_argument, NULL, CLI_OPT_SLURM}, \
	{"gpus-per-trial", required_argument, NULL, CLI_OPT_GPUS_PER_TRIAL}

typedef struct {
	const char *executor;     /* "local", "slurm", or NULL (not given) */
	tally_strlist words;      /* --slurm option strings */
	bool slurm_given;
	unsigned gpus;            /* --gpus-per-trial */
	char tally_path[4096];    /* the program the jobs run */
	tally_slurm_options opts; /* filled by cli_slurm_finish() */
} cli_slurm_args;

/* One of CLI_SLURM_OPTIONS: 0, or an exit code after a message; 1 when `c` is another option. */
int cli_slurm_option(cli_slurm_args *a, int c, const char *arg, const char *usage);
/* After parsing: --slurm and --gpus-per-trial need --executor slurm; fills `opts`. */
int cli_slurm_finish(cli_slurm_args *a, const char *usage);
void cli_slurm_args_release(cli_slurm_args *a);
/* tally slurm-task (not listed): what a Slurm job of queued runs runs on its node. */
int cmd_slurm_task(int argc, char **argv);

/* ---- sweeps (sweep-view.c) ---- */

/* The trials as a table: the plan (trial and flags), or with status, run,
 * objective (a failed or pruned trial's last logged value too) and duration,
 * best first (completed trials, then pruned ones, then the rest); the first
 * `max_rows` (0: all). */
int cli_sweep_table(FILE *out, const tally_sweep *sweep, bool plan_only, size_t max_rows);
/* "Best: trial 5, run ID, val_loss 0.0658 (minimized)", when a trial has the objective. */
void cli_sweep_best_line(FILE *out, const tally_sweep *sweep);
/* How many trials ended in error or terminated (a pruned trial has not failed). */
size_t cli_sweep_failed_count(const tally_sweep *sweep);
/* How many trials a pruner stopped early (status "pruned"). */
size_t cli_sweep_pruned_count(const tally_sweep *sweep);
/* "completed, 2 failed": a sweep's status with its failed trials. */
void cli_sweep_status_text(char *out, size_t size, const char *status, size_t failed);
/* "completed, 12 pruned, 1 failed": with its pruned trials too (none: as cli_sweep_status_text). */
void cli_sweep_status_text_pruned(char *out, size_t size, const char *status, size_t pruned, size_t failed);
/* A line per failed trial (up to 10) with the last line of its stderr. */
void cli_sweep_failures(FILE *out, tally_store *store, const tally_sweep *sweep);
/* tally show SWEEP: summary and trials, or the record as JSON. */
int cli_sweep_show(tally_sweep *sweep, tally_store *store, bool json);
/* tally tune's work, also for `tally run SCRIPT lr=[…]`: plan, confirm, run, report. */
typedef struct {
	tally_sweep_options plan;
	tally_sweep_exec_options exec;
	const char *runs_dir;
	const char *resume;   /* a sweep id to continue instead */
	const char *id_file;  /* --id-file: where the sweep's id goes once it ran */
	bool yes, dry_run, quiet;
	bool detach;          /* --detach: the controller goes to Slurm as a job */
} cli_tune_request;
int cli_tune(cli_tune_request *req);

/* --id-file of run and tune: the id and a newline, whole or not at all; 0 or EXIT_FATAL. */
int cli_write_id_file(const char *path, const char *id);

/* ---- output helpers (output-format.c) ---- */

/* Reals in JSON output as run.json keeps them: 15 significant digits (0.03, not 0.029999999999999999). */
#define CLI_JSON_REALS JSON_REAL_PRECISION(15)

/* The shortest text that reads back as the same number (0.2, not 0.20000000000000001); nan, inf, -inf. */
void cli_format_number(char *out, size_t size, double v);
/* Terminal width of stdout, or 0 when it is not a terminal. */
int cli_terminal_width(void);
/* Print a CSV/TSV field, quoted when it holds a separator, quote or newline. */
void cli_csv_field(FILE *out, const char *s, char sep);
/* Local time "2026-11-22 23:41" from epoch ms. */
void cli_format_local_time(char *out, size_t size, int64_t ms, bool seconds);
/* Print `s` padded/truncated to `width` display columns (UTF-8 aware). */
void cli_print_cell(FILE *out, const char *s, int width, bool last);
/* The same, for `bytes` bytes of `s` whose display width `w` is known. */
void cli_print_cell_n(FILE *out, const char *s, size_t bytes, int w, int width, bool last);
/* Open `path` with the desktop's opener (xdg-open; open on macOS); false when there is no
 * desktop (no DISPLAY or WAYLAND_DISPLAY) or the opener failed. */
bool cli_open_on_desktop(const char *path);
/* Colour on stdout: a terminal, and NO_COLOR unset or empty (no-color.org). */
bool cli_use_colour(void);
/* A table row: each cell padded to its width, two spaces apart, then a newline. */
void cli_print_row(FILE *out, const char *const *cells, const int *widths, size_t n);
/* Display width of a UTF-8 string (each code point one column). */
int cli_display_width(const char *s);
/* Append `s` (UTF-8) as a JSON string literal, quotes included. */
void cli_json_string(tally_buf *out, const char *s);
int cli_display_width_n(const char *s, size_t len);

#endif

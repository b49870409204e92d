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

#include "tally.h"
#include "util/buf.h"

/* Exit codes, as git and libgit2's CLI use them. */
enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1,  /* a negative answer, or the script's own failure */
	EXIT_FATAL = 128,   /* an error: the message says what */
	EXIT_USAGE = 129,   /* wrong options or arguments */
};

int cmd_run(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_scalars(int argc, char **argv);
int cmd_plot(int argc, char **argv);
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

/* ---- finding the runs a command names (run-args.c) ---- */

/* Look up every reference — an index, a range "1:5" (":5", "3:"), a list
 * "3,7", an id prefix, a run directory — into `*n_out` runs (a run named
 * twice is kept once: NULL in its later slot); on a bad one, print the
 * error and return its exit code. */
int cli_lookup_runs(tally_store *store, char *const *refs, size_t n, tally_run ***out, size_t *n_out);
void cli_free_runs(tally_run **runs, size_t n);
/* Open the store and find the one run `ref` names; 0, or the exit code after the message.
 * Free both whatever it returns. */
int cli_open_run(tally_store **store, tally_run **run, const char *runs_dir, const char *ref);
/* Show the runs `what` ("label 3 runs") acts on and ask; 0 to go on, else the exit code. */
int cli_confirm(const char *what, tally_run *const *runs, size_t n, bool yes);

/* ---- output helpers (output-format.c) ---- */

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
/* Display width of a UTF-8 string (each code point one column). */
int cli_display_width(const char *s);
/* Append `s` (UTF-8) as a JSON string literal, quotes included. */
void cli_json_string(tally_buf *out, const char *s);
int cli_display_width_n(const char *s, size_t len);

#endif

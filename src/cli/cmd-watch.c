/* tally watch — follow a run: its output as it comes, a line per step with the latest scalars. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_watch_usage[] =
	"usage: tally watch [RUN] [--tail N] [--runs-dir DIR]\n"
	"\n"
	"Follow a run while it goes: the last lines of its output, then its output\n"
	"as it comes, and after each step a line with the latest value of every\n"
	"scalar (sys/* metrics left out): as soon as the step has as many scalars as\n"
	"the one before it, else when the next begins.  Ends when the run ends,\n"
	"with its status.\n"
	"On a run that has already ended, shows the tail of its output and its last\n"
	"scalars.  Stopping `tally watch` (Ctrl-C) does not stop the run.  RUN is an\n"
	"index (1 = latest, the default), a unique id prefix, a name or a run directory.\n"
	"\n"
	"Options:\n"
	"  -n, --tail N        lines of earlier output to show first (default 20;\n"
	"                      all = the whole output)\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	CLI_SELECTION_HELP_FIRST
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"tail", required_argument, NULL, 'n'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define POLL_MS 250
#define MAX_SHOWN 64  /* scalars shown on a step line */

/* ---- the latest value of each scalar ---- */

typedef struct {
	char *tag;
	double value;
	int64_t step;      /* the step of its latest point */
} latest;

typedef struct {
	latest *items;
	size_t n;
	int64_t step;      /* the step being logged now (INT64_MIN before any) */
	bool step_dirty;   /* points of `step` arrived since its line was printed */
	bool catching_up;  /* reading what was logged before watch started: no lines */
	bool colour;
	/* A step is complete once it has as many scalars as the step before it
	 * had: its line comes then, not when the next step's first point does. */
	size_t in_step, last_step_size;
} step_lines;

static void set_latest(step_lines *s, const char *tag, double value, int64_t step)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].tag, tag)) {
			s->items[i].value = value;
			if (s->items[i].step != step)
				s->in_step++;
			s->items[i].step = step;
			return;
		}
	latest *grown = realloc(s->items, (s->n + 1) * sizeof *grown);
	char *copy = strdup(tag);
	if (!grown || !copy) {
		free(copy);
		if (grown)
			s->items = grown;
		return; /* out of memory: this scalar is not shown */
	}
	s->items = grown;
	s->items[s->n].tag = copy;
	s->items[s->n].step = step;
	s->items[s->n++].value = value;
	s->in_step++;
}

static void print_step_line(step_lines *s)
{
	if (!s->step_dirty || s->catching_up)
		return;
	s->step_dirty = false;
	printf("%s── step %lld:", s->colour ? "\033[36m" : "", (long long)s->step);
	for (size_t i = 0; i < s->n && i < MAX_SHOWN; i++)
		printf(" %s=%.6g", s->items[i].tag, s->items[i].value);
	printf("%s\n", s->colour ? "\033[0m" : "");
	fflush(stdout);
}

static int on_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	step_lines *s = ctx;
	(void)time_ms;
	if (!strncmp(tag, "sys/", 4))
		return 0; /* their steps are seconds, not training steps */
	if (step > s->step && s->step != INT64_MIN) {
		print_step_line(s); /* a later step began: the last one is complete */
		s->last_step_size = s->in_step;
	}
	if (step > s->step) {
		s->step = step;
		s->in_step = 0;
	}
	set_latest(s, tag, value, step);
	s->step_dirty = true;
	if (s->last_step_size && step == s->step && s->in_step >= s->last_step_size)
		print_step_line(s); /* as many scalars as the step before: this one is complete too */
	return 0;
}

/* ---- the output ---- */

static void print_end(tally_store *store, const char *dir)
{
	tally_run *fresh = NULL;
	if (tally_run_lookup(&fresh, store, dir)) {
		printf("Run ended\n");
		return;
	}
	char took[32];
	tally_format_duration(took, sizeof took, tally_run_stopped_ms(fresh) - tally_run_started_ms(fresh));
	printf("Run %s %s after %s", tally_run_id(fresh), tally_run_status(fresh), took);
	if (tally_run_exit_status(fresh) > 0)
		printf(" (exit status %d)", tally_run_exit_status(fresh));
	putchar('\n');
	tally_run_free(fresh);
}

static int follow(tally_store *store, const tally_run *run, long tail_lines)
{
	cli_follower output;
	int rc = cli_follower_open(&output, run, tail_lines);
	if (rc)
		return rc;
	tally_scalar_cursor *cursor = NULL;
	if ((rc = tally_run_scalar_cursor(&cursor, run))) {
		cli_follower_close(&output);
		return cli_lib_error(rc);
	}
	/* The steps logged before watch started make one line, not thousands. */
	step_lines steps = {NULL, 0, INT64_MIN, false, true, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), 0, 0};
	cli_liveness liveness;
	cli_liveness_init(&liveness, run);
	for (;;) {
		/* Liveness first: whatever the run wrote before it ended is then read below. */
		bool live = cli_run_going(run, &liveness);
		cli_follower_copy(&output);
		if ((rc = tally_scalar_cursor_next(cursor, on_point, &steps)))
			break;
		if (steps.catching_up) {
			steps.catching_up = false;
			if (live)
				print_step_line(&steps);
		}
		if (!live)
			break;
		cli_sleep_ms(POLL_MS);
	}
	print_step_line(&steps);
	if (!rc)
		print_end(store, tally_run_dir(run));
	for (size_t i = 0; i < steps.n; i++)
		free(steps.items[i].tag);
	free(steps.items);
	tally_scalar_cursor_free(cursor);
	cli_follower_close(&output);
	return rc ? cli_lib_error(rc) : EXIT_OK;
}

int cmd_watch(int argc, char **argv)
{
	const char *runs_dir = NULL, *ref = NULL; /* NULL: the latest, or the first the query options select */
	long tail_lines = 20;
	int c;
	/* static: the early returns below need not release it */
	static cli_selection sel = CLI_SELECTION_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:w:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'n': {
			char *end;
			if (!strcmp(optarg, "all")) {
				tail_lines = -1;
				break;
			}
			tail_lines = strtol(optarg, &end, 10);
			if (end == optarg || *end || tail_lines < 0)
				return cli_usage_error(cmd_watch_usage, "--tail takes a number of lines or 'all', not '%s'", optarg);
			break;
		}
		case 'R':
			runs_dir = optarg;
			break;
		case 'h':
			fputs(cmd_watch_usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error(cmd_watch_usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		ref = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd_watch_usage, "watch follows one run; '%s' is one too many", argv[optind]);
	tally_store *store;
	tally_run *run;
	int code = cli_open_run(&store, &run, runs_dir, ref, &sel);
	if (!code)
		code = follow(store, run, tail_lines);
	tally_run_free(run);
	tally_store_free(store);
	return code;
}

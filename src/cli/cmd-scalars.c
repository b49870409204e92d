/* tally scalars — every scalar point of runs, or their per-tag summaries. */
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/timeutil.h"

const char cmd_scalars_usage[] =
	"usage: tally scalars [RUN…] [--tag GLOB]… [--summary] [--format table|csv|json] [query options]\n"
	"\n"
	"List the scalars of runs in long format, one row per point: run, tag, step,\n"
	"value and time (like guildai's ls_scalars()).  With --summary, one row per\n"
	"run and tag: count, first, last (the value at the highest step), min and\n"
	"max with their steps, and the average.  RUN is an index (1 = latest, the\n"
	"default), a range (1:5), a list (3,7), an id prefix, a name or a run\n"
	"directory; the query options of tally runs pick runs too (--where,\n"
	"--completed, --label…; tags: --where 'tags contains T').\n"
	"\n"
	"Options:\n"
	"  -t, --tag GLOB      only tags matching GLOB (`*` also matches `/`); repeatable\n"
	"  -s, --summary       per-tag summaries instead of points\n"
	"  -f, --format table|csv|json\n"
	"                      table by default; csv and json (an array of objects)\n"
	"                      give values exactly and times in UTC\n"
	"  -w, --where EXPR    runs for which EXPR holds (see tally runs --help)\n"
	"      --sort KEYS     runs in this order\n"
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS_BUT_TAG,
	{"tag", required_argument, NULL, 't'},
	{"summary", no_argument, NULL, 's'},
	{"format", required_argument, NULL, 'f'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

enum format { TABLE, CSV, JSON };

typedef struct {
	enum format format;
	char **globs;
	size_t n_globs;
	const char *run_id;
	tally_buf run_json;  /* run_id as a JSON string literal */
	size_t rows;
	int id_width, tag_width, step_width;
	/* Decisions per tag: points of a few tags interleave, and fnmatch() per
	 * point would cost more than printing.  Slots are picked by the tag's
	 * address (the reader keeps one string per tag) and checked by content. */
	struct {
		char *tag;
		bool wanted;
	} seen[64];
} printer;

static bool tag_wanted(printer *p, const char *tag)
{
	if (!p->n_globs)
		return true;
	size_t slot = ((uintptr_t)tag >> 4) % (sizeof p->seen / sizeof *p->seen);
	if (p->seen[slot].tag && !strcmp(p->seen[slot].tag, tag))
		return p->seen[slot].wanted;
	bool wanted = false;
	for (size_t i = 0; i < p->n_globs && !wanted; i++)
		wanted = fnmatch(p->globs[i], tag, 0) == 0;
	free(p->seen[slot].tag);
	p->seen[slot].tag = strdup(tag);
	p->seen[slot].wanted = wanted;
	return wanted;
}

/* A number as text: shortest exact form (csv, json) or 6 significant digits. */
static void format_number(char *out, size_t size, double v, bool exact)
{
	if (exact || isnan(v) || isinf(v))
		cli_format_number(out, size, v);
	else
		snprintf(out, size, "%.6g", v);
}

/* ISO 8601 UTC with milliseconds; empty when the time is unknown. */
static void format_utc(char *out, size_t size, int64_t ms)
{
	if (ms <= 0)
		snprintf(out, size, "%s", "");
	else
		tally_format_iso_ms(out, size, ms);
}

static void json_value(const char *number)
{
	if (!strcmp(number, "nan") || !strcmp(number, "inf") || !strcmp(number, "-inf"))
		printf("\"%s\"", number); /* as in scalars.json: JSON has no NaN */
	else
		fputs(number, stdout);
}

static void begin_row(printer *p)
{
	if (p->format == JSON)
		fputs(p->rows ? ",\n  " : "[\n  ", stdout);
	p->rows++;
}

static int print_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	printer *p = ctx;
	if (!tag_wanted(p, tag))
		return 0;
	char num[40], when[40];
	format_number(num, sizeof num, value, p->format != TABLE);
	begin_row(p);
	switch (p->format) {
	case TABLE:
		cli_format_local_time(when, sizeof when, time_ms, true);
		printf("%-*s  %-*s  %*lld  %-12s  %s\n", p->id_width, p->run_id, p->tag_width, tag, p->step_width, (long long)step, num,
		       when);
		break;
	case CSV:
		format_utc(when, sizeof when, time_ms);
		cli_csv_field(stdout, p->run_id, ',');
		putchar(',');
		cli_csv_field(stdout, tag, ',');
		printf(",%lld,%s,%s\n", (long long)step, num, when);
		break;
	case JSON: {
		tally_buf t = TALLY_BUF_INIT;
		cli_json_string(&t, tag);
		format_utc(when, sizeof when, time_ms);
		printf("{\"run\": %s, \"tag\": %s, \"step\": %lld, \"value\": ", p->run_json.ptr, t.ptr, (long long)step);
		json_value(num);
		printf(", \"time\": \"%s\"}", when);
		tally_buf_release(&t);
		break;
	}
	}
	return 0;
}

static const char *const summary_fields[] = {"count", "first", "last", "last_step", "min", "min_step",
                                             "max", "max_step", "avg"};
#define N_SUMMARY_FIELDS (sizeof summary_fields / sizeof *summary_fields)

static void summary_field_text(char *out, size_t size, json_t *v, bool exact)
{
	if (json_is_integer(v))
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		format_number(out, size, json_real_value(v), exact);
	else if (json_is_string(v)) /* "nan", "inf", "-inf" */
		snprintf(out, size, "%s", json_string_value(v));
	else
		snprintf(out, size, "%s", "");
}

static void print_summary_row(printer *p, const char *tag, json_t *s)
{
	char text[N_SUMMARY_FIELDS][40];
	for (size_t i = 0; i < N_SUMMARY_FIELDS; i++)
		summary_field_text(text[i], sizeof text[i], json_object_get(s, summary_fields[i]), p->format != TABLE);
	begin_row(p);
	if (p->format == TABLE) {
		printf("%-*s  %-*s  %7s  %-10s  %-10s  %6s  %-10s  %-10s  %s\n", p->id_width, p->run_id, p->tag_width, tag, text[0],
		       text[1], text[2], text[3], text[4], text[6], text[8]);
	} else if (p->format == CSV) {
		cli_csv_field(stdout, p->run_id, ',');
		putchar(',');
		cli_csv_field(stdout, tag, ',');
		for (size_t i = 0; i < N_SUMMARY_FIELDS; i++)
			printf(",%s", text[i]);
		putchar('\n');
	} else {
		tally_buf t = TALLY_BUF_INIT;
		cli_json_string(&t, tag);
		printf("{\"run\": %s, \"tag\": %s", p->run_json.ptr, t.ptr);
		for (size_t i = 0; i < N_SUMMARY_FIELDS; i++) {
			printf(", \"%s\": ", summary_fields[i]);
			if (*text[i])
				json_value(text[i]);
			else
				fputs("null", stdout);
		}
		putchar('}');
		tally_buf_release(&t);
	}
}

static int digits(long long v)
{
	int n = v < 0 ? 2 : 1;
	while (v >= 10 || v <= -10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Column widths from the runs' summaries, so the table needs one pass over the points. */
static void measure(printer *p, tally_run *const *runs, json_t *const *summaries, size_t n)
{
	p->id_width = 3;
	p->tag_width = 3;
	p->step_width = 4;
	for (size_t r = 0; r < n; r++) {
		int id_w = (int)strlen(tally_run_id(runs[r]));
		p->id_width = id_w > p->id_width ? id_w : p->id_width;
		const char *tag;
		json_t *s;
		json_object_foreach(summaries[r], tag, s) {
			if (!tag_wanted(p, tag))
				continue;
			int w = cli_display_width(tag);
			p->tag_width = w > p->tag_width ? w : p->tag_width;
			const char *steps[] = {"first_step", "last_step", "min_step", "max_step"};
			for (size_t i = 0; i < 4; i++) {
				int d = digits((long long)json_integer_value(json_object_get(s, steps[i])));
				p->step_width = d > p->step_width ? d : p->step_width;
			}
		}
	}
}

static void print_header(const printer *p, bool summary)
{
	if (p->format == JSON)
		return;
	if (p->format == CSV) {
		puts(summary ? "run,tag,count,first,last,last_step,min,min_step,max,max_step,avg"
		             : "run,tag,step,value,time");
		return;
	}
	int id_width = p->id_width;
	if (summary)
		printf("%-*s  %-*s  %7s  %-10s  %-10s  %6s  %-10s  %-10s  %s\n", id_width, "RUN", p->tag_width, "TAG",
		       "COUNT", "FIRST", "LAST", "STEP", "MIN", "MAX", "AVG");
	else
		printf("%-*s  %-*s  %*s  %-12s  %s\n", id_width, "RUN", p->tag_width, "TAG", p->step_width, "STEP",
		       "VALUE", "TIME");
}

typedef struct {
	const char **refs;
	size_t n_refs;
	const char *runs_dir;
	bool summary;
	printer p;
	cli_selection sel;
} scalars_args;

static int parse_args(int argc, char **argv, scalars_args *a)
{
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "t:sf:w:h", options, NULL)) != -1) {
		if (c != 's' && cli_selection_option(&a->sel, c, optarg))
			continue;
		switch (c) {
		case 't':
			a->p.globs[a->p.n_globs++] = optarg;
			break;
		case 's':
			a->summary = true;
			break;
		case 'f':
			if (!strcmp(optarg, "table"))
				a->p.format = TABLE;
			else if (!strcmp(optarg, "csv"))
				a->p.format = CSV;
			else if (!strcmp(optarg, "json"))
				a->p.format = JSON;
			else
				return cli_usage_error(cmd_scalars_usage, "unknown format '%s' — use table, csv or json", optarg);
			break;
		case 'R':
			a->runs_dir = optarg;
			break;
		case 'h':
			fputs(cmd_scalars_usage, stdout);
			return -1;
		default:
			return cli_usage_error(cmd_scalars_usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		a->refs[a->n_refs++] = argv[i];
	return 0;
}

int cmd_scalars(int argc, char **argv)
{
	scalars_args a = {0};
	a.p.run_json = (tally_buf)TALLY_BUF_INIT;
	a.sel = (cli_selection)CLI_SELECTION_INIT;
	a.refs = calloc((size_t)argc + 1, sizeof *a.refs);
	a.p.globs = calloc((size_t)argc + 1, sizeof *a.p.globs);
	tally_store *store = NULL;
	tally_run **runs = NULL;
	json_t **summaries = NULL;
	size_t n_runs = 0;
	int code = 0;
	if (!a.refs || !a.p.globs) {
		code = cli_error("out of memory");
		goto done;
	}
	int rc = parse_args(argc, argv, &a);
	if (rc) {
		code = rc < 0 ? EXIT_OK : rc;
		goto done;
	}
	if (!a.n_refs && !a.sel.used)
		a.refs[a.n_refs++] = "1";
	if ((code = cli_open_store(&store, a.runs_dir)))
		goto done;
	/* Every run is found before anything is printed: a bad reference prints nothing.
	 * Only their summaries and scalar logs are read: not run.json. */
	a.sel.summaries = true;
	if ((code = cli_select_runs(store, &a.sel, (char *const *)a.refs, a.n_refs, &runs, &n_runs)))
		goto done;
	cli_compact_runs(runs, &n_runs);
	if (!(summaries = calloc(n_runs + 1, sizeof *summaries))) {
		code = cli_error("out of memory");
		goto done;
	}
	for (size_t i = 0; i < n_runs; i++) {
		summaries[i] = json_loads(tally_run_scalars_json(runs[i]), 0, NULL);
		if (!summaries[i])
			summaries[i] = json_object();
	}
	static char out_buf[1 << 16];
	setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
	measure(&a.p, runs, summaries, n_runs);
	print_header(&a.p, a.summary);
	for (size_t i = 0; i < n_runs && !code; i++) {
		a.p.run_id = tally_run_id(runs[i]);
		tally_buf_clear(&a.p.run_json);
		cli_json_string(&a.p.run_json, a.p.run_id);
		if (a.summary) {
			const char *tag;
			json_t *s;
			json_object_foreach(summaries[i], tag, s)
				if (tag_wanted(&a.p, tag))
					print_summary_row(&a.p, tag, s);
		} else if ((rc = tally_run_scalar_points(runs[i], print_point, &a.p))) {
			code = cli_lib_error(rc);
		}
	}
	if (a.p.format == JSON)
		fputs(a.p.rows ? "\n]\n" : "[]\n", stdout);
	if (fflush(stdout) != 0)
		code = cli_error("cannot write the scalars — is the output closed?");
done:
	for (size_t i = 0; summaries && i < n_runs; i++)
		json_decref(summaries[i]);
	cli_free_runs(runs, n_runs);
	free(summaries);
	cli_selection_release(&a.sel);
	free(a.refs);
	free(a.p.globs);
	tally_buf_release(&a.p.run_json);
	for (size_t i = 0; i < sizeof a.p.seen / sizeof *a.p.seen; i++)
		free(a.p.seen[i].tag);
	tally_store_free(store);
	return code;
}

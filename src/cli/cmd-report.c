/* tally report — a self-contained HTML report of a run, or a comparison of runs. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/fsutil.h"

const char cmd_report_usage[] =
	"usage: tally report [RUN…] [-o FILE.html] [--open] [query options]\n"
	"\n"
	"Write one self-contained HTML file (no network, no other files, no script:\n"
	"it works offline and when e-mailed), like tfruns' view_run() and\n"
	"save_run_view().  Of one run (default: the latest): summary, flags, scalars,\n"
	"a chart per scalar with its val_ counterpart overlaid (accuracies on a 0-1\n"
	"axis), the console output (stderr in red), the source code coloured, the\n"
	"files the run produced and the images it wrote.  Of several runs, like\n"
	"compare_runs(): the runs side by side with differing flags and scalars\n"
	"marked, a chart per scalar with a line per run, and the source and output\n"
	"diffs.  `tally run --report` saves one into the run when it ends.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   where to write it (default: RUNS/.reports/report-ID.html,\n"
	"                      or compare-ID-ID.html there: in the runs directory,\n"
	"                      which git ignores, not among the project's sources;\n"
	"                      a report saved elsewhere is never taken as a source)\n"
	"      --open          open it in the browser on a desktop\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

enum { OPT_OPEN = CLI_OPT_FIRST_FREE, OPT_RUNS_DIR };

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"output", required_argument, NULL, 'o'},
	{"open", no_argument, NULL, OPT_OPEN},
	{"runs-dir", required_argument, NULL, OPT_RUNS_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The id's random suffix: short, enough to tell runs apart in a file name,
 * and (run.json can be edited) only letters, digits, '-' and '_'. */
static void add_short_id(tally_buf *name, const tally_run *run)
{
	const char *id = tally_run_id(run), *dash = strrchr(id, '-');
	for (const char *p = dash ? dash + 1 : id; *p; p++)
		tally_buf_addc(name, isalnum((unsigned char)*p) || *p == '-' || *p == '_' ? *p : '_');
}

int cli_write_report(tally_run *const *runs, size_t n, const char *path, bool open)
{
	int rc = tally_report_write((const tally_run *const *)runs, n, path);
	if (rc)
		return cli_lib_error(rc);
	if (!open || !cli_open_on_desktop(path))
		printf("%s\n", path);
	return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	const char *runs_dir = NULL, *output = NULL;
	bool open = false;
	cli_selection sel = CLI_SELECTION_INIT;
	const char **refs = calloc((size_t)argc + 1, sizeof *refs);
	size_t n_refs = 0, n_runs = 0;
	tally_store *store = NULL;
	tally_run **runs = NULL;
	tally_buf name = TALLY_BUF_INIT;
	int code = refs ? 0 : cli_error("out of memory"), c;
	optind = 1;
	opterr = 0;
	while (!code && (c = getopt_long(argc, argv, "w:s:o:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_OPEN: open = true; break;
		case OPT_RUNS_DIR: runs_dir = optarg; break;
		case 'h': fputs(cmd_report_usage, stdout); goto done;
		default: code = cli_usage_error(cmd_report_usage, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (code || (code = cli_selection_check(&sel)))
		goto done;
	for (int i = optind; i < argc; i++)
		refs[n_refs++] = argv[i];
	static const char *const latest[] = {"1"};
	sel.summaries = true; /* what a report reads of run.json beyond the summary it reads on demand */
	if ((code = cli_open_store(&store, runs_dir)) ||
	    (code = cli_select_side_by_side(store, &sel, refs, n_refs, latest, 1, &runs, &n_runs)))
		goto done;
	if (!n_runs) {
		code = cli_error("no run matches — see tally runs");
		goto done;
	}
	if (!output) {
		tally_buf_printf(&name, "%s/.reports", tally_store_path(store));
		if (tally_mkdir_p(name.ptr) < 0) {
			code = cli_error("cannot create '%s': %s — give a file with -o", name.ptr, strerror(errno));
			goto done;
		}
		tally_buf_adds(&name, n_runs == 1 ? "/report-" : "/compare-");
		add_short_id(&name, runs[0]);
		if (n_runs > 1) {
			tally_buf_addc(&name, '-');
			add_short_id(&name, runs[n_runs - 1]);
		}
		tally_buf_adds(&name, ".html");
		output = name.ptr;
	}
	code = cli_write_report(runs, n_runs, output, open);
done:
	cli_free_runs(runs, n_runs);
	tally_store_free(store);
	cli_selection_release(&sel);
	tally_buf_release(&name);
	free(refs);
	return code;
}

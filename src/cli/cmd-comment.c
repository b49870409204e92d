/* tally comment — add, list and delete comments of runs. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

const char cmd_comment_usage[] =
	"usage: tally comment [-y] RUN… TEXT\n"
	"       tally comment --list [RUN…]\n"
	"       tally comment [-y] --delete N RUN…\n"
	"\n"
	"Comment on runs (Guild's comment): each comment keeps its text, user, host\n"
	"and time.  --list prints them numbered (default: the latest run); --delete\n"
	"removes comment N.  RUN is an index (1 = latest), a range (1:5), a list\n"
	"(3,7), an id prefix, a name or a run directory; query options pick runs as\n"
	"tally runs does.\n"
	"\n"
	"Options:\n"
	"  -l, --list          list the comments\n"
	"  -d, --delete N      delete comment N (1 = the first)\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static const struct option options[] = {
	CLI_SELECTION_OPTIONS,
	{"list", no_argument, NULL, 'l'},
	{"delete", required_argument, NULL, 'd'},
	{"yes", no_argument, NULL, 'y'},
	{"runs-dir", required_argument, NULL, 'R'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* A comment's text, its lines indented; control characters (an escape
 * sequence someone wrote into a comment) shown as '?', not obeyed. */
static void print_text(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n')
			fputs("\n     ", stdout);
		else
			putchar(*p < 0x20 && *p != '\t' ? '?' : *p == 0x7f ? '?' : *p);
	}
	putchar('\n');
}

static void list_comments(const tally_run *run)
{
	json_t *meta = json_loads(tally_run_json(run), 0, NULL);
	json_t *list = json_object_get(meta, "comments");
	printf("%s%s%s\n", tally_run_id(run), *tally_run_label(run) ? "  " : "", tally_run_label(run));
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c) {
		printf("  %zu. %s@%s  %s\n     ", i + 1, str(c, "user"), str(c, "host"), str(c, "time"));
		print_text(str(c, "text"));
	}
	if (!json_array_size(list))
		printf("  (no comments)\n");
	json_decref(meta);
}

int cmd_comment(int argc, char **argv)
{
	const char *runs_dir = NULL;
	bool list = false, yes = false;
	long delete_n = 0;
	cli_selection sel = CLI_SELECTION_INIT;
	int c, code = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ld:yw:h", options, NULL)) != -1) {
		if (cli_selection_option(&sel, c, optarg))
			continue;
		switch (c) {
		case 'l': list = true; break;
		case 'd': {
			char *end;
			delete_n = strtol(optarg, &end, 10);
			if (end == optarg || *end || delete_n < 1) {
				code = cli_usage_error(cmd_comment_usage, "--delete takes a comment number (1 = the first), not '%s'", optarg);
				goto done_sel;
			}
			break;
		}
		case 'y': yes = true; break;
		case 'R': runs_dir = optarg; break;
		case 'h': fputs(cmd_comment_usage, stdout); goto done_sel;
		default: code = cli_usage_error(cmd_comment_usage, "unknown option or missing value in '%s'", argv[optind - 1]); goto done_sel;
		}
	}
	if (list && delete_n) {
		code = cli_usage_error(cmd_comment_usage, "--list and --delete do not go together");
		goto done_sel;
	}
	char *latest[] = {(char *)"1"};
	char **refs = argv + optind;
	int n = argc - optind - (list || delete_n ? 0 : 1);
	if (list && n == 0 && !sel.used) {
		refs = latest;
		n = 1;
	}
	if (n < (sel.used ? 0 : 1)) {
		code = cli_usage_error(cmd_comment_usage, list || delete_n ? "which runs? — name at least one" : "give the runs, then the comment");
		goto done_sel;
	}
	const char *text = list || delete_n ? NULL : argv[argc - 1];
	tally_store *store = NULL;
	tally_run **runs = NULL;
	size_t found = 0;
	code = cli_open_store(&store, runs_dir);
	if (!code)
		code = cli_select_runs(store, &sel, refs, (size_t)n, &runs, &found);
	if (!code && !list)
		code = cli_confirm(delete_n ? "delete a comment of" : "comment on", runs, found, yes);
	for (size_t i = 0; !code && i < found; i++) {
		if (!runs[i])
			continue;
		int rc = 0;
		if (list)
			list_comments(runs[i]);
		else if (delete_n)
			rc = tally_run_delete_comment(runs[i], (size_t)delete_n);
		else
			rc = tally_run_add_comment(runs[i], text);
		if (rc)
			code = cli_lib_error(rc);
	}
	cli_free_runs(runs, found);
	tally_store_free(store);
done_sel:
	cli_selection_release(&sel);
	return code;
}

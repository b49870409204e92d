/* tally purge — remove archived runs for good (tfruns' purge_runs, Guild's runs purge). */
#include "cli/cli.h"

const char cmd_purge_usage[] =
	"usage: tally purge [-y] [RUN…] [query options]\n"
	"\n"
	"Remove archived runs (those tally delete moved to the archive) for good:\n"
	"their directories are deleted.  RUN refers to the archive as listed by\n"
	"tally runs --archived; query options pick archived runs as tally runs does.\n"
	"Without RUN or options: every archived run.\n"
	"\n"
	"Options:\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static int purge(tally_run *run, tally_store *store)
{
	(void)store;
	return tally_run_remove(run);
}

int cmd_purge(int argc, char **argv)
{
	static const cli_archived_command cmd = {cmd_purge_usage, "purge (delete for good)", "Purged", purge};
	return cli_act_on_archived(argc, argv, &cmd);
}

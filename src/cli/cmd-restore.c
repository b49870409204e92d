/* tally restore — bring runs back from the archive (Guild's runs restore). */
#include "cli/cli.h"

const char cmd_restore_usage[] =
	"usage: tally restore [-y] [RUN…] [query options]\n"
	"\n"
	"Move runs from the archive (where tally delete put them) back into the\n"
	"runs directory, as they were.  RUN refers to the archive as listed by\n"
	"tally runs --archived (1 = the latest archived run); query options pick\n"
	"archived runs as tally runs does.  Without RUN or options: every archived\n"
	"run.  A run whose name another run took meanwhile stays archived.\n"
	"\n"
	"Options:\n"
	"  -y, --yes           do not ask (needed when there is no terminal)\n"
	CLI_SELECTION_HELP
	"      --runs-dir DIR  where runs live (default ./runs)\n"
	"  -h, --help          show this help\n";

static int restore(tally_run *run, tally_store *store)
{
	return tally_run_move(run, store);
}

int cmd_restore(int argc, char **argv)
{
	static const cli_archived_command cmd = {cmd_restore_usage, "restore", "Restored", restore};
	return cli_act_on_archived(argc, argv, &cmd);
}

/* --executor, --slurm and --gpus-per-trial: how tally run and tally tune send runs to Slurm. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_slurm_option(cli_slurm_args *a, int c, const char *arg, const char *usage)
{
	switch (c) {
	case CLI_OPT_EXECUTOR:
		if (strcmp(arg, "local") && strcmp(arg, "slurm"))
			return cli_usage_error(usage, "--executor '%s' is not one of local|slurm", arg);
		a->executor = arg;
		return 0;
	case CLI_OPT_SLURM: /* the library splits it into words for sbatch's argv */
		if (tally_strlist_push(&a->words, arg) < 0)
			return cli_error("out of memory");
		a->slurm_given = true;
		return 0;
	case CLI_OPT_GPUS_PER_TRIAL: {
		char *end;
		errno = 0;
		long n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > 1024)
			return cli_usage_error(usage, "--gpus-per-trial '%s' is not a whole number from 1 to 1024", arg);
		a->gpus = (unsigned)n;
		return 0;
	}
	default: return 1;
	}
}

int cli_slurm_finish(cli_slurm_args *a, const char *usage)
{
	bool slurm = a->executor && !strcmp(a->executor, "slurm");
	if (!slurm && (a->slurm_given || a->gpus))
		return cli_usage_error(usage, "%s goes with --executor slurm", a->slurm_given ? "--slurm" : "--gpus-per-trial");
	if (!slurm)
		return 0;
	/* the jobs run this very program: on a cluster it lies on the shared filesystem or is installed alike */
	const char *own = getenv("TALLY_SLURM_TALLY");
	if (own && *own)
		snprintf(a->tally_path, sizeof a->tally_path, "%s", own);
	else {
		ssize_t n = readlink("/proc/self/exe", a->tally_path, sizeof a->tally_path - 1);
		if (n <= 0)
			return cli_error("cannot tell where this tally program is (/proc/self/exe) — set TALLY_SLURM_TALLY");
		a->tally_path[n] = '\0';
	}
	a->opts = (tally_slurm_options){TALLY_SLURM_OPTIONS_VERSION, a->words.n ? (const char *const *)a->words.items : NULL,
	                                a->gpus, a->tally_path, NULL};
	return 0;
}

void cli_slurm_args_release(cli_slurm_args *a)
{
	tally_strlist_release(&a->words);
}

/*
 * tally slurm-task --runs-dir DIR LIST — what a Slurm job that tally
 * submitted runs on its compute node (not listed in `tally help`): task I
 * of the job's array (SLURM_ARRAY_TASK_ID; 0 for a job alone) runs the
 * queued run on line I of LIST, as tally run would have.  Its exit status
 * is the script's, so Slurm's accounting agrees with the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/fsutil.h"

static const char usage[] = "usage: tally slurm-task --runs-dir DIR LIST  (run by the Slurm jobs tally submits)\n";

/* Line `index` of the list: a run id. */
static int run_of_task(const char *list, long index, char id[256])
{
	tally_buf text = TALLY_BUF_INIT;
	if (tally_read_file(&text, list, 64u << 20) < 0 || !text.ptr) {
		tally_buf_release(&text);
		return cli_error("cannot read the job's list of runs '%s'", list);
	}
	const char *line = text.ptr;
	const char *nl = strchr(line, '\n');
	if (nl && !nl[1])
		index = 0; /* a job alone: SLURM_ARRAY_TASK_ID, if set, was inherited from the job that submitted it */
	for (long i = 0; i < index && line; i++) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	size_t len = line ? strcspn(line, "\n") : 0;
	int code = !len || len >= 256 ? cli_error("the job's list '%s' has no run for array task %ld", list, index)
	         : line[0] == '.' || memchr(line, '/', len) /* a run id, never a path out of the runs directory */
	             ? cli_error("the job's list '%s' holds '%.*s', which is no run id", list, (int)len, line)
	             : 0;
	if (!code)
		snprintf(id, 256, "%.*s", (int)len, line);
	tally_buf_release(&text);
	return code;
}

int cmd_slurm_task(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[1], "--runs-dir"))
		return cli_usage_error(usage, "give --runs-dir DIR and the job's list of runs");
	const char *task = getenv("SLURM_ARRAY_TASK_ID");
	char *end;
	long index = task ? strtol(task, &end, 10) : 0;
	if (task && (end == task || *end || index < 0))
		return cli_error("SLURM_ARRAY_TASK_ID '%s' is not an array index", task);
	char id[256];
	int code = run_of_task(argv[3], index, id);
	tally_store *store = NULL;
	if (code || (code = cli_open_store(&store, argv[2])))
		return code;
	char *dir = tally_path_join(tally_store_path(store), id);
	tally_run *run = NULL;
	int exit_code = 1;
	int rc = dir ? tally_launch_queued(&run, &exit_code, store, dir, 1) : -1;
	code = rc ? cli_lib_error(rc) : exit_code;
	tally_run_free(run);
	free(dir);
	tally_store_free(store);
	return code;
}

/*
 * Queued runs sent to Slurm (submit.c), for `tally run --executor slurm`
 * and the sweep's Slurm executor.
 */
#ifndef TALLY_LIB_LAUNCH_SUBMIT_H
#define TALLY_LIB_LAUNCH_SUBMIT_H

#include "lib/run/run.h"

/* Queued runs (tally__launch_queue()) to submit as one job, an array
 * when there are several. */
typedef struct {
	tally_run *const *runs;       /* all of one script: the first one's own Slurm settings count */
	size_t n;
	const char *const *options;   /* the command line's sbatch option strings (split here); may be NULL */
	unsigned gpus;                /* --gres=gpu:N per run; 0: none asked */
	unsigned throttle;            /* an array's %N: at most N of its tasks at once; 0: no limit */
	const char *tally;            /* the tally program the jobs run */
	const char *job_name;         /* NULL: "tally" */
} tally_slurm_batch;

/* Create the run "queued", checked as any launch is, with what its job will
 * launch (.tally/launch.json) and the sbatch options its own settings give. */
int tally__launch_queue(tally_run **out, tally_store *store, const tally_launch_options *opts);
/* Write the batch files, sbatch them, and record the job in each run. */
int tally__slurm_submit_batch(char **job_id, tally_store *store, const tally_slurm_batch *b);
/* Remove a queued run whose submission failed (nothing is left of it). */
void tally__slurm_discard_queued(tally_store *store, tally_run *run);

#endif

/*
 * Slurm's commands, run with an argv (never a shell), and what they say
 * about jobs (slurm.c).  The layer knows Slurm, not runs: run/slurmrun.c
 * turns a job's state into a run's status.
 */
#ifndef TALLY_LIB_SLURM_H
#define TALLY_LIB_SLURM_H

#include <stdbool.h>

#include "lib/core/core.h"
#include "util/buf.h"
#include "util/strlist.h"

/* Run Slurm's `argv` (argv[0] found on PATH), its stdout into `out` (may be
 * NULL).  A missing command is one clear error naming it; a non-zero exit is
 * an error with the first line the command wrote to stderr. */
int tally__slurm_command(tally_buf *out, const char *const *argv);

/* Slurm's client commands are on PATH (sbatch, squeue, scontrol, scancel),
 * else one error naming the first one missing. */
int tally__slurm_check(void);

/* sbatch `options…` `script`: the job's id ("1234"). */
int tally__slurm_submit(char **job_id, const tally_strlist *options, const char *script);

/* Write a batch script at `path` that runs `argv` (exec, each word quoted
 * for sh: nothing in it is expanded), after a comment line. */
int tally__slurm_write_script(const char *path, const char *const *argv, const char *comment);

/* scancel of `job` ("1234" or "1234_5"); `signal` NULL cancels it, "TERM"
 * (say) only signals its batch step.  A job already gone is not an error. */
int tally__slurm_cancel(const char *job, const char *signal);

/* What Slurm says of one job (an array task is "JOB_INDEX"). */
typedef struct {
	bool known;           /* squeue, scontrol or sacct knew the job */
	char state[32];       /* PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, … */
	char reason[128];     /* why it pends or how it ended, as Slurm puts it ("" when none) */
	char node[128];
	char partition[64];
	char time_limit[32];
	int exit_code, exit_signal; /* the batch script's, from "0:15" (-1 unknown) */
} tally_slurm_job;

/* squeue first, then scontrol (finished jobs it still remembers), then
 * sacct where accounting exists. */
int tally__slurm_job_info(tally_slurm_job *out, const char *job);

/* Which of `jobs` are still in the queue (pending, running or completing):
 * `active` gets those ids, one per entry.  One squeue call for them all. */
int tally__slurm_active(tally_strlist *active, const tally_strlist *jobs);

/* A state after which the job never runs again (COMPLETED, FAILED, …). */
bool tally__slurm_state_final(const char *state);

/* Split an option string ("--partition=gpu --time=2:00:00") into words,
 * as a shell would split it but without expanding anything ('…', "…" and
 * backslashes quote).  TALLY_EINVALID on an unterminated quote. */
int tally__slurm_split_options(tally_strlist *out, const char *text, const char *what);

#endif

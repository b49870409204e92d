/*
 * Slurm's commands as tally reads them (src/lib/slurm/slurm.c) and a run's
 * ending recorded from a job's state (src/lib/run/slurmrun.c), against
 * stand-in squeue/scontrol/sacct scripts on PATH that print what a real
 * Slurm 22.05 prints (the end-to-end test t2100 runs a real one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/run/run.h"
#include "lib/slurm/slurm.h"

static char scratch[256];

/* A stand-in for Slurm's command `name`: a script that prints `output` and exits with `code`. */
static void fake_command(const char *name, const char *output, int code)
{
	char path[512];
	snprintf(path, sizeof path, "%s/bin/%s", scratch, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ncat <<'EOF'\n%sEOF\nexit %d\n", output, code);
	fclose(f);
	chmod(path, 0755);
}

static int setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof scratch, "/tmp/tally-test-slurm.XXXXXX");
	assert_non_null(mkdtemp(scratch));
	char bin[300];
	snprintf(bin, sizeof bin, "%s/bin", scratch);
	mkdir(bin, 0777);
	/* only cat (the stand-ins' shebang names /bin/sh): this machine's real Slurm stays out of reach */
	char cat[320];
	snprintf(cat, sizeof cat, "%s/cat", bin);
	assert_int_equal(symlink("/bin/cat", cat), 0);
	setenv("PATH", bin, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tally_remove_tree(scratch);
	return 0;
}

static void split(const char *text, const char *const *want)
{
	tally_strlist words = TALLY_STRLIST_INIT;
	assert_int_equal(tally__slurm_split_options(&words, text, "--slurm"), 0);
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(words.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(words.items[i], want[i]);
	tally_strlist_release(&words);
}

static void options_split_as_a_shell_would(void **state)
{
	(void)state;
	split("--partition=gpu  --time=2:00:00", (const char *const[]){"--partition=gpu", "--time=2:00:00", NULL});
	split("--comment=\"two words\" -J 'a b'", (const char *const[]){"--comment=two words", "-J", "a b", NULL});
	split("--comment=a\\ b ''", (const char *const[]){"--comment=a b", "", NULL});
	split("--comment=\"say \\\"hi\\\" \\\\ \\n\"", (const char *const[]){"--comment=say \"hi\" \\ \\n", NULL});
	split("$HOME `id` ;rm", (const char *const[]){"$HOME", "`id`", ";rm", NULL}); /* nothing expanded */
	split("   ", (const char *const[]){NULL});
	tally_strlist words = TALLY_STRLIST_INIT;
	assert_int_equal(tally__slurm_split_options(&words, "--comment='open", "--slurm"), TALLY_EINVALID);
	assert_non_null(strstr(tally_error_last(), "unterminated ' quote"));
	tally_strlist_release(&words);
}

static void final_states(void **state)
{
	(void)state;
	assert_false(tally__slurm_state_final("PENDING"));
	assert_false(tally__slurm_state_final("RUNNING"));
	assert_false(tally__slurm_state_final("COMPLETING"));
	assert_false(tally__slurm_state_final("REQUEUED"));
	assert_false(tally__slurm_state_final(""));
	assert_true(tally__slurm_state_final("COMPLETED"));
	assert_true(tally__slurm_state_final("TIMEOUT"));
	assert_true(tally__slurm_state_final("CANCELLED"));
	assert_true(tally__slurm_state_final("NODE_FAIL"));
}

static void a_missing_command_is_named(void **state)
{
	(void)state;
	assert_int_equal(tally__slurm_check(), TALLY_ENOTFOUND);
	assert_non_null(strstr(tally_error_last(), "Slurm's 'sbatch' command is not on PATH"));
	tally_slurm_job j;
	assert_int_equal(tally__slurm_job_info(&j, "12"), TALLY_ENOTFOUND);
}

static void a_failing_command_says_why(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/bin/sbatch", scratch);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho 'sbatch: error: invalid partition specified: nowhere' >&2\n"
	      "echo 'sbatch: error: Batch job submission failed' >&2\nexit 1\n", f);
	fclose(f);
	chmod(path, 0755);
	tally_strlist options = TALLY_STRLIST_INIT;
	tally_strlist_push(&options, "--partition=nowhere");
	char *job = NULL;
	assert_int_equal(tally__slurm_submit(&job, &options, "/dev/null"), TALLY_ERROR);
	assert_string_equal(tally_error_last(), "sbatch failed: sbatch: error: invalid partition specified: nowhere");
	assert_null(job);
	fake_command("sbatch", "4242;cluster\n", 0);
	assert_int_equal(tally__slurm_submit(&job, &options, "/dev/null"), 0);
	assert_string_equal(job, "4242");
	free(job);
	tally_strlist_release(&options);
}

static void active_jobs_from_one_squeue(void **state)
{
	(void)state;
	fake_command("squeue", "7_1\n7_3\n9\n", 0);
	tally_strlist jobs = TALLY_STRLIST_INIT, active = TALLY_STRLIST_INIT;
	tally_strlist_push(&jobs, "7_1");
	tally_strlist_push(&jobs, "7_2");
	assert_int_equal(tally__slurm_active(&active, &jobs), 0);
	assert_int_equal(active.n, 3);
	assert_string_equal(active.items[0], "7_1");
	assert_string_equal(active.items[2], "9");
	tally_strlist_release(&active);
	/* every job unknown: squeue's own error means none is active */
	fake_command("squeue", "", 1);
	char path[512];
	snprintf(path, sizeof path, "%s/bin/squeue", scratch);
	FILE *f = fopen(path, "w");
	fputs("#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n", f);
	fclose(f);
	assert_int_equal(tally__slurm_active(&active, &jobs), 0);
	assert_int_equal(active.n, 0);
	tally_strlist_release(&jobs);
}

static void job_info_from_squeue_then_scontrol(void **state)
{
	(void)state;
	tally_slurm_job j;
	fake_command("squeue", "PENDING|Priority|None assigned|gpu|2:00:00\n", 0);
	assert_int_equal(tally__slurm_job_info(&j, "12_3"), 0);
	assert_true(j.known);
	assert_string_equal(j.state, "PENDING");
	assert_string_equal(j.reason, "Priority");
	assert_string_equal(j.node, "");
	assert_string_equal(j.partition, "gpu");
	/* gone from the queue: scontrol still remembers it */
	fake_command("squeue", "", 0);
	fake_command("scontrol",
	             "JobId=13 ArrayJobId=12 ArrayTaskId=3 JobName=tally JobState=TIMEOUT Reason=TimeLimit "
	             "ExitCode=0:15 TimeLimit=00:10:00 Partition=gpu NodeList=node7 BatchHost=node7\n", 0);
	assert_int_equal(tally__slurm_job_info(&j, "12_3"), 0);
	assert_true(j.known);
	assert_string_equal(j.state, "TIMEOUT");
	assert_string_equal(j.reason, "TimeLimit");
	assert_string_equal(j.node, "node7");
	assert_string_equal(j.time_limit, "00:10:00");
	assert_int_equal(j.exit_signal, 15);
	/* forgotten by both, and no accounting */
	fake_command("scontrol", "", 1);
	fake_command("sacct", "", 1);
	assert_int_equal(tally__slurm_job_info(&j, "12_3"), 0);
	assert_false(j.known);
	/* sacct, where accounting exists */
	fake_command("sacct", "CANCELLED by 0|None|node2|debug|01:00:00\n", 0);
	assert_int_equal(tally__slurm_job_info(&j, "12_3"), 0);
	assert_true(j.known);
	assert_string_equal(j.state, "CANCELLED");
	assert_string_equal(j.node, "node2");
}

/* A run directory whose run.json says `status` for Slurm job 12_3, on another host. */
static void make_run(const char *dir, const char *status)
{
	char path[600];
	snprintf(path, sizeof path, "%s/.tally", dir);
	assert_int_equal(tally_mkdir_p(path), 0);
	snprintf(path, sizeof path, "%s/.tally/run.json", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"format\": 1, \"id\": \"2026-12-07T00-00-00Z-abcdef\", \"status\": \"%s\", \"host\": \"node7\", "
	           "\"started\": \"2026-12-07T00:00:00.000Z\", \"started_ms\": 1796601600000, "
	           "\"slurm\": {\"job\": \"12_3\", \"state\": \"RUNNING\"}}\n", status);
	fclose(f);
}

static json_t *load(const char *dir)
{
	char path[600];
	snprintf(path, sizeof path, "%s/.tally/run.json", dir);
	json_t *meta = json_load_file(path, 0, NULL);
	assert_non_null(meta);
	return meta;
}

static void an_ending_recorded_from_slurm(void **state)
{
	(void)state;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/run", scratch);
	fake_command("squeue", "", 0);
	fake_command("scontrol",
	             "JobId=13 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15 TimeLimit=00:10:00 Partition=gpu "
	             "NodeList=node7\n", 0);
	/* still running by its record: its tally was killed with the job */
	make_run(dir, "running");
	bool final = false;
	assert_int_equal(tally__slurm_reconcile(dir, "here", scratch, &final), 0);
	assert_true(final);
	json_t *meta = load(dir);
	assert_string_equal(json_string_value(json_object_get(meta, "status")), "terminated");
	assert_string_equal(json_string_value(json_object_get(meta, "stop_reason")),
	                    "Slurm job 12_3 reached its Slurm time limit of 00:10:00 on node7");
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "slurm"), "state")), "TIMEOUT");
	assert_non_null(json_object_get(meta, "stopped_ms"));
	json_decref(meta);
	/* completed by its own tally: the status stays, the job's state is noted */
	fake_command("scontrol", "JobId=13 JobState=COMPLETED Reason=None ExitCode=0:0 NodeList=node7\n", 0);
	make_run(dir, "completed");
	assert_int_equal(tally__slurm_reconcile(dir, "here", scratch, &final), 0);
	assert_true(final);
	meta = load(dir);
	assert_string_equal(json_string_value(json_object_get(meta, "status")), "completed");
	assert_null(json_object_get(meta, "stop_reason"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "slurm"), "state")), "COMPLETED");
	json_decref(meta);
	/* queued, and the job failed before its tally could start it */
	fake_command("scontrol", "JobId=13 JobState=NODE_FAIL Reason=NodeDown ExitCode=0:0 NodeList=node9\n", 0);
	make_run(dir, "queued");
	assert_int_equal(tally__slurm_reconcile(dir, "here", scratch, &final), 0);
	meta = load(dir);
	assert_string_equal(json_string_value(json_object_get(meta, "status")), "error");
	assert_string_equal(json_string_value(json_object_get(meta, "stop_reason")),
	                    "Slurm job 12_3 lost its node (NODE_FAIL) on node9");
	json_decref(meta);
	/* still in the queue: nothing changes */
	fake_command("squeue", "RUNNING|None|node7|gpu|00:10:00\n", 0);
	make_run(dir, "running");
	assert_int_equal(tally__slurm_reconcile(dir, "here", scratch, &final), 0);
	assert_false(final);
	meta = load(dir);
	assert_string_equal(json_string_value(json_object_get(meta, "status")), "running");
	json_decref(meta);
	/* forgotten by Slurm altogether */
	fake_command("squeue", "", 0);
	fake_command("scontrol", "", 1);
	fake_command("sacct", "", 1);
	assert_int_equal(tally__slurm_reconcile(dir, "here", scratch, &final), 0);
	meta = load(dir);
	assert_string_equal(json_string_value(json_object_get(meta, "status")), "terminated");
	assert_non_null(strstr(json_string_value(json_object_get(meta, "stop_reason")), "no longer says how it ended"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "slurm"), "state")), "UNKNOWN");
	json_decref(meta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_split_as_a_shell_would),
		cmocka_unit_test(final_states),
		cmocka_unit_test(a_missing_command_is_named),
		cmocka_unit_test(a_failing_command_says_why),
		cmocka_unit_test(active_jobs_from_one_squeue),
		cmocka_unit_test(job_info_from_squeue_then_scontrol),
		cmocka_unit_test(an_ending_recorded_from_slurm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

#!/usr/bin/env bash
# The single-node Slurm harness (slurm-lib.sh) that Slurm executor tests use:
# a real slurmctld + slurmd in the scratch directory takes a 4-task job array
# (4 declared CPUs on a 2-core machine, so all 4 run at once), reports
# COMPLETED and CANCELLED through scontrol, and slurm_stop ends its daemons.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/slurm-lib.sh"

test_expect_success 'slurm_start brings up a cluster configured in the scratch directory' '
	slurm_start &&
	case $SLURM_CONF in "$TRASH"/*) ;; *) false ;; esac &&
	test -f "$SLURM_CONF" &&
	scontrol ping | grep -q "is UP" &&
	test "$(sinfo -h -o %t)" = idle &&
	test "$(sinfo -h -o %c)" = 4 &&
	test "$(slurm_daemon_pids | wc -l)" = 2
'

test_expect_success 'setup: an array task that waits for a go file' '
	cat >task.sh <<-\SH
	#!/bin/sh
	touch "started.$SLURM_ARRAY_TASK_ID"
	i=0
	while ! test -e go && test $i -lt 600; do sleep 0.05; i=$((i + 1)); done
	echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID" >"out.$SLURM_ARRAY_TASK_ID"
	SH
	chmod +x task.sh
'

test_expect_success 'a 4-task sbatch array runs all 4 tasks at once and completes' '
	id=$(sbatch --parsable --array=1-4 -o /dev/null ./task.sh) &&
	test -n "$id" &&
	slurm_wait_running 4 20 &&
	for t in 1 2 3 4; do
		wait_until test -e "started.$t" || return 1
	done &&
	test "$(slurm_running_count)" = 4 &&
	touch go &&
	slurm_wait_job_gone "$id" 30 &&
	for t in 1 2 3 4; do
		grep -qx "task $t of $id" "out.$t" || return 1
		test "$(slurm_job_state "${id}_$t")" = COMPLETED || return 1
	done &&
	slurm_job_state "$id" >states &&
	test "$(sort -u states)" = COMPLETED &&
	test "$(wc -l <states)" = 4 &&
	test "$(slurm_running_count)" = 0
'

test_expect_success 'scancel of a pending job and of a running job: CANCELLED' '
	held=$(sbatch --parsable --hold -o /dev/null --wrap "sleep 300") &&
	run=$(sbatch --parsable -o /dev/null --wrap "sleep 300") &&
	test "$(slurm_job_state "$held")" = PENDING &&
	slurm_wait_job_state "$run" RUNNING 20 &&
	scancel "$held" "$run" &&
	slurm_wait_job_gone "$held" 20 &&
	slurm_wait_job_gone "$run" 20 &&
	test "$(slurm_job_state "$held")" = CANCELLED &&
	test "$(slurm_job_state "$run")" = CANCELLED &&
	test -z "$(squeue -h)"
'

test_expect_success 'an unknown job has no state; waiting for it returns at once' '
	test -z "$(slurm_job_state 999999)" &&
	slurm_wait_job_gone 999999 1
'

test_expect_success 'slurm_stop cancels what is left and stops the daemons, twice over' '
	left=$(sbatch --parsable -o /dev/null --wrap "sleep 300") &&
	slurm_wait_job_state "$left" RUNNING 20 &&
	slurm_daemon_pids >daemons &&
	test "$(wc -l <daemons)" = 2 &&
	slurm_stop &&
	while read -r name pid; do
		! slurm_pid_alive "$pid" || return 1
	done <daemons &&
	test -z "$(slurm_daemon_pids)" &&
	test_must_fail scontrol ping >/dev/null &&
	slurm_stop
'

test_done

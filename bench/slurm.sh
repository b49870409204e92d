#!/usr/bin/env bash
# What the Slurm executor costs against plain sbatch, on a single-node Slurm
# this script starts (tests/t/slurm-lib.sh, everything under its temporary
# directory; stopped on exit, also on failure or Ctrl-C):
#
# 1. Submission cost per trial: wall time of the submitting command / trials.
#    One job: `sbatch --parsable --hold triv.sh` against `tally run --executor
#    slurm --slurm=--hold triv.sh`, each timed until it returns.  TRIALS
#    trials as one job array: `sbatch --parsable --hold --array=0-(TRIALS-1)`
#    until it returns, against `tally tune triv.sh 'i=range[1:TRIALS]'
#    --executor slurm -p TRIALS -y --slurm=--hold` (TRIALS queued runs, then
#    one sbatch).  tally tune waits for its trials, so it runs in the
#    background: the bench polls `squeue -h -r` (every 10 ms) until the
#    TRIALS tasks are queued, and takes as the end the moment tally's sbatch
#    returned, which tally stamps in every run (run.json slurm.submitted,
#    ms); the time until squeue showed them is printed too.  The jobs are held,
#    so nothing starts meanwhile, then scancel'ed.
# 2. Time from submission to the trial's first output: a script that prints
#    one line at once, submitted with `sbatch --output=FILE` (until FILE
#    holds the line) and with `tally run --executor slurm` (until the run's
#    .tally/output holds it), polled every 5 ms, one job at a time, the two
#    interleaved.  This cluster starts jobs only on its scheduler's passes,
#    once a second (bf_interval=1), so a bare measurement would mostly be
#    where the submission fell between two passes.  Each submission is
#    therefore made LEAD_MS (300) before the next pass, whose time is known
#    from when the previous job started (slurmctld.log, ms); the figure is
#    split into submission -> job start (the scheduler's wait, the same for
#    both) and job start -> first output (launching the job; for tally, its
#    `tally slurm-task` taking over the queued run and starting the script).
#
# Medians of K repetitions after one warm-up each; ratio = tally / sbatch.
# Needs Slurm (slurmctld, slurmd, slurm-client) and munge, as root, like
# tests/t2100-slurm.sh.  About 30 s.
#
# usage: bench/slurm.sh [TRIALS]   (default 100; env: TALLY, K=5 repetitions,
#                                   LEAD_MS=300)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N=${1:-100}
K=${K:-5}
LEAD_MS=${LEAD_MS:-300}
for v in N K LEAD_MS; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1)); then
		echo "${0##*/}: $v must be a positive integer: ${!v}" >&2
		exit 2
	fi
done
((N >= 2)) || { echo "${0##*/}: TRIALS must be 2 or more (one job is always measured)" >&2; exit 2; }

# --- the cluster (slurm-lib.sh expects TRASH, TEST_NAME and test_cleanup) ---
TRASH=$BENCH_TMP
TEST_NAME=bench-slurm
test_cleanup() { bench_cleanup; }
# shellcheck source=tests/t/slurm-lib.sh
source "$REPO_ROOT/tests/t/slurm-lib.sh"
tune_pid=
# slurm-lib's EXIT trap, without errexit (it ends with a failing subshell),
# after the sweep this script may have left in the background.
on_exit() {
	local rc=$? i
	set +e
	if [[ -n $tune_pid ]] && slurm_pid_alive "$tune_pid"; then
		kill -TERM "$tune_pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do slurm_pid_alive "$tune_pid" || break; sleep 0.05; done
		kill -KILL "$tune_pid" 2>/dev/null
	fi
	(exit "$rc")
	_slurm_exit_hook
}
trap on_exit EXIT

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# nap SECONDS: sleep without a fork (read times out on a pipe nobody writes).
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

# Microseconds since the epoch, without a fork: t=${EPOCHREALTIME/[.,]/}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# med NAME -> median of the samples in $BENCH_TMP/samples/NAME (ms)
med() { [[ ! -f $BENCH_TMP/samples/$1 ]] || median <"$BENCH_TMP/samples/$1"; }
# sample NAME MS: record one sample
sample() { echo "$2" >>"$BENCH_TMP/samples/$1"; }
# ms_between T0_US T1_US -> milliseconds, 3 decimals
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }

# wait_for SECONDS WHAT CMD…: run CMD every 10 ms until it succeeds.
wait_for() {
	local limit=$1 what=$2 deadline
	shift 2
	deadline=$(($(_slurm_now_ms) + limit * 1000))
	until "$@"; do
		(($(_slurm_now_ms) < deadline)) || die "timed out after ${limit} s waiting for $what"
		nap 0.01
	done
}
queue_empty() { [[ -z $(squeue -h -r 2>/dev/null) ]]; }
wait_queue_empty() { wait_for 60 "the queue to empty" queue_empty; }
cancel_all() {
	local ids
	ids=$(squeue -h -o %F 2>/dev/null | sort -u)
	# shellcheck disable=SC2086
	[[ -z $ids ]] || scancel $ids
	wait_queue_empty
}

# When slurmctld started job $1 (ms since the epoch), from its log: backfill's
# "Started JobId=J …" or the main scheduler's "Allocate JobId=J …".
CTLD_LOG=$SLURM_DIR/log/slurmctld.log
job_start_ms() {
	local line
	line=$(grep -m 1 -E "(Started|Allocate) JobId=$1( |$)" "$CTLD_LOG") || return 1
	line=${line#\[}
	date -d "${line%%\]*}" +%s%3N
}

echo "tally:  $TALLY"
echo "trials: 1 and $N, median of $K (one warm-up each), lead before the scheduler's pass $LEAD_MS ms"
slurm_start || die "could not start a single-node Slurm (see above)"
echo "Slurm:  $(sbatch --version 2>/dev/null || echo '?'), one node, $(nproc) CPUs here"
# The scheduler's period: bf_interval (the harness sets 1 s; Slurm's default 30).
period_ms=$(scontrol show config | sed -n 's/.*bf_interval=\([0-9]*\).*/\1/p' | head -n 1)
period_ms=$((${period_ms:-30} * 1000))
echo

proj=$BENCH_TMP/proj
base=$BENCH_TMP/base
mkdir -p "$proj" "$base" "$BENCH_TMP/samples"
printf '#!/bin/bash\necho first\n' >"$proj/triv.sh"
chmod +x "$proj/triv.sh"
cd "$proj"
export TALLY_SLURM_POLL=0.2 # a held sweep notices its cancelled trials soon
base_opts=(--parsable --job-name=bench) # tally passes --job-name and --output too

# --- 1. submission cost ------------------------------------------------------

# One held job each way, timed until the command returns.
submit_one() { # $1 = sample name suffix ("" for the warm-up)
	local t0 t1 out
	wait_queue_empty
	t0=${EPOCHREALTIME/[.,]/}
	sbatch "${base_opts[@]}" "--output=$base/slurm-%j.out" --hold triv.sh >/dev/null
	t1=${EPOCHREALTIME/[.,]/}
	[[ -z $1 ]] || sample sub1_sbatch "$(ms_between "$t0" "$t1")"
	cancel_all
	export TALLY_RUNS_DIR=$BENCH_TMP/runs-one$1
	t0=${EPOCHREALTIME/[.,]/}
	out=$("$TALLY" run --executor slurm --slurm=--hold triv.sh)
	t1=${EPOCHREALTIME/[.,]/}
	[[ $out == *"queued as Slurm job "* ]] || die "tally run --executor slurm said: $out"
	[[ -z $1 ]] || sample sub1_tally "$(ms_between "$t0" "$t1")"
	cancel_all
}

# N held tasks each way.
tune_seen() { (($(squeue -h -r 2>/dev/null | wc -l) >= N)); }
submit_array() {
	local t0 t1 t_seen stamp done_ms runs jobs code
	wait_queue_empty
	t0=${EPOCHREALTIME/[.,]/}
	sbatch "${base_opts[@]}" "--output=$base/slurm-%A_%a.out" --hold "--array=0-$((N - 1))" triv.sh >/dev/null
	t1=${EPOCHREALTIME/[.,]/}
	[[ -z $1 ]] || sample subN_sbatch "$(ms_between "$t0" "$t1")"
	tune_seen || die "squeue does not list the $N tasks sbatch queued"
	cancel_all

	export TALLY_RUNS_DIR=$BENCH_TMP/runs-tune$1
	t0=${EPOCHREALTIME/[.,]/}
	"$TALLY" tune triv.sh "i=range[1:$N]" --executor slurm -p "$N" -y --force-flags --slurm=--hold \
		>"$BENCH_TMP/tune$1.out" 2>&1 &
	tune_pid=$!
	until tune_seen; do
		slurm_pid_alive "$tune_pid" || { cat "$BENCH_TMP/tune$1.out" >&2; die "tally tune ended before its $N tasks were queued"; }
		(((${EPOCHREALTIME/[.,]/} - t0) / 1000000 < 120)) || die "tally tune did not queue $N tasks in 120 s"
		nap 0.01
	done
	t_seen=${EPOCHREALTIME/[.,]/}
	# tally stamps every run right after its sbatch returned; the runs are
	# written one after the other, so wait for the last.
	runs=$(find "$TALLY_RUNS_DIR" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
	((runs == N)) || die "tally tune made $runs runs, not $N"
	stamped() { (($(grep -l '"submitted"' "$TALLY_RUNS_DIR"/*/.tally/run.json | wc -l) == N)); }
	wait_for 60 "tally to note its job in the $N runs" stamped
	stamp=$(grep -h -m 1 '"submitted"' "$TALLY_RUNS_DIR"/*/.tally/run.json | sed 's/.*"submitted": *"\([^"]*\)".*/\1/' | sort -u)
	jobs=$(grep -h -m 1 '"job_id"' "$TALLY_RUNS_DIR"/*/.tally/run.json | sort -u | wc -l)
	[[ $stamp != *$'\n'* && $jobs == 1 ]] || die "the $N trials were not one sbatch (stamps: $stamp; $jobs job ids)"
	done_ms=$(date -d "$stamp" +%s%3N)
	if [[ -n $1 ]]; then
		sample subN_tally "$(awk -v a="$t0" -v b="$done_ms" 'BEGIN { printf "%.3f", b - a / 1000 }')"
		sample subN_tally_seen "$(ms_between "$t0" "$t_seen")"
	fi
	cancel_all
	code=0
	wait "$tune_pid" || code=$?
	tune_pid=
	# its trials were cancelled: the sweep ends with status 1, every trial terminated
	if ((code != 1)) || ! grep -q "0 of $N trials completed" "$BENCH_TMP/tune$1.out"; then
		cat "$BENCH_TMP/tune$1.out" >&2
		die "tally tune ended with status $code"
	fi
}

echo "submission (held jobs) ..." >&2
submit_one ""
submit_array ""
for ((k = 1; k <= K; k++)); do
	submit_one "$k"
	submit_array "$k"
done

# --- 2. submission to first output ------------------------------------------

ref_ms= # when the last job started: the scheduler passes at ref_ms + i * period_ms
# Nap until LEAD_MS before the scheduler's next pass that is at least that far away.
align() {
	local now target
	[[ -n $ref_ms ]] || return 0
	now=$(_slurm_now_ms)
	target=$((ref_ms - LEAD_MS))
	((target >= now + 20)) || target=$((target + ((now + 20 - target) / period_ms + 1) * period_ms))
	nap "$(awk -v d="$((target - now))" 'BEGIN { printf "%.3f", d / 1000 }')"
}
has_first() { { read -r line <"$1"; } 2>/dev/null && [[ $line == first ]]; }
# first_output NAME FILE T0 JOB: poll FILE every 5 ms for the line, then record
# submit -> output, submit -> start and start -> output (ms) under NAME.
first_output() {
	local name=$1 file=$2 t0=$3 job=$4 t1 start
	until has_first "$file"; do
		(((${EPOCHREALTIME/[.,]/} - t0) / 1000000 < 60)) || die "no first line in $file after 60 s (job $job)"
		nap 0.005
	done
	t1=${EPOCHREALTIME/[.,]/}
	slurm_wait_job_gone "$job" 60 || die "job $job does not end"
	if start=$(job_start_ms "$job"); then
		ref_ms=$start
	else
		start=
		echo "${0##*/}: no start of job $job in $CTLD_LOG: submissions are not aligned" >&2
	fi
	[[ -n $name ]] || return 0
	sample "first_$name" "$(ms_between "$t0" "$t1")"
	if [[ -n $start ]]; then
		sample "sched_$name" "$(awk -v a="$t0" -v b="$start" 'BEGIN { printf "%.3f", b - a / 1000 }')"
		sample "launch_$name" "$(awk -v a="$start" -v b="$t1" 'BEGIN { printf "%.3f", b / 1000 - a }')"
	fi
}
first_sbatch() {
	local t0 job
	align
	t0=${EPOCHREALTIME/[.,]/}
	job=$(sbatch "${base_opts[@]}" "--output=$base/first-%j.out" triv.sh)
	first_output "${1:+sbatch}" "$base/first-${job%%;*}.out" "$t0" "${job%%;*}"
}
first_tally() {
	local t0 out job run
	export TALLY_RUNS_DIR=$BENCH_TMP/runs-first
	align
	t0=${EPOCHREALTIME/[.,]/}
	out=$("$TALLY" run --executor slurm triv.sh)
	run=$(sed -n 's/^Run \([^ ]*\) queued as Slurm job.*/\1/p' <<<"$out")
	job=$(sed -n 's/.*queued as Slurm job \([0-9]*\).*/\1/p' <<<"$out")
	[[ -n $run && -n $job ]] || die "tally run --executor slurm said: $out"
	first_output "${1:+tally}" "$TALLY_RUNS_DIR/$run/.tally/output" "$t0" "$job"
	grep -q '"status": "completed"' "$TALLY_RUNS_DIR/$run/.tally/run.json" ||
		die "run $run did not end completed: $(grep '"status"' "$TALLY_RUNS_DIR/$run/.tally/run.json")"
}

echo "first output ..." >&2
wait_queue_empty
first_sbatch ""
first_tally ""
for ((k = 1; k <= K; k++)); do
	# interleaved, the order alternating
	if ((k % 2)); then first_sbatch "$k"; first_tally "$k"; else first_tally "$k"; first_sbatch "$k"; fi
done

# --- the table ---------------------------------------------------------------

row() { # LABEL SBATCH_MS TALLY_MS [the two figures the ratio is of, if not these]
	local ratio=- a=${4:-$2} b=${5:-$3}
	[[ -n $a && -n $b ]] && ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')
	printf '%-46s %11s %11s %8s\n' "$1" "${2:--}" "${3:--}" "$ratio"
}
per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.3f", s / n }'; }
s1=$(med sub1_sbatch) t1=$(med sub1_tally)
sN=$(med subN_sbatch) tN=$(med subN_tally) tseen=$(med subN_tally_seen)
printf '\n%-46s %11s %11s %8s\n' "milliseconds (median of $K)" "sbatch" "tally" "ratio"
row "submit 1 job (tally run)" "$s1" "$t1"
row "submit $N trials, one array (tally tune)" "$sN" "$tN"
row "  per trial" "$(per "$sN" "$N")" "$(per "$tN" "$N")" "$sN" "$tN"
row "submit -> first output" "$(med first_sbatch)" "$(med first_tally)"
row "  submit -> job start (scheduler's wait)" "$(med sched_sbatch)" "$(med sched_tally)"
row "  job start -> first output" "$(med launch_sbatch)" "$(med launch_tally)"
echo
echo "tally tune: its $N tasks seen in squeue after $tseen ms (polled every 10 ms); after sbatch returned: $tN ms"
echo "submissions to the first output were made $LEAD_MS ms before a pass of the scheduler (every $((period_ms / 1000)) s)"

#!/usr/bin/env bash
# tally run/tune --executor slurm against a real single-node Slurm
# (slurm-lib.sh starts it and stops it by its pids): a job alone and a
# 6-trial grid as one job array, --parallel 2 as the array's %2, a run
# waiting in the queue as queued, tally stop and scancel, a time limit,
# kill -9 of the sweep then --resume, a requeued job, a detached sweep and
# its controller cancelled while pending, sbatch options from tally.yml, front
# matter and #SBATCH lines, bad options, and Slurm missing.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/slurm-lib.sh"

export TALLY_SLURM_POLL=0.2 # the sweep asks squeue every 0.2 s, not 2 s
sweep_id() { sed -n 's/^Sweep \([0-9a-f]*\) .*/\1/p' "$1" | tail -n 1; }
count_runs() { tally runs "$@" --format json | grep -c '"id"'; }
# A Python expression on the run.json (d) of run $1.
run_json() { "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1] + '/.tally/run.json')); print(eval(sys.argv[2]))" "$(tally lookup "$1" dir)" "$2"; }
status_is() { test "$(tally lookup "$1" status)" = "$2"; }
# The run and the job "tally run --executor slurm" printed into file $1.
queued_run() { sed -n "s/^Run \([^ ]*\) queued as Slurm job.*/\1/p" "$1"; }
queued_job() { sed -n "s/.*queued as Slurm job \([0-9]*\).*/\1/p" "$1"; }
# A test that left a sweep waiting in the background fails without hanging:
# test_expect_success reads the body's output until the sweep exits too.
give_up() {
	touch go-1 go-2 go-3 go-4
	ids=$(squeue -h -o %F 2>/dev/null | sort -u)
	[ -z "$ids" ] || scancel $ids
	wait
	tally runs
	# why runs failed, and what their jobs said
	for f in $(grep -l "\"status\": \"error\"" runs/*/.tally/run.json 2>/dev/null); do
		grep -E "\"(stop_reason|error_message|exit_status|job)\"" "$f"
		cat "$(dirname "$f")/output"
	done
	tail -n 5 $(find runs/.slurm -name "*.out" -size +0) </dev/null
	return 1
}
# The run of trial n=$1 once the index says it runs (into $first).
first_running() {
	first=$(tally runs --where "n = $1" --running --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0][\"id\"])") &&
		test -n "$first"
}
runs_of_sweep() { tally runs --sweep "$1" --format json | "$PYTHON" -c "import json,sys; print(' '.join(r['id'] for r in json.load(sys.stdin)))"; }

test_expect_success 'a single-node Slurm cluster starts' 'slurm_start'

test_expect_success 'setup: a script, one that waits, one that logs when it starts and ends' '
	cat >train.sh <<-\SH &&
	#| flags:
	#|   lr: {type: float, default: 0.1}
	#|   units: {type: int, default: 8}
	echo "host: $(hostname)"
	awk -v lr="$FLAG_LR" -v u="$FLAG_UNITS" "BEGIN { printf \"loss: %.4f\\n\", lr * 10 / u }"
	SH
	cat >wait.sh <<-\SH &&
	#| flags:
	#|   n: {type: int, default: 1}
	# trial n touches started-n, then waits for go-n (if it is told to)
	touch "$PROJECT/started-$FLAG_N"
	while test -e "$PROJECT/hold-$FLAG_N" && test ! -e "$PROJECT/go-$FLAG_N"; do sleep 0.05; done
	echo "loss: $FLAG_N"
	SH
	cat >span.sh <<-\SH
	#| flags:
	#|   n: {type: int, default: 1}
	# each trial logs when it starts and ends (ms), then lasts a second
	echo "start $FLAG_N $(date +%s%3N)" >>"$PROJECT/spans"
	sleep 1
	echo "end $FLAG_N $(date +%s%3N)" >>"$PROJECT/spans"
	echo "loss: $FLAG_N"
	SH
'
export PROJECT=$PWD

test_expect_success 'tally run --executor slurm: queued at once, then run on the node as an ordinary run' '
	tally run --executor slurm train.sh lr=0.5 >out &&
	grep -q "queued as Slurm job [0-9]*" out &&
	job=$(queued_job out) && r=$(queued_run out) &&
	slurm_wait_job_gone "$job" &&
	wait_until status_is "$r" completed &&
	test "$(tally runs --format json | grep -c "\"id\"")" = 1 &&
	tally show "$r" >show &&
	grep -q "loss *0.625" show &&
	tally cat "$r" | grep -q "^host: " &&
	test "$(run_json "$r" "d[\"slurm\"][\"job\"]")" = "$job" &&
	test "$(run_json "$r" "d[\"slurm\"][\"state\"]")" = COMPLETED &&
	test "$(run_json "$r" "d[\"slurm\"][\"partition\"]")" = debug &&
	test "$(run_json "$r" "d[\"slurm\"][\"node\"]")" = "$SLURM_NODE" &&
	run_json "$r" "d[\"queued\"]" | grep -q "^20" &&
	test "$(slurm_job_state "$job")" = COMPLETED
'

test_expect_success 'a 6-trial grid is one job array, each task a run of the sweep' '
	{ tally tune train.sh "lr=[0.1,0.2,0.3]" "units=[4,8]" --executor slurm -p 6 -y >tune.out 2>&1 ||
		{ cat tune.out runs/.slurm/slurm-*.out; false; }; } &&
	grep -q "6 of 6 trials completed" tune.out &&
	id=$(sweep_id tune.out) &&
	test "$(count_runs --sweep "$id" --completed)" = 6 &&
	for r in $(runs_of_sweep "$id"); do run_json "$r" "d[\"slurm\"][\"job_id\"]"; done | sort -u >jobs &&
	test "$(wc -l <jobs)" = 1 &&
	for r in $(runs_of_sweep "$id"); do run_json "$r" "d[\"slurm\"][\"array_index\"]"; done | sort -n | tr "\n" " " >indexes &&
	test "$(cat indexes)" = "0 1 2 3 4 5 " &&
	r=$(runs_of_sweep "$id" | cut -d" " -f1) &&
	run_json "$r" "d[\"slurm\"][\"options\"]" | grep -qE -- "--array=0-5[^%0-9]" &&
	tally show "$id" >sweep.show &&
	grep -q "completed" sweep.show &&
	test "$(grep -c " completed " sweep.show)" -ge 6
'

test_expect_success '--parallel 2: the array is throttled, never more than 2 trials at once' '
	rm -f spans &&
	tally tune span.sh "n=[1,2,3,4,5]" --executor slurm -p 2 -y >par.out 2>&1 &&
	grep -q "5 of 5 trials completed" par.out &&
	id=$(sweep_id par.out) &&
	r=$(runs_of_sweep "$id" | cut -d" " -f1) &&
	run_json "$r" "d[\"slurm\"][\"options\"]" | grep -qE -- "--array=0-4%2[^0-9]" &&
	test "$(grep -c "^start" spans)" = 5 &&
	"$PYTHON" - spans <<-\PY
	import sys
	events = []
	for line in open(sys.argv[1]):
	    kind, n, ms = line.split()
	    events.append((int(ms), 0 if kind == "end" else 1))
	now = most = 0
	for ms, up in sorted(events):
	    now += 1 if up else -1
	    most = max(most, now)
	print("at most", most, "at once")
	sys.exit(0 if most == 2 else 1)
	PY
'

test_expect_success 'a run waiting in the queue is queued, with its job; tally stop cancels it' '
	tally run --executor slurm --slurm "--begin=now+3600" train.sh lr=0.7 >q.out &&
	job=$(queued_job q.out) && r=$(queued_run q.out) &&
	test "$(tally runs --queued --format json | grep -c "\"id\"")" = 1 &&
	tally runs >listing &&
	grep -q " queued " listing &&
	tally show "$r" >show &&
	grep -q "^status: *queued" show &&
	test "$(run_json "$r" "d[\"slurm\"][\"job\"]")" = "$job" &&
	test "$(slurm_job_state "$job")" = PENDING &&
	tally stop -y "$r" >stop.out &&
	grep -q "Stopped 1 run" stop.out &&
	status_is "$r" terminated &&
	run_json "$r" "d[\"stop_reason\"]" | grep -q "Slurm job $job was cancelled" &&
	test "$(run_json "$r" "d[\"slurm\"][\"state\"]")" = CANCELLED &&
	slurm_wait_job_gone "$job" &&
	test "$(tally runs --queued --format json | grep -c "\"id\"")" = 0
'

test_expect_success 'scancel of one trial: it ends terminated with the reason, the others complete' '
	rm -f started-* go-* hold-* && touch hold-2 &&
	(tally tune wait.sh "n=[1,2,3]" --executor slurm -p 3 -y >cancel.out 2>&1; echo $? >cancel.code) &
	{ wait_until test -e started-2 &&
	  wait_until first_running 2 && r=$first &&
	  job=$(run_json "$r" "d[\"slurm\"][\"job\"]") &&
	  scancel "$job" &&
	  wait_until test -e cancel.code || give_up; } &&
	test "$(cat cancel.code)" = 1 &&
	id=$(sweep_id cancel.out) &&
	test "$(count_runs --sweep "$id" --completed)" = 2 &&
	status_is "$r" terminated &&
	run_json "$r" "d[\"stop_reason\"]" | grep -q "was cancelled in Slurm" &&
	test "$(run_json "$r" "d[\"slurm\"][\"state\"]")" = CANCELLED
'

test_expect_success 'a job past its time limit ends terminated, the limit in its reason' '
	cat >slow.sh <<-\SH &&
	echo "loss: 1"
	sleep 300
	SH
	tally run --executor slurm --slurm --time=0:01 slow.sh >slow.out &&
	job=$(queued_job slow.out) && r=$(queued_run slow.out) &&
	slurm_wait_job_gone "$job" 90 &&
	test "$(slurm_job_state "$job")" = TIMEOUT &&
	wait_until status_is "$r" terminated &&
	run_json "$r" "d[\"stop_reason\"]" | grep -q "Slurm job $job reached its Slurm time limit" &&
	test "$(run_json "$r" "d[\"slurm\"][\"state\"]")" = TIMEOUT &&
	tally cat "$r" | grep -q "loss: 1"
'

test_expect_success 'kill -9 of the sweep: its jobs go on, --resume watches them and runs the rest' '
	rm -f started-* go-* hold-* && touch hold-1 hold-2 &&
	{ tally tune wait.sh "n=[1,2,3,4]" --executor slurm -p 2 -y >k.out 2>&1 & } &&
	pid=$! &&
	{ wait_until test -e started-1 -a -e started-2 || give_up; } &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	id=$(ls -t runs/.sweeps | head -n 1) &&
	grep -q "wait.sh" runs/.sweeps/$id/sweep.json &&
	touch go-1 go-2 &&
	{ tally tune --resume "$id" -y >resume.out 2>&1 || { cat resume.out; false; }; } &&
	grep -q "4 of 4 trials completed" resume.out &&
	test "$(count_runs --sweep "$id")" = 4 &&
	test "$(count_runs --sweep "$id" --completed)" = 4
'

test_expect_success 'a requeued job goes on in a new run; the earlier one says so' '
	rm -f started-* go-* hold-* && touch hold-1 &&
	tally run --executor slurm --slurm --requeue wait.sh n=1 >rq.out &&
	first=$(queued_run rq.out) && job=$(queued_job rq.out) &&
	{ wait_until test -e started-1 &&
	  wait_until status_is "$first" running &&
	  rm started-1 &&
	  scontrol requeue "$job" &&
	  slurm_wait_job_state "$job" PENDING &&
	  # Slurm starts it again once the old credential expired (cred_expire=5 in
	  # slurm-lib.sh). Never force it sooner (starttime=now): launched within the
	  # second slurmd revoked that credential, the job is refused and ends FAILED.
	  wait_until test -e started-1 &&
	  touch go-1 &&
	  slurm_wait_job_gone "$job" ||
		{ squeue -r; scontrol -o show job "$job"; cat runs/.slurm/slurm-"$job".out;
		  tail -n 40 "$SLURM_DIR/log/slurmd.log" "$SLURM_DIR/log/slurmctld.log"; give_up; }; } &&
	wait_until status_is "$first" terminated &&
	run_json "$first" "d[\"stop_reason\"]" | grep -q "Slurm requeued job $job; the trial goes on in run" &&
	second=$(run_json "$first" "d[\"requeued_as\"]") &&
	wait_until status_is "$second" completed &&
	test "$(run_json "$second" "d[\"requeue_of\"]")" = "$first" &&
	test "$(run_json "$second" "d[\"slurm\"][\"restarts\"]")" = 1
'

test_expect_success 'tally watch follows a queued run until it ends' '
	tally run --executor slurm --slurm --begin=now+1 train.sh lr=0.3 >w.out &&
	r=$(queued_run w.out) &&
	status_is "$r" queued &&
	tally watch "$r" >watch.out &&
	grep -q "Run $r completed" watch.out &&
	grep -q "loss" watch.out
'

test_expect_success 'TPE on Slurm: trials submitted as others end, never more than --parallel in one go' '
	tally tune train.sh "lr=uniform[0.1:1]" --optimizer tpe --startup-trials 2 -n 5 --seed 3 --executor slurm -p 2 -y >tpe.out 2>&1 &&
	grep -q "5 of 5 trials completed" tpe.out &&
	id=$(sweep_id tpe.out) &&
	for r in $(runs_of_sweep "$id"); do run_json "$r" "d[\"slurm\"][\"job_id\"]"; done | sort | uniq -c >tpe.jobs &&
	test "$(wc -l <tpe.jobs)" -ge 3 &&
	! awk "\$1 > 2" tpe.jobs | grep -q .
'

test_expect_success 'tally tune --detach: the controller is a Slurm job too' '
	tally tune train.sh "lr=[0.1,0.2,0.3]" --executor slurm -p 3 --detach >d.out &&
	grep -q "^Sweep [0-9a-f]* queued as Slurm job [0-9]*" d.out &&
	id=$(sed -n "s/^Sweep \([0-9a-f]*\) queued.*/\1/p" d.out) &&
	job=$(sed -n "s/.*queued as Slurm job \([0-9]*\).*/\1/p" d.out) &&
	slurm_wait_job_gone "$job" 60 &&
	{ test "$(slurm_job_state "$job")" = COMPLETED ||
		{ cat runs/.slurm/sweep-$id-$job.out; scontrol -o show job "$job"; tally runs --sweep "$id" -a; false; }; } &&
	tally show "$id" >d.show &&
	grep -q "^  status *completed" d.show &&
	grep -q "^  executor *slurm, parallel 3" d.show &&
	grep -q "^  controller *Slurm job $job" d.show &&
	test "$(count_runs --sweep "$id" --completed)" = 3 &&
	grep -q "3 of 3 trials completed" runs/.slurm/sweep-$id-$job.out
'

test_expect_success 'a detached sweep whose controller job is cancelled while pending reads interrupted' '
	tally tune train.sh "lr=[0.1,0.2]" --executor slurm --slurm --begin=now+3600 --detach >dp.out &&
	id=$(sed -n "s/^Sweep \([0-9a-f]*\) queued.*/\1/p" dp.out) &&
	job=$(sed -n "s/.*queued as Slurm job \([0-9]*\).*/\1/p" dp.out) &&
	slurm_wait_job_state "$job" PENDING &&
	tally show "$id" | grep -q "^  status *queued" &&
	scancel "$job" &&
	slurm_wait_job_gone "$job" &&
	tally show "$id" >dp.show &&
	grep -q "^  status *interrupted" dp.show &&
	tally sweeps | grep "$id" | grep -q interrupted &&
	test "$(count_runs --sweep "$id")" = 0
'

test_expect_success 'a pruned trial on Slurm: its job gets SIGTERM through scancel, the run ends pruned' '
	cat >curve.sh <<-\SH &&
	#| flags:
	#|   q: {type: int, default: 1}
	if test "$FLAG_Q" = 1; then
		for v in 1.0 0.5 0.3 0.2 0.1; do echo "val_loss: $v"; done
		touch "$PROJECT/curve-done-$TALLY_RUN_ID"
		exit 0
	fi
	# the poor one logs only once the good ones are done, slowly: the pruner
	# judges it before it is as far as they came (it never stops such a trial)
	while test "$(ls "$PROJECT" | grep -c "^curve-done-")" -lt 3; do sleep 0.05; done
	while :; do echo "val_loss: 5"; sleep 1; done
	SH
	tally tune curve.sh "q=[1,1,1,2]" --executor slurm -p 4 --prune median --prune-startup 3 --minimize val_loss -y >prune.out 2>&1 &&
	grep -q "3 of 4 trials completed, 1 pruned" prune.out &&
	id=$(sweep_id prune.out) &&
	r=$(tally runs --sweep "$id" --pruned --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0][\"id\"])") &&
	run_json "$r" "d[\"stop_reason\"]" | grep -q "pruned by the median rule" &&
	slurm_wait_job_gone "$(run_json "$r" "d[\"slurm\"][\"job\"]")"
'

test_expect_success 'a queued run its job cannot launch (the script gone) ends as error, saying why' '
	printf "echo loss: 1\n" >gone.sh &&
	tally run --executor slurm --slurm --begin=now+1 gone.sh >g.out &&
	r=$(queued_run g.out) &&
	rm gone.sh &&
	slurm_wait_job_gone "$(queued_job g.out)" &&
	wait_until status_is "$r" error &&
	run_json "$r" "d[\"stop_reason\"]" | grep -q "gone.sh" &&
	test_expect_code 129 tally slurm-task 2>err &&
	test_expect_code 128 tally slurm-task --runs-dir runs no-such-list 2>err &&
	grep -q "cannot read the job.s list of runs" err &&
	echo "../elsewhere" >hostile.runs &&
	test_expect_code 128 tally slurm-task --runs-dir runs hostile.runs 2>err &&
	grep -q "which is no run id" err
'

test_expect_success 'sbatch options: tally.yml, the script (front matter, #SBATCH), the command line, in order' '
	cat >tally.yml <<-\YML &&
	slurm: --comment=from-yml
	scripts:
	  opts.sh: {slurm: "--comment=from-entry"}
	  fm.sh: {slurm: "--comment=from-entry"}
	YML
	cat >opts.sh <<-\SH &&
	#!/bin/sh
	#SBATCH --comment=from-sbatch-line
	#SBATCH --job-name=mine   # the job name
	echo "loss: 0"
	SH
	cat >fm.sh <<-\SH &&
	#| slurm: --comment=from-front-matter
	echo "loss: 0"
	SH
	tally run --executor slurm --slurm --hold fm.sh >fm.out &&
	fm=$(queued_run fm.out) &&
	test "$(run_json "$fm" "\" \".join(d[\"slurm\"][\"script_options\"])")" = "--comment=from-yml --comment=from-front-matter" &&
	tally stop -y "$fm" &&
	tally run --executor slurm --slurm "--comment=\"from the command line\"" opts.sh >o.out &&
	job=$(queued_job o.out) && r=$(queued_run o.out) &&
	run_json "$r" "\" \".join(d[\"slurm\"][\"options\"])" >opts &&
	grep -q -- "--comment=from-yml --comment=from-entry --comment=from-sbatch-line --job-name=mine --comment=from the command line" opts &&
	scontrol -o show job "$job" | grep -q "JobName=mine" &&
	scontrol -o show job "$job" | grep -q "Comment=from the command line" &&
	slurm_wait_job_gone "$job" &&
	rm tally.yml
'

test_expect_success 'bad Slurm options are refused, nothing is left behind' '
	before=$(ls runs | wc -l) &&
	test_expect_code 129 tally run --slurm --time=1 train.sh 2>err &&
	grep -q "goes with --executor slurm" err &&
	test_expect_code 129 tally run --executor pbs train.sh 2>err &&
	grep -q "local|slurm" err &&
	test_expect_code 129 tally tune --executor slurm --gpus-per-trial 0 train.sh "lr=[1,2]" 2>err &&
	test_expect_code 129 tally tune --detach train.sh "lr=[1,2]" 2>err &&
	grep -q "goes with --executor slurm" err &&
	test_expect_code 128 tally run --executor slurm --slurm "--array=1-3" train.sh 2>err &&
	grep -q "tally.s to set" err &&
	test_expect_code 128 tally run --executor slurm --slurm "--arr=1-3" train.sh 2>err &&
	grep -q "tally.s to set" err &&
	test_expect_code 128 tally run --executor slurm --slurm "--comment=\"open" train.sh 2>err &&
	grep -q "unterminated" err &&
	test_expect_code 128 tally run --executor slurm --slurm --partition=nowhere train.sh 2>err &&
	grep -q "sbatch failed" err &&
	test_expect_code 128 tally run --executor slurm --gpus-per-trial 1 train.sh 2>err &&
	grep -q "sbatch failed.*gres" err &&
	test_expect_code 128 tally tune --executor slurm --slurm --partition=nowhere train.sh "lr=[1,2]" -y 2>err &&
	grep -q "sbatch failed" err &&
	test "$(ls runs | wc -l)" = "$before"
'

test_expect_success 'a queued Slurm run is not deleted under its job; --force cancels it first' '
	tally run --executor slurm --slurm --begin=now+3600 train.sh lr=0.9 >del.out &&
	r=$(queued_run del.out) && job=$(queued_job del.out) &&
	test_expect_code 128 tally delete -y "$r" 2>err &&
	grep -q "is still queued — stop it first" err &&
	status_is "$r" queued &&
	tally delete -y --force "$r" &&
	slurm_wait_job_gone "$job" &&
	test "$(slurm_job_state "$job")" = CANCELLED &&
	tally runs --archived --format json | grep -q "\"$r\""
'

test_expect_success 'a submission killed before sbatch answered: the run ends terminated, not queued for good' '
	mkdir -p slowbin &&
	printf "#!/bin/sh\necho \$\$ >\"%s/sbatch.pid\"\nexec sleep 300\n" "$PWD" >slowbin/sbatch &&
	chmod +x slowbin/sbatch &&
	{ PATH="$PWD/slowbin:$PATH" tally run --executor slurm train.sh lr=0.4 >slow-submit.out 2>&1 & } &&
	pid=$! &&
	wait_until test -s sbatch.pid &&
	r=$(tally runs --queued --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0][\"id\"])") &&
	kill -9 $pid && { wait $pid; true; } &&
	kill "$(cat sbatch.pid)" &&
	tally runs >/dev/null &&
	status_is "$r" terminated &&
	run_json "$r" "d[\"stop_reason\"]" | grep -q "never reached Slurm"
'

test_expect_success 'without Slurm: one clear error, nothing created' '
	mkdir -p nopath && ln -s "$TALLY" nopath/tally && ln -s "$(command -v bash)" nopath/bash &&
	before=$(ls runs | wc -l) && sweeps=$(ls runs/.sweeps | wc -l) &&
	test_expect_code 128 env PATH="$PWD/nopath" tally run --executor slurm train.sh 2>err &&
	test "$(grep -c "^tally:" err)" = 1 &&
	grep -q "Slurm.s .sbatch. command is not on PATH" err &&
	test_expect_code 128 env PATH="$PWD/nopath" tally tune --executor slurm train.sh "lr=[1,2]" -y 2>err &&
	grep -q "not on PATH" err &&
	test "$(ls runs | wc -l)" = "$before" &&
	test "$(ls runs/.sweeps | wc -l)" = "$sweeps"
'

test_done

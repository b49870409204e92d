#!/usr/bin/env bash
# tally tune: search spaces, grids and random samples, seeds, trials files,
# parallel workers, failures, Ctrl-C and SIGKILL with resume, GPUs, and the
# sweep's record (tally sweeps, tally show SWEEP, tally runs --sweep).
. "$(dirname "$0")/test-lib.sh"

# The trials of a dry run, one "v1 v2 …" line per trial (the flag columns).
plan() { tally tune "$@" --dry-run | awk 'NR > 2 { $1 = ""; sub(/^ /, ""); print }'; }
sweep_id() { sed -n 's/^Sweep \([0-9a-f]*\): .*/\1/p' "$1" | head -n 1; }
# The trials of wait.sh wait for go/go-N (but trial n=1).
export GO_DIR=$TRASH/go
mkdir "$GO_DIR"
sweep_field() { tally show "$1" --format json | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$2"; }

test_expect_success 'setup: scripts with declared flags' '
	cat >train.sh <<-\SH &&
	#| flags:
	#|   lr: {type: float, default: 0.01, min: 0, max: 1}
	#|   units: {type: int, default: 64}
	#|   act: {default: relu, choices: [relu, tanh]}
	awk -v lr="$FLAG_LR" -v u="$FLAG_UNITS" "BEGIN { d = lr - 0.03; if (d < 0) d = -d; printf \"val_loss: %.6f\\nval_acc: %.6f\\n\", d + 1 / u, 1 - d }"
	SH
	cat >fail.sh <<-\SH &&
	#| flags:
	#|   n: {type: int, default: 1}
	echo "loss: $FLAG_N"
	test "$FLAG_N" != 13 || { echo "warming up" >&2; echo "n=13 is unlucky" >&2; exit 1; }
	SH
	cat >wait.sh <<-\SH
	#| flags:
	#|   n: {type: int, default: 1}
	echo "loss: $FLAG_N"
	while test "$FLAG_N" != 1 && ! test -e "$GO_DIR/go-$FLAG_N"; do sleep 0.05; done
	SH
'

test_expect_success 'lists and finite functions expand in order, the last flag fastest' '
	plan train.sh "units=[16,32]" "act=choice[relu,tanh]" >p &&
	printf "16 relu\n16 tanh\n32 relu\n32 tanh\n" >want && test_cmp want p &&
	plan train.sh "units=range[1:10:3]" >p && printf "1\n4\n7\n10\n" >want && test_cmp want p &&
	plan train.sh "lr=range[0:0.3:0.1]" >p && printf "0\n0.1\n0.2\n0.3\n" >want && test_cmp want p &&
	plan train.sh "units=range[5:1:-2]" >p && printf "5\n3\n1\n" >want && test_cmp want p &&
	plan train.sh "lr=linspace[0:1:5]" >p && printf "0\n0.25\n0.5\n0.75\n1\n" >want && test_cmp want p &&
	plan train.sh "lr=logspace[-3:-1:3]" >p && printf "0.001\n0.01\n0.1\n" >want && test_cmp want p &&
	plan train.sh "units=logspace[1:3:3:2]" >p && printf "2\n4\n8\n" >want && test_cmp want p &&
	tally tune train.sh "units=[16,32]" "lr=[0.1,0.2,0.3]" --dry-run >out &&
	grep -q "^Sweep plan: 6 trials (grid of 2 × 3)$" out &&
	test "$(run_count)" = 0 && ! test -e runs/.sweeps
'

test_expect_success 'distributions: random draws within bounds, integers for randint' '
	plan train.sh "lr=uniform[0.1:0.2]" "units=randint[3:5]" -n 60 --seed 1 >p &&
	test "$(wc -l <p)" = 60 &&
	awk "\$1 < 0.1 || \$1 >= 0.2 || \$2 !~ /^[345]\$/ { bad = 1 } END { exit bad }" p &&
	test "$(cut -d" " -f2 p | sort -u | tr "\n" " ")" = "3 4 5 " &&
	plan train.sh "lr=loguniform[1e-4:1e-1]" "units=lograndint[1:1000]" -n 40 >p &&
	awk "\$1 < 0.0001 || \$1 > 0.1 || \$2 < 1 || \$2 > 1000 || \$2 != int(\$2) { bad = 1 } END { exit bad }" p &&
	tally tune train.sh "lr=uniform[0:1]" --dry-run >out && grep -q "^Sweep plan: 20 trials" out
'

test_expect_success '--sample and --max-trials: a random subset of the grid, at least one trial, no repeats' '
	plan train.sh "units=[1,2,3,4]" "lr=[0.1,0.2,0.3]" --sample 0.25 >p && test "$(wc -l <p)" = 3 &&
	plan train.sh "units=[1,2,3,4]" "lr=[0.1,0.2,0.3]" --sample 0.001 >p && test "$(wc -l <p)" = 1 &&
	plan train.sh "units=[1,2,3,4]" "lr=[0.1,0.2,0.3]" -n 7 >p && test "$(wc -l <p)" = 7 &&
	test "$(sort -u p | wc -l)" = 7 &&
	plan train.sh "units=[1,2,3,4]" "lr=[0.1,0.2,0.3]" -n 100 >p && test "$(sort -u p | wc -l)" = 12
'

test_expect_success 'the same seed gives the same trials; another seed others' '
	plan train.sh "lr=uniform[0:1]" "units=[1,2,3]" -n 10 --seed 42 >a &&
	plan train.sh "lr=uniform[0:1]" "units=[1,2,3]" -n 10 --seed 42 >b &&
	plan train.sh "lr=uniform[0:1]" "units=[1,2,3]" -n 10 --seed 43 >c &&
	test_cmp a b && ! test_cmp a c >/dev/null
'

test_expect_success 'bad spaces and values are refused before anything runs' '
	for args in "lr=[0.1,1.5]" "lr=uniform[0:2]" "act=[relu,sigmoid]" "lr=range[0:1:0]" "lr=[]" \
	            "lr=loguniform[0:1]" "units=randint[1.5:4]" "nosuch=[1,2]" "lr=0.1 lr=[0.2,0.3]" \
	            "units=range[1:5000000]" "lr=[0.1 units=[1]"; do
		# shellcheck disable=SC2086
		test_expect_code 128 tally tune -y train.sh $args 2>err || return 1
		test "$(grep -vc "^+" err)" = 1 && grep -q "^tally: " err || { cat err; return 1; }
	done &&
	test_expect_code 128 tally tune train.sh "units=uniform[1:9]" --sample 0.5 2>err &&
	grep -q "distribution" err &&
	test_expect_code 128 tally tune train.sh lr=0.1 2>err && grep -q "nothing to sweep" err &&
	for args in "--sample 0" "--sample 2" "--sample x" "-n 0" "--parallel 0" "--seed -1" "--gpus ," \
	            "--grid -n 3" "--retry-failed" "--minimize"; do
		# shellcheck disable=SC2086
		test_expect_code 129 tally tune train.sh "units=[1,2]" $args 2>err || return 1
	done &&
	test_expect_code 129 tally tune --resume abcd train.sh 2>err &&
	test_expect_code 128 tally tune --resume abcd 2>err && grep -q "no sweep" err &&
	test "$(run_count)" = 0 && ! test -e runs/.sweeps
'

test_expect_success 'a grid sweep: every trial a run linked to the sweep, the best first' '
	tally tune train.sh "lr=[0.01,0.03,0.1]" "units=[10,100]" >out 2>err &&
	id=$(sweep_id err) && test -n "$id" &&
	grep -q "^Sweep $id: 6 trials (grid of 3 × 2), 1 at a time$" err &&
	test "$(grep -c "^trial [1-6]/6 completed" err)" = 6 &&
	grep -q "^Sweep $id completed: 6 of 6 trials completed$" err &&
	test "$(tally runs --sweep "$id" --format json | "$PYTHON" -c "import json,sys; print(len(json.load(sys.stdin)))")" = 6 &&
	# the best trial: lr=0.03, units=100 (val_loss 0.01)
	sed -n 2p out | grep -q "^4 *completed .* 0.03 *100 *0.01 " &&
	grep -q "^Best: trial 4, run .*, val_loss 0.01 (minimized)$" out &&
	best=$(sweep_field "$id" "[\"best_run\"]") &&
	test "$(tally lookup "$best" lr)" = 0.03 && test "$(tally lookup "$best" units)" = 100 &&
	test "$(tally lookup "$best" sweep.trial)" = 4 &&
	tally show "$best" | grep -q "^sweep: *$id, trial 4" &&
	test "$(tally runs --where "sweep = \"$id\" and trial = 4" --format json | grep -c "\"id\"")" = 1 &&
	test "$(sweep_field "$id" "[\"status\"]")" = completed &&
	test "$(sweep_field "$id" "[\"strategy\"]")" = grid &&
	test "$(sweep_field "$id" "[\"objective\"][\"scalar\"]")" = val_loss
'

test_expect_success '--maximize picks the largest; tally run SCRIPT with a list is a sweep too' '
	tally run train.sh "lr=[0.01,0.03]" units=1000 --tag swept >out 2>err &&
	id=$(sweep_id err) &&
	grep -q "^Best: trial 2, .* val_loss " out &&
	test "$(tally runs --sweep "$id" --tag swept --format json | grep -c "\"units\":1000")" = 2 &&
	tally tune train.sh "lr=[0.01,0.03,0.5]" --maximize val_acc >out 2>err &&
	grep -q "^Best: trial 2, .* val_acc 1 (maximized)$" out
'

test_expect_success 'run options reach every trial; --echo shows their output, -q hides the progress' '
	tally tune train.sh "units=[7,8]" -l "u=\${units}" -t tagged -c "a comment" --echo >out 2>err &&
	id=$(sweep_id err) &&
	test "$(grep -c "^val_loss: " out)" = 2 &&
	tally runs --sweep "$id" --tag tagged --format json >r.json &&
	"$PYTHON" -c "
import json
runs = json.load(open(\"r.json\"))
assert sorted(r[\"label\"] for r in runs) == [\"u=7\", \"u=8\"], runs
" &&
	tally tune train.sh "units=[7,8]" -q >out 2>err &&
	! grep -q "^trial\|at a time" err && grep -q "^Best: " out &&
	test_expect_code 129 tally run --name x train.sh "units=[7,8]" 2>err &&
	test_expect_code 129 tally run -b train.sh "units=[7,8]" 2>err
'

test_expect_success 'tally sweeps and tally show SWEEP' '
	tally sweeps >list &&
	head -n 1 list | grep -q "^ID  *CREATED  *STATUS  *SCRIPT  *TRIALS  *BEST" &&
	tally sweeps --format json >list.json &&
	test "$(grep -c " completed  *train.sh " list)" = \
	     "$(grep -o "\"status\":\"completed\",\"script\":\"train.sh\"" list.json | wc -l)" &&
	test "$(grep -c " completed  *train.sh " list)" -ge 3 &&
	id=$("$PYTHON" -c "import json; print(json.load(open(\"list.json\"))[-1][\"id\"])") &&
	tally show "$id" >show && grep -q "^Sweep $id: 6 trials (grid of 3 × 2)$" show &&
	grep -q "^  space  *lr=\[0.01,0.03,0.1\]$" show &&
	tally show "${id%?}" >show2 && test_cmp show show2 &&
	test "$(sweep_field "$id" "[\"trials\"][3][\"flags\"]")" = "{'"'"'lr'"'"': 0.03, '"'"'units'"'"': 100}" &&
	test_expect_code 129 tally sweeps --format xml
'

test_expect_success 'trials without the objective: a warning at the first, naming what they logged' '
	tally tune train.sh "units=[16,32]" --maximize val_accuracy -q >out 2>err &&
	test "$(grep -c "warning: trial" err)" = 1 &&
	grep -q "^tally: warning: trial 1 completed without val_accuracy (it logged val_loss, val_acc) — name the objective" err &&
	! grep -q "^Best" out &&
	tally tune train.sh "units=[16,32]" --maximize val_acc -q >out 2>err &&
	! grep -q warning err && grep -q "^Best: trial" out
'

test_expect_success 'a failing trial is recorded and the sweep goes on; --fail-fast stops' '
	test_expect_code 1 tally tune fail.sh "n=[12,13,14]" >out 2>err &&
	grep -q "^trial 2/3 error" err && grep -q "^trial 3/3 completed" err &&
	grep -q "2 of 3 trials completed, 1 failed" err &&
	first=$(sweep_id err) &&
	grep -q "tally tune --resume $first --retry-failed" err && ! grep -q "resume ID" err &&
	# the failed trial shows what it logged, and why it failed
	grep -q "^2  *error  *[a-z0-9]*  *13  *13  " out &&
	grep -q "^Trial 2 failed (run [a-z0-9]*)$" out && grep -q "^  n=13 is unlucky$" out &&
	tally sweeps >list && grep "^$first " list | grep -q "completed, 1 failed" &&
	tally show "$first" >show && grep -q "^  status  *completed, 1 failed$" show &&
	grep -q "^  n=13 is unlucky$" show &&
	test_expect_code 1 tally tune fail.sh "n=[13,12,14]" --fail-fast >out 2>err &&
	id=$(sweep_id err) &&
	grep -q "stopped after a trial failed" err &&
	test "$(sweep_field "$id" "[\"status\"]")" = failed &&
	test "$(tally runs --sweep "$id" --format json | grep -c "\"id\"")" = 1 &&
	# resumed: the pending trials run; the failed one only with --retry-failed
	test_expect_code 1 tally tune --resume "$id" >out 2>err &&
	test "$(tally runs --sweep "$id" --completed --format json | grep -c "\"id\"")" = 2 &&
	test_expect_code 1 tally tune --resume "$id" --retry-failed >out 2>err &&
	test "$(tally runs --sweep "$id" --error --format json | grep -c "\"id\"")" = 2
'

test_expect_success 'parallel workers: never more than N trials at a time' '
	# each trial waits (up to 10 s) until another is running beside it, so
	# "at least 2 at once" holds however slowly the machine starts them
	mkdir active && cat >conc.sh <<-\SH &&
	mkdir "$ACTIVE/$TALLY_RUN_ID"
	n=0
	while [ "$(ls "$ACTIVE" | wc -l)" -lt 2 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
	echo "now: $(ls "$ACTIVE" | wc -l)"
	sleep 0.1
	rmdir "$ACTIVE/$TALLY_RUN_ID"
	SH
	ACTIVE=$PWD/active tally tune --force-flags conc.sh "i=range[1:9]" -p 3 >out 2>err &&
	id=$(sweep_id err) &&
	tally runs --sweep "$id" --format json >r.json &&
	"$PYTHON" -c "
import json
runs = json.load(open(\"r.json\"))
assert len(runs) == 9, len(runs)
most = max(r[\"scalars\"][\"now\"][\"max\"] for r in runs)
assert 2 <= most <= 3, most
"
'

test_expect_success 'SIGKILL of the sweep mid-trial: the trials end terminated; resume runs each once' '
	{ tally tune wait.sh "n=range[1:4]" -p 2 >out 2>err & } && pid=$! &&
	for i in $(seq 1200); do
		test "$(tally runs --running --format json | grep -c "\"id\"")" = 2 &&
		test "$(tally runs --completed --where "script = \"wait.sh\"" --format json | grep -c "\"id\"")" = 1 && break
		sleep 0.05
	done &&
	kill -9 $pid && { wait $pid; true; } && id=$(sweep_id err) && test -n "$id" &&
	for i in $(seq 1200); do test "$(tally runs --sweep "$id" --running --format json | grep -c "\"id\"")" = 0 && break; sleep 0.05; done &&
	test "$(tally runs --sweep "$id" --terminated --format json | grep -c "\"id\"")" = 2 &&
	test "$(sweep_field "$id" "[\"status\"]")" = interrupted &&
	touch go/go-2 go/go-3 go/go-4 &&
	tally tune --resume "$id" -p 2 >out 2>err &&
	grep -q "^Resuming: 1 of 4 trials completed earlier" err &&
	tally runs --sweep "$id" --format json >r.json &&
	"$PYTHON" -c "
import json, collections
runs = json.load(open(\"r.json\"))
done = collections.Counter(r[\"sweep\"][\"trial\"] for r in runs if r[\"status\"] == \"completed\")
assert sorted(done.items()) == [(1, 1), (2, 1), (3, 1), (4, 1)], done
assert sum(r[\"status\"] == \"terminated\" for r in runs) == 2
" &&
	test "$(sweep_field "$id" "[\"status\"]")" = completed
'

test_expect_success 'SIGINT (Ctrl-C) stops the sweep: trials terminated, exit 130, resumable' '
	rm -f go/* &&
	{ with_default_signals tally tune wait.sh "n=[2,3,4]" -p 2 >out 2>err & } && pid=$! &&
	for i in $(seq 1200); do test "$(tally runs --running --format json | grep -c "\"id\"")" = 2 && break; sleep 0.05; done &&
	kill -INT $pid && { wait $pid; rc=$?; } && test $rc = 130 &&
	id=$(sweep_id err) &&
	grep -q "^Sweep $id interrupted: 0 of 3 trials completed" err &&
	test "$(tally runs --sweep "$id" --terminated --format json | grep -c "\"id\"")" = 2 &&
	test "$(sweep_field "$id" "[\"status\"]")" = interrupted &&
	touch go/go-2 go/go-3 go/go-4 &&
	tally tune --resume "$id" -q >out 2>err &&
	test "$(tally runs --sweep "$id" --completed --format json | grep -c "\"id\"")" = 3
'

test_expect_success 'a resume runs the project'"'"'s script wherever it is started; an interrupted retry runs again' '
	cat >flaky.sh <<-\SH &&
	#| flags:
	#|   n: {type: int, default: 1}
	echo "loss: $FLAG_N"
	if ! test -e "$GO_DIR/failed-once"; then touch "$GO_DIR/failed-once"; exit 1; fi
	while ! test -e "$GO_DIR/go-flaky"; do sleep 0.05; done
	SH
	rm -f go/* &&
	test_expect_code 1 tally tune flaky.sh "n=[5]" >out 2>err &&
	id=$(sweep_id err) &&
	test "$(sweep_field "$id" "[\"trials\"][0][\"status\"]")" = error &&
	{ with_default_signals tally tune --resume "$id" --retry-failed >out 2>err & } && pid=$! &&
	for i in $(seq 1200); do test "$(tally runs --sweep "$id" --running --format json | grep -c "\"id\"")" = 1 && break; sleep 0.05; done &&
	kill -INT $pid && { wait $pid; true; } &&
	test "$(sweep_field "$id" "[\"trials\"][0][\"status\"]")" = terminated &&
	touch go/go-flaky &&
	mkdir elsewhere && echo "echo WRONG SCRIPT; exit 3" >elsewhere/flaky.sh &&
	(cd elsewhere && tally tune --resume "$id" --runs-dir ../runs >out 2>err) &&
	test "$(sweep_field "$id" "[\"trials\"][0][\"status\"]")" = completed &&
	tally cat "$(sweep_field "$id" "[\"trials\"][0][\"run\"]")" >log && ! grep -q WRONG log
'

test_expect_success 'a running sweep cannot be resumed twice' '
	rm -f go/* &&
	{ tally tune wait.sh "n=[2]" >out 2>err & } && pid=$! &&
	for i in $(seq 1200); do id=$(sweep_id err); test -n "$id" && break; sleep 0.05; done &&
	test_expect_code 128 tally tune --resume "$id" 2>err2 && grep -q "is running already" err2 &&
	test "$(sweep_field "$id" "[\"status\"]")" = running &&
	touch go/go-2 && wait $pid
'

test_expect_success 'trials from CSV (R write.csv), YAML and JSON files; bad files refused' '
	printf "\"\",\"lr\",\"act\",\"units\"\n\"1\",0.1,\"tanh\",10\n\"2\",0.2,\"relu\",NA\n" >t.csv &&
	tally tune train.sh --trials t.csv >out 2>err &&
	id=$(sweep_id err) && grep -q "^Sweep $id: 2 trials (from t.csv)" err &&
	tally runs --sweep "$id" --sort trial --format json >r.json &&
	"$PYTHON" -c "
import json
a, b = json.load(open(\"r.json\"))
assert a[\"flags\"] == {\"lr\": 0.1, \"units\": 10, \"act\": \"tanh\"}, a[\"flags\"]
assert b[\"flags\"] == {\"lr\": 0.2, \"units\": 64, \"act\": \"relu\"}, b[\"flags\"]
" &&
	printf -- "- {lr: 0.3}\n- {units: 5, act: tanh}\n" >t.yml && tally tune train.sh --trials t.yml -q >out &&
	printf "[{\"lr\": 0.4}]" >t.json && tally tune train.sh --trials t.json -q >out &&
	n=$(run_count) &&
	printf "lr\n0.1\n5\n" >bad.csv && test_expect_code 128 tally tune train.sh --trials bad.csv 2>err &&
	grep -q "trial 2: flag lr=5 is above its maximum 1" err &&
	printf "lr,units\n0.1\n" >bad2.csv && test_expect_code 128 tally tune train.sh --trials bad2.csv 2>err &&
	printf "lr: 0.1\n" >bad.yml && test_expect_code 128 tally tune train.sh --trials bad.yml 2>err &&
	printf "[{\"lr\": [1]}]" >bad.json && test_expect_code 128 tally tune train.sh --trials bad.json 2>err &&
	test_expect_code 128 tally tune train.sh --trials nosuch.csv 2>err &&
	test_expect_code 128 tally tune train.sh --trials t.txt 2>err &&
	test_expect_code 128 tally tune train.sh "lr=[0.1]" --trials t.csv 2>err &&
	test "$(run_count)" = $n
'

test_expect_success '--gpus gives each worker its GPU through CUDA_VISIBLE_DEVICES' '
	cat >gpu.sh <<-\SH &&
	echo "gpu: $CUDA_VISIBLE_DEVICES"
	sleep 0.2
	SH
	tally tune --force-flags gpu.sh "i=range[1:4]" --gpus 0,1 >out 2>err &&
	id=$(sweep_id err) && grep -q "^Sweep $id: 4 trials (grid of 4), 2 at a time$" err &&
	tally runs --sweep "$id" --format json >r.json &&
	"$PYTHON" -c "
import json
runs = json.load(open(\"r.json\"))
gpus = sorted(r[\"scalars\"][\"gpu\"][\"last\"] for r in runs)
assert gpus == [0, 0, 1, 1], gpus
"
'

test_expect_success 'on a terminal: more than 5 trials are confirmed first; a progress bar is drawn' '
	n=$(run_count) &&
	{ printf "n\n" | script -qec "tally tune train.sh units=range[1:6]" /dev/null >tty.out; true; } &&
	grep -q "Start 6 trials? \[y/N\]" tty.out && grep -q "Nothing started" tty.out &&
	grep -q "^TRIAL  *units" tty.out && grep -q "^5  *5" tty.out && ! grep -q "^6  *6" tty.out &&
	! grep -q "{" tty.out && grep -q "dry-run lists them all" tty.out &&
	test "$(run_count)" = $n &&
	printf "y\n" | script -qec "tally tune train.sh units=range[1:6]" /dev/null >tty.out &&
	test "$(run_count)" = $((n + 6)) &&
	grep -q "\[####################\] 6/6  running 0  failed 0  best val_loss" tty.out &&
	grep -q "ETA" tty.out &&
	script -qec "tally tune train.sh units=range[1:6] --dry-run" /dev/null >tty.out &&
	! grep -q "Start 6" tty.out
'

test_expect_success 'an R script (tfruns-style globals) is swept: each trial gets its values in its copy' '
	command -v Rscript && mkdir r && cp "$TEST_DIRECTORY/../../examples/train.R" r/ && cd r &&
	tally tune train.R "learning_rate=[0.05,0.5]" "epochs=[10,20]" -p 2 -q >out &&
	test "$(grep -c " completed " out)" = 4 && grep -q "^Best: trial [0-9], run .*, loss " out &&
	for dir in runs/*/; do
		grep -q "^epochs <- $(tally lookup "$dir" epochs)\$" "$dir/train.R" || return 1
	done &&
	grep -q "^epochs <- 50$" train.R
'

test_expect_success 'a damaged sweep record is reported, not fatal' '
	mkdir -p runs/.sweeps/beef && echo "{" >runs/.sweeps/beef/sweep.json &&
	tally sweeps >list 2>err && grep -q "skipped sweep beef" err &&
	test_expect_code 128 tally show beef 2>err && grep -q "sweep beef" err &&
	test_expect_code 128 tally tune --resume beef 2>err &&
	rm -r runs/.sweeps/beef &&
	tally tune train.sh "units=[7,8]" -q >out 2>err && id=$(tally sweeps --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0][\"id\"])") &&
	"$PYTHON" - "runs/.sweeps/$id/sweep.json" <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["fixed_flags"] = [1]
	d["trials"][0]["flags"] = "not a map"
	json.dump(d, open(sys.argv[1], "w"))
	PY
	test_expect_code 128 tally tune --resume "$id" --retry-failed 2>err &&
	grep -q "is not a sweep record" err && test "$(grep -vc "^+" err)" = 1
'

test_expect_success '--id-file: the id of the sweep once it ran' '
	tally tune -q -y --id-file sweep-id train.sh "units=[16,32]" >/dev/null 2>&1 &&
	id=$(cat sweep-id) &&
	test -f "runs/.sweeps/$id/sweep.json" &&
	test "$(tally runs --sweep "$id" --format csv | tail -n +2 | wc -l)" = 2
'

test_expect_success 'pruned trials: not failed, listed after the completed ones; the optimizer and pruner shown' '
	tally tune -q train.sh "lr=[0.01,0.03,0.1,0.2]" units=100 >out 2>err &&
	id=$(tally sweeps --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0][\"id\"])") &&
	tally show "$id" >show && grep -q "^  pruner  *none$" show &&
	grep -q "^  strategy  *grid, seed [0-9]*$" show &&
	# a record from before optimizers and pruners: the strategy alone
	"$PYTHON" - "runs/.sweeps/$id/sweep.json" <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d.pop("optimizer", None), d.pop("pruner", None)
	json.dump(d, open(sys.argv[1], "w"))
	PY
	tally show "$id" >show && ! grep -q "^  pruner" show &&
	grep -q "^  strategy  *grid, seed [0-9]*$" show &&
	# trials 2 (val_loss 0.01) and 4 (0.18) stopped early, as a pruner records them
	for trial in 2 4; do
		dir=$(tally runs --where "sweep = \"$id\" and trial = $trial" --format json |
		      "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0][\"dir\"])") &&
		"$PYTHON" - "$dir/.tally/run.json" <<-\PY || return 1
		import json, sys
		m = json.load(open(sys.argv[1]))
		m.update(status="pruned", exit_status=None, signal=15,
		         stop_reason="pruned by the median rule at step 1: val_loss is worse than the median")
		json.dump(m, open(sys.argv[1], "w"))
		PY
	done &&
	"$PYTHON" - "runs/.sweeps/$id/sweep.json" <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["strategy"] = "tpe"
	d["optimizer"] = {"name": "tpe", "startup_trials": 10, "candidates": 24, "multivariate": False, "constant_liar": True}
	d["pruner"] = {"name": "median", "startup_trials": 5, "warmup_steps": 0, "grace_seconds": 10.0}
	json.dump(d, open(sys.argv[1], "w"))
	PY
	tally reindex >/dev/null &&
	test "$(tally runs --sweep "$id" --pruned --format json | grep -c "\"id\"")" = 2 &&
	test "$(tally runs --sweep "$id" --where "status = pruned or status = completed" --format json | grep -c "\"id\"")" = 4 &&
	tally show "$id" >show &&
	grep -q "^  status  *completed, 2 pruned$" show &&
	grep -q "^  strategy  *tpe (10 random start-up trials, 24 candidates, univariate, constant liar), seed [0-9]*$" show &&
	grep -q "^  pruner  *median (after 5 completed trials, from step 0; SIGKILL 10 s after SIGTERM)$" show &&
	# completed best first, then the pruned ones with their last value (a pruned 0.01 is no best)
	sed -n "/^TRIAL/,\$p" show | awk "NR > 1 && /^[0-9]/ { print \$1, \$2, \$5 }" >order &&
	printf "1 completed 0.03\n3 completed 0.08\n2 pruned 0.01\n4 pruned 0.18\n" >expect &&
	test_cmp expect order &&
	grep -q "^Best: trial 1, " show && ! grep -q "^Trial . failed\|terminated" show &&
	tally sweeps >list && grep "^$id " list | grep -q " completed, 2 pruned .* 2/4, 2 pruned " &&
	"$PYTHON" - "runs/.sweeps/$id/sweep.json" <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["pruner"] = {"name": "asha", "min_step": None, "reduction_factor": 3, "grace_seconds": 10}
	d["optimizer"] = {"name": "tpe"}
	json.dump(d, open(sys.argv[1], "w"))
	PY
	tally show "$id" >show &&
	grep -q "^  strategy  *tpe, seed [0-9]*$" show &&
	grep -q "^  pruner  *asha (rungs from step auto, reduction factor 3; SIGKILL 10 s after SIGTERM)$" show &&
	"$PYTHON" - "runs/.sweeps/$id/sweep.json" <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["pruner"] = None
	json.dump(d, open(sys.argv[1], "w"))
	PY
	tally show "$id" >show && grep -q "^  pruner  *none$" show
'

test_done

#!/usr/bin/env bash
# tally tune --optimizer tpe (Bayesian search) and --prune median|asha
# (early stopping): TPE gathering near an optimum, seeds, parallel workers
# without repeats, resume after SIGKILL from the runs, pruned trials (status,
# reason, points kept, SIGKILL after the grace period), and bad options
# refused before anything starts.
. "$(dirname "$0")/test-lib.sh"

sweep_id() { sed -n 's/^Sweep \([0-9a-f]*\) .*/\1/p' "$1" | tail -n 1; }
# A field of the sweep's record, by a Python expression on d.
sweep_field() { tally show "$1" --format json | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$2"; }
# Every trial's flags, one JSON object per line, in trial order.
trial_flags() { sweep_field "$1" '"\n".join(json.dumps(t["flags"], sort_keys=True) for t in d["trials"])'; }
count_runs() { tally runs "$@" --format json | grep -c '"id"'; }
counted() { test "$(wc -l <"$COUNTER" 2>/dev/null)" = "$1"; }
none_running() { test "$(count_runs --sweep "$1" --running)" = 0; }

test_expect_success 'setup: a bowl, a learning curve, a trial that waits' '
	cat >bowl.sh <<-\SH &&
	#| flags:
	#|   x: {type: float, default: 0}
	#|   y: {type: float, default: 0}
	awk -v x="$FLAG_X" -v y="$FLAG_Y" "BEGIN { printf \"value: %.6f\\n\", (x - 2) ^ 2 + (y + 1) ^ 2 }"
	SH
	cat >curve.sh <<-\SH &&
	#| flags:
	#|   q: {type: int, default: 1}
	#|   stubborn: {type: bool, default: false}
	# q = 1 learns and completes; any other q logs a poor loss, then runs
	# until it is stopped (a stubborn one ignores SIGTERM).
	if test "$FLAG_Q" = 1; then
		for v in 1.0 0.5 0.3 0.2 0.1; do echo "val_loss: $v"; done
		exit 0
	fi
	if test "$FLAG_Q" = 5; then
		# Exits at once; a child logs the poor losses once the script is
		# reaped (kill -0 succeeds on a zombie), then keeps the output open
		# until the pruner has asked: a stop that comes after the end.
		parent=$$
		(while kill -0 $parent 2>/dev/null; do sleep 0.01; done
		 for v in 3 3 3 3; do echo "val_loss: $v"; done
		 for i in $(seq 60); do test -e .tally/prune.json && break; sleep 0.05; done) &
		exit 0
	fi
	test "$FLAG_STUBBORN" = false || trap "" TERM
	for v in 3 3 3 3; do echo "val_loss: $v"; done
	while :; do sleep 0.05; done
	SH
	cat >count.sh <<-\SH
	#| flags:
	#|   x: {type: float, default: 0}
	#|   y: {type: float, default: 0}
	# Trial number $WAIT_AT (counted in $COUNTER) waits for the file "go".
	echo x >>"$COUNTER"
	test "$(wc -l <"$COUNTER")" != "${WAIT_AT:-0}" || while ! test -e go; do sleep 0.05; done
	awk -v x="$FLAG_X" -v y="$FLAG_Y" "BEGIN { printf \"value: %.6f\\n\", (x - 2) ^ 2 + (y + 1) ^ 2 }"
	SH
'

test_expect_success 'TPE gathers its trials near the optimum, and the seed decides them' '
	tally tune -q bowl.sh "x=uniform[-10:10]" "y=uniform[-10:10]" --optimizer tpe -n 40 --seed 11 \
		--minimize value --id-file id >table &&
	id=$(cat id) &&
	test "$(sweep_field "$id" "d[\"optimizer\"]")" = "{'"'"'name'"'"': '"'"'tpe'"'"', '"'"'startup_trials'"'"': 10, '"'"'candidates'"'"': 24, '"'"'multivariate'"'"': False, '"'"'constant_liar'"'"': True}" &&
	sweep_field "$id" "d[\"description\"]" | grep -q "^up to 40 trials (tpe search over continuous × continuous)$" &&
	sweep_field "$id" "[t[\"objective\"] for t in d[\"trials\"]]" >values &&
	"$PYTHON" -c "
import ast, sys
v = ast.literal_eval(open(\"values\").read())
assert len(v) == 40, len(v)
first, late = sorted(v[:10]), sorted(v[20:])
near = sum(x < 10 for x in late)   # a disc of radius 3.2: 8 % of the square
assert near >= 6, (near, late)     # random search: 1.6 of 20
assert late[10] < first[5] / 3, (first, late)
" &&
	tally tune -q bowl.sh "x=uniform[-10:10]" "y=uniform[-10:10]" --optimizer tpe -n 15 --seed 11 \
		--minimize value --id-file id2 >/dev/null &&
	trial_flags "$id" | head -n 15 >first && trial_flags "$(cat id2)" >again && test_cmp first again
'

test_expect_success 'multivariate TPE; the optimizer shows in tally show' '
	tally tune -q bowl.sh "x=uniform[-10:10]" "y=uniform[-10:10]" --tpe --multivariate --startup-trials 5 \
		--candidates 12 -n 25 --seed 2 --minimize value --id-file id >/dev/null &&
	id=$(cat id) &&
	test "$(sweep_field "$id" "d[\"optimizer\"][\"multivariate\"], d[\"optimizer\"][\"startup_trials\"], d[\"optimizer\"][\"candidates\"]")" = "(True, 5, 12)" &&
	test "$(sweep_field "$id" "min(t[\"objective\"] for t in d[\"trials\"]) < 2")" = True &&
	tally show "$id" >show &&
	grep -q "^  strategy    tpe (5 random start-up trials, 12 candidates, multivariate, constant liar), seed 2$" show &&
	grep -q "^  pruner      none$" show
'

test_expect_success 'parallel TPE proposes no point twice; a finite space caps the trials' '
	tally tune -q bowl.sh "x=[1,2,3]" "y=range[-2:1]" --optimizer tpe -n 30 -p 3 --startup-trials 2 \
		--minimize value --id-file id >/dev/null &&
	id=$(cat id) &&
	sweep_field "$id" "d[\"description\"]" | grep -q "^up to 12 trials" &&
	trial_flags "$id" >flags && test "$(wc -l <flags)" = 12 && test "$(sort -u flags | wc -l)" = 12
'

test_expect_success 'resume after SIGKILL of the sweep: TPE goes on from the runs as if never stopped' '
	export COUNTER=$TRASH/counter &&
	rm -f "$COUNTER" go &&
	tally tune -q count.sh "x=uniform[-10:10]" "y=uniform[-10:10]" --optimizer tpe --startup-trials 3 -n 10 \
		--seed 5 --minimize value --id-file ref >/dev/null &&
	rm -f "$COUNTER" &&
	{ WAIT_AT=6 tally tune count.sh "x=uniform[-10:10]" "y=uniform[-10:10]" --optimizer tpe --startup-trials 3 \
		-n 10 --seed 5 --minimize value >out 2>err & } && pid=$! &&
	wait_until counted 6 &&
	kill -9 $pid && { wait $pid; true; } && id=$(sed -n "s/^Sweep \([0-9a-f]*\): .*/\1/p" err) && test -n "$id" &&
	wait_until none_running "$id" &&
	test "$(count_runs --sweep "$id" --terminated)" = 1 &&
	tally tune --resume "$id" >out 2>err &&
	grep -q "^Resuming: 5 of 10 trials completed earlier" err &&
	trial_flags "$(cat ref)" >want && trial_flags "$id" >got && test_cmp want got &&
	test "$(count_runs --sweep "$id" --completed)" = 10
'

test_expect_success 'median pruning: a hopeless trial is stopped and recorded as pruned, its points kept' '
	tally tune curve.sh "q=[1,2]" --prune median --prune-startup 1 --minimize val_loss >out 2>err &&
	grep -q "^trial 2/2 pruned in .* val_loss 3 " err &&
	grep -q "^Sweep [0-9a-f]* completed: 1 of 2 trials completed, 1 pruned$" err &&
	test "$(count_runs --pruned)" = 1 &&
	tally runs --where "status = pruned" --format json >p.json &&
	"$PYTHON" -c "
import json
r = json.load(open(\"p.json\"))
assert len(r) == 1 and r[0][\"flags\"][\"q\"] == 2, r
" &&
	run=$(tally runs --pruned --format csv --columns id | tail -n 1) &&
	tally show "$run" >show &&
	grep -q "^status: *pruned" show &&
	grep -q "pruned by the median rule: its best val_loss by step [0-3], 3, is worse than the median" show &&
	tally scalars "$run" --format csv >points && grep -c "val_loss" points >n && test "$(cat n)" -ge 1 &&
	dir=$(tally show "$run" --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"dir\"])") &&
	grep -q "\"reason\": \"pruned by the median rule" "$dir/.tally/prune.json"
'

test_expect_success 'on a terminal the progress bar counts pruned trials and shows the best' '
	script -qec "tally tune curve.sh q=[1,2] --prune median --prune-startup 1 --minimize val_loss -y" /dev/null >tty.out &&
	grep -q "\[####################\] 2/2  running 0  failed 0  pruned 1  best val_loss 0.1 (trial 1)" tty.out
'

test_expect_success 'a trial that ignores SIGTERM is killed after --prune-grace, still recorded as pruned' '
	tally tune curve.sh "q=[1,3]" stubborn=true --prune median --prune-startup 1 --prune-grace 0.3 \
		--minimize val_loss --id-file id >out 2>err &&
	run=$(sweep_field "$(cat id)" "d[\"trials\"][1][\"run\"]") &&
	test "$(tally show "$run" --format json | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(d[\"status\"], d[\"signal\"])")" = "pruned 9"
'

test_expect_success 'ASHA pruning by rungs; pruned trials do not run again on resume' '
	tally tune curve.sh "q=[1,2,3]" --prune asha --prune-min-step 1 --minimize val_loss --id-file id >out 2>err &&
	id=$(cat id) &&
	test "$(sweep_field "$id" "[t[\"status\"] for t in d[\"trials\"]]")" = "['"'"'completed'"'"', '"'"'pruned'"'"', '"'"'pruned'"'"']" &&
	test "$(sweep_field "$id" "d[\"pruner\"][\"name\"], d[\"pruner\"][\"min_step\"], d[\"pruner\"][\"reduction_factor\"]")" = "('"'"'asha'"'"', 1, 3)" &&
	tally show "$(sweep_field "$id" "d[\"trials\"][1][\"run\"]")" | grep -q "pruned by the ASHA rule: val_loss 3 at step [1-3] is not in the best 1/3" &&
	n=$(run_count) && tally tune --resume "$id" >out 2>err && test "$(run_count)" = "$n" &&
	grep -q "^Resuming: 3 of 3 trials completed earlier; 0 to run$" err
'

test_expect_success 'a pruned trial is no failure for --fail-fast' '
	tally tune curve.sh "q=[1,2]" "stubborn=[false,true]" --prune median --prune-startup 1 --prune-grace 0.3 \
		--fail-fast --minimize val_loss --id-file id >out 2>err &&
	test "$(sweep_field "$(cat id)" "[t[\"status\"] for t in d[\"trials\"]]")" = "['"'"'completed'"'"', '"'"'completed'"'"', '"'"'pruned'"'"', '"'"'pruned'"'"']"
'

test_expect_success 'a stop that comes after the script ended changes nothing: it completed' '
	tally tune curve.sh "q=[1,5]" --prune median --prune-startup 1 --minimize val_loss --id-file id >out 2>err &&
	run=$(sweep_field "$(cat id)" "d[\"trials\"][1][\"run\"]") &&
	test "$(tally show "$run" --format json | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(d[\"status\"], d[\"exit_status\"])")" = "completed 0"
'

spoof_written() { ls spoof/*/.tally/prune.json >/dev/null 2>&1; }
test_expect_success 'a run that writes .tally/prune.json itself is not made pruned by a stop' '
	cat >fake.sh <<-\SH &&
	printf "{\"reason\": \"spoof\"}" >.tally/prune.json
	while :; do sleep 0.05; done
	SH
	{ tally run -q --runs-dir spoof fake.sh & } && pid=$! &&
	wait_until spoof_written &&
	tally stop -y --runs-dir spoof 1 && { wait $pid; true; } &&
	tally runs --runs-dir spoof --format json >s.json &&
	"$PYTHON" -c "
import json
r = json.load(open(\"s.json\"))
assert [x[\"status\"] for x in r] == [\"terminated\"], r
"
'

test_expect_success 'bad options are refused before anything starts' '
	test_expect_code 129 tally tune bowl.sh "x=uniform[0:1]" --optimizer bayes 2>err &&
	grep -q "no optimizer .bayes. — use grid, random or tpe" err &&
	test_expect_code 129 tally tune bowl.sh "x=uniform[0:1]" --prune hyperband 2>err &&
	grep -q "no pruner .hyperband. — use median or asha" err &&
	n=$(run_count) &&
	test_must_fail tally tune -y bowl.sh "x=uniform[0:1]" --prune median 2>err &&
	grep -q "needs the objective it watches — add --minimize SCALAR or --maximize SCALAR" err &&
	test_must_fail tally tune -y bowl.sh "x=uniform[0:1]" --multivariate 2>err &&
	grep -q "is a setting of TPE — add --optimizer tpe" err &&
	test_must_fail tally tune -y bowl.sh "x=uniform[0:1]" --prune median --prune-factor 2 --minimize value 2>err &&
	grep -q "is a setting of ASHA" err &&
	test_must_fail tally tune -y bowl.sh "x=uniform[0:1]" --prune-warmup 3 --minimize value 2>err &&
	grep -q "without a pruner" err &&
	test_expect_code 129 tally tune bowl.sh "x=uniform[0:1]" --prune asha --prune-factor 1 2>err &&
	test_expect_code 129 tally tune bowl.sh "x=uniform[0:1]" --prune-grace 0 2>err &&
	test_expect_code 129 tally tune bowl.sh "x=uniform[0:1]" --startup-trials x 2>err &&
	test "$(run_count)" = "$n"
'

test_done

#!/usr/bin/env bash
# `tally watch`: follows a running run's output with a line per step of its
# scalars and ends with the run; on an ended run shows the tail and the last
# scalars; a run whose supervisor died ends the watch as terminated.
. "$(dirname "$0")/test-lib.sh"

# wait_for_running: until the newest run directory has its output file
wait_for_running() {
	for _ in $(seq 200); do
		ls runs/*/.tally/output >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

test_expect_success 'watch follows a running run to its end, a line per step' '
	# The script goes on once watch has shown its first step (or after 30 s),
	# and from step 2 on once watch has printed the step line: that line
	# comes as soon as the step is complete, while the run waits.
	cat >slow.sh <<-\SH &&
	for i in 1 2 3 4; do
	    echo "epoch $i"
	    echo "loss: 0.$((9 - i)) (step $i)"
	    echo "acc: 0.$((5 + i))"
	    want="step $i:"
	    [ $i -gt 1 ] || want="^epoch 1"
	    n=0
	    while [ $n -lt 600 ] && ! grep -q "$want" "$WATCH_OUT" 2>/dev/null; do
	        sleep 0.05; n=$((n + 1))
	    done
	done
	SH
	{ WATCH_OUT=$PWD/watch.out tally run -q slow.sh >/dev/null 2>&1 & } &&
	wait_for_running &&
	timeout 60 tally watch >watch.out &&
	wait &&
	grep -v "^── step\|^Run " watch.out >output &&
	sed -n "1,12p" runs/*/.tally/output >expect &&
	test_cmp expect output &&
	grep "^── step" watch.out >steps &&
	cat >expect <<-\EOF &&
	── step 1: loss=0.8 acc=0.6
	── step 2: loss=0.7 acc=0.7
	── step 3: loss=0.6 acc=0.8
	── step 4: loss=0.5 acc=0.9
	EOF
	test_cmp expect steps &&
	tail -n 1 watch.out | grep -q "^Run .* completed after [0-9.]* m\?s$" &&
	# step lines come while the run goes, each right after its step once the
	# steps are known to have two scalars
	test "$(sed -n "/── step 1:/=" watch.out)" -lt "$(sed -n "/^epoch 4/=" watch.out)" &&
	test "$(sed -n "/── step 2:/=" watch.out)" -lt "$(sed -n "/^epoch 3/=" watch.out)" &&
	test "$(sed -n "/── step 3:/=" watch.out)" -lt "$(sed -n "/^epoch 4/=" watch.out)"
'

test_expect_success 'on an ended run: the tail of the output and the last scalars' '
	tally watch -n 2 >ended.out &&
	cat >expect <<-\EOF &&
	loss: 0.5 (step 4)
	acc: 0.9
	── step 4: loss=0.5 acc=0.9
	EOF
	head -n 3 ended.out >got &&
	test_cmp expect got &&
	test "$(wc -l <ended.out)" = 4 &&
	tally watch -n all >all.out &&
	test "$(grep -c "^epoch" all.out)" = 4 &&
	tally watch -n 0 >none.out &&
	test "$(wc -l <none.out)" = 2
'

test_expect_success 'a run whose tally was killed ends the watch as terminated' '
	echo "echo started; sleep 30" >hang.sh &&
	rm -rf runs &&
	{ tally run -q hang.sh >/dev/null 2>&1 & } &&
	tally_pid=$! &&
	wait_for_running &&
	{ timeout 60 tally watch >killed.out & } &&
	watch_pid=$! &&
	sleep 0.5 &&
	kill -9 $tally_pid &&
	wait $watch_pid &&
	grep -q "^started$" killed.out &&
	tail -n 1 killed.out | grep -q "^Run .* terminated after"
'

test_expect_success 'bad arguments are errors' '
	test_expect_code 129 tally watch 1 2 2>err &&
	grep -q "one too many" err &&
	test_expect_code 129 tally watch --tail many 2>err &&
	test_expect_code 129 tally watch --bogus 2>err &&
	test_expect_code 128 tally watch 99 2>err &&
	grep -q "^tally: there is no run 99" err
'

test_done

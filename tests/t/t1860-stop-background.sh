#!/usr/bin/env bash
# tally run --background detaches at once (own session, output recorded);
# tally stop ends running runs through their tally (terminated, signal 15),
# and --force kills what ignores SIGTERM.
. "$(dirname "$0")/test-lib.sh"

started_id() { sed -n "s/^Run \([^ ]*\) started in the background.*/\1/p" "$1"; }

test_expect_success 'setup: a script that waits for a file' '
	cat >wait.sh <<-\SH
	echo "waiting in $PWD"
	echo "loss: 0.5"
	while ! test -e "$TALLY_RUN_DIR/go"; do sleep 0.05; done
	echo done
	SH
'

test_expect_success 'run -b returns while the script goes on; the run is recorded as usual' '
	tally run -b wait.sh >out 2>err &&
	id=$(started_id out) && test -n "$id" &&
	test "$(show_field "[\"status\"]" "$id")" = running &&
	touch runs/$id/go &&
	for i in $(seq 1200); do test "$(show_field "[\"status\"]" "$id")" = completed && break; sleep 0.05; done &&
	test "$(show_field "[\"status\"]" "$id")" = completed &&
	tally cat "$id" >output &&
	grep -q "^waiting in" output && grep -q "^done$" output &&
	test "$(tally scalars "$id" --format csv | grep -c "loss")" = 1
'

test_expect_success 'the background run is in a session of its own, without a terminal' '
	tally run -b wait.sh >out &&
	id=$(started_id out) &&
	pid=$(show_field "[\"pid\"]" "$id") &&
	sid=$(cut -d" " -f6 /proc/$pid/stat) && mysid=$(cut -d" " -f6 /proc/$$/stat) &&
	test "$sid" != "$mysid" &&
	test "$(cut -d" " -f7 /proc/$pid/stat)" = 0 &&
	touch runs/$id/go
'

test_expect_success 'run -b with a missing script fails at once and creates nothing' '
	n=$(run_count) &&
	test_expect_code 128 tally run -b nosuch.sh 2>err &&
	grep -q "^tally: .*nosuch.sh" err &&
	test "$(run_count)" = $n
'

test_expect_success 'stop: SIGTERM through tally, recorded as terminated' '
	tally run -b wait.sh >out &&
	id=$(started_id out) &&
	tally stop -y "$id" >out &&
	grep -q "^Stopped 1 run.$" out &&
	test "$(show_field "[\"status\"]" "$id")" = terminated &&
	test "$(show_field "[\"signal\"]" "$id")" = 15 &&
	show_field "[\"stop_reason\"]" "$id" | grep -q SIGTERM
'

test_expect_success 'a script ignoring SIGTERM outlasts the grace period; --force kills it' '
	cat >stubborn.sh <<-\SH &&
	trap "" TERM
	echo stubborn
	while :; do sleep 0.05; done
	SH
	tally run -b stubborn.sh >out &&
	id=$(started_id out) &&
	wait_until grep -q "^stubborn$" runs/$id/.tally/output &&
	test_expect_code 128 tally stop -y --grace 0.3 "$id" 2>err &&
	grep -q "still running after" err &&
	test "$(show_field "[\"status\"]" "$id")" = running &&
	tally stop -y --grace 0.3 --force "$id" >/dev/null &&
	test "$(show_field "[\"status\"]" "$id")" = terminated &&
	test "$(show_field "[\"signal\"]" "$id")" = 9
'

test_expect_success 'stop without RUN stops every running run; a finished run is an error' '
	tally run -b wait.sh >out1 && tally run -b wait.sh >out2 &&
	tally stop -y >out &&
	grep -q "^Stopped 2 runs.$" out &&
	test -z "$(tally runs --running --format csv | tail -n +2)" &&
	test_expect_code 128 tally stop -y "$(started_id out1)" 2>err &&
	grep -q "is not running (terminated)" err &&
	test_expect_code 1 tally stop -y 2>err &&
	grep -q "No run matches" err &&
	test_expect_code 129 tally stop --grace soon
'

test_done

#!/usr/bin/env bash
# `tally cat`: the recorded output byte for byte, one stream or both in
# arrival order, with arrival times per line; bad arguments.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a run writing to both streams, binary bytes and an unfinished line' '
	cat >both.sh <<-\SH &&
	echo "out 1"
	sleep 0.05
	echo "err 1" >&2
	sleep 0.05
	printf "out 2\nout 3\n"
	sleep 0.05
	printf "\001\377binary\000end\n" >&2
	sleep 0.05
	printf "no newline"
	SH
	{ tally run -q both.sh >/dev/null 2>&1; test $? = 0; }
'

test_expect_success 'both streams: exactly the recorded bytes, in arrival order' '
	tally cat >all &&
	printf "out 1\nerr 1\nout 2\nout 3\n\001\377binary\000end\nno newline" >expect &&
	cmp expect all
'

test_expect_success '--stdout and --stderr keep only their stream' '
	tally cat --stdout >out &&
	printf "out 1\nout 2\nout 3\nno newline" >expect &&
	cmp expect out &&
	tally cat 1 --stderr >err &&
	printf "err 1\n\001\377binary\000end\n" >expect &&
	cmp expect err
'

test_expect_success '--timestamps starts every line with its arrival time' '
	tally cat --timestamps --stdout >ts &&
	test "$(wc -l <ts)" = 3 &&
	grep -c "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] out [123]$" ts >n &&
	test "$(cat n)" = 3 &&
	tail -c 23 ts | grep -q "^[0-9:.]* no newline$"
'

test_expect_success 'a run that printed nothing prints nothing; bad arguments are errors' '
	echo "true" >quiet.sh &&
	tally run -q quiet.sh >/dev/null 2>&1 &&
	tally cat >none &&
	test ! -s none &&
	test_expect_code 128 tally cat 42 2>err &&
	grep -q "^tally: there is no run 42" err &&
	test_expect_code 129 tally cat 1 2 2>err &&
	grep -q "one too many" err &&
	test_expect_code 129 tally cat --bogus 2>err
'

test_done

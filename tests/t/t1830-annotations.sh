#!/usr/bin/env bash
# label, tag, mark/unmark, comment: recorded in run.json, seen by queries at
# once, asked for on a terminal and refused without one unless -y, kept when
# the run's own end is written, and never lost to concurrent edits.
. "$(dirname "$0")/test-lib.sh"

# tags_of RUN: the run's tags, sorted, space-separated
tags_of() {
	tally show "$1" --format json | "$PYTHON" -c "import json,sys; print(\" \".join(sorted(json.load(sys.stdin).get(\"tags\", []))))"
}

test_expect_success 'setup: three runs' '
	echo "echo hi" >a.sh &&
	for i in 1 2 3; do tally run -q a.sh >/dev/null 2>&1 || return 1; done
'

test_expect_success 'label: set on several runs, seen by queries at once, cleared' '
	tally label -y 1 2 "best so far" >out &&
	grep -q "^Labelled 2 runs.$" out &&
	test "$(show_field "[\"label\"]" 1)" = "best so far" &&
	test "$(tally runs --label "best so" --format csv | tail -n +2 | wc -l)" = 2 &&
	test "$(tally runs --where "label = '"'"'best so far'"'"'" --format csv | tail -n +2 | wc -l)" = 2 &&
	tally label -y --clear 2 >/dev/null &&
	test "$(tally runs --label "best" --format csv | tail -n +2 | wc -l)" = 1 &&
	show_field "[\"id\"]" 2 >id2 &&
	! tally show 2 --format json | grep -q "\"label\""
'

test_expect_success 'tag: +TAG adds, -TAG removes, duplicates are not kept' '
	tally tag -y 1 3 +keep +cnn >/dev/null &&
	tally tag -y 1 +keep -cnn +rnn >/dev/null &&
	test "$(tags_of 1)" = "keep rnn" &&
	test "$(tags_of 3)" = "cnn keep" &&
	test "$(tally runs --tag keep --format csv | tail -n +2 | wc -l)" = 2 &&
	test "$(tally runs --where "tags contains cnn" --format csv | tail -n +2 | wc -l)" = 1
'

test_expect_success 'mark and unmark; --marked, --unmarked and marked in queries' '
	tally mark -y 2 3 >/dev/null &&
	test "$(tally runs --marked --format csv | tail -n +2 | wc -l)" = 2 &&
	test "$(tally runs --unmarked --format csv | tail -n +2 | wc -l)" = 1 &&
	test "$(tally runs --where "marked and tags contains cnn" --format csv | tail -n +2 | wc -l)" = 1 &&
	tally unmark -y 3 >/dev/null &&
	test "$(tally runs --marked --format csv | tail -n +2 | wc -l)" = 1 &&
	test "$(show_field "[\"marked\"]" 2)" = True
'

test_expect_success 'without $LOGNAME and $USER a comment is signed with the account, as run.json is' '
	env -u LOGNAME -u USER -u LNAME -u USERNAME tally comment -y 1 "who am i" >/dev/null &&
	tally comment --list 1 >list &&
	grep -q "^  [0-9]*\. $(id -un)@" list && ! grep -q "unknown@" list &&
	tally comment -y --delete 1 "$(grep -c "^  [0-9]*\. " list)" &&
	mkdir whoami && cd whoami && echo "echo hi" >s.sh &&
	env -u LOGNAME -u USER -u LNAME -u USERNAME tally run -q s.sh >/dev/null 2>&1 &&
	test "$(show_field "[\"user\"]")" = "$(id -un)"
'

test_expect_success 'comments: added with user, host and time, listed, deleted' '
	LOGNAME=alice tally comment -y 1 "lr too high?" >/dev/null &&
	env -u LOGNAME USER=bob tally comment -y 1 "no, fine" >/dev/null &&
	tally comment --list >list &&
	grep -q "^  1\. alice@.*  20[0-9-]*T" list &&
	grep -q "^     lr too high?$" list &&
	grep -q "^  2\. bob@" list &&
	tally comment -y --delete 1 1 &&
	tally comment --list 1 >list &&
	! grep -q "lr too high" list &&
	grep -q "^  1\. bob@" list &&
	tally comment -y 1 "$(printf "two\nlines \033[31mred")" >/dev/null &&
	tally comment --list 1 >list &&
	grep -q "^     two$" list &&
	grep -q "^     lines ?\[31mred$" list &&
	! grep -q "$(printf "\033")" list &&
	{ tally comment -y --delete 5 1 2>err; test $? = 128; } &&
	grep -q "has no comment 5" err
'

test_expect_success 'without a terminal, changes are refused unless -y; nothing changes' '
	{ tally label 3 other </dev/null >out 2>err; test $? = 128; } &&
	grep -q "^tally: to label 1 run, say yes with -y — there is no terminal to ask on$" err &&
	test "$(show_field "[\"label\"]" 3)" != other &&
	{ tally tag 3 +x </dev/null 2>err; test $? = 128; } &&
	{ tally mark 1 </dev/null 2>err; test $? = 128; } &&
	{ tally comment 1 "x" </dev/null 2>err; test $? = 128; }
'

test_expect_success 'on a terminal, the runs are shown and the answer decides' '
	# script(1), from util-linux (bsdutils, essential in Debian), gives tally a terminal
	printf "n\n" | script -qec "tally label 3 nope" /dev/null >tty.out 2>&1;
	grep -q "You are about to label 1 run:" tty.out &&
	grep -q "Nothing changed." tty.out &&
	test "$(show_field "[\"label\"]" 3)" != nope &&
	printf "y\n" | script -qec "tally label 3 yes-label" /dev/null >tty.out 2>&1 &&
	test "$(show_field "[\"label\"]" 3)" = yes-label
'

test_expect_success 'bad arguments: unknown runs change nothing; empty and control-character values' '
	{ tally label -y 1 42 x 2>err; test $? = 128; } &&
	grep -q "there is no run 42" err &&
	test "$(show_field "[\"label\"]" 1)" = "best so far" &&
	{ tally label -y 2>err; test $? = 129; } &&
	{ tally tag -y 1 2>err; test $? = 129; } &&
	grep -q "no tag to add" err &&
	{ tally tag -y 1 + 2>err; test $? = 129; } &&
	{ tally tag -y 1 "+bad$(printf "\001")tag" 2>err; test $? = 128; } &&
	grep -q "cannot hold control characters" err &&
	{ tally label -y 1 "$(printf "two\nlines")" 2>err; test $? = 128; } &&
	{ tally comment -y 1 "" 2>err; test $? = 128; } &&
	{ tally mark 2>err; test $? = 129; }
'

test_expect_success 'a label set while the run goes survives the end of the run' '
	echo "while ! test -e \"\$GO\"; do sleep 0.05; done" >slow.sh &&
	{ GO=$PWD/go tally run -q slow.sh >/dev/null 2>&1 & } &&
	for _ in $(seq 1200); do test "$(tally runs --running --format csv | tail -n +2 | wc -l)" = 1 && break; sleep 0.05; done &&
	tally label -y 1 "during the run" >/dev/null &&
	tally tag -y 1 +live >/dev/null &&
	touch go &&
	wait &&
	test "$(show_field "[\"status\"]" 1)" = completed &&
	test "$(show_field "[\"label\"]" 1)" = "during the run" &&
	test "$(tags_of 1)" = "live"
'

test_expect_success 'runs named by ranges and lists, each changed once' '
	tally tag -y 1:3 +r3 >out &&
	grep -q "^Changed the tags of 3 runs.$" out &&
	tally tag -y 2,4 1:2 +l >out &&
	grep -q "^Changed the tags of 3 runs.$" out &&
	test "$(tally runs --tag l --format csv | tail -n +2 | wc -l)" = 3 &&
	total=$(tally runs --format csv | tail -n +2 | wc -l) &&
	tally mark -y 3: >out &&
	test "$(tally runs --marked --format csv | tail -n +2 | wc -l)" = $((total - 2)) &&
	tally unmark -y :$total >/dev/null &&
	test "$(tally runs --marked --format csv | tail -n +2 | wc -l)" = 0 &&
	{ tally mark -y 2:1 2>err; test $? = 128; } &&
	{ tally mark -y 1:99 2>err; test $? = 128; } &&
	grep -q "there is no run [0-9]* — there are [0-9]* runs" err
'

test_expect_success 'concurrent tag edits of one run from 8 processes are all kept' '
	tally run -q a.sh >/dev/null 2>&1 &&
	id=$(show_field "[\"id\"]" 1) &&
	for i in 1 2 3 4 5 6 7 8; do
		tally tag -y "$id" +t$i >/dev/null 2>&1 &
	done &&
	wait &&
	test "$(tags_of "$id")" = "t1 t2 t3 t4 t5 t6 t7 t8"
'

test_expect_success 'query options pick the runs of label, tag, mark and comment' '
	echo "exit 2" >fail.sh &&
	tally run -q fail.sh >/dev/null 2>&1;
	tally label -y --error "crashed" >out &&
	grep -q "^Labelled 1 run.$" out &&
	test "$(tally runs --label crashed --format csv | tail -n +2 | wc -l)" = 1 &&
	tally tag -y --error +broken --where "status = error" >/dev/null &&
	test "$(tally runs --tag broken --format csv | tail -n +2 | wc -l)" = 1 &&
	tally tag -y --tag=broken -broken >/dev/null &&
	test -z "$(tally runs --tag broken --format csv | tail -n +2)" &&
	tally mark -y --completed >out &&
	test "$(tally runs --marked --format csv | tail -n +2 | wc -l)" = "$(tally runs --completed --format csv | tail -n +2 | wc -l)" &&
	tally comment -y --error "look at the stack trace" >/dev/null &&
	tally comment --list --error | grep -q "look at the stack trace" &&
	test_expect_code 129 tally tag -y +x --where &&
	test_expect_code 1 tally label -y --running "nothing" 2>err &&
	grep -q "No run matches" err
'

test_expect_success 'a run named several times is changed once' '
	tally comment -y 1 1 1:2 "$(tally lookup 1 id)" 2 1 "once each" >/dev/null &&
	test "$(tally comment --list 1 | grep -c "once each")" = 1 &&
	test "$(tally comment --list 2 | grep -c "once each")" = 1 &&
	tally mark -y 2 2 --where "status = completed" >out &&
	grep -q "^Marked 1 run.$" out
'

test_done

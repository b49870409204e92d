#!/usr/bin/env bash
# tally tail [-f] prints the end of a run's output and follows it until the
# run ends; tally open opens a run with the desktop's opener, or prints its path.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a finished run of 30 lines' '
	echo "for i in \$(seq 30); do echo line \$i; done; echo oops >&2" >lines.sh &&
	tally run -q lines.sh >/dev/null 2>&1
'

test_expect_success 'tail: the last 10 lines, -n N, -n all; stderr included' '
	tally tail >out &&
	test "$(wc -l <out)" = 10 &&
	test "$(tail -n 1 out)" = oops &&
	test "$(head -n 1 out)" = "line 22" &&
	tally tail -n 3 1 >out && test "$(head -n 1 out)" = "line 29" &&
	tally tail -n all >out && test "$(wc -l <out)" = 31 &&
	tally tail -n 0 >out && test ! -s out
'

test_expect_success 'tail -f follows a running run to its end, then returns' '
	cat >slow.sh <<-\SH &&
	echo first
	while ! test -e "$TALLY_RUN_DIR/go"; do sleep 0.05; done
	echo second
	SH
	tally run -b slow.sh >started &&
	id=$(sed -n "s/^Run \([^ ]*\) started.*/\1/p" started) &&
	(tally tail -f "$id" >followed &) &&
	for i in $(seq 1200); do grep -q first followed 2>/dev/null && break; sleep 0.05; done &&
	grep -q "^first$" followed && ! grep -q second followed &&
	touch "runs/$id/go" &&
	for i in $(seq 1200); do grep -q second followed && break; sleep 0.05; done &&
	grep -q "^second$" followed &&
	for i in $(seq 1200); do pgrep -f "tally tail -f $id" >/dev/null || break; sleep 0.05; done &&
	! pgrep -f "tally tail -f $id" >/dev/null
'

test_expect_success 'tail: bad arguments' '
	test_expect_code 129 tally tail -n lots &&
	test_expect_code 129 tally tail 1 2 &&
	test_expect_code 128 tally tail nosuchrun
'

test_expect_success 'open without a desktop prints the path (and a path inside the run)' '
	dir=$(show_field "[\"dir\"]" 2) &&
	env -u DISPLAY -u WAYLAND_DISPLAY tally open 2 >out &&
	test "$(cat out)" = "$dir" &&
	env -u DISPLAY -u WAYLAND_DISPLAY tally open 2 .tally/output >out &&
	test "$(cat out)" = "$dir/.tally/output" &&
	test_expect_code 128 tally open 2 no-such-file 2>err &&
	grep -q "has no .no-such-file." err &&
	test_expect_code 128 tally open 2 ../../etc 2>err &&
	grep -q "not a path inside the run" err
'

test_expect_success 'open on a desktop runs the opener with the path (argv, no shell)' '
	mkdir bin &&
	printf "#!/bin/sh\nprintf \"%%s\\\\n\" \"\$@\" >\"%s/opened\"\n" "$PWD" >bin/xdg-open &&
	chmod +x bin/xdg-open &&
	dir=$(show_field "[\"dir\"]" 2) &&
	DISPLAY=:99 PATH="$PWD/bin:$PATH" tally open 2 >out &&
	test "$(cat opened)" = "$dir" &&
	test ! -s out &&
	DISPLAY=:99 PATH="$PWD/bin:$PATH" tally open --print 2 >out &&
	test "$(cat out)" = "$dir"
'

test_done

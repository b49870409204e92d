#!/usr/bin/env bash
# Named runs (run-manager): --name gives a unique name usable as a RUN;
# taken names are refused unless --replace (old run archived); bad names are
# refused before any run exists; concurrent claims let exactly one win.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup' '
	echo "echo hello" >a.sh
'

test_expect_success 'a named run is found by its name, in queries and by --pattern' '
	tally run -q --name baseline a.sh >/dev/null 2>&1 &&
	tally run -q a.sh >/dev/null 2>&1 &&
	test "$(show_field "[\"name\"]" baseline)" = baseline &&
	test "$(show_field "[\"id\"]" baseline)" = "$(show_field "[\"id\"]" 2)" &&
	grep -q "\"name\": \"baseline\"" "$(show_field "[\"dir\"]" 2)/.tally/run.json" &&
	test "$(tally runs --where "name = baseline" --format csv | tail -n +2 | wc -l)" = 1 &&
	test "$(tally runs --pattern "^base" --format csv | tail -n +2 | wc -l)" = 1 &&
	tally cat baseline | grep -q hello
'

test_expect_success 'a taken name is an error and creates nothing' '
	n=$(run_count) &&
	test_expect_code 128 tally run -q --name baseline a.sh 2>err &&
	grep -q "^tally: run name .baseline. is taken by run .* — choose another, or --replace archives it$" err &&
	test "$(run_count)" = $n
'

test_expect_success '--replace archives the old run and gives the name to the new one' '
	old=$(show_field "[\"id\"]" baseline) &&
	tally run -q --name baseline --replace a.sh >/dev/null 2>&1 &&
	new=$(show_field "[\"id\"]" baseline) &&
	test "$old" != "$new" &&
	test -d runs/.archive/$old &&
	tally runs --archived --format csv | grep -q "^$old,"
'

test_expect_success 'a restored run whose name was taken meanwhile is refused' '
	old=$(tally runs --archived --format csv | tail -n +2 | cut -d, -f1) &&
	test_expect_code 128 tally restore -y "$old" 2>err &&
	grep -q "is taken by run" err &&
	test -d runs/.archive/$old
'

test_expect_success 'deleting a named run frees its name' '
	tally delete -y baseline >/dev/null &&
	tally run -q --name baseline a.sh >/dev/null 2>&1 &&
	test -n "$(show_field "[\"id\"]" baseline)"
'

test_expect_success 'bad names are refused before any run exists' '
	n=$(run_count) &&
	for bad in "a/b" "123" ".hidden" "-x" "has space" "$(printf "tab\there")" "a:b" "" "x;\$(id)" "é" \
		"$(show_field "[\"id\"]" 1)"; do
		test_expect_code 128 tally run -q --name "$bad" a.sh 2>err || return 1
		grep -q "^tally: .*name" err || return 1
	done &&
	test "$(run_count)" = $n &&
	test_expect_code 129 tally run -q --replace a.sh
'

test_expect_success 'eight runs claiming one name at once: exactly one gets it' '
	n=$(run_count) &&
	for i in 1 2 3 4 5 6 7 8; do
		(tally run -q --name race a.sh >/dev/null 2>&1; echo $? >rc.$i) &
	done; wait &&
	test "$(cat rc.* | grep -c "^0$")" = 1 &&
	test "$(cat rc.* | grep -c "^128$")" = 7 &&
	test "$(run_count)" = $((n + 1)) &&
	test "$(tally runs --where "name = race" --format csv | tail -n +2 | wc -l)" = 1
'

test_done

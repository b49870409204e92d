#!/usr/bin/env bash
# delete / restore / purge and runs --archived: runs move into RUNS/.archive
# and back whole, the index follows at once, running runs are refused unless
# --force, bad references change nothing.
. "$(dirname "$0")/test-lib.sh"

ids() { # the ids tally runs lists (args: more options), one per line, newest first
	tally runs --format csv "$@" | tail -n +2 | cut -d, -f1
}

test_expect_success 'setup: five runs, the oldest one failing' '
	echo "echo hi" >ok.sh &&
	echo "exit 3" >bad.sh &&
	for s in bad ok ok ok ok; do tally run -q $s.sh >/dev/null 2>&1; done;
	test "$(run_count)" = 5 &&
	ids >all
'

test_expect_success 'delete a range: the runs move to the archive whole and leave the listing' '
	sed -n 2,3p all >gone &&
	tally delete -y 2:3 >out &&
	grep -q "^Deleted 2 runs" out &&
	test "$(run_count)" = 3 &&
	test "$(run_count runs/.archive)" = 2 &&
	for id in $(cat gone); do
		test -f runs/.archive/$id/.tally/run.json && test -f runs/.archive/$id/.tally/output || return 1
		! grep -q "$id" <(ids) || return 1
	done &&
	ids --archived >archived &&
	sort gone >a && sort archived >b && test_cmp a b
'

test_expect_success 'restore brings a run back as it was; purge removes the rest for good' '
	id=$(head -n 1 gone) &&
	tally restore -y "$id" >out &&
	grep -q "^Restored 1 run" out &&
	test -d runs/$id && ! test -e runs/.archive/$id &&
	ids | grep -q "$id" &&
	test "$(tally show "$id" --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"status\"])")" = completed &&
	tally purge -y >out &&
	grep -q "^Purged 1 run" out &&
	test "$(run_count runs/.archive)" = 0 &&
	test -z "$(ids --archived)" &&
	! ls -a runs/.archive | grep -q purging
'

test_expect_success 'query options select what to delete; with RUNs, only those that match' '
	n=$(run_count) &&
	tally delete -y --error >out &&
	grep -q "^Deleted 1 run" out &&
	test "$(run_count)" = $((n - 1)) &&
	test -z "$(ids --error)" &&
	test "$(ids --archived --error | wc -l)" = 1 &&
	test_expect_code 1 tally delete -y 1 --error 2>err &&
	grep -q "No run matches; nothing changed" err &&
	test "$(run_count)" = $((n - 1)) &&
	tally restore -y --error >/dev/null &&
	test "$(run_count)" = $n
'

test_expect_success 'delete --permanent removes for good without the archive' '
	n=$(run_count) && id=$(ids | head -n 1) &&
	tally delete -y --permanent 1 >out &&
	grep -q "for good" out &&
	test "$(run_count)" = $((n - 1)) &&
	! test -e runs/$id && ! test -e runs/.archive/$id
'

test_expect_success 'without a terminal, delete refuses unless -y; nothing moves' '
	n=$(run_count) &&
	test_expect_code 128 tally delete 1 </dev/null 2>err &&
	grep -q "^tally: to delete 1 run, say yes with -y" err &&
	test "$(run_count)" = $n
'

test_expect_success 'bad references and arguments change nothing' '
	n=$(run_count) &&
	test_expect_code 128 tally delete -y 1 nosuchrun 2>err &&
	grep -q "no run matches .nosuchrun." err &&
	test "$(run_count)" = $n &&
	test_expect_code 129 tally delete -y 2>err &&
	grep -q "which runs" err &&
	test_expect_code 129 tally delete -y --bogus 1 &&
	test_expect_code 128 tally delete -y --where "status ==" 1 2>err &&
	grep -q "column" err &&
	test_expect_code 128 tally restore -y nosuchrun &&
	test "$(run_count)" = $n
'

test_expect_success 'a run directory outside the runs directory is not deleted' '
	mkdir elsewhere && cp -r "runs/$(ids | head -n 1)" elsewhere/ &&
	test_expect_code 128 tally delete -y elsewhere/* 2>err &&
	grep -q "is not in the runs directory" err &&
	test -d elsewhere/*/.tally
'

test_expect_success 'restore refuses an id that is back in the runs directory already' '
	id=$(ids | head -n 1) &&
	tally delete -y "$id" >/dev/null &&
	cp -r runs/.archive/$id runs/$id &&
	test_expect_code 128 tally restore -y "$id" 2>err &&
	grep -q "already exists" err &&
	test -d runs/.archive/$id && test -d runs/$id &&
	rm -rf runs/.archive/$id
'

test_expect_success 'a running run is refused; --force stops it first' '
	cat >wait.sh <<-\SH &&
	echo started
	while ! test -e "$TALLY_RUN_DIR/../../go"; do sleep 0.05; done
	SH
	tally run -b wait.sh >out &&
	id=$(sed -n "s/^Run \([^ ]*\) started.*/\1/p" out) &&
	test -n "$id" &&
	test_expect_code 128 tally delete -y "$id" 2>err &&
	grep -q "still running" err &&
	test -d runs/$id &&
	tally delete -y --force "$id" >/dev/null &&
	! test -e runs/$id &&
	grep -q "\"status\": \"terminated\"" runs/.archive/$id/.tally/run.json
'

test_expect_success 'the index needs no rebuild: a fresh index agrees with the kept one' '
	ids | sort >kept &&
	tally reindex >/dev/null &&
	ids | sort >fresh &&
	test_cmp kept fresh &&
	ids --archived | sort >kept &&
	tally reindex --runs-dir runs/.archive >/dev/null &&
	ids --archived | sort >fresh &&
	test_cmp kept fresh
'

test_expect_success 'restore and purge on an empty archive say so' '
	mkdir empty-archive && cd empty-archive && echo "echo hi" >s.sh &&
	tally run -q s.sh >/dev/null 2>&1 &&
	test_expect_code 128 tally restore -y 1 2>err && grep -q "the archive is empty" err &&
	! grep -q "tally run SCRIPT" err &&
	test_expect_code 128 tally purge -y abc 2>err && grep -q "the archive is empty" err
'

test_done

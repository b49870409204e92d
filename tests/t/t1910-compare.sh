#!/usr/bin/env bash
# tally compare: runs side by side, the rows that differ, transposed for many
# runs, csv and json, colour only on a terminal (and never with NO_COLOR).
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: runs that differ in a flag and a scalar' '
	cat >train.sh <<-\SH &&
	#| flags:
	#|   lr: {type: float, default: 0.1}
	#|   units: {type: int, default: 64}
	echo "loss: $FLAG_LR"
	echo "loss: 0.05"
	echo "acc: 0.9"
	SH
	tally run -q train.sh lr=0.3 2>/dev/null &&
	tally run -q train.sh lr=0.2 -t best 2>/dev/null
'

# The random part of a run's id, as tables show it.
short_id() { tally lookup "$1" id | sed "s/.*Z-//"; }

test_expect_success 'the latest two, the older left; only what differs (and status, start)' '
	tally compare >out &&
	head -n 1 out | grep -q "^ *$(short_id 2)  *$(short_id 1)\$" &&
	tally compare --completed >q && head -n 1 q | grep -q "^ *$(short_id 2)  *$(short_id 1)\$" &&
	tally compare --completed --sort -started >q && head -n 1 q | grep -q "^ *$(short_id 1)  *$(short_id 2)\$" &&
	grep -q "^   status  *completed  *completed\$" out &&
	grep -q "^\*  lr  *0.3  *0.2\$" out &&
	grep -q "^\*  tags  *-  *best\$" out &&
	! grep -q "units" out && ! grep -q "script" out && ! grep -q "acc" out &&
	! grep -q "loss" out
'

test_expect_success '--all-rows shows the same values too; --summary the scalars'"'"' summaries' '
	tally compare 1 2 --all-rows >out &&
	grep -q "^   units  *64  *64\$" out && grep -q "^   script  *train.sh  *train.sh\$" out &&
	grep -q "^   acc  *0.9  *0.9\$" out && grep -q "^   loss  *0.05  *0.05\$" out &&
	tally compare --summary >out &&
	grep -q "^\*  first(loss)  *0.3  *0.2\$" out && grep -q "^\*  max(loss)  *0.3  *0.2\$" out &&
	! grep -q "count(loss)" out
'

test_expect_success 'exit 1 when flags and scalars are the same' '
	tally run -q train.sh lr=0.2 2>/dev/null &&
	test_expect_code 1 tally compare 2 1 >out &&
	! grep -q "^\*  lr" out && grep -q "^\*  tags  *best  *-\$" out &&
	tally compare 3 1 >/dev/null
'

test_expect_success 'csv and json carry every shown row with exact values' '
	tally compare 3 2 --format csv >out.csv &&
	head -n 1 out.csv | grep -q "^section,field,$(tally lookup 3 id),$(tally lookup 2 id)\$" &&
	grep -q "^flag,lr,0.3,0.2\$" out.csv &&
	tally compare 3 2 --format json >out.json &&
	"$PYTHON" -c "
import json
d = json.load(open(\"out.json\"))
rows = {r[\"name\"]: r for r in d[\"rows\"]}
assert rows[\"lr\"][\"values\"] == [0.3, 0.2] and rows[\"lr\"][\"differs\"], rows[\"lr\"]
assert rows[\"lr\"][\"section\"] == \"flag\"
assert \"units\" not in rows
assert len(d[\"runs\"]) == 2
"
'

test_expect_success 'five runs or more: one row per run' '
	for lr in 0.4 0.5; do tally run -q train.sh lr=$lr 2>/dev/null || return 1; done &&
	tally compare 1:5 >out &&
	head -n 1 out | grep -q "^RUN  *status  *started .* lr\$" &&
	test "$(wc -l <out)" = 6 &&
	tally compare 1 2 --transpose >out && test "$(wc -l <out)" = 3
'

test_expect_success 'colour on a terminal only, and not with NO_COLOR' '
	script -qec "tally compare" /dev/null >tty.out &&
	grep -q "$(printf "\033\\[1;33m")" tty.out &&
	NO_COLOR=1 script -qec "tally compare" /dev/null >tty.out &&
	! grep -q "$(printf "\033")" tty.out &&
	tally compare >out && ! grep -q "$(printf "\033")" out
'

test_expect_success 'scalars are shown to 6 significant digits, kept exact in csv; sources: 1 file' '
	mkdir digits && cd digits &&
	echo "echo \"loss: \$FLAG_X\"" >d.sh &&
	tally run -q --force-flags d.sh x=0.123456789 2>/dev/null &&
	tally run -q --force-flags d.sh x=0.30000000001 2>/dev/null &&
	tally compare >out && cat out &&
	grep -q "^\*  loss  *0.123457  *0.3$" out &&
	tally compare --format csv >out.csv && grep -q "^scalar,loss,0.123456789,0.30000000001$" out.csv &&
	tally compare --summary >out && grep -q "avg(loss)  *0.123457  *0.3$" out &&
	# on a terminal the best value of a scalar (a loss: the smallest) is in green
	script -qec "tally compare" /dev/null >tty.out &&
	grep -q "$(printf "\033\\[1;32m")0.123457" tty.out && ! grep -q "$(printf "\033\\[1;32m")0.3" tty.out &&
	tally show >out && grep -q "^sources:     1 file, digest" out &&
	tally report -o r.html 1 2 >/dev/null && grep -q "<span title=\"0.123456789\">0.123457</span>" r.html
'

# The runs' directories as tally runs lists them (newest first), copied out of
# the runs directory: a run named by a path outside it is read from there,
# never from the index, so its table is the directories' own.
copied_runs() {
	rm -rf copy && cp -a runs copy && rm -rf copy/.index &&
	tally runs -a --format csv | "$PYTHON" -c "
import csv, os, sys
print(\" \".join(\"copy/\" + os.path.basename(r[\"dir\"]) for r in csv.DictReader(sys.stdin)))"
}

test_expect_success 'setup: odd runs — an error, odd flags, no scalars, non-finite values, no scalars.json' '
	cat >odd.sh <<-\SH &&
	echo "loss: $FLAG_LOSS"
	echo "big: inf"
	[ "$FLAG_NAME" = fail ] && exit 3
	exit 0
	SH
	tally run -q --force-flags odd.sh loss=nan name="a, \"quoted\" wörd" 2>/dev/null &&
	test_expect_code 3 tally run -q --force-flags odd.sh loss=-inf name=fail on=true 2>/dev/null &&
	tally run -q --force-flags odd.sh loss=1e-300 name=x list="[1, 2.5, \"z\"]" 2>/dev/null &&
	echo "echo no scalars" >none.sh && tally run -q none.sh 2>/dev/null &&
	tally run -q --name gone train.sh lr=0.7 2>/dev/null &&
	rm runs/$(basename "$(tally lookup gone dir)")/.tally/scalars.json &&
	tally reindex >/dev/null
'

test_expect_success 'the index gives the table the run directories give' '
	paths=$(copied_runs) && n=$(echo $paths | wc -w) && test "$n" -ge 10 &&
	k=0 &&
	for f in "-a --summary --sys --format json" "-a --summary --format csv" "--transpose" "-a"; do
		k=$((k + 1)) &&
		{ tally compare 1:$n $f >index-$k.out; echo "exit $?" >>index-$k.out; } &&
		{ tally compare $paths $f >dirs-$k.out; echo "exit $?" >>dirs-$k.out; } &&
		test_cmp index-$k.out dirs-$k.out || return 1
	done &&
	grep -q "\"nan\"" index-1.out && grep -q "\"-inf\"" index-1.out && grep -q "\"error\"" index-1.out &&
	grep -q "wörd" index-1.out && grep -q "2.5" index-1.out
'

test_expect_success 'rows the index has not caught up with are read from the directories' '
	export TALLY_VERIFY_INTERVAL=1000000 &&
	tally runs >/dev/null &&
	# run.json edited by hand, in place: no directory changes
	edited=$(tally lookup --where "lr = 0.5" id) &&
	meta=runs/$edited/.tally/run.json && test -f runs/$edited/.tally/scalars.json &&
	"$PYTHON" -c "
import json, sys
m = json.load(open(sys.argv[1])); m[\"label\"] = \"by hand\"; m[\"flags\"][\"loss\"] = 42
open(sys.argv[1], \"r+\").write(json.dumps(m, indent=2))" "$meta" &&
	# a run without scalars.json whose scalars.log changed: its summary is the log'"'"'s
	cp "runs/$(basename "$(tally lookup --where "lr = 0.4" dir)")/.tally/scalars.log" \
		"runs/$(basename "$(tally lookup gone dir)")/.tally/scalars.log" &&
	tally compare $edited gone -a --summary >out &&
	grep -q "^\*  label  *by hand  *lr=0.7\$" out && grep -q "^\*  loss  *42  *-\$" out &&
	grep -q "^\*  first(loss)  *0.5  *0.4\$" out &&
	paths=$(copied_runs) &&
	tally compare 1:$(echo $paths | wc -w) -a --summary --format json >index.out &&
	tally compare $paths -a --summary --format json >dirs.out &&
	test_cmp index.out dirs.out
'

test_expect_success 'a run.json whose fields have odd types reads as from its directory' '
	meta=runs/$(tally lookup --where "lr = 0.4" id)/.tally/run.json &&
	"$PYTHON" -c "
import json, sys
m = json.load(open(sys.argv[1]))
m[\"label\"] = 7; m[\"started_ms\"] = float(m[\"started_ms\"]); m[\"exit_status\"] = True; m[\"script\"] = [\"x\"]
json.dump(m, open(sys.argv[1], \"w\"), indent=2)" "$meta" &&
	tally reindex >/dev/null &&
	paths=$(copied_runs) &&
	for f in "-a --format json" "-a --transpose"; do
		tally compare 1:$(echo $paths | wc -w) $f >index.out &&
		tally compare $paths $f >dirs.out &&
		test_cmp index.out dirs.out || return 1
	done
'

test_expect_success 'a running run: its status and its latest summary' '
	mkfifo gate1 gate2 &&
	export GATE1="$PWD/gate1" GATE2="$PWD/gate2" &&
	cat >live.sh <<-\SH &&
	echo "loss: 0.5"
	read -r line <"$GATE1"
	echo "loss: 0.25"
	read -r line <"$GATE2"
	SH
	(tally run -q live.sh >/dev/null 2>&1 &) &&
	summary_min() { tally scalars 1 --summary 2>/dev/null | grep -q "^[^ ]*  loss .*  $1  "; } &&
	wait_until summary_min 0.5 &&
	tally runs >/dev/null &&
	echo go >gate1 &&
	wait_until summary_min 0.25 &&
	tally compare 2 1 -a --summary >out;
	echo go >gate2 &&
	ended() { ! tally runs -n 1 | grep -q running; } &&
	wait_until ended &&
	grep -q "^.  status  *[a-z]*  *running\$" out && grep -q "^\*  min(loss)  *[-0-9.]*  *0.25\$" out
'

test_expect_success 'bad requests' '
	test_expect_code 128 tally compare 1 2>err && grep -q "two runs or more" err &&
	test_expect_code 128 tally compare 1 nosuch 2>err &&
	# the first reference that fails is the one named, a path as any other
	test_expect_code 128 tally compare 1 no/such nosuch 2>err && grep -q "^tally: '"'"'no/such'"'"' is not a run directory" err &&
	test_expect_code 128 tally compare 1 nosuch no/such 2>err && grep -q "^tally: no run matches '"'"'nosuch'"'"'" err &&
	test_expect_code 129 tally compare --format xml 2>err &&
	test_expect_code 129 tally compare --bogus 2>err
'

test_done

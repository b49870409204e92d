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

test_expect_success 'bad requests' '
	test_expect_code 128 tally compare 1 2>err && grep -q "two runs or more" err &&
	test_expect_code 128 tally compare 1 nosuch 2>err &&
	test_expect_code 129 tally compare --format xml 2>err &&
	test_expect_code 129 tally compare --bogus 2>err
'

test_done

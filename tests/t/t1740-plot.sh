#!/usr/bin/env bash
# `tally plot`: the chart's shape and labels, braille and --ascii, several
# runs, downsampling that keeps spikes, non-finite values, flat series and
# single points, and errors.
. "$(dirname "$0")/test-lib.sh"

# The plot cells of the first N lines of a chart: what follows the y axis
# (`|` in --ascii mode, `┤`/`│` in braille), one line each.
plot_cells() {
	head -n "$1" | sed "s/^[^|┤│]*[|┤│]//"
}

test_expect_success 'setup: a decreasing and an increasing series' '
	cat >down.sh <<-\SH &&
	for step in $(seq 1 50); do
	    echo "loss: $((1000 - 10 * step)) (step $step)"
	    echo "acc: 0.$step (step $step)"
	done
	SH
	cat >up.sh <<-\SH &&
	for step in $(seq 1 40); do
	    echo "loss: $((200 + 5 * step)) (step $step)"
	done
	SH
	tally run -q down.sh >/dev/null 2>&1 &&
	show_field "[\"id\"]" >id.down &&
	tally run -q up.sh >/dev/null 2>&1 &&
	show_field "[\"id\"]" >id.up &&
	test "$(run_count)" = 2
'

test_expect_success 'the requested height, then the x axis, its steps and a legend line' '
	tally plot "$(cat id.down)" loss --width 60 --height 12 >out &&
	test "$(wc -l <out)" = $((12 + 2 + 1)) &&
	head -n 1 out | grep -q "^ *990 ┤" &&
	sed -n 12p out | grep -q "^ *500 ┤" &&
	sed -n 13p out | grep -q "^ *└─*$" &&
	sed -n 14p out | grep -q "^ *1 *50$" &&
	sed -n 15p out | grep -q "^  ⣿ $(cat id.down)  loss  (50 points)$" &&
	"$PYTHON" -c "
lines = open(\"out\", encoding=\"utf-8\").read().splitlines()
assert max(len(l) for l in lines[:14]) == 60, [len(l) for l in lines]
axis = lines[0].index(\"┤\")
assert all(l[axis] in \"┤│└\" for l in lines[:13]), lines
assert len(lines[12]) == 60   # the x axis spans the whole width
assert lines[13].index(\"1\") == axis + 1 and len(lines[13]) == 60   # steps under the ends
"
'

test_expect_success 'defaults when not a terminal: 80 columns, 20 rows, the latest run, no colour' '
	tally plot loss >out &&
	test "$(wc -l <out)" = 23 &&
	head -n 1 out | grep -q "^ *400 ┤" &&
	sed -n 20p out | grep -q "^ *205 ┤" &&
	sed -n 22p out | grep -q "^ *1 *40$" &&
	grep -q "$(cat id.up)" out &&
	! grep -q "$(printf "\\033")" out &&
	"$PYTHON" -c "
lines = open(\"out\", encoding=\"utf-8\").read().splitlines()
assert len(lines[20]) == 80, len(lines[20])
"
'

test_expect_success '--ascii with two runs: a marker for each, the union of their ranges' '
	tally plot "$(cat id.up)" "$(cat id.down)" loss --ascii --width 60 --height 10 >out &&
	test "$(wc -l <out)" = $((10 + 2 + 2)) &&
	head -n 1 out | grep -q "^ *990 |" &&
	sed -n 10p out | grep -q "^ *205 |" &&
	sed -n 11p out | grep -q "^ *+-*$" &&
	sed -n 12p out | grep -q "^ *1 *50$" &&
	sed -n 13p out | grep -q "^  \\* $(cat id.up)  loss  (40 points)$" &&
	sed -n 14p out | grep -q "^  + $(cat id.down)  loss  (50 points)$" &&
	plot_cells 10 <out >cells &&
	grep -q "[*]" cells &&
	grep -q "+" cells &&
	! grep -q "[^ *+]" cells
'

test_expect_success 'a decreasing series: its first column is drawn above its last' '
	tally plot "$(cat id.down)" loss --ascii --width 50 --height 10 >ascii &&
	plot_cells 10 <ascii >ascii.cells &&
	tally plot "$(cat id.down)" loss --width 50 --height 10 >braille &&
	plot_cells 10 <braille >braille.cells &&
	for f in ascii.cells braille.cells; do
		"$PYTHON" - "$f" <<-\PY || return 1
		import sys
		rows = open(sys.argv[1], encoding="utf-8").read().splitlines()
		width = max(len(r) for r in rows)
		def marked(col):
		    return [i for i, r in enumerate(rows) if len(r) > col and r[col] != " "]
		first, last = marked(0), marked(width - 1)
		assert first and last, (first, last)
		assert max(first) < min(last), (first, last)
		assert 0 in first and len(rows) - 1 in last, (first, last)
		PY
	done
'

test_expect_success 'a 200,000-point run plots, and a one-point spike reaches the top row' '
	cat >long.sh <<-\SH &&
	for ((i = 0; i < 200000; i++)); do
	    if ((i == 100000)); then
	        echo "loss: 50 (step $i)"
	    else
	        echo "loss: 1.$((i % 7)) (step $i)"
	    fi
	done
	SH
	tally run -q long.sh >/dev/null 2>&1 &&
	tally plot loss --ascii --width 80 --height 10 >out &&
	test "$(wc -l <out)" = 13 &&
	head -n 1 out | grep -q "^ *50 |" &&
	sed -n 10p out | grep -q "^ *1 |" &&
	sed -n 12p out | grep -q "^ *0 *199999$" &&
	grep -q "  (200000 points)$" out &&
	plot_cells 10 <out >cells &&
	"$PYTHON" -c "
rows = open(\"cells\").read().splitlines()
top = [i for i, c in enumerate(rows[0]) if c != \" \"]
width = len(rows[-1])
assert rows[-1] == \"*\" * width, rows[-1]                    # the rest, along the bottom
assert len(top) == 1 and 0.45 < top[0] / width < 0.55, top   # the spike, in the middle
" &&
	tally plot loss --width 80 --height 10 >braille &&
	plot_cells 1 <braille | grep -q "[^ ]"
'

test_expect_success 'nan and inf are skipped; a flat series is a line, a single point a dot' '
	cat >odd.sh <<-\SH &&
	for step in 1 2 3 4 5; do echo "flat: 2 (step $step)"; done
	echo "flat: nan (step 6)"
	echo "flat: inf (step 7)"
	echo "one: 0.5 (step 3)"
	echo "bad: nan"
	SH
	tally run -q odd.sh >/dev/null 2>&1 &&
	tally plot flat --ascii --width 30 --height 5 >out &&
	plot_cells 5 <out >cells &&
	printf "\\n\\n%s\\n\\n\\n" "***************************" >expect &&
	test_cmp expect cells &&
	sed -n 3p out | grep -q "^2 |" &&
	sed -n 7p out | grep -q "^   1 *5$" &&
	grep -q "(5 points, 2 not finite, skipped)$" out &&
	tally plot one --ascii --width 30 --height 5 >out &&
	plot_cells 5 <out | tr -d " \\n" >dot &&
	printf "*" >expect &&
	test_cmp expect dot &&
	sed -n 3p out | grep -q "^0.5 |" &&
	sed -n 7p out | grep -q "^     3$" &&
	test_expect_code 128 tally plot bad >out 2>err &&
	grep -q "^tally: scalar .bad. has no finite values" err &&
	test ! -s out
'

test_expect_success 'a run without the tag, an unknown run or a bad option is an error, with nothing drawn' '
	test_expect_code 128 tally plot "$(cat id.down)" "$(cat id.up)" acc >out 2>err &&
	test ! -s out &&
	grep -qxF "tally: run $(cat id.up) has no scalar '\''acc'\'' — see \`tally scalars --summary $(cat id.up)\`" err &&
	test_expect_code 128 tally plot 42 loss >out 2>err &&
	test ! -s out && grep -q "^tally: there is no run 42" err &&
	test_expect_code 129 tally plot --bogus loss >out 2>err &&
	test ! -s out && grep -q "^tally: unknown option .--bogus." err && grep -q "^usage: tally plot" err &&
	test_expect_code 129 tally plot loss --width abc >out 2>err &&
	test ! -s out && grep -q "^tally: --width needs a whole number" err &&
	test_expect_code 129 tally plot loss --height 0 >out 2>err &&
	test ! -s out &&
	test_expect_code 129 tally plot loss --width >out 2>err &&
	test ! -s out && grep -q "needs a value" err &&
	test_expect_code 129 tally plot >out 2>err &&
	test ! -s out && grep -q "name a TAG" err
'

test_expect_success '--runs-dir, --help and `tally help`' '
	mkdir elsewhere &&
	(cd elsewhere && tally plot --runs-dir ../runs "$(cat ../id.up)" loss --height 4 >../out) &&
	test "$(wc -l <out)" = 7 &&
	tally plot --help >help &&
	grep -q "^usage: tally plot \\[RUN…\\] TAG" help &&
	tally help | grep -q "^  plot  *chart a scalar over steps in the terminal$"
'

test_done

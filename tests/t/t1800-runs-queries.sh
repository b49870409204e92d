#!/usr/bin/env bash
# `tally runs --where EXPR --sort KEYS` and the shorthand filters: every
# operator, names of attributes, flags and scalars, aggregates, dates,
# missing values, tfruns' names, precedence, and syntax errors with columns.
. "$(dirname "$0")/test-lib.sh"

# labels WHERE [SORT] [more options]: the labels of the matching runs, in order, on one line
labels() {
	local where=$1 sort=${2:-}
	shift 2 2>/dev/null || shift $#
	if [ -n "$sort" ]; then
		tally runs --where "$where" --sort "$sort" --format json "$@"
	else
		tally runs --where "$where" --format json "$@"
	fi | "$PYTHON" -c "import json,sys; print(' '.join(r['label'] or '-' for r in json.load(sys.stdin)))"
}

test_expect_success 'setup: five runs with flags, scalars, a tag and an error' '
	cat >train.sh <<-\SH &&
	# flags arrive as --NAME VALUE; scalars are printed
	while [ $# -gt 0 ]; do eval "$(echo "$1" | tr -d -)=\$2"; shift 2; done
	for step in 1 2 3; do echo "loss: $(awk -v a="$loss0" -v s=$step "BEGIN { printf \"%.6g\", a / s }") (step $step)"; done
	[ -n "$acc" ] && echo "val_acc: $acc"
	[ -n "$test" ] && echo "test_acc: $test"
	exit "${code:-0}"
	SH
	tally run -q --label r1 train.sh lr=0.1 units=64 opt=adam loss0=0.9 acc=0.91 >/dev/null 2>&1 &&
	tally run -q --label r2 train.sh lr=0.01 units=128 opt=sgd loss0=0.6 acc=0.95 test=0.93 >/dev/null 2>&1 &&
	tally run -q --label r3 train.sh lr=0.001 units=256 opt=adam loss0=0.3 acc=0.99 test=0.97 >/dev/null 2>&1 &&
	{ tally run -q --label r4 train.sh lr=0.1 units=32 opt=sgd loss0=2.0 acc=0.5 code=1 >/dev/null 2>&1; test $? = 1; } &&
	tally run -q --label "baseline r5" --tag best train.sh lr=0.05 units=64 opt=adam loss0=1.2 >/dev/null 2>&1 &&
	test "$(run_count)" = 5
'

test_expect_success 'comparisons on scalars and flags' '
	test "$(labels "val_acc > 0.9")" = "r3 r2 r1" &&
	test "$(labels "val_acc >= 0.95")" = "r3 r2" &&
	test "$(labels "val_acc = 0.91")" = "r1" &&
	test "$(labels "val_acc == 0.91")" = "r1" &&
	test "$(labels "val_acc != 0.91")" = "r4 r3 r2" &&
	test "$(labels "lr < 0.05")" = "r3 r2" &&
	test "$(labels "units <= 64")" = "baseline r5 r4 r1" &&
	test "$(labels "opt = adam")" = "baseline r5 r3 r1" &&
	test "$(labels "opt = '"'"'sgd'"'"'")" = "r4 r2" &&
	test "$(labels "flag.lr = 0.1")" = "r4 r1" &&
	test "$(labels "scalar.val_acc < 0.6")" = "r4"
'

test_expect_success 'a name no run has, or a status that does not exist, is warned about with the nearest' '
	tally runs --where "vall_acc > 0.5" >out 2>err &&
	grep -q "^tally: warning: no run has a flag or scalar .vall_acc. (missing in every run) — did you mean val_acc?$" err &&
	grep -q "No run matches" err &&
	tally runs --where "status = failed" >out 2>err &&
	grep -q "^tally: warning: .failed. is not a status (running, completed, error, terminated, pruned, pending, queued) — did you mean error?$" err &&
	tally runs --where "status != complete" >out 2>err && grep -q "did you mean completed?" err &&
	tally runs --where "stauts = error" >out 2>err && grep -q "did you mean status?" err &&
	tally runs --where "unit = 64" >out 2>err && grep -q "did you mean units?" err &&
	tally runs --sort -val_accc >out 2>err && grep -q "did you mean val_acc?" err &&
	tally runs --where "zzzz > 1" >out 2>err && grep -q "no run has a flag or scalar .zzzz. (missing in every run)$" err &&
	# names some run has, statuses that exist, tfruns names: no warning
	tally runs --where "test_acc > 0.9 and status = error or status = completed and eval_acc > 0 and flag_lr > 0" >out 2>err &&
	test ! -s err &&
	tally runs --where "status = runing" --format csv >out 2>err && grep -q "did you mean running?" err
'

test_expect_success 'and, or, not, parentheses and precedence' '
	test "$(labels "opt = adam and lr < 0.05")" = "r3" &&
	test "$(labels "opt = sgd or val_acc > 0.98")" = "r4 r3 r2" &&
	# and binds tighter than or
	test "$(labels "lr = 0.1 or opt = adam and units = 256")" = "r4 r3 r1" &&
	test "$(labels "(lr = 0.1 or opt = adam) and units = 64")" = "baseline r5 r1" &&
	test "$(labels "not opt = adam")" = "r4 r2" &&
	test "$(labels "not not opt = adam")" = "baseline r5 r3 r1"
'

test_expect_success 'missing values: a comparison is false, not makes it true, is missing finds them' '
	test "$(labels "not val_acc > 0.9")" = "baseline r5 r4" &&
	test "$(labels "val_acc is missing")" = "baseline r5" &&
	test "$(labels "val_acc is not missing")" = "r4 r3 r2 r1" &&
	test "$(labels "nosuchname > 0")" = "" &&
	test "$(labels "nosuchname is missing")" = "baseline r5 r4 r3 r2 r1"
'

test_expect_success 'in, not in, contains, regular expressions, tags' '
	test "$(labels "units in [32, 256]")" = "r4 r3" &&
	test "$(labels "opt not in [adam]")" = "r4 r2" &&
	test "$(labels "units in []")" = "" &&
	test "$(labels "label contains base")" = "baseline r5" &&
	test "$(labels "label ~ '"'"'^r[12]$'"'"'")" = "r2 r1" &&
	test "$(labels "tags contains best")" = "baseline r5" &&
	test "$(labels "not tags contains best")" = "r4 r3 r2 r1" &&
	test "$(labels "tags is missing")" = "r4 r3 r2 r1" &&
	test "$(labels "tags ~ '"'"'^be'"'"'")" = "baseline r5"
'

test_expect_success 'attributes: status, exit_status, script, duration, id, started' '
	test "$(labels "status = error")" = "r4" &&
	test "$(labels "status = completed and exit_status = 0")" = "baseline r5 r3 r2 r1" &&
	test "$(labels "exit_status != 0")" = "r4" &&
	test "$(labels "script = train.sh and duration >= 0")" = "baseline r5 r4 r3 r2 r1" &&
	test "$(labels "duration > 3600")" = "" &&
	id=$(show_field "[\"id\"]" 3) &&
	test "$(labels "id = $id")" = "r3" &&
	test "$(labels "started > '"'"'last hour'"'"'")" = "baseline r5 r4 r3 r2 r1" &&
	test "$(labels "started > today or started > yesterday")" = "baseline r5 r4 r3 r2 r1" &&
	test "$(labels "started < 2001-01-01")" = "" &&
	test "$(labels "started > '"'"'2001-01-01T10:00'"'"' and stopped < '"'"'1 minute ago'"'"'")" = "" &&
	test "$(labels "attr.status = error")" = "r4"
'

test_expect_success 'aggregates of scalars' '
	test "$(labels "min(loss) < 0.2")" = "r3" &&
	test "$(labels "max(loss) >= 1.2")" = "baseline r5 r4" &&
	test "$(labels "first(loss) = 0.6")" = "r2" &&
	test "$(labels "last(loss) = 0.1")" = "r3" &&
	test "$(labels "count(loss) = 3 and count(val_acc) = 1")" = "r4 r3 r2 r1" &&
	test "$(labels "avg(loss) > 1")" = "r4"
'

test_expect_success '--sort: keys, descending, missing values last, ties newest first' '
	test "$(labels "lr > 0" -val_acc)" = "r3 r2 r1 r4 baseline r5" &&
	test "$(labels "lr > 0" val_acc)" = "r4 r1 r2 r3 baseline r5" &&
	test "$(labels "lr > 0" "opt,-units")" = "r3 baseline r5 r1 r2 r4" &&
	test "$(labels "lr > 0" "-min(loss)")" = "r4 baseline r5 r1 r2 r3" &&
	tally runs --sort -val_acc -n 2 --format csv | cut -d, -f8 >top &&
	printf "label\nr3\nr2\n" >expect &&
	test_cmp expect top
'

test_expect_success 'a top N walks an index but gives what the whole sorted list begins with' '
	for sort in -val_acc val_acc -lr lr,-val_acc -units,val_acc -opt,-lr opt,lr -nosuch,lr \
		"-val_acc,min(loss)"; do
		for where in "" "--where=lr<0.1" "--completed" "--where=val_acc>0.5" "--tag=best"; do
			tally runs --sort "$sort" $where --format csv | cut -d, -f1 >all &&
			tally runs --sort "$sort" $where -n 2 --format csv | cut -d, -f1 >top &&
			head -n 3 all >want &&
			test_cmp want top || { echo "sort $sort $where" >&2; return 1; }
		done
	done
'

test_expect_success 'tfruns: ls_runs(eval_acc > 0.95, order = eval_acc) and flag_/metric_ names' '
	test "$(labels "eval_acc > 0.95" eval_acc)" = "r3" &&
	test "$(labels "eval_acc > 0.9" -eval_acc)" = "r3 r2" &&
	test "$(labels "flag_units = 64" metric_val_acc)" = "r1 baseline r5"
'

test_expect_success 'shorthand filters combine with each other and with --where' '
	tally runs --error --format csv | tail -n +2 | wc -l >n && test "$(cat n)" = 1 &&
	tally runs --completed --error --format csv | tail -n +2 | wc -l >n && test "$(cat n)" = 5 &&
	tally runs --running --format csv | tail -n +2 | wc -l >n && test "$(cat n)" = 0 &&
	test "$(labels "lr > 0" "" --tag best)" = "baseline r5" &&
	test "$(labels "opt = adam" "" --label r)" = "baseline r5 r3 r1" &&
	test "$(labels "units > 0" "" --label "r1" --completed)" = "r1" &&
	test "$(labels "lr > 0" "" --script train.sh --started "last hour")" = "baseline r5 r4 r3 r2 r1" &&
	test "$(labels "lr > 0" "" --script other.sh)" = "" &&
	id=$(show_field "[\"id\"]" 2) &&
	suffix=${id##*-} &&
	test "$(labels "lr > 0" "" --pattern "$suffix\$")" = "r4" &&
	{ tally runs --label "it'"'"'s \"odd\" text" 2>err; test $? = 128; } &&
	grep -q "holds both" err
'

test_expect_success 'the table says when nothing matches; values never become SQL' '
	tally runs --where "val_acc > 2" >out 2>err &&
	test ! -s out &&
	grep -q "No run matches" err &&
	test "$(labels "label = \"x'"'"' or '"'"'1'"'"'='"'"'1\"")" = "" &&
	test "$(labels "label = '"'"'r1); DROP TABLE runs; --'"'"'")" = "" &&
	test "$(run_count)" = 5 &&
	test "$(tally runs --format csv | tail -n +2 | wc -l)" = 5
'

# err_at EXPR COLUMN MESSAGE: the --where error names the column and says what went wrong
err_at() {
	{ tally runs --where "$1" >out 2>err; test $? = 128; } &&
	test ! -s out &&
	test "$(wc -l <err)" = 1 &&
	grep -q "^tally: --where '.*': .*$3.* at column $2 — " err || { cat err >&2; return 1; }
}

test_expect_success 'syntax errors point at their column' '
	err_at "val_acc >" 10 "expected a name or a value, found the end" &&
	err_at "(val_acc > 1" 13 "expected .)." &&
	err_at "val_acc > 1)" 12 "expected .and., .or. or the end, found .)." &&
	err_at "val_acc > 1 lr" 13 "expected .and., .or. or the end" &&
	err_at "label = '"'"'open" 9 "unterminated string" &&
	err_at "median(loss) > 1" 1 "unknown function .median." &&
	err_at "attr.nope = 1" 1 ".nope. is not a run attribute" &&
	err_at "started > someday" 11 ".someday. is not a date" &&
	err_at "label ~ '"'"'[a'"'"'" 1 "bad regular expression" &&
	err_at "label ~ 3" 1 "takes a regular expression in quotes" &&
	err_at "x ! 1" 3 "must be .!=." &&
	err_at "x = 1 and" 10 "found the end" &&
	err_at "units in [1, min(loss)]" 14 "a list holds values" &&
	err_at "tags = best" 1 "tags are tested with .contains." &&
	err_at "" 1 "the expression is empty" &&
	err_at "@" 1 "unexpected .@." &&
	{ tally runs --sort "-" 2>err; test $? = 128; } &&
	grep -q "^tally: --sort" err &&
	{ tally runs --sort "lr,,units" 2>err; test $? = 128; } &&
	{ tally runs --sort "'"'"'text'"'"'" 2>err; test $? = 128; } &&
	grep -q "a sort key is a run attribute, a flag or a scalar" err
'

test_expect_success 'a pruned run (stopped early by a sweep): --pruned, status = pruned, not an error' '
	tally run -q --label r6 train.sh lr=0.2 units=16 opt=sgd loss0=0.8 acc=0.7 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]" 1) &&
	"$PYTHON" - "$dir/.tally/run.json" <<-\PY &&
	import json, sys
	p = sys.argv[1]
	m = json.load(open(p))
	m["status"] = "pruned"
	m["exit_status"] = None
	m["signal"] = 15
	m["stop_reason"] = "pruned by the median rule at step 2: loss 0.4 is worse than the median 0.3 of 3 completed trials"
	json.dump(m, open(p, "w"))
	PY
	tally reindex >/dev/null &&
	test "$(labels "status = pruned")" = "r6" &&
	test "$(labels "lr > 0" "" --pruned)" = "r6" &&
	test "$(labels "lr > 0" "" --pruned --error)" = "r6 r4" &&
	test "$(labels "lr > 0" "" --completed)" = "baseline r5 r3 r2 r1" &&
	test "$(labels "status in [error, terminated]")" = "r4" &&
	tally runs --pruned >out 2>err && test ! -s err && grep -q "pruned" out &&
	tally runs --where "status = pruned" >out 2>err && test ! -s err &&
	tally runs --where "status = early_stopped" >out 2>err &&
	grep -q "^tally: warning: .early_stopped. is not a status (.*pruned.*) — did you mean pruned?$" err &&
	test "$(show_field "[\"status\"]" 1)" = pruned &&
	tally show 1 >show.txt && grep -q "pruned by the median rule" show.txt
'

test_done

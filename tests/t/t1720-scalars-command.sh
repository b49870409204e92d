#!/usr/bin/env bash
# `tally scalars`: every point in long format (table, csv, json), tag globs,
# several runs, per-tag summaries, and bad arguments.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: two runs with scalars' '
	cat >train.sh <<-\SH &&
	for step in 1 2 3; do
	    echo "loss: 0.$((10 - step)) (step $step)"
	    echo "val/acc: 0.$((5 + step)) (step $step)"
	done
	echo "weird: nan"
	SH
	tally run -q train.sh >/dev/null 2>&1 &&
	sed -i "s/0\\.\$((10/0.\$((20/" train.sh &&
	tally run -q train.sh >/dev/null 2>&1 &&
	test "$(run_count)" = 2
'

test_expect_success 'csv: one row per point, exact values, UTC times' '
	tally scalars --format csv >out.csv &&
	head -n 1 out.csv >header &&
	echo "run,tag,step,value,time" >expect &&
	test_cmp expect header &&
	id=$(show_field "[\"id\"]") &&
	grep -c "^$id," out.csv >n && test "$(cat n)" = 7 &&
	grep -q "^$id,loss,1,0.19,20[0-9-]*T[0-9:.]*Z$" out.csv &&
	grep -q "^$id,val/acc,3,0.8,.*Z$" out.csv &&
	grep -q "^$id,weird,3,nan," out.csv
'

test_expect_success 'json: an array of points, non-finite values as strings' '
	tally scalars 1 2 --format json >out.json &&
	"$PYTHON" -c "
import json, sys
rows = json.load(open(\"out.json\"))
assert len(rows) == 14, len(rows)
assert {r[\"run\"] for r in rows} == {sys.argv[1], sys.argv[2]}
loss = [(r[\"step\"], r[\"value\"]) for r in rows if r[\"run\"] == sys.argv[2] and r[\"tag\"] == \"loss\"]
assert loss == [(1, 0.9), (2, 0.8), (3, 0.7)], loss
assert [r[\"value\"] for r in rows if r[\"tag\"] == \"weird\"] == [\"nan\", \"nan\"]
" "$(show_field "[\"id\"]" 1)" "$(show_field "[\"id\"]" 2)"
'

test_expect_success '--tag globs select tags (`*` crosses /), repeatable' '
	tally scalars -f csv --tag "val*" >v.csv &&
	test "$(grep -c ",val/acc," v.csv)" = 3 &&
	! grep -q ",loss," v.csv &&
	tally scalars -f csv -t "*acc" -t weird >w.csv &&
	test "$(tail -n +2 w.csv | wc -l)" = 4 &&
	tally scalars -f csv -t nothing >none.csv &&
	test "$(wc -l <none.csv)" = 1
'

test_expect_success 'table: aligned columns with a header' '
	tally scalars >table &&
	head -n 1 table | grep -q "^RUN  *TAG  *STEP  VALUE  *TIME$" &&
	test "$(wc -l <table)" = 8 &&
	"$PYTHON" -c "
import re
lines = open(\"table\").read().splitlines()
ends = {re.match(r\"^\\S+\\s+\\S+\\s+\\S+\", l).end() for l in lines}
assert len(ends) == 1, ends   # the step column is right-aligned under STEP
"
'

test_expect_success '--summary: count, first, last, min and max with steps, avg per tag' '
	tally scalars --summary --format csv >s.csv &&
	grep -q "^run,tag,count,first,last,last_step,min,min_step,max,max_step,avg$" s.csv &&
	grep -q "^[^,]*,loss,3,0.19,0.17,3,0.17,3,0.19,1,0.18$" s.csv &&
	grep -q "^[^,]*,weird,1,nan,nan,3," s.csv &&
	tally scalars --summary >s.txt &&
	head -n 1 s.txt | grep -q "COUNT  FIRST" &&
	tally scalars --summary -f json -t loss >s.json &&
	"$PYTHON" -c "
import json
rows = json.load(open(\"s.json\"))
assert len(rows) == 1 and rows[0][\"avg\"] == 0.18 and rows[0][\"max_step\"] == 1, rows
"
'

test_expect_success 'tally runs --format tfruns: eval_ and metric_ columns like ls_runs()' '
	cat >keras_like.sh <<-\SH &&
	for e in 1 2 3; do
	    echo "Epoch $e/3"
	    for b in 1 2 3 4; do echo "loss: 0.$((9 - e))"; done
	    echo "val_acc: 0.$((5 + e))"
	done
	echo "test_loss: 0.12"
	echo "test_acc: 0.97"
	echo "lr_final: 0.001"
	SH
	tally run -q keras_like.sh >/dev/null 2>&1 &&
	tally runs -n 1 --format tfruns >tf.csv &&
	"$PYTHON" -c "
import csv
rows = list(csv.DictReader(open(\"tf.csv\")))
r = rows[0]
assert list(r)[0] == \"run_dir\" and list(r)[1:3] == [\"eval_loss\", \"eval_acc\"], list(r)
assert r[\"eval_loss\"] == \"0.12\" and r[\"eval_acc\"] == \"0.97\", r
assert r[\"metric_loss\"] == \"0.6\" and r[\"metric_val_acc\"] == \"0.8\", r
assert r[\"metric_lr_final\"] == \"0.001\" and \"eval_lr_final\" not in r, r
assert r[\"epochs_completed\"] == \"3\" and r[\"completed\"] == \"TRUE\", r
assert r[\"script\"] == \"keras_like.sh\" and r[\"run_dir\"].endswith(r[\"id\"]), r
assert not any(k.startswith(\"metric_sys/\") for k in r), r
"
'

test_expect_success 'every printed value comes back exactly, whatever its digits' '
	cat >values.py <<-\PY &&
	import random, struct
	random.seed(7)
	for step in range(3000):
	    kind = step % 6
	    if kind == 0:
	        v = round(random.random(), 4)                                   # "loss: 0.3124"
	    elif kind == 1:
	        v = random.random() * 10 ** random.randint(-30, 30)              # a full double
	    elif kind == 2:
	        v = struct.unpack("f", struct.pack("f", random.random()))[0]     # a float32 metric
	    elif kind == 3:
	        v = -random.randint(0, 10 ** 15) / 10 ** random.randint(0, 15)
	    elif kind == 4:
	        v = random.choice([0.0, -0.0, 1e300, -5e-324, 123456789012345678.0])
	    else:
	        v = float(step)
	    print("tag%d: %r (step %d)" % (kind, v, step * 1000003))
	PY
	tally run values.py >out &&
	tally scalars --format json >points.json &&
	dir=$(show_field "[\"dir\"]") &&
	PYTHONPATH="$TEST_DIRECTORY" "$PYTHON" -c "
import json
want = {}
for line in open(\"out\"):
    if line.startswith(\"tag\"):
        tag, rest = line.split(\": \")
        value, step = rest.split(\" (step \")
        want[(tag, int(step.rstrip(\")\n\")))] = float(value)
got = {(p[\"tag\"], p[\"step\"]): p[\"value\"] for p in json.load(open(\"points.json\"))}
assert len(got) == len(want) == 3000, (len(got), len(want))
assert all(got[k] == v for k, v in want.items())
# bit for bit (the sign of a zero too), by the independent reader of the log
import scalarlog, struct, sys
logged = {(t, s): v for t, s, v in scalarlog.points(sys.argv[1] + \"/.tally/scalars.log\")}
bits = lambda v: struct.pack(\"<d\", v)
assert all(bits(logged[k]) == bits(v) for k, v in want.items())
" "$dir" &&
	test $(stat -c %s "$dir/.tally/scalars.log") -lt $((3000 * 14))   # format 1: 37 bytes a point
'

test_expect_success 'a run of format 1 (an older tally'"'"'s scalar log) reads the same' '
	id=$(show_field "[\"id\"]") && dir=$(show_field "[\"dir\"]") &&
	tally scalars "$id" --format csv >new.csv &&
	tally scalars "$id" --summary --format json >new-summary.json &&
	"$PYTHON" -c "
import struct, sys, zlib
sys.path.insert(0, sys.argv[2])
import scalarlog, tfevents
log = sys.argv[1] + \"/.tally/scalars.log\"
points = list(scalarlog.points(log))
times = []
# format 1: the same points as one P record each (docs/run-format.md); the times are kept from csv
import csv
rows = list(csv.DictReader(open(\"new.csv\")))
def record(body):
    return struct.pack(\"<II\", tfevents.crc32c(body), len(body)) + body
out, ids = [b\"TALLYSC1\"], {}
for (tag, step, value), row in zip(points, rows):
    if tag not in ids:
        ids[tag] = len(ids)
        out.append(record(b\"T\" + struct.pack(\"<I\", ids[tag]) + tag.encode()))
    out.append(record(b\"P\" + struct.pack(\"<Iqdq\", ids[tag], step, value, 0)))
open(log, \"wb\").write(b\"\".join(out))
" "$dir" "$TEST_DIRECTORY" &&
	test "$(head -c 8 "$dir/.tally/scalars.log")" = TALLYSC1 &&
	rm "$dir/.tally/scalars.json" &&
	tally reindex >/dev/null &&
	tally scalars "$id" --format json >old.json &&
	tally scalars "$id" --summary --format json >old-summary.json &&
	test_cmp new-summary.json old-summary.json &&
	"$PYTHON" -c "
import json
old, new = json.load(open(\"old.json\")), json.load(open(\"points.json\"))
strip = lambda ps: [(p[\"tag\"], p[\"step\"], p[\"value\"]) for p in ps]
assert strip(old) == strip([p for p in new if p[\"run\"] == old[0][\"run\"]])
"
'

test_expect_success 'a run without scalars lists nothing; a bad run or option is an error' '
	echo "echo hello" >quiet.sh &&
	tally run -q quiet.sh >/dev/null 2>&1 &&
	tally scalars -f json >empty.json &&
	echo "[]" >expect && test_cmp expect empty.json &&
	test_expect_code 128 tally scalars 42 >out 2>err &&
	grep -q "^tally: there is no run 42" err &&
	test ! -s out &&
	test_expect_code 129 tally scalars --format xml 2>err &&
	grep -q "unknown format .xml." err &&
	test_expect_code 129 tally scalars --bogus 2>err
'

test_done

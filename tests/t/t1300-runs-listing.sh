#!/usr/bin/env bash
# tally runs / show / reindex: listing formats (table, json, csv, tsv — and R
# reading the csv), picking a run by index, id prefix, suffix or directory,
# surviving corrupt metadata, an index that follows the run directories, and
# choosing another runs directory.
. "$(dirname "$0")/test-lib.sh"

cat >train.sh <<'SH'
echo "loss: $FLAG_LR"
echo "loss: $FLAG_LR (step 3)"
echo "acc: 0.5"
echo model >model.txt
mkdir -p plots && echo png >plots/curve.png
SH

LABEL1='first, "quoted" label'

# jcheck FILE PYTHON-CODE: run assertions over the JSON in FILE (as r).
jcheck() {
	"$PYTHON" -c "
import json, sys
r = json.load(open(sys.argv[1]))
$2
" "$1"
}

test_expect_success 'no runs yet: a hint on stderr, nothing on stdout, exit 0' '
	tally runs >out 2>err &&
	test ! -s out &&
	grep -q "No runs yet" err &&
	tally runs --format json >out.json 2>/dev/null &&
	jcheck out.json "assert r == [], r"
'

test_expect_success 'three runs with flags, labels, tags and comments' '
	tally run -q train.sh lr=0.1 epochs=10 opt=adam -l "$LABEL1" -t a -t b -c "note one" 2>/dev/null &&
	show_field "[\"id\"]" >id1 &&
	tally run -q train.sh lr=0.2 epochs=20 fast=true --label second --tag b 2>/dev/null &&
	show_field "[\"id\"]" >id2 &&
	tally run -q train.sh lr=0.3 epochs=30 --label third --comment "note three" 2>/dev/null &&
	show_field "[\"id\"]" >id3 &&
	test "$(run_count)" = 3 &&
	test "$(sort -u id1 id2 id3 | wc -l)" = 3
'

test_expect_success 'the table has a header and one row per run, newest first' '
	tally runs --full-ids >table &&
	cat table &&
	test "$(wc -l <table)" = 4 &&
	head -n1 table | grep -q "ID" &&
	head -n1 table | grep -q "STATUS" &&
	test "$(awk "NR==2 {print \$1, \$2}" table)" = "1 $(cat id3)" &&
	test "$(awk "NR==3 {print \$1, \$2}" table)" = "2 $(cat id2)" &&
	test "$(awk "NR==4 {print \$1, \$2}" table)" = "3 $(cat id1)" &&
	grep "$(cat id1)" table | grep -qF "$LABEL1" &&
	grep "$(cat id1)" table | grep -q "lr=0.1" &&
	grep "$(cat id2)" table | grep -q "fast=true" &&
	grep "$(cat id3)" table | grep -q "loss=0.3" &&
	test "$(grep -c completed table)" = 3
'

test_expect_success 'the table shows the random part of ids, which names the run; LABEL only when it says more than FLAGS' '
	tally runs >table &&
	short=$(awk "NR==2 {print \$2}" table) &&
	test "$short" = "$(cat id3 | sed "s/.*Z-//")" &&
	test "$(tally lookup "$short" id)" = "$(cat id3)" &&
	! grep -q "$(cat id3)" table &&
	mkdir autolabel && cd autolabel && cp ../train.sh . &&
	tally run -q train.sh lr=0.4 epochs=40 2>/dev/null &&
	tally run -q train.sh lr=0.5 epochs=40 -l mine 2>/dev/null &&
	tally runs >table &&
	cat table &&
	test "$(tally runs -n 1 -s started --format csv | "$PYTHON" -c "import csv,sys; print(next(csv.DictReader(sys.stdin))[\"label\"])")" = "epochs=40 lr=0.4" &&
	grep "lr=0.4" table >auto && test "$(grep -o "lr=0.4" auto | wc -l)" = 1 &&
	grep "lr=0.5" table | grep -q mine
'

test_expect_success 'at 100 columns LABEL and FLAGS are cut before the scalars' '
	mkdir narrow && cd narrow &&
	cat >fit.sh <<-\SH &&
	echo "loss: 0.2437"
	echo "val_loss: 0.2612"
	echo "val_acc: 0.9499"
	SH
	tally run -q --force-flags fit.sh learning_rate=0.2 batch_size=64 -l "a label long enough to crowd the table out" 2>/dev/null &&
	tally run -q --force-flags fit.sh learning_rate=0.1 batch_size=32 -l "another label that is just as long as it" 2>/dev/null &&
	script -qec "stty cols 100; tally runs" /dev/null >tty.out &&
	cat tty.out &&
	grep -q "loss=0.2437 val_loss=0.2612 val_acc=0.9499" tty.out &&
	! grep -q "a label long enough to crowd the table out" tty.out &&
	"$PYTHON" -c "import sys; w = max(len(l.rstrip(chr(13) + chr(10))) for l in open(sys.argv[1], encoding=\"utf-8\")); assert w <= 100, w" tty.out
'

test_expect_success '-n limits the rows to the newest' '
	tally runs -n 2 --full-ids >table &&
	test "$(wc -l <table)" = 3 &&
	test "$(awk "NR==2 {print \$2}" table)" = "$(cat id3)" &&
	test "$(awk "NR==3 {print \$2}" table)" = "$(cat id2)" &&
	tally runs --limit 1 --format json >one.json &&
	jcheck one.json "assert len(r) == 1 and r[0][\"id\"] == \"$(cat id3)\", r" &&
	tally runs -n 0 --format json >all.json &&
	jcheck all.json "assert len(r) == 3, r"
'

test_expect_success '--format json: typed flags, tags, labels and scalar summaries' '
	tally runs --format json >runs.json &&
	jcheck runs.json "
ids = [open(f).read().strip() for f in (\"id3\", \"id2\", \"id1\")]
assert [x[\"id\"] for x in r] == ids, [x[\"id\"] for x in r]
for x in r:
    for k in (\"id\", \"dir\", \"status\", \"started\", \"stopped\", \"exit_status\", \"label\", \"tags\", \"flags\", \"scalars\"):
        assert k in x, (k, x)
    assert x[\"status\"] == \"completed\" and x[\"exit_status\"] == 0, x
    assert x[\"dir\"].endswith(\"/runs/\" + x[\"id\"]), x[\"dir\"]
    assert x[\"started\"] <= x[\"stopped\"], x
    loss = x[\"scalars\"][\"loss\"]
    assert set(loss) >= {\"last\", \"last_step\", \"first\", \"min\", \"max\", \"avg\", \"count\"}, loss
    lr = x[\"flags\"][\"lr\"]
    assert loss[\"last\"] == lr and loss[\"first\"] == lr and loss[\"min\"] == lr and loss[\"max\"] == lr, loss
    assert loss[\"count\"] == 2 and loss[\"last_step\"] == 3, loss
    assert abs(loss[\"avg\"] - lr) < 1e-12, loss
    assert x[\"scalars\"][\"acc\"][\"last\"] == 0.5
r3, r2, r1 = r
assert r1[\"flags\"] == {\"lr\": 0.1, \"epochs\": 10, \"opt\": \"adam\"}, r1[\"flags\"]
assert type(r1[\"flags\"][\"epochs\"]) is int and type(r1[\"flags\"][\"lr\"]) is float
assert r2[\"flags\"] == {\"lr\": 0.2, \"epochs\": 20, \"fast\": True}, r2[\"flags\"]
assert r2[\"flags\"][\"fast\"] is True
assert r1[\"label\"] == \"first, \\\"quoted\\\" label\", r1[\"label\"]
assert r2[\"label\"] == \"second\" and r3[\"label\"] == \"third\"
assert r1[\"tags\"] == [\"a\", \"b\"] and r2[\"tags\"] == [\"b\"] and r3[\"tags\"] == [], (r1[\"tags\"], r2[\"tags\"], r3[\"tags\"])
"
'

test_expect_success 'comments are recorded with the run' '
	show_field "[\"comments\"][0][\"text\"]" 1 >c3 &&
	echo "note three" >expect && test_cmp expect c3 &&
	show_field "[\"comments\"][0][\"text\"]" 3 >c1 &&
	echo "note one" >expect && test_cmp expect c1
'

test_expect_success '--format csv: one column per attribute, flag and scalar' '
	tally runs --format csv >runs.csv &&
	"$PYTHON" - "$LABEL1" <<-\PY
	import csv, json, sys
	rows = list(csv.DictReader(open("runs.csv", newline="")))
	ids = [open(f).read().strip() for f in ("id3", "id2", "id1")]
	assert [x["id"] for x in rows] == ids, rows
	cols = rows[0].keys()
	for c in ("id", "status", "started", "stopped", "exit_status", "label",
	          "flag_lr", "flag_epochs", "flag_opt", "flag_fast",
	          "scalar_loss", "scalar_acc"):
	    assert c in cols, (c, list(cols))
	r3, r2, r1 = rows
	assert [x["flag_lr"] for x in rows] == ["0.3", "0.2", "0.1"], rows
	assert [x["flag_epochs"] for x in rows] == ["30", "20", "10"], rows
	assert [x["scalar_loss"] for x in rows] == ["0.3", "0.2", "0.1"], rows
	assert {x["status"] for x in rows} == {"completed"}
	assert r1["flag_opt"] == "adam" and r2["flag_opt"] == "" and r3["flag_opt"] == ""
	assert r2["flag_fast"] in ("TRUE", "true"), r2["flag_fast"]
	assert r1["flag_fast"] == ""
	assert r1["label"] == sys.argv[1], r1["label"]
	assert r2["label"] == "second"
	js = json.load(open("runs.json"))
	assert [x["started"] for x in rows] == [x["started"] for x in js]
	PY
'

test_expect_success '--format tsv: tab-separated, same columns' '
	tally runs --format tsv >runs.tsv &&
	test "$(wc -l <runs.tsv)" = 4 &&
	head -n1 runs.tsv | tr "\t" "\n" >cols &&
	grep -qx id cols && grep -qx status cols && grep -qx started cols &&
	grep -qx flag_lr cols && grep -qx scalar_loss cols &&
	"$PYTHON" - "$LABEL1" <<-\PY
	import csv, sys
	rows = list(csv.DictReader(open("runs.tsv", newline=""), delimiter="\t"))
	assert len(rows) == 3
	assert [x["flag_lr"] for x in rows] == ["0.3", "0.2", "0.1"], rows
	assert rows[2]["label"] == sys.argv[1], rows[2]["label"]
	csvrows = list(csv.DictReader(open("runs.csv", newline="")))
	assert rows == csvrows, (rows, csvrows)
	PY
'

if command -v Rscript >/dev/null 2>&1; then
test_expect_success 'R reads the csv listing' '
	Rscript -e "
d <- read.csv(pipe(\"tally runs --format csv\"), stringsAsFactors = FALSE)
stopifnot(nrow(d) == 3, \"flag_lr\" %in% names(d), \"scalar_loss\" %in% names(d))
stopifnot(isTRUE(all.equal(d\$flag_lr, c(0.3, 0.2, 0.1))))
stopifnot(is.numeric(d\$scalar_loss), d\$status == \"completed\")
stopifnot(d\$label[3] == \"first, \\\"quoted\\\" label\")
stopifnot(isTRUE(d\$flag_fast[2]))
" &&
	Rscript -e "
d <- read.delim(pipe(\"tally runs --format tsv\"), stringsAsFactors = FALSE)
stopifnot(nrow(d) == 3, d\$flag_epochs == c(30, 20, 10))
"
'
else
	test_count=$((test_count + 1))
	echo "ok $test_count - $TEST_NAME: R reads the csv listing # SKIP no Rscript"
fi

test_expect_success 'tally show picks a run by index, id prefix, suffix or directory' '
	id1=$(cat id1) id2=$(cat id2) id3=$(cat id3) &&
	tally show >out && grep -q "^id: *$id3$" out &&
	tally show 1 >out && grep -q "^id: *$id3$" out &&
	tally show 2 >out && grep -q "^id: *$id2$" out &&
	tally show 3 >out && grep -q "^id: *$id1$" out &&
	test "$(show_field "[\"id\"]" "${id2%??}")" = "$id2" &&
	test "$(show_field "[\"id\"]" "${id1##*-}")" = "$id1" &&
	suffix=${id3##*-} &&
	test "$(show_field "[\"id\"]" "${suffix%??}")" = "$id3" &&
	test "$(show_field "[\"id\"]" "runs/$id2")" = "$id2" &&
	test "$(show_field "[\"id\"]" "runs/$id2/")" = "$id2" &&
	test "$(show_field "[\"id\"]" "$PWD/runs/$id1")" = "$id1" &&
	# a number past the last run is tried as an id prefix: a year
	year=$(echo "$id1" | cut -c1-4) &&
	test_expect_code 128 tally show "$year" 2>err && grep -q "matches 3 runs" err &&
	test_expect_code 128 tally show 99 2>err && grep -q "there is no run 99" err
'

test_expect_success 'tally show of a run that does not exist fails with a message' '
	test_expect_code 128 tally show 99 >out 2>err &&
	test ! -s out &&
	test "$(grep -vc "^+" err)" = 1 &&
	grep -q "^tally: .*99" err &&
	test_expect_code 128 tally show no-such-run 2>err &&
	grep -q "^tally: .*no-such-run" err
'

test_expect_success 'an ambiguous prefix fails and lists the candidates' '
	prefix=$(cut -c1-5 id1) &&
	test "$(cut -c1-5 id3)" = "$prefix" &&
	test_expect_code 128 tally show "$prefix" >out 2>err &&
	test ! -s out &&
	grep -q "^tally: " err &&
	grep -q "$(cat id1)" err &&
	grep -q "$(cat id2)" err &&
	grep -q "$(cat id3)" err
'

test_expect_success 'tally show --format json lists the files the run wrote and the output tail' '
	tally show --format json >show.json &&
	jcheck show.json "
paths = sorted(f[\"path\"] for f in r[\"files\"])
assert \"model.txt\" in paths and \"plots/curve.png\" in paths, paths
assert \"train.sh\" not in paths, paths
assert not any(p.startswith(\".tally\") for p in paths), paths
size = {f[\"path\"]: f[\"size\"] for f in r[\"files\"]}
assert size[\"model.txt\"] == 6, size
assert r[\"output_tail\"] == \"loss: 0.3\nloss: 0.3 (step 3)\nacc: 0.5\n\", repr(r[\"output_tail\"])
assert r[\"id\"] == open(\"id3\").read().strip()
" &&
	tally show 2 >text &&
	grep -q "model.txt" text &&
	grep -q "loss: 0.2 (step 3)" text
'

test_expect_success 'tally reindex reports how many runs it indexed' '
	tally reindex >out 2>err &&
	grep -q "indexed 3 runs" out err &&
	tally runs --format json >r.json && jcheck r.json "assert len(r) == 3"
'

test_expect_success 'a deleted index is rebuilt: everything is still listed' '
	rm -rf runs/.index &&
	tally runs --format json >r.json &&
	jcheck r.json "assert len(r) == 3 and r[0][\"flags\"][\"lr\"] == 0.3, r" &&
	test -d runs/.index &&
	rm -rf runs/.index &&
	tally runs >table &&
	test "$(wc -l <table)" = 4
'

test_expect_success 'a run directory copied in by hand is listed; removed, it is gone' '
	tally runs --format json >before.json &&
	jcheck before.json "assert len(r) == 3" &&
	cp -r "runs/$(cat id1)" runs/copy-of-run &&
	tally runs --format json >after.json &&
	jcheck after.json "
assert len(r) == 4, [x[\"dir\"] for x in r]
dirs = [x[\"dir\"] for x in r]
assert any(d.endswith(\"/runs/copy-of-run\") for d in dirs), dirs
(c,) = [x for x in r if x[\"dir\"].endswith(\"/runs/copy-of-run\")]
assert c[\"flags\"][\"lr\"] == 0.1 and c[\"label\"] == \"first, \\\"quoted\\\" label\", c
" &&
	tally runs --full-ids >table && grep -q "copy-of-run\|$(cat id1)" table &&
	rm -rf runs/copy-of-run &&
	tally runs --format json >gone.json &&
	jcheck gone.json "assert len(r) == 3 and not any(x[\"dir\"].endswith(\"copy-of-run\") for x in r), r"
'

# In-place edits inside a run directory are found by the periodic full check
# (every $TALLY_VERIFY_INTERVAL seconds, default 60; 0 = on every listing) and
# whenever the runs directory itself changes.
test_expect_success 'an edited run.json is noticed without reindex' '
	mkdir edit && cd edit && cp ../train.sh . &&
	tally run -q train.sh lr=0.5 -l before 2>/dev/null &&
	tally runs --format json >r.json &&
	jcheck r.json "assert r[0][\"label\"] == \"before\"" &&
	f=$(ls -d runs/*/.tally/run.json) &&
	size=$(wc -c <"$f") &&
	sed -i "s/\"label\": \"before\"/\"label\": \"after!\"/" "$f" &&
	grep -q "\"after!\"" "$f" &&
	test "$(wc -c <"$f")" = "$size" &&
	TALLY_VERIFY_INTERVAL=0 tally runs --format json >r.json &&
	jcheck r.json "assert r[0][\"label\"] == \"after!\", r[0][\"label\"]" &&
	"$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1])); d[\"label\"] = \"third label\"; d[\"tags\"] = [\"x\"]
json.dump(d, open(sys.argv[1], \"w\"), indent=2)
" "$f" &&
	TALLY_VERIFY_INTERVAL=0 tally runs --format json >r.json &&
	jcheck r.json "assert r[0][\"label\"] == \"third label\" and r[0][\"tags\"] == [\"x\"], r[0]" &&
	"$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1])); d[\"label\"] = \"fourth\"
json.dump(d, open(sys.argv[1], \"w\"), indent=2)
" "$f" &&
	sleep 1.2 &&
	TALLY_VERIFY_INTERVAL=1 tally runs --format json >r.json &&
	jcheck r.json "assert r[0][\"label\"] == \"fourth\", r[0][\"label\"]"
'

test_expect_success 'an edit is noticed as soon as the runs directory changes' '
	mkdir edit2 && cd edit2 && cp ../train.sh . &&
	tally run -q train.sh -l one 2>/dev/null &&
	tally runs --format json >r.json &&
	f=$(ls -d runs/*/.tally/run.json) &&
	sed -i "s/\"label\": \"one\"/\"label\": \"two\"/" "$f" &&
	mkdir runs/unrelated &&
	tally runs --format json >r.json &&
	jcheck r.json "assert r[0][\"label\"] == \"two\", r[0][\"label\"]"
'

# run_ids: the ids `tally runs` lists, newest first, on one line.
run_ids() {
	tally runs --format csv 2>/dev/null | "$PYTHON" -c "import csv,sys; print(\" \".join(x[\"id\"] for x in csv.DictReader(sys.stdin)))"
}

test_expect_success 'corrupt run metadata is reported and skipped, never fatal' '
	mkdir corrupt && cd corrupt && cp ../train.sh . &&
	for lr in 1 2 3 4; do tally run -q train.sh lr=$lr 2>/dev/null || exit 1; done &&
	ids=$(run_ids) && echo "$ids" >../corrupt-ids &&
	set -- $ids && test $# = 4 &&
	good1=$1 good2=$2 garbage=$3 half=$4 &&
	echo "this is not json {{{" >"runs/$garbage/.tally/run.json" &&
	f="runs/$half/.tally/run.json" &&
	size=$(wc -c <"$f") &&
	truncate -s $((size / 2)) "$f" &&
	mkdir runs/not-a-run && echo hi >runs/not-a-run/notes.txt &&
	tally runs --full-ids >out 2>err &&
	cat out err &&
	test "$(wc -l <out)" = 3 &&
	grep -q "$good1" out && grep -q "$good2" out &&
	! grep -q "$garbage" out && ! grep -q "$half" out &&
	grep -q "^tally: warning: skipped .*$garbage: " err &&
	grep -q "^tally: warning: skipped .*$half: " err &&
	test "$(wc -l <err)" = 2 &&
	! grep -q "not-a-run" err
'

test_expect_success 'with the index rebuilt, corrupt runs are skipped with a warning each' '
	cd corrupt && set -- $(cat ../corrupt-ids) &&
	good1=$1 good2=$2 garbage=$3 half=$4 &&
	rm -rf runs/.index &&
	tally runs --full-ids >out 2>err &&
	cat out err &&
	test "$(wc -l <out)" = 3 &&
	grep -q "$good1" out && grep -q "$good2" out &&
	! grep -q "$garbage" out && ! grep -q "$half" out &&
	grep -q "^tally: warning: skipped .*$garbage: " err &&
	grep -q "^tally: warning: skipped .*$half: " err &&
	test "$(wc -l <err)" = 2 &&
	! grep -q "not-a-run" err &&
	tally runs --format json >r.json 2>err2 &&
	jcheck r.json "assert [x[\"id\"] for x in r] == [\"$good1\", \"$good2\"], r" &&
	test "$(grep -c "^tally: warning: skipped" err2)" = 2 &&
	tally runs --format csv >r.csv 2>/dev/null &&
	test "$(wc -l <r.csv)" = 3 &&
	tally reindex >out 2>err &&
	grep -q "indexed 2 runs" out &&
	grep -q "^tally: warning: skipped .*$garbage: " err &&
	grep -q "^tally: warning: skipped .*$half: " err &&
	test "$(show_field "[\"id\"]" "$good2")" = "$good2" &&
	test "$(show_field "[\"id\"]" 1)" = "$good1" &&
	test_expect_code 128 tally show "runs/$garbage" >out 2>err &&
	test ! -s out &&
	grep -q "^tally: .*run.json" err
'

test_expect_success 'a corrupt scalars.json does not hide the run' '
	cd corrupt && set -- $(cat ../corrupt-ids) &&
	f="runs/$2/.tally/scalars.json" &&
	size=$(wc -c <"$f") &&
	truncate -s $((size / 2)) "$f" &&
	rm -rf runs/.index &&
	tally runs --format json >r.json 2>err &&
	jcheck r.json "assert [x[\"id\"] for x in r] == [\"$1\", \"$2\"] and r[1][\"status\"] == \"completed\", r" &&
	tally show "$2" >out &&
	grep -q "^id: *$2$" out
'

test_expect_success 'empty and binary run.json are skipped too; removing a run drops it' '
	cd corrupt && set -- $(cat ../corrupt-ids) &&
	good1=$1 good2=$2 &&
	: >"runs/$good1/.tally/run.json" &&
	rm -rf runs/.index &&
	tally runs --format json >r.json 2>err &&
	jcheck r.json "assert [x[\"id\"] for x in r] == [\"$good2\"], r" &&
	grep -q "^tally: warning: skipped .*$good1: " err &&
	head -c 3000 /dev/urandom >"runs/$good1/.tally/run.json" &&
	rm -rf runs/.index &&
	tally runs --format json >r.json 2>err &&
	jcheck r.json "assert [x[\"id\"] for x in r] == [\"$good2\"], r" &&
	grep -q "^tally: warning: skipped .*$good1: " err &&
	rm -rf "runs/$good2" &&
	tally runs --format json >r.json 2>err &&
	jcheck r.json "assert r == [], r"
'

test_expect_success '--runs-dir selects another runs directory, before or after the command' '
	mkdir elsewhere && cd elsewhere && cp ../train.sh . &&
	tally --runs-dir other run -q train.sh lr=0.7 2>/dev/null &&
	test ! -e runs &&
	test "$(run_count other)" = 1 &&
	tally runs >out 2>err &&
	test ! -s out && grep -q "No runs yet" err &&
	tally --runs-dir other runs --format json >a.json &&
	jcheck a.json "assert len(r) == 1 and r[0][\"flags\"][\"lr\"] == 0.7 and \"/other/\" in r[0][\"dir\"], r" &&
	tally runs --runs-dir other --format json >b.json &&
	jcheck b.json "assert len(r) == 1 and r[0][\"flags\"][\"lr\"] == 0.7, r" &&
	tally runs --runs-dir "$PWD/other" --format json >c.json &&
	jcheck c.json "assert len(r) == 1, r" &&
	tally show --runs-dir other --format json >s.json &&
	jcheck s.json "assert r[\"flags\"][\"lr\"] == 0.7, r" &&
	tally reindex --runs-dir other >out &&
	grep -q "indexed 1 run" out
'

test_expect_success 'TALLY_RUNS_DIR selects the runs directory; --runs-dir wins over it' '
	mkdir envdir && cd envdir && cp ../train.sh . &&
	TALLY_RUNS_DIR=viaenv tally run -q train.sh lr=0.8 2>/dev/null &&
	test ! -e runs && test "$(run_count viaenv)" = 1 &&
	TALLY_RUNS_DIR=viaenv tally runs --format json >a.json &&
	jcheck a.json "assert len(r) == 1 and r[0][\"flags\"][\"lr\"] == 0.8, r" &&
	tally --runs-dir viaflag run -q train.sh lr=0.9 2>/dev/null &&
	TALLY_RUNS_DIR=viaenv tally --runs-dir viaflag runs --format json >b.json &&
	jcheck b.json "assert len(r) == 1 and r[0][\"flags\"][\"lr\"] == 0.9, r"
'

test_expect_success 'runs-dir: in tally.yml selects the runs directory; the environment wins over it' '
	mkdir ymldir && cd ymldir && cp ../train.sh . &&
	echo "runs-dir: other" >tally.yml &&
	tally run -q train.sh lr=1.5 2>/dev/null &&
	test ! -e runs && test "$(run_count other)" = 1 &&
	tally runs --format json >a.json &&
	jcheck a.json "assert len(r) == 1 and r[0][\"flags\"][\"lr\"] == 1.5 and \"/other/\" in r[0][\"dir\"], r" &&
	tally show >out && grep -q "/other/" out &&
	TALLY_RUNS_DIR=viaenv tally run -q train.sh lr=2.5 2>/dev/null &&
	test "$(run_count viaenv)" = 1 && test "$(run_count other)" = 1 &&
	TALLY_RUNS_DIR=viaenv tally runs --format json >b.json &&
	jcheck b.json "assert len(r) == 1 and r[0][\"flags\"][\"lr\"] == 2.5, r"
'

test_expect_success 'on a terminal the table fits its width; piped it is never cut' '
	mkdir wide && cd wide && cp ../train.sh . &&
	tally run -q train.sh lr=0.123456789 a_long_flag_name=some-long-value -l "a rather long label for a run" 2>/dev/null &&
	script -qec "stty cols 100; tally runs" /dev/null >tty.txt &&
	"$PYTHON" -c "
import sys
lines = [l for l in open(sys.argv[1], encoding=\"utf-8\").read().replace(\"\\r\", \"\").split(\"\\n\") if l]
assert len(lines) == 2, lines
assert all(len(l) <= 100 for l in lines), [len(l) for l in lines]
assert \"…\" in lines[1], lines[1]
" tty.txt &&
	tally runs >piped.txt &&
	grep -q "a_long_flag_name=some-long-value" piped.txt &&
	grep -q "a rather long label for a run" piped.txt
'

# aligned FILE: no cell runs into the next column: two blanks precede
# every column's start in every row, as in the header.
aligned() {
	"$PYTHON" -c "
import re, sys
lines = open(sys.argv[1], encoding=\"utf-8\").read().splitlines()
starts = [m.start() for m in re.finditer(r\"(?<=  )\\S\", lines[0])]
for l in lines[1:]:
    for s in starts:
        assert len(l) <= s or l[s - 2:s] == \"  \", (s, l, lines[0])
" "$1"
}

test_expect_success 'a listing repeated after a wider run appears is measured again' '
	mkdir memo && cd memo && cp ../train.sh . &&
	tally run -q train.sh lr=1 2>/dev/null &&
	tally runs >one.txt && tally runs >again.txt && test_cmp one.txt again.txt &&
	aligned one.txt &&
	tally run -q train.sh lr=2 a_much_longer_flag=a-much-longer-value -l "now a label" 2>/dev/null &&
	tally runs >two.txt &&
	test "$(wc -l <two.txt)" -eq 3 &&
	aligned two.txt &&
	grep -q "a_much_longer_flag=a-much-longer-value" two.txt &&
	tally runs -n 1 >limited.txt && aligned limited.txt && test "$(wc -l <limited.txt)" -eq 2
'

test_expect_success 'TALLY_INDEX_DIR keeps the index outside the runs directory' '
	mkdir idx && cd idx && cp ../train.sh . &&
	tally run -q train.sh 2>/dev/null &&
	TALLY_INDEX_DIR="$PWD/cache" tally runs --format json >r.json &&
	jcheck r.json "assert len(r) == 1" &&
	ls cache/index-*.db >/dev/null &&
	TALLY_INDEX_DIR="$PWD/cache" tally reindex | grep -q "index: $PWD/cache/index-"
'

test_expect_success 'every command has help, through both spellings' '
	for c in run runs show flags reindex tune sweeps; do
		tally help $c >h1 && tally $c --help >h2 && test_cmp h1 h2 &&
		grep -q "^usage: tally $c" h1 || return 1
	done &&
	tally help >h && grep -q "TALLY_VERIFY_INTERVAL" h &&
	test_expect_code 128 tally help nosuch
'

test_done

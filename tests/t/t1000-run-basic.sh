#!/usr/bin/env bash
# tally run: a tracked shell script, its flags, output, artifacts and exit status.
. "$(dirname "$0")/test-lib.sh"

cat >train.sh <<'SH'
echo "args: $*"
echo "env lr: $FLAG_LR"
echo "run dir: $TALLY_RUN_DIR"
mkdir -p plots && echo png >plots/plot.png
echo model >model.rds
head -n1 data/train.csv
echo "loss: 0.5"
echo "loss: 0.25"
echo "oops" >&2
SH
mkdir data && echo "x,y" >data/train.csv && printf 'bin\000ary' >data/images.bin

test_expect_success 'a script runs as a tracked run' '
	tally run train.sh lr=0.05 epochs=20 name=adam >out 2>err &&
	grep -q "args: --lr 0.05 --epochs 20 --name adam" out &&
	grep -q "env lr: 0.05" out &&
	grep -q "^x,y$" out &&
	grep -q "^Run .* completed in" err &&
	test "$(run_count)" = 1
'

test_expect_success 'flags are recorded with their types' '
	tally show --format json >show.json &&
	"$PYTHON" - <<-PY
	import json
	d = json.load(open("show.json"))
	assert d["flags"] == {"lr": 0.05, "epochs": 20, "name": "adam"}, d["flags"]
	assert type(d["flags"]["epochs"]) is int
	assert d["status"] == "completed" and d["exit_status"] == 0
	assert d["script"] == "train.sh"
	assert d["command"][0] == "bash"
	PY
'

test_expect_success 'artifacts land in the run, not the project' '
	dir=$(show_field "[\"dir\"]") &&
	test -f "$dir/model.rds" && test -f "$dir/plots/plot.png" &&
	! test -e model.rds && ! test -e plots &&
	test -f "$dir/train.sh" && test -L "$dir/data/images.bin" &&
	test -f "$dir/data/train.csv" && ! test -L "$dir/data/train.csv"
'

test_expect_success 'scalars from output are summarized' '
	test "$(show_field "[\"scalars\"][\"loss\"][\"last\"]")" = 0.25 &&
	test "$(show_field "[\"scalars\"][\"loss\"][\"count\"]")" = 2 &&
	test "$(show_field "[\"scalars\"][\"loss\"][\"last_step\"]")" = 1
'

test_expect_success 'output is recorded byte for byte, stderr included' '
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^oops$" "$dir/.tally/output" &&
	grep -q "^args: --lr" "$dir/.tally/output" &&
	test -s "$dir/.tally/output.idx"
'

test_expect_success 'the exit status of the script is tally run'"'"'s' '
	printf "echo failing\nexit 3\n" >fail.sh &&
	test_expect_code 3 tally run fail.sh &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin)[0]; assert r[\"status\"]==\"error\" and r[\"exit_status\"]==3, r"
'

test_expect_success 'a missing script is an error and creates nothing' '
	before=$(run_count) &&
	test_expect_code 128 tally run nope.py 2>err &&
	grep -q "^tally: script .nope.py. not found" err &&
	test "$(run_count)" = "$before"
'

test_expect_success 'bad flag syntax is an error and creates nothing' '
	before=$(run_count) &&
	test_must_fail tally run train.sh 9x=1 2>err &&
	grep -q "invalid flag name" err &&
	test_must_fail tally run train.sh "lr=[[[0.2]]]" 2>err &&
	grep -q "holds a list" err &&
	test_must_fail tally run train.sh lr 2>err &&
	test "$(run_count)" = "$before"
'

test_expect_success 'unknown options are usage errors' '
	test_expect_code 129 tally run --bogus train.sh 2>err &&
	grep -q "usage: tally run" err &&
	test_expect_code 129 tally runs --format xml &&
	test_expect_code 129 tally nosuchcommand
'

test_expect_success 'a command after -- runs as given' '
	tally run -q lr=1 -- sh -c "echo \"got \$*\"" sh a b >out 2>&1 &&
	tally show --format json --tail 5 | grep -q "got a b --lr 1"
'

test_expect_success 'closed stdout and stderr never redirect output into the run files' '
	mkdir closed && cd closed &&
	printf "echo \"loss: 1\"\necho oops >&2\n" >c.sh &&
	tally run c.sh >&- 2>&- &&
	dir=$(ls -d runs/*) &&
	test ! -s "$dir/.tally/lock" &&
	test "$(head -c 8 "$dir/.tally/scalars.log")" = TALLYSC2 &&
	grep -q "^oops$" "$dir/.tally/output" &&
	test "$(show_field "[\"scalars\"][\"loss\"][\"count\"]")" = 1
'

test_expect_success 'an empty $PATH entry is the run directory, where execvp looks' '
	mkdir emptypath && cd emptypath &&
	printf "#!/bin/sh\necho mytool ran in \$(basename \$(dirname \$(pwd)))\n" >mytool && chmod +x mytool &&
	PATH=":$PATH" tally run -q -- mytool &&
	grep -q "^mytool ran in runs$" runs/*/.tally/output
'

test_expect_success 'a program given by a relative path runs from the run directory' '
	mkdir -p rel/bin rel/proj &&
	printf "#!/bin/sh\necho \"loss: 2\"\n" >rel/bin/ok.sh && chmod +x rel/bin/ok.sh &&
	cd rel/proj &&
	tally run -q -- ../bin/ok.sh 2>err &&
	grep -q "completed" err
'

test_expect_success 'a damaged index is rebuilt; an empty run reference is an error' '
	echo garbage >runs/.index/index.db &&
	rm -f runs/.index/index.db-wal runs/.index/index.db-shm &&
	test "$(tally runs --format json | "$PYTHON" -c "import json,sys; print(len(json.load(sys.stdin)))")" = "$(run_count)" &&
	test_expect_code 128 tally show "" 2>err &&
	grep -q "empty run reference" err
'

test_expect_success 'tally --version names the version and the commit it was built from' '
	tally --version >out &&
	grep -q "^tally [0-9][0-9.]* (commit [0-9a-f.][0-9a-z.-]*)$" out
'

test_expect_success '--id-file: the id of the run, also of a failing one; no file when nothing ran' '
	tally run -q --id-file id.txt train.sh lr=0.1 >/dev/null 2>&1 &&
	test "$(cat id.txt)" = "$(show_field "[\"id\"]")" &&
	printf "exit 3\n" >fails.sh &&
	test_expect_code 3 tally run -q --id-file id2.txt fails.sh 2>/dev/null &&
	test "$(cat id2.txt)" = "$(show_field "[\"id\"]")" &&
	test_expect_code 128 tally run -q --id-file id3.txt missing.sh 2>/dev/null &&
	test ! -e id3.txt &&
	test_expect_code 128 tally run -q --id-file no/such/dir/id train.sh 2>err &&
	grep -q "cannot write the id to .no/such/dir/id." err
'

test_expect_success '--check: exit 0 when the run would start, the error when not; nothing is made' '
	before=$(run_count) &&
	tally run --check train.sh lr=0.1 >out 2>err &&
	test ! -s out && test ! -s err &&
	test_expect_code 128 tally run --check missing.sh 2>err &&
	grep -q "missing.sh" err &&
	test "$(run_count)" = "$before"
'

test_done

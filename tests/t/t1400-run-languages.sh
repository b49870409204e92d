#!/usr/bin/env bash
# tally run with real training programs: the Python and R examples, the C
# example that links libtally, and how Python and R exit statuses come back.
. "$(dirname "$0")/test-lib.sh"

EXAMPLES=$TEST_DIRECTORY/../../examples
TRAIN_C=$(dirname "$TALLY")/examples/train_c

# Assert a Python expression over the newest run's `tally show --format json`
# (bound to d).
show_check() {
	tally show --format json | "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
assert eval(sys.argv[1]), sys.argv[1] + " is false for: " + json.dumps(d, indent=1)[:3000]' "$1"
}

# ---------------------------------------------------------------------------
# The Python example (NumPy + scikit-learn, via tally.yml's interpreter)

test_expect_success 'setup: the Python example and its tally.yml' '
	mkdir py && cp "$EXAMPLES/train.py" "$EXAMPLES/tally.yml" py/ &&
	grep -q "py: /usr/bin/python3" py/tally.yml &&
	/usr/bin/python3 -c "import numpy, sklearn"
'

test_expect_success 'the Python example trains and completes' '
	cd py &&
	tally run train.py epochs=3 learning_rate=0.1 >out 2>err &&
	grep -q "^Training finished in" out &&
	grep -q "^Run .* completed in" err &&
	test "$(run_count)" = 1 &&
	show_check "d[\"status\"] == \"completed\" and d[\"exit_status\"] == 0" &&
	show_check "d[\"command\"] == [\"/usr/bin/python3\", \"train.py\", \"--learning_rate\", \"0.1\", \"--epochs\", \"3\"]"
'

test_expect_success 'the Python example'"'"'s flags are recorded with their types' '
	cd py &&
	show_check "d[\"flags\"] == {\"epochs\": 3, \"learning_rate\": 0.1, \"batch_size\": 64, \"l2\": 1e-4, \"seed\": 1}" &&
	show_check "type(d[\"flags\"][\"epochs\"]) is int and type(d[\"flags\"][\"learning_rate\"]) is float" &&
	show_check "d[\"flag_types\"] == {\"epochs\": \"int\", \"learning_rate\": \"float\", \"batch_size\": \"int\",
	                                   \"l2\": \"float\", \"seed\": \"int\"}" &&
	show_check "d[\"flag_sources\"] == {\"epochs\": \"command line\", \"learning_rate\": \"command line\",
	                                     \"batch_size\": \"default\", \"l2\": \"default\", \"seed\": \"default\"}" &&
	show_check "d[\"label\"] == \"epochs=3 learning_rate=0.1\""
'

test_expect_success 'the Python example logs loss, val_loss and val_acc per epoch' '
	cd py &&
	for tag in loss val_loss val_acc; do
		show_check "d[\"scalars\"][\"$tag\"][\"count\"] == 3" &&
		show_check "d[\"scalars\"][\"$tag\"][\"first_step\"] == 1" &&
		show_check "d[\"scalars\"][\"$tag\"][\"last_step\"] == 3" &&
		test "$(scalar_points $tag | cut -d" " -f1 | tr "\n" " ")" = "1 2 3 " || return 1
	done &&
	show_check "d[\"scalars\"][\"val_acc\"][\"last\"] > 0.5" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] < d[\"scalars\"][\"loss\"][\"first\"]" &&
	show_check "set(k for k in d[\"scalars\"] if not k.startswith(\"sys/\")) == {\"loss\", \"val_loss\", \"val_acc\"}"
'

test_expect_success 'the Python example'"'"'s model and metrics land in the run' '
	cd py &&
	dir=$(show_field "[\"dir\"]") &&
	test -f "$dir/model.npz" && test -f "$dir/metrics.csv" &&
	! test -e model.npz && ! test -e metrics.csv &&
	show_check "sorted(f[\"path\"] for f in d[\"files\"]) == [\"metrics.csv\", \"model.npz\"]" &&
	/usr/bin/python3 - "$dir" <<-\PY
	import csv, json, os, sys
	import numpy as np
	d = sys.argv[1]
	m = np.load(os.path.join(d, "model.npz"))
	assert m["w"].shape == (64, 10) and m["b"].shape == (10,), (m["w"].shape, m["b"].shape)
	rows = list(csv.DictReader(open(os.path.join(d, "metrics.csv"))))
	assert [r["epoch"] for r in rows] == ["1", "2", "3"], rows
	s = json.load(open(os.path.join(d, ".tally/scalars.json")))
	for key in ("loss", "val_loss", "val_acc"):
	    assert abs(float(rows[-1][key]) - s[key]["last"]) < 1e-4, (key, rows[-1], s[key])
	    assert abs(float(rows[0][key]) - s[key]["first"]) < 1e-4, (key, rows[0], s[key])
	PY
'

test_expect_success 'Python output is unbuffered, so stdout and stderr keep their order' '
	cd py &&
	cat >order.py <<-\PY &&
	import os, sys, time
	print("unbuffered=" + os.environ.get("PYTHONUNBUFFERED", "unset"))
	for word in ("one", "two", "three", "four"):
	    time.sleep(0.1)
	    if word in ("two", "four"):
	        sys.stderr.write(word + "\n")
	    else:
	        print(word)
	PY
	tally run -q order.py &&
	dir=$(show_field "[\"dir\"]") &&
	printf "unbuffered=1\none\ntwo\nthree\nfour\n" >expect &&
	test_cmp expect "$dir/.tally/output"
'

# ---------------------------------------------------------------------------
# The R example (base R)

test_expect_success 'setup: the R example' '
	mkdir r && cp "$EXAMPLES/train.R" r/ &&
	command -v Rscript
'

test_expect_success 'the R example trains and completes' '
	cd r &&
	tally run train.R epochs=20 >out 2>err &&
	grep -q "^Training finished in" out &&
	show_check "d[\"status\"] == \"completed\" and d[\"exit_status\"] == 0" &&
	show_check "d[\"command\"] == [\"Rscript\", \"train.R\"]" &&
	show_check "d[\"flags\"] == {\"learning_rate\": 0.1, \"epochs\": 20}" &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^epochs <- 20$" "$dir/train.R" &&
	grep -q "^epochs <- 50$" train.R &&
	test "$(wc -l <"$dir/train.R")" = "$(wc -l <train.R)"
'

test_expect_success 'the R example logs loss and acc every 5 epochs' '
	cd r &&
	for tag in loss acc; do
		show_check "d[\"scalars\"][\"$tag\"][\"count\"] == 4" &&
		show_check "d[\"scalars\"][\"$tag\"][\"first_step\"] == 5" &&
		show_check "d[\"scalars\"][\"$tag\"][\"last_step\"] == 20" &&
		test "$(scalar_points $tag | cut -d" " -f1 | tr "\n" " ")" = "5 10 15 20 " || return 1
	done &&
	show_check "0.5 < d[\"scalars\"][\"acc\"][\"last\"] <= 1" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] < d[\"scalars\"][\"loss\"][\"first\"]" &&
	show_check "set(k for k in d[\"scalars\"] if not k.startswith(\"sys/\")) == {\"loss\", \"acc\"}"
'

test_expect_success 'the R example'"'"'s model lands in the run' '
	cd r &&
	dir=$(show_field "[\"dir\"]") &&
	test -f "$dir/model.rds" && test -f "$dir/coefficients.csv" &&
	! test -e model.rds &&
	Rscript -e "m <- readRDS(\"$dir/model.rds\"); stopifnot(length(m\$coefficients) == 3); cat(m\$features, sep = \"\\n\")" >features &&
	printf "Sepal.Width\nPetal.Width\n" >expect &&
	test_cmp expect features
'

test_expect_success 'an R script gets flags as arguments and FLAG_ variables' '
	cd r &&
	cat >flags.R <<-\R &&
	args <- commandArgs(trailingOnly = TRUE)
	cat("args:", args, "\n")
	cat("env:", Sys.getenv("FLAG_LEARNING_RATE"), "\n")
	cat("run dir ok:", normalizePath(getwd()) == normalizePath(Sys.getenv("TALLY_RUN_DIR")), "\n")
	R
	tally run flags.R learning_rate=0.25 name=iris >out &&
	grep -q "^args: --learning_rate 0.25 --name iris $" out &&
	grep -q "^env: 0.25 $" out &&
	grep -q "^run dir ok: TRUE $" out
'

# ---------------------------------------------------------------------------
# The C example: a program that tracks itself through libtally

test_expect_success 'setup: the C example is built' '
	test -x "$TRAIN_C"
'

test_expect_success 'the C example records a run in the runs directory it is given' '
	mkdir c && cd c &&
	"$TRAIN_C" runs >out 2>err &&
	test "$(wc -l <out)" = 1 &&
	id=$(cat out) &&
	echo "$id" | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}Z-[0-9a-z]{6}$" &&
	test -d "runs/$id/.tally" &&
	test "$(run_count)" = 1 &&
	tally runs --format json >runs.json &&
	"$PYTHON" - "$id" <<-\PY
	import json, sys
	runs = json.load(open("runs.json"))
	assert len(runs) == 1, runs
	r = runs[0]
	assert r["id"] == sys.argv[1], (r["id"], sys.argv[1])
	assert r["status"] == "completed" and r["exit_status"] == 0, r
	assert r["script"] == "train_c", r
	assert r["flags"] == {"lr": 0.1, "steps": 100}, r["flags"]
	assert type(r["flags"]["steps"]) is int, r["flags"]
	loss = r["scalars"]["loss"]
	assert loss["count"] == r["flags"]["steps"], loss
	assert loss["first_step"] == 1 and loss["last_step"] == r["flags"]["steps"], loss
	assert loss["last"] < loss["first"] and loss["last"] < 0.01, loss
	assert abs(r["scalars"]["w"]["last"] - 3) < 0.05, r["scalars"]["w"]
	assert abs(r["scalars"]["b"]["last"] - 2) < 0.05, r["scalars"]["b"]
	assert r["scalars"]["w"]["count"] == 1 and r["scalars"]["w"]["last_step"] == 100
	PY
'

test_expect_success 'the C example'"'"'s loss is logged at every step' '
	cd c &&
	scalar_points loss | cut -d" " -f1 >steps &&
	seq 1 100 >expect &&
	test_cmp expect steps
'

test_expect_success 'the C example finds the store the usual way without an argument' '
	mkdir c2 && cd c2 &&
	id=$("$TRAIN_C") &&
	test -d "runs/$id" &&
	mkdir yml && cd yml &&
	printf "runs-dir: myruns\n" >tally.yml &&
	id=$("$TRAIN_C") &&
	test -d "myruns/$id" && ! test -e runs &&
	id=$(TALLY_RUNS_DIR="$PWD/envruns" "$TRAIN_C") &&
	test -d "envruns/$id" &&
	test "$(run_count myruns)" = 1 &&
	tally runs --format json | grep -q "\"id\":\"$(ls myruns)\""
'

test_expect_success 'the C example fails cleanly when the store cannot be created' '
	mkdir c3 && cd c3 &&
	echo "not a directory" >afile &&
	test_expect_code 1 "$TRAIN_C" afile >out 2>err &&
	! test -s out &&
	grep -q "^train_c: .* failed: " err &&
	test_expect_code 2 "$TRAIN_C" a b 2>err &&
	grep -q "usage: " err
'

# ---------------------------------------------------------------------------
# Exit statuses from Python and R

test_expect_success 'a Python script'"'"'s sys.exit(2) is tally'"'"'s exit status' '
	mkdir exits && cd exits &&
	printf "import sys\nprint(\"loss: 0.7\")\nsys.exit(2)\n" >fail.py &&
	test_expect_code 2 tally run fail.py >out 2>err &&
	grep -q "^loss: 0.7$" out &&
	show_check "d[\"status\"] == \"error\" and d[\"exit_status\"] == 2 and d[\"signal\"] is None" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 0.7"
'

test_expect_success 'an uncaught Python exception is an error with its traceback recorded' '
	cd exits &&
	printf "raise ValueError(\"bad batch\")\n" >boom.py &&
	test_expect_code 1 tally run boom.py 2>err &&
	grep -q "^ValueError: bad batch" err &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^Traceback" "$dir/.tally/output" &&
	grep -q "^ValueError: bad batch$" "$dir/.tally/output" &&
	show_check "d[\"status\"] == \"error\" and d[\"exit_status\"] == 1"
'

test_expect_success 'an R script'"'"'s quit(status = 4) is tally'"'"'s exit status' '
	cd exits &&
	printf "cat(\"acc: 0.9\\\\n\")\nquit(status = 4)\n" >fail.R &&
	grep -q "acc: 0.9.n" fail.R &&
	test_expect_code 4 tally run fail.R >out 2>err &&
	grep -q "^acc: 0.9$" out &&
	show_check "d[\"status\"] == \"error\" and d[\"exit_status\"] == 4" &&
	show_check "d[\"scalars\"][\"acc\"][\"count\"] == 1"
'

test_expect_success 'an R error() exits 1 and its message is recorded' '
	cd exits &&
	printf "stop(\"diverged\")\n" >stop.R &&
	test_expect_code 1 tally run stop.R 2>err &&
	grep -q "diverged" err &&
	grep -q "diverged" "$(show_field "[\"dir\"]")/.tally/output" &&
	show_check "d[\"status\"] == \"error\" and d[\"exit_status\"] == 1"
'

test_done

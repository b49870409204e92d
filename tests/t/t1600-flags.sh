#!/usr/bin/env bash
# Flags: detected from R and Python scripts (globals, tfruns flags(), argparse,
# click, #| annotations, front matter), checked (types, min/max, choices,
# undeclared names) before any run exists, and delivered to unmodified
# scripts that print what they received — args, globals, flags files, env.
. "$(dirname "$0")/test-lib.sh"

# show_check PYTHON-EXPR: assert over the latest run's `tally show --format json` (as d).
show_check() {
	tally show --format json | "$PYTHON" -c "
import json, sys
d = json.load(sys.stdin)
assert $1, d
"
}

test_expect_success 'setup: R and Python scripts that print their flags' '
	cat >glob.py <<-\PY &&
	import sys
	#| description: learning rate
	#| min: 0
	#| max: 1
	lr = 0.01
	units: int = 64
	#| choices: [relu, tanh]
	act = "relu"
	fast = False
	note = "it'"'"'s # here"
	print("lr", repr(lr), "units", repr(units), "act", act, "fast", fast, "note", note)
	print("argv", sys.argv[1:])
	PY
	cat >glob.R <<-\R &&
	#| min: 16
	#| max: 256
	units <- 64
	activation <- "relu"
	learning_rate <- 1e-3   # written in exponent form
	verbose <- FALSE
	cat("units", units, class(units), "activation", activation, "lr", learning_rate, "verbose", verbose, "\n")
	cat("args", length(commandArgs(TRUE)), "\n")
	R
	cat >ap.py <<-\PY &&
	import argparse
	p = argparse.ArgumentParser()
	p.add_argument("--learning-rate", type=float, default=0.1, help="step size")
	p.add_argument("--units", type=int, default=32, choices=[32, 64, 128])
	p.add_argument("--shuffle", action="store_true")
	a = p.parse_args()
	print("lr", a.learning_rate, "units", a.units, "shuffle", a.shuffle)
	PY
	cat >tf.R <<-\R
	FLAGS <- flags(
	  flag_numeric("dropout", 0.4, "Dropout rate"),
	  flag_integer("units", 128),
	  flag_boolean("augment", FALSE)
	)
	R
'

test_expect_success 'tally flags lists what a script declares, annotations included' '
	tally flags glob.R >out &&
	grep -q "^Flags for glob.R (globals):" out &&
	grep -q "^  units  *64  *int  *\[16 .. 256\]$" out &&
	grep -q "^  activation  *\"relu\"  *string$" out &&
	grep -q "^  learning_rate  *1e-3  *float$" out &&
	tally flags glob.py >out &&
	grep -q "^  lr  *0.01  *float  *learning rate  \[0 .. 1\]$" out &&
	grep -q "^  act  *\"relu\"  *string  *one of relu, tanh$" out &&
	tally flags ap.py >out &&
	grep -q "^Flags for ap.py (argparse):" out &&
	grep -q "^  learning_rate  *0.1  *float  *step size$" out &&
	grep -q "^  shuffle  *false  *bool$" out &&
	tally flags tf.R >out &&
	grep -q "^Flags for tf.R (tfruns flags()):" out &&
	grep -q "^  dropout  *0.4  *float  *Dropout rate$" out &&
	tally flags --format json glob.py >out.json &&
	"$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1]))
names = [f[\"name\"] for f in d[\"flags\"]]
assert names == [\"lr\", \"units\", \"act\", \"fast\", \"note\"], names
assert d[\"dest\"] == \"globals\" and d[\"language\"] == \"Python\", d
" out.json
'

test_expect_success 'globals: the run copy gets the new literal, every other byte kept' '
	tally run -q glob.py lr=0.5 act=tanh fast=true note="a \"quoted\" value" >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	tally show --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"output_tail\"])" >tail &&
	grep -q "^lr 0.5 units 64 act tanh fast True note a \"quoted\" value$" tail &&
	grep -q "^argv \[\]$" tail &&
	sed -e "s/^lr = 0.01$/lr = 0.5/" -e "s/^act = \"relu\"$/act = \"tanh\"/" -e "s/^fast = False$/fast = True/" \
	    -e "s/^note = .*$/note = \"a \\\\\"quoted\\\\\" value\"/" glob.py >expected &&
	test_cmp expected "$dir/glob.py" &&
	grep -q "^lr = 0.01$" glob.py
'

test_expect_success 'globals in R: types kept (1e-3 float, 64 numeric), the project file untouched' '
	tally run -q glob.R units=128 learning_rate=0.05 verbose=true >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^units <- 128$" "$dir/glob.R" &&
	grep -q "^learning_rate <- 0.05   # written in exponent form$" "$dir/glob.R" &&
	grep -q "^verbose <- TRUE$" "$dir/glob.R" &&
	grep -q "^units <- 64$" glob.R &&
	grep -q "units 128 numeric activation relu lr 0.05 verbose TRUE" "$dir/.tally/output" &&
	grep -q "^args 0 $" "$dir/.tally/output" &&
	show_check "d[\"flags\"] == {\"units\": 128, \"activation\": \"relu\", \"learning_rate\": 0.05, \"verbose\": True}" &&
	show_check "d[\"flag_sources\"][\"units\"] == \"command line\" and d[\"flag_sources\"][\"activation\"] == \"default\""
'

test_expect_success 'args: argparse options get --option value, store_true appears only when true' '
	tally run -q ap.py learning_rate=0.3 shuffle=true >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^lr 0.3 units 32 shuffle True$" "$dir/.tally/output" &&
	show_check "d[\"command\"][2:] == [\"--learning-rate\", \"0.3\", \"--shuffle\"]" &&
	show_check "d[\"flags\"] == {\"learning_rate\": 0.3, \"units\": 32, \"shuffle\": True}" &&
	tally run -q ap.py units=64 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^lr 0.1 units 64 shuffle False$" "$dir/.tally/output"
'

test_expect_success 'tfruns scripts get --name=value, which flags() parses' '
	cat >tfargs.R <<-\R &&
	FLAGS <- flags(flag_numeric("dropout", 0.4), flag_integer("units", 128))
	R
	cat >tfargs-run.R <<-\R &&
	flags <- function(...) NULL
	source("tfargs.R")
	cat("args:", commandArgs(TRUE), "\n")
	R
	cat tfargs.R >>tfargs-run.R &&
	tally run -q tfargs-run.R dropout=0.2 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^args: --dropout=0.2 $" "$dir/.tally/output"
'

test_expect_success 'flags-dest files: yml, json, R and py are written into the run' '
	for ext in yml json R py; do
		cat >dest-$ext.py <<-PY &&
		#| flags-dest: conf/flags.$ext
		#| flags:
		#|   lr: 0.1
		#|   name: {default: mlp, type: string}
		#|   zero: {default: "007"}

		print("ok")
		PY
		tally run -q dest-$ext.py lr=0.25 name=yes >/dev/null 2>&1 &&
		dir=$(show_field "[\"dir\"]") &&
		test -f "$dir/conf/flags.$ext" || return 1
	done &&
	dir=$(tally show 4 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"dir\"])") &&
	"$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1] + \"/conf/flags.json\"))
assert d == {\"lr\": 0.25, \"name\": \"yes\", \"zero\": \"007\"}, d
" "$(tally show 3 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"dir\"])")" &&
	"$PYTHON" -c "
import sys
ns = {}
exec(open(sys.argv[1] + \"/conf/flags.py\").read(), ns)
assert (ns[\"lr\"], ns[\"name\"], ns[\"zero\"]) == (0.25, \"yes\", \"007\"), ns
" "$(show_field "[\"dir\"]")" &&
	Rscript -e "source(file.path(commandArgs(TRUE)[1], \"conf/flags.R\")); stopifnot(lr == 0.25, name == \"yes\", zero == \"007\")" \
		"$(tally show 2 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"dir\"])")" &&
	grep -q "^\"name\": \"yes\"$" "$dir/conf/flags.yml" &&
	grep -q "^\"zero\": \"007\"$" "$dir/conf/flags.yml"
'

test_expect_success 'every destination also sets FLAG_NAME' '
	cat >env.sh <<-\SH &&
	#| flags-dest: env
	#| flags:
	#|   learning-rate: 0.1
	echo "env $FLAG_LEARNING_RATE args $#"
	SH
	tally run -q env.sh learning-rate=0.7 >/dev/null 2>&1 &&
	grep -q "^env 0.7 args 0$" "$(show_field "[\"dir\"]")/.tally/output"
'

test_expect_success 'bad values are one-line errors naming the flag and where it is defined; no run is made' '
	before=$(run_count) &&
	{ tally run glob.R units=1000 2>err; test $? = 128; } &&
	test "$(cat err)" = "tally: flag units=1000 is above its maximum 256 (glob.R line 3)" &&
	test_expect_code 128 tally run glob.R units=8 2>err &&
	grep -q "below its minimum 16 (glob.R line 3)" err &&
	{ tally run glob.py act=sigmoid 2>err; test $? = 128; } &&
	test "$(cat err)" = "tally: flag act=sigmoid is not one of relu, tanh (glob.py line 8)" &&
	test_expect_code 128 tally run glob.py units=1.5 2>err &&
	grep -q "flag units=1.5 is not an int (glob.py line 6)" err &&
	test_expect_code 128 tally run glob.py lr=fast 2>err &&
	grep -q "flag lr=fast is not a float (glob.py line 5)" err &&
	test_expect_code 128 tally run glob.py fast=maybe 2>err &&
	grep -q "is not a boolean" err &&
	test_expect_code 128 tally run glob.py nosuch=1 2>err &&
	grep -q "glob.py has no flag .nosuch. — its flags are lr, units, act, fast, note; --force-flags passes it anyway" err &&
	test_expect_code 128 tally run ap.py units=48 2>err &&
	grep -q "not one of 32, 64, 128" err &&
	{ tally run glob.py "lr=[0.1,[0.2]]" 2>err; test $? = 128; } &&
	grep -q "flag lr=\[0.2\] takes one value, not a list" err &&
	test "$(wc -l <err)" = 1 &&
	test "$(run_count)" = "$before"
'

test_expect_success '--force-flags passes an undeclared flag on' '
	# argparse itself rejects the option it does not know: exit status 2, and the run records it
	test_expect_code 2 tally run -q --force-flags ap.py extra=5 2>/dev/null &&
	show_check "d[\"flags\"][\"extra\"] == 5 and \"--extra\" in d[\"command\"] and d[\"exit_status\"] == 2"
'

test_expect_success 'values are YAML scalars coerced to the flag type' '
	tally run -q glob.py lr=1e-1 units=1e2 note=on act="tanh" >/dev/null 2>&1 &&
	show_check "d[\"flags\"][\"lr\"] == 0.1 and d[\"flags\"][\"units\"] == 100 and type(d[\"flags\"][\"units\"]) is int" &&
	show_check "d[\"flags\"][\"note\"] == \"on\"" &&
	tally run -q glob.py note="\"007\"" fast=yes >/dev/null 2>&1 &&
	show_check "d[\"flags\"][\"note\"] == \"007\" and d[\"flags\"][\"fast\"] is True" &&
	tally run -q glob.py note=héllo-✓ >/dev/null 2>&1 &&
	grep -q "^note = \"héllo-✓\"$" "$(show_field "[\"dir\"]")/glob.py"
'

test_expect_success '--flags-file: defaults < file < command line; tfruns config sections' '
	printf "lr: 0.2\nunits: 16\n" >flags.yml &&
	tally run -q glob.py --flags-file flags.yml units=32 >/dev/null 2>&1 &&
	show_check "d[\"flags\"][\"lr\"] == 0.2 and d[\"flags\"][\"units\"] == 32" &&
	show_check "d[\"flag_sources\"][\"lr\"] == \"flags file\" and d[\"flag_sources\"][\"units\"] == \"command line\"" &&
	printf "default:\n  lr: 0.3\nfast:\n  lr: 0.9\n" >profiles.yml &&
	tally run -q glob.py -f profiles.yml >/dev/null 2>&1 &&
	show_check "d[\"flags\"][\"lr\"] == 0.3" &&
	R_CONFIG_ACTIVE=fast tally run -q glob.py -f profiles.yml >/dev/null 2>&1 &&
	show_check "d[\"flags\"][\"lr\"] == 0.9" &&
	printf "lr: [1\n" >bad.yml &&
	test_expect_code 128 tally run glob.py -f bad.yml 2>err &&
	grep -q "bad.yml line" err &&
	printf "lr: 5\n" >big.yml &&
	test_expect_code 128 tally run glob.py -f big.yml 2>err &&
	grep -q "above its maximum 1" err &&
	test_expect_code 128 tally run glob.py -f missing.yml 2>err &&
	grep -q "cannot read flags file" err
'

test_expect_success 'the default label is the flags that differ from the defaults; --label takes a template' '
	tally run -q glob.py units=32 lr=0.2 >out 2>&1 &&
	show_check "d[\"label\"] == \"lr=0.2 units=32\"" &&
	tally run -q glob.py units=64 lr=0.2 act=relu >out 2>&1 &&
	show_check "d[\"label\"] == \"lr=0.2\"" &&
	tally run -q glob.py lr=1e-2 >out 2>&1 &&
	show_check "d[\"label\"] == \"\"" &&
	tally run -q glob.py units=32 -l "units=\${units} \${default_label}" >/dev/null 2>&1 &&
	show_check "d[\"label\"] == \"units=32 units=32\"" &&
	test_expect_code 128 tally run glob.py -l "\${nosuch}" 2>err &&
	grep -q "no flag or variable .nosuch." err
'

test_expect_success 'malformed annotations are errors naming the script and line; no run' '
	before=$(run_count) &&
	printf "x = 1\n#| min: [1\ny = 2\n" >bad1.py &&
	test_expect_code 128 tally run bad1.py 2>err &&
	grep -q "bad1.py line 2: bad #| YAML" err &&
	printf "#| colour: red\nx = 1\n" >bad2.py &&
	test_expect_code 128 tally run bad2.py 2>err &&
	grep -q "unknown flag annotation .colour." err &&
	printf "#| flags-dest: ../../etc/x.yml\n\nx = 1\n" >bad3.py &&
	test_expect_code 128 tally flags bad3.py 2>err &&
	grep -q "flags-dest must be" err &&
	test "$(run_count)" = "$before"
'

test_expect_success 'detection is cached by content and follows edits' '
	ls "$XDG_CACHE_HOME"/tally/flags/*.json >/dev/null &&
	printf "a = 1\n" >c.py &&
	tally flags c.py | grep -q "^  a  *1  *int$" &&
	n=$(ls "$XDG_CACHE_HOME"/tally/flags | wc -l) &&
	tally flags c.py >/dev/null &&
	test "$(ls "$XDG_CACHE_HOME"/tally/flags | wc -l)" = "$n" &&
	printf "a = 2.5\n" >c.py &&
	tally flags c.py | grep -q "^  a  *2.5  *float$"
'

test_expect_success 'scripts without declared flags take any NAME=VALUE as --NAME VALUE' '
	printf "echo \"\$@\"\n" >plain.sh &&
	tally run -q plain.sh a=1 b=two >/dev/null 2>&1 &&
	grep -q "^--a 1 --b two$" "$(show_field "[\"dir\"]")/.tally/output" &&
	tally flags plain.sh | grep -q "declares no flags"
'

test_expect_success 'tally.yml: flags-dest, per-script settings, extra-args templates, venv' '
	mkdir proj && cd proj &&
	printf "import sys\nlr = 0.1\nprint(\"argv\", sys.argv[1:])\n" >a.py &&
	cat >tally.yml <<-\YML &&
	extra-args: [--log-dir, "${run_dir}/logs", "--lr-copy=${lr}"]
	scripts:
	  a.py: {flags-dest: args}
	YML
	tally run -q a.py lr=0.2 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	grep -qF "argv [${q:-}'"'"'--lr'"'"', '"'"'0.2'"'"', '"'"'--log-dir'"'"', '"'"'$dir/logs'"'"', '"'"'--lr-copy=0.2'"'"']" "$dir/.tally/output" &&
	show_check "d[\"command\"][-2:] == [\"$dir/logs\", \"--lr-copy=0.2\"]" &&
	printf "scripts:\n  a.py:\n    flags: {lr: 0.5, epochs: 3}\n" >tally.yml &&
	tally flags a.py | grep -q "^Flags for a.py (tally.yml):" &&
	tally run -q a.py epochs=4 >/dev/null 2>&1 &&
	show_check "d[\"flags\"] == {\"lr\": 0.5, \"epochs\": 4}" &&
	printf "flags-dest: env\n" >tally.yml &&
	tally run -q a.py lr=0.3 >/dev/null 2>&1 &&
	grep -q "^argv \[\]$" "$(show_field "[\"dir\"]")/.tally/output" &&
	grep -q "^lr = 0.1$" "$(show_field "[\"dir\"]")/a.py" &&
	"$PYTHON" -m venv --without-pip .venv &&
	printf "venv: .venv\n" >tally.yml &&
	tally run -q a.py >/dev/null 2>&1 &&
	show_check "d[\"command\"][0] == \"$PWD/.venv/bin/python\""
'

test_expect_success 'tally.yml mistakes name the file, line and column; no run' '
	mkdir proj2 && cd proj2 &&
	printf "x = 1\n" >a.py &&
	printf "runs-dir: [1\n" >tally.yml &&
	test_expect_code 128 tally run a.py 2>err &&
	grep -q "tally.yml line 1 column [0-9]*: " err &&
	printf "extra-args: [--x, \"\${nope}\"]\n" >tally.yml &&
	test_expect_code 128 tally run a.py 2>err &&
	grep -q "extra-args: template .*no flag or variable .nope." err &&
	printf "flags-dest: /etc/x.yml\n" >tally.yml &&
	test_expect_code 128 tally run a.py 2>err &&
	grep -q "tally.yml line 1 column 13: .flags-dest. must be" err &&
	printf "venv: nowhere\n" >tally.yml &&
	test_expect_code 128 tally run a.py 2>err &&
	grep -q "venv. has no bin/python" err &&
	printf "scripts:\n  a.py:\n    flags: {x: {min: 5}}\n" >tally.yml &&
	test_expect_code 128 tally run a.py 2>err &&
	grep -q "flag x=1 is below its minimum 5 (.*tally.yml line 3)" err &&
	test ! -d runs
'

test_expect_success 'front matter output-scalars: off records no scalars' '
	printf "#| output-scalars: off\n\nprint(\"loss: 0.5\")\n" >quiet.py &&
	tally run -q quiet.py >/dev/null 2>&1 &&
	show_check "d[\"scalars\"] == {}" &&
	printf "print(\"loss: 0.5\")\n" >loud.py &&
	tally run -q loud.py >/dev/null 2>&1 &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 0.5"
'

test_expect_success 'the project is never written through a linked folder' '
	mkdir gitproj && cd gitproj &&
	git init -q . &&
	mkdir scratch data &&
	printf "scratch/\ndata/\nruns/\n" >.gitignore &&
	printf "lr = 0.1\nprint(\"lr\", lr)\n" >scratch/try.py &&
	test_expect_code 128 tally run -q scratch/try.py lr=5 2>err &&
	grep -q "cannot set the flags of scratch/try.py: its folder .scratch. is linked into the run" err &&
	grep -q "^lr = 0.1$" scratch/try.py &&
	show_check "d[\"status\"] == \"error\"" &&
	printf "#| flags-dest: data/flags.yml\n#| flags: {lr: 0.1}\n\nprint(1)\n" >dest.py &&
	git add dest.py .gitignore &&
	test_expect_code 128 tally run -q dest.py lr=2 2>err &&
	grep -q "flags-dest data/flags.yml would write into the project: .data. is linked" err &&
	test ! -e data/flags.yml &&
	printf "#| sourcecode: [exclude: \"big.py\"]\n\nlr = 0.1\nprint(\"big\", lr)\n" >big.py &&
	git add big.py &&
	tally run -q big.py lr=0.7 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	! grep -q "\"path\": \"big.py\"" "$dir/.tally/sources.json" &&
	grep -q "^lr = 0.1$" big.py &&
	grep -q "^lr = 0.7$" "$dir/big.py" && ! test -L "$dir/big.py" &&
	grep -q "^big 0.7$" "$dir/.tally/output"
'

test_expect_success 'front matter sourcecode include copies what would only be linked' '
	mkdir incl && cd incl &&
	head -c 3000000 /dev/zero >weights.bin && head -c 100 /dev/zero >blob.dat &&
	printf "#| sourcecode: [include: \"*.bin\"]\n\nprint(open(\"weights.bin\", \"rb\").read(3))\n" >w.py &&
	tally run -q w.py >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	test -f "$dir/weights.bin" && ! test -L "$dir/weights.bin" &&
	test -L "$dir/blob.dat"
'

test_expect_success 'a globals script outside the project: runs as is, refuses (before any run) what it cannot get' '
	mkdir -p outside/proj && printf "lr = 0.1\nprint(\"lr\", lr)\n" >outside/b.py &&
	printf "#| default: 0.5\nlr = 0.1\n" >outside/a.py &&
	cd outside/proj &&
	tally run -q ../b.py >/dev/null 2>&1 &&
	test "$(run_count)" = 1 &&
	test_expect_code 128 tally run ../b.py lr=2 2>err &&
	grep -q "cannot set the globals of .../b.py., which lies outside the project directory" err &&
	test_expect_code 128 tally run ../a.py 2>err &&
	test "$(run_count)" = 1
'

test_expect_success 'a default from an annotation or front matter reaches a globals script' '
	printf "#| default: 0.5\nlr = 0.01\nepochs = 10\nprint(\"lr\", lr, \"epochs\", epochs)\n" >d.py &&
	tally run -q d.py >/dev/null 2>&1 &&
	grep -q "^lr 0.5 epochs 10$" "$(show_field "[\"dir\"]")/.tally/output" &&
	show_check "d[\"flags\"] == {\"lr\": 0.5, \"epochs\": 10}"
'

test_expect_success 'argparse applies its own defaults (untyped options stay numbers)' '
	cat >untyped.py <<-\PY &&
	import argparse
	p = argparse.ArgumentParser()
	p.add_argument("--lr", default=0.01)
	a = p.parse_args()
	print("twice", a.lr * 2)
	PY
	tally run -q untyped.py >/dev/null 2>&1 &&
	grep -q "^twice 0.02$" "$(show_field "[\"dir\"]")/.tally/output" &&
	show_check "d[\"command\"][2:] == []"
'

test_expect_success 'a value an on-only option cannot say is an error, not silently dropped' '
	cat >onoff.py <<-\PY &&
	import argparse
	p = argparse.ArgumentParser()
	p.add_argument("--cache", action="store_true", default=True)
	print(p.parse_args().cache)
	PY
	test_expect_code 128 tally run onoff.py cache=false 2>err &&
	grep -q "flag cache=false cannot reach onoff.py: its option --cache can only turn it on" err
'

test_expect_success 'flags files: names a .py cannot hold are errors; .R quotes them' '
	printf "#| flags-dest: f.py\n\nprint(1)\n" >fpy.py &&
	test_expect_code 128 tally run --force-flags fpy.py learning-rate=0.1 2>err &&
	grep -q "flag name .learning-rate. cannot be a Python variable in f.py" err &&
	printf "#| flags-dest: f.R\n\ncat(1)\n" >fr.R &&
	tally run -q --force-flags fr.R learning-rate=0.1 model.depth=3 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	grep -q "^\`learning-rate\` <- 0.1$" "$dir/f.R" &&
	grep -q "^model.depth <- 3$" "$dir/f.R" &&
	Rscript -e "source(\"$dir/f.R\"); stopifnot(\`learning-rate\` == 0.1, model.depth == 3)"
'

test_expect_success 'a byte-order mark does not hide the first flag' '
	printf "\357\273\277lr = 0.01\r\nprint(\"lr\", lr)\r\n" >bom.py &&
	tally flags bom.py | grep -q "^  lr  *0.01  *float$" &&
	tally run -q bom.py lr=0.2 >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]") &&
	printf "\357\273\277lr = 0.2\r\nprint(\"lr\", lr)\r\n" >expected &&
	test_cmp expected "$dir/bom.py"
'

test_expect_success 'R numbers are doubles: an integer-looking default takes a fraction' '
	printf "weight_decay <- 0\ncat(\"wd\", weight_decay, \"\\n\")\n" >w.R &&
	tally run -q w.R weight_decay=0.01 >/dev/null 2>&1 &&
	grep -q "^wd 0.01 $" "$(show_field "[\"dir\"]")/.tally/output"
'

test_expect_success 'tally flags: missing script and bad options' '
	test_expect_code 128 tally flags nosuch.py 2>err &&
	grep -q "not found" err &&
	test_expect_code 129 tally flags 2>err &&
	test_expect_code 129 tally flags --format xml glob.py 2>err
'

test_expect_success 'argparse habits: --NAME VALUE and --NAME=VALUE after the script, learning-rate= for --learning-rate' '
	mkdir habits && cd habits &&
	cat >ap.py <<-\PY &&
	import argparse
	p = argparse.ArgumentParser()
	p.add_argument("--learning-rate", type=float, default=0.1)
	p.add_argument("--epochs", type=int, default=3)
	p.add_argument("--fast", action="store_true")
	a = p.parse_args()
	print("lr", a.learning_rate, "epochs", a.epochs, "fast", a.fast)
	PY
	tally run ap.py --learning-rate 0.25 --epochs=5 --fast >out 2>&1 &&
	grep -q "^lr 0.25 epochs 5 fast True$" out &&
	test "$(show_field "[\"label\"]")" = "epochs=5 fast=true learning_rate=0.25" &&
	tally run ap.py --learning_rate 0.5 >out 2>&1 && grep -q "^lr 0.5 " out &&
	tally run ap.py --fast epochs=4 >out 2>&1 && grep -q "^lr 0.1 epochs 4 fast True$" out &&
	tally run ap.py learning-rate=0.75 >out 2>&1 && grep -q "^lr 0.75 " out &&
	tally run ap.py learning_rate=0.125 >out 2>&1 && grep -q "^lr 0.125 " out &&
	n=$(run_count) &&
	test_expect_code 129 tally run ap.py --lerning-rate 0.5 2>err &&
	test "$(grep -vc "^+" err)" = 1 && grep -q "did you mean learning_rate=0.5?" err &&
	test_expect_code 129 tally run ap.py --zzz 1 2>err &&
	test "$(grep -vc "^+" err)" = 1 && grep -q "give the script.s flags as NAME=VALUE (zzz=1)" err &&
	test_expect_code 129 tally run ap.py --epochs 2>err && grep -q "needs a value: epochs=VALUE" err &&
	test "$(run_count)" = $n &&
	# tally options still work after the script; -- COMMAND passes arguments untouched
	tally run ap.py --label mine -q >/dev/null 2>&1 && test "$(show_field "[\"label\"]")" = mine &&
	tally run -- python3 ap.py --epochs 7 >out 2>&1 && grep -q " epochs 7 " out
'

test_expect_success 'list flags: argparse nargs, front matter, flags files; set as [a,b], words or repeated options; swept as lists of lists' '
	mkdir lists && cd lists &&
	cat >nets.py <<-\PY &&
	import argparse, os
	p = argparse.ArgumentParser()
	p.add_argument("--layers", type=int, nargs="+", default=[128, 64])
	p.add_argument("--lr", type=float, default=0.1)
	a = p.parse_args()
	print("layers", a.layers, "env", os.environ["FLAG_LAYERS"])
	print("loss:", a.lr + sum(a.layers) / 1000)
	PY
	tally flags nets.py >flags.txt &&
	grep -q "^  layers  *\[128, 64\]  *int list$" flags.txt &&
	tally run nets.py >out 2>&1 && grep -q "^layers \[128, 64\] " out &&
	tally run nets.py "layers=[32,16]" >out 2>&1 && grep -q "^layers \[32, 16\] env \[32, 16\]$" out &&
	test "$(show_field "[\"flags\"][\"layers\"]")" = "[32, 16]" &&
	test "$(show_field "[\"label\"]")" = "layers=[32, 16]" &&
	tally run nets.py "layers=8 4 2" >out 2>&1 && grep -q "^layers \[8, 4, 2\] " out &&
	tally run nets.py --layers 5 6 lr=0.2 >out 2>&1 && grep -q "^layers \[5, 6\] " out &&
	tally run nets.py layers=7 >out 2>&1 && grep -q "^layers \[7\] " out &&
	n=$(run_count) &&
	test_expect_code 128 tally run nets.py "layers=[1.5]" 2>err && grep -q "flag layers=1.5 is not an int" err &&
	test "$(run_count)" = $n &&
	# a one-value flag given a list of lists is refused before anything runs
	test_expect_code 128 tally run nets.py "lr=[[0.1]]" 2>err && grep -q "takes one value, not a list" err &&
	printf "layers: [9, 10]\n" >f.yml &&
	tally run nets.py -f f.yml >out 2>&1 && grep -q "^layers \[9, 10\] " out &&
	# a sweep over lists: a list of lists
	tally tune nets.py "layers=[[1,2],[3]]" -q >tune.out 2>tune.err &&
	grep -q "^1  *completed  *[a-z0-9]*  *\[1,2\]  " tune.out && grep -q "^2  *completed  *[a-z0-9]*  *\[3\]  " tune.out ||
	{ cat tune.out tune.err; false; }
'

test_expect_success 'list flags in front matter: type int list, a list default, args and FLAG_ variables' '
	mkdir lists-sh && cd lists-sh &&
	cat >s.sh <<-\SH &&
	#| flags:
	#|   layers: {type: int list, default: [1, 2]}
	#|   names: {default: [a, b]}
	echo "env $FLAG_LAYERS $FLAG_NAMES args $*"
	SH
	tally flags s.sh >flags.txt && grep -q "layers  *\[1, 2\]  *int list" flags.txt && grep -q "string list" flags.txt &&
	tally run s.sh "layers=[3]" "names=x y" >out 2>&1 &&
	grep -q "^env \[3\] \[\"x\", \"y\"\] args --layers 3 --names x y$" out &&
	test_expect_code 128 tally run s.sh "layers=[a]" 2>err && grep -q "is not an int" err
'

test_done

#!/usr/bin/env bash
# tally run: the source snapshot (git and plain projects), git state,
# tally.yml's sources/interpreters settings and how the interpreter is chosen.
. "$(dirname "$0")/test-lib.sh"

# The newest run's directory (relative to the current directory's ./runs).
latest_dir() {
	show_field '["dir"]'
}

# A field of the newest run's .tally/run.json, printed by python (json.dumps).
run_json() {
	"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval("d" + sys.argv[2])))' \
		"$(latest_dir)/.tally/run.json" "$1"
}

# The sorted "path" entries of the newest run's .tally/sources.json.
source_paths() {
	"$PYTHON" -c 'import json,sys; print("\n".join(sorted(e["path"] for e in json.load(open(sys.argv[1])))))' \
		"$(latest_dir)/.tally/sources.json"
}

# Assert that a field of the newest run's `tally show --format json` equals
# the JSON value $2.
show_is() {
	tally show --format json | "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
got, want = eval("d" + sys.argv[1]), json.loads(sys.argv[2])
assert got == want, (got, want)' "$1" "$2"
}

# ---------------------------------------------------------------------------
# A project that is a git repository

test_expect_success 'setup: a git project with tracked, untracked and ignored files' '
	mkdir proj && cd proj &&
	git init -q -b trunk . &&
	git config user.name "Tally Test" && git config user.email test@example.com &&
	printf "*.bin\ndata/\n" >.gitignore &&
	mkdir -p src data &&
	cat >train.sh <<-\SH &&
	echo "first: $(head -n1 data/train.csv)"
	echo "readme: $(cat data/README.md)"
	echo trained >model.rds
	echo "loss: 0.5"
	SH
	echo "def helper(): return 1" >src/util.py &&
	printf "x,y\n1,2\n" >data/train.csv &&
	echo "about the data" >data/README.md &&
	printf "\000\001\002weights" >weights.bin &&
	git add .gitignore train.sh src/util.py &&
	git add -f data/README.md &&
	git commit -q -m initial &&
	echo "scratch notes" >notes.txt &&
	test "$(git status --porcelain --ignored | grep -c "^!!")" = 2
'

test_expect_success 'tracked and untracked-not-ignored files are copied into the run' '
	cd proj &&
	tally run train.sh >../out 2>../err &&
	grep -q "^first: x,y$" ../out &&
	grep -q "^readme: about the data$" ../out &&
	dir=$(latest_dir) &&
	for f in train.sh .gitignore src/util.py notes.txt data/README.md; do
		test -f "$dir/$f" && ! test -L "$dir/$f" && cmp "$f" "$dir/$f" || return 1
	done &&
	printf "%s\n" .gitignore data/README.md notes.txt src/util.py train.sh >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual &&
	test "$(run_json "[\"sources\"]")" = 5
'

test_expect_success 'ignored files are linked, not copied' '
	cd proj &&
	dir=$(latest_dir) &&
	test -L "$dir/weights.bin" &&
	test "$(readlink -f "$dir/weights.bin")" = "$(pwd -P)/weights.bin" &&
	test -d "$dir/data" && ! test -L "$dir/data" &&
	test -L "$dir/data/train.csv" &&
	test "$(readlink -f "$dir/data/train.csv")" = "$(pwd -P)/data/train.csv" &&
	cmp data/train.csv "$dir/data/train.csv"
'

test_expect_success 'artifacts the script writes land in the run, not the project' '
	cd proj &&
	dir=$(latest_dir) &&
	test "$(cat "$dir/model.rds")" = trained &&
	! test -e model.rds &&
	test -z "$(git status --porcelain -- model.rds)"
'

test_expect_success 'the git commit, branch and a clean tree are recorded' '
	cd proj &&
	test "$(run_json "[\"git\"][\"commit\"]")" = "\"$(git rev-parse HEAD)\"" &&
	test "$(run_json "[\"git\"][\"branch\"]")" = "\"trunk\"" &&
	test "$(run_json "[\"git\"][\"dirty\"]")" = false &&
	workdir=$(run_json "[\"git\"][\"workdir\"]" | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin))") &&
	test "$(cd "$workdir" && pwd -P)" = "$(pwd -P)"
'

test_expect_success 'the runs directory is never part of a run' '
	cd proj &&
	tally run -q train.sh &&
	dir=$(latest_dir) &&
	! test -e "$dir/runs" && ! test -L "$dir/runs" &&
	! source_paths | grep -q "^runs/" &&
	find "$dir" -mindepth 1 -printf "%P\n" >../listing &&
	grep -q "^train.sh$" ../listing &&
	! grep -q "\(^\|/\)runs\(/\|$\)" ../listing
'

test_expect_success 'an unchanged tree gives the same source digest' '
	cd proj &&
	tally run -q train.sh && d1=$(run_json "[\"source_digest\"]") &&
	tally run -q train.sh && d2=$(run_json "[\"source_digest\"]") &&
	test "$(echo "$d1" | tr -d "\"" | wc -c)" -ge 21 &&
	test "$d1" = "$d2" &&
	echo "3,4" >>data/train.csv &&
	tally run -q train.sh && d3=$(run_json "[\"source_digest\"]") &&
	test "$d1" = "$d3" &&
	test "$(run_json "[\"git\"][\"dirty\"]")" = false
'

test_expect_success 'editing a tracked file makes the tree dirty and changes the digest' '
	cd proj &&
	d1=$(run_json "[\"source_digest\"]") &&
	cp train.sh train.sh.orig-copy && first=$(latest_dir) &&
	echo "echo extra" >>train.sh &&
	tally run -q train.sh &&
	test "$(run_json "[\"git\"][\"dirty\"]")" = true &&
	test "$(run_json "[\"git\"][\"commit\"]")" = "\"$(git rev-parse HEAD)\"" &&
	d2=$(run_json "[\"source_digest\"]") &&
	test "$d1" != "$d2" &&
	cmp train.sh "$(latest_dir)/train.sh" &&
	cmp train.sh.orig-copy "$first/train.sh"
'

test_expect_success 'an untracked file counts in the digest' '
	cd proj &&
	d1=$(run_json "[\"source_digest\"]") &&
	echo "more notes" >>notes.txt &&
	tally run -q train.sh &&
	test "$d1" != "$(run_json "[\"source_digest\"]")" &&
	test "$(cat "$(latest_dir)/notes.txt" | wc -l)" = 2
'

test_expect_success 'editing the script after a run leaves the run'"'"'s copy alone' '
	cd proj &&
	git checkout -q -- train.sh &&
	tally run -q train.sh &&
	dir=$(latest_dir) &&
	cp train.sh ../expect &&
	echo "echo edited after the run" >>train.sh &&
	test_cmp ../expect "$dir/train.sh" &&
	! grep -q "edited after" "$dir/train.sh"
'

test_expect_success 'a project in a subdirectory of a repository snapshots only that subdirectory' '
	mkdir mono && cd mono &&
	git init -q -b main . &&
	git config user.name "Tally Test" && git config user.email test@example.com &&
	mkdir -p other sub/lib &&
	echo "top level" >top.txt &&
	echo "print(1)" >other/x.py &&
	echo ". lib/helper.sh; echo \"cwd: \$(pwd -P)\"; helper" >sub/train.sh &&
	echo "helper() { echo helped; }" >sub/lib/helper.sh &&
	git add . && git commit -q -m initial &&
	echo untracked >other/loose.txt &&
	cd sub &&
	tally run train.sh >../out &&
	grep -q "^helped$" ../out &&
	dir=$(latest_dir) &&
	case "$dir" in "$(pwd -P)/runs/"*|"$(pwd)/runs/"*) ;; *) false ;; esac &&
	test -f "$dir/train.sh" && ! test -L "$dir/train.sh" &&
	test -f "$dir/lib/helper.sh" && ! test -L "$dir/lib/helper.sh" &&
	! test -e "$dir/top.txt" && ! test -e "$dir/other" && ! test -e "$dir/sub" &&
	printf "%s\n" lib/helper.sh train.sh >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual &&
	test "$(run_json "[\"git\"][\"commit\"]")" = "\"$(git rev-parse HEAD)\"" &&
	test "$(run_json "[\"git\"][\"branch\"]")" = "\"main\"" &&
	project=$(run_json "[\"project_dir\"]" | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin))") &&
	test "$(cd "$project" && pwd -P)" = "$(pwd -P)"
'

# ---------------------------------------------------------------------------
# A project outside git

test_expect_success 'setup: a plain project' '
	mkdir plain && cd plain &&
	echo "cat small.txt; wc -c <big.txt" >s.sh &&
	echo small >small.txt &&
	"$PYTHON" -c "open(\"big.txt\", \"w\").write(\"a\" * (1024 * 1024 + 1))" &&
	"$PYTHON" -c "open(\"edge.txt\", \"w\").write(\"b\" * (1024 * 1024))" &&
	printf "ab\000cd" >blob.dat &&
	mkdir -p d empty/nested &&
	echo "1,2" >d/x.csv && echo "note" >d/readme.txt &&
	echo "1,2" >top.csv &&
	printf "\000\000" >empty/nested/only.bin &&
	! git rev-parse --git-dir 2>/dev/null
'

test_expect_success 'outside git, a text file over 1 MiB is linked, not copied' '
	cd plain &&
	tally run s.sh >../out &&
	grep -q "^small$" ../out && grep -q "^1048577$" ../out &&
	dir=$(latest_dir) &&
	test -L "$dir/big.txt" &&
	test "$(readlink -f "$dir/big.txt")" = "$(pwd -P)/big.txt" &&
	test -f "$dir/edge.txt" && ! test -L "$dir/edge.txt" &&
	test -f "$dir/small.txt" && ! test -L "$dir/small.txt" &&
	! source_paths | grep -q "^big.txt$" &&
	source_paths | grep -q "^edge.txt$" &&
	test "$(run_json ".get(\"git\")")" = null
'

test_expect_success 'outside git, a binary file is linked, not copied' '
	cd plain &&
	dir=$(latest_dir) &&
	test -L "$dir/blob.dat" && cmp blob.dat "$dir/blob.dat" &&
	! source_paths | grep -q "blob.dat" &&
	test -L "$dir/empty" && ! test -L "$dir/d" && test -d "$dir/d" &&
	test -f "$dir/d/x.csv" && ! test -L "$dir/d/x.csv"
'

test_expect_success 'outside git, sources.json lists exactly the copied files with sizes and hashes' '
	cd plain &&
	dir=$(latest_dir) &&
	printf "%s\n" d/readme.txt d/x.csv edge.txt s.sh small.txt top.csv >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual &&
	"$PYTHON" - "$dir" <<-\PY
	import hashlib, json, os, sys
	d = sys.argv[1]
	for e in json.load(open(os.path.join(d, ".tally/sources.json"))):
	    data = open(e["path"], "rb").read()
	    assert e["size"] == len(data), e
	    if "sha256" in e:
	        assert e["sha256"] == hashlib.sha256(data).hexdigest(), e
	    else:  # older manifests: SHA-1, plain or as a git blob id
	        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
	        assert e["sha1"] in (hashlib.sha1(data).hexdigest(), blob), e
	PY
'

test_expect_success 'sources: max-file-size in tally.yml changes the threshold' '
	mkdir sized && cd sized &&
	echo "true" >s.sh &&
	"$PYTHON" -c "open(\"mid.txt\", \"w\").write(\"m\" * 101)" &&
	"$PYTHON" -c "open(\"ok.txt\", \"w\").write(\"k\" * 100)" &&
	printf "sources:\n  max-file-size: 100\n" >tally.yml &&
	tally run -q s.sh &&
	dir=$(latest_dir) &&
	test -L "$dir/mid.txt" &&
	test -f "$dir/ok.txt" && ! test -L "$dir/ok.txt" &&
	test -f "$dir/s.sh" && ! test -L "$dir/s.sh" &&
	printf "%s\n" ok.txt s.sh tally.yml >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual
'

test_expect_success 'sources: exclude in tally.yml keeps matching files from being copied' '
	mkdir excl && cd excl &&
	echo "cat top.csv" >s.sh &&
	echo "a,b" >top.csv &&
	mkdir sub && echo "c,d" >sub/nested.csv && echo keep >sub/keep.txt &&
	printf "sources:\n  exclude: [\"*.csv\"]\n" >tally.yml &&
	tally run s.sh >../out &&
	grep -q "^a,b$" ../out &&
	dir=$(latest_dir) &&
	test -L "$dir/top.csv" &&
	test -f "$dir/sub/keep.txt" && ! test -L "$dir/sub/keep.txt" &&
	test -L "$dir/sub/nested.csv" &&
	printf "%s\n" s.sh sub/keep.txt tally.yml >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual
'

test_expect_success 'sources: max-files in tally.yml caps the copied files and says so' '
	mkdir capped && cd capped &&
	for f in a b c d e; do echo "$f" >"$f.txt" || return 1; done &&
	echo "cat a.txt b.txt c.txt d.txt e.txt | tr -d \"\\n\"; echo" >s.sh &&
	printf "sources:\n  max-files: 2\n" >tally.yml &&
	tally run s.sh >../out &&
	grep -qx abcde ../out &&
	dir=$(latest_dir) &&
	test "$(run_json "[\"sources\"]")" = 2 &&
	test "$(run_json "[\"sources_truncated\"]")" = true &&
	test "$(find "$dir" -mindepth 1 -maxdepth 1 -type f | wc -l)" = 2 &&
	test "$(find "$dir" -mindepth 1 -maxdepth 1 -type l | wc -l)" = 5 &&
	test "$(source_paths | wc -l)" = 2
'

test_expect_success 'hidden directories, caches, node_modules and virtualenvs are linked whole' '
	mkdir skipped && cd skipped &&
	echo "cat .hidden/a.txt node_modules/p/i.js myenv/lib/x.py" >s.sh &&
	mkdir -p .hidden __pycache__ node_modules/p myenv/lib &&
	echo hidden >.hidden/a.txt && echo cached >__pycache__/m.py &&
	echo node >node_modules/p/i.js && echo venv >myenv/lib/x.py &&
	echo "home = /usr" >myenv/pyvenv.cfg &&
	tally run s.sh >../out &&
	test "$(cat ../out | tr "\n" " ")" = "hidden node venv " &&
	dir=$(latest_dir) &&
	for d in .hidden __pycache__ node_modules myenv; do
		test -L "$dir/$d" || return 1
	done &&
	printf "%s\n" s.sh >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual
'

test_expect_success 'a malformed tally.yml is an error naming the file and line, and creates no run' '
	mkdir badyaml && cd badyaml &&
	echo "echo hi" >s.sh &&
	printf "runs-dir: runs\ninterpreters: [unclosed\nsources:\n  max-files: 10\n" >tally.yml &&
	test_expect_code 128 tally run s.sh >out 2>err &&
	grep -q "tally\.yml line [0-9]" err &&
	! test -s out &&
	! test -e runs &&
	printf "a: b\n\tc: d\n" >tally.yml &&
	test_expect_code 128 tally run s.sh 2>err &&
	grep -q "tally\.yml line 2" err &&
	! test -e runs
'

test_expect_success 'a YAML syntax error names the line of the unclosed bracket' '
	mkdir badyaml1 && cd badyaml1 &&
	echo "echo hi" >s.sh &&
	printf "interpreters: [unclosed\n" >tally.yml &&
	test_expect_code 128 tally run s.sh 2>err &&
	cat err &&
	grep -q "tally\.yml line 1 column [0-9]*:" err &&
	! test -e runs
'

test_expect_success 'unknown keys in tally.yml are errors' '
	mkdir unknown && cd unknown &&
	echo "echo hi" >s.sh &&
	printf "interpreters:\n  py: /usr/bin/python3\nbogus: 1\n" >tally.yml &&
	test_expect_code 128 tally run s.sh 2>err &&
	grep -q "tally\.yml line 3 column [0-9]*: unknown setting" err &&
	grep -q "bogus\|known: " err &&
	! test -e runs &&
	printf "sources:\n  max-size: 100\n" >tally.yml &&
	test_expect_code 128 tally run s.sh 2>err &&
	grep -q "tally\.yml line 2 column [0-9]*: unknown key under .sources." err &&
	printf "sources:\n  max-file-size: lots\n" >tally.yml &&
	test_expect_code 128 tally run s.sh 2>err &&
	grep -q "max-file-size" err &&
	! test -e runs
'

# ---------------------------------------------------------------------------
# Choosing the interpreter

cat >exe.py <<'PY'
import sys
print("exe:", sys.executable)
print("ignore_env:", sys.flags.ignore_environment)
print("args:", " ".join(sys.argv[1:]))
PY

test_expect_success '--interpreter runs a .py with the given python' '
	tally run --interpreter /usr/bin/python3 exe.py lr=0.5 >out &&
	grep -q "^exe: /usr/bin/python3$" out &&
	grep -q "^args: --lr 0.5$" out &&
	show_is "[\"command\"]" "[\"/usr/bin/python3\", \"exe.py\", \"--lr\", \"0.5\"]"
'

test_expect_success 'interpreters: in tally.yml picks the command, arguments included' '
	mkdir interp && cd interp && cp ../exe.py . &&
	printf "interpreters:\n  py: /usr/bin/python3 -E\n" >tally.yml &&
	tally run exe.py >out &&
	grep -q "^exe: /usr/bin/python3$" out &&
	grep -q "^ignore_env: 1$" out &&
	show_is "[\"command\"]" "[\"/usr/bin/python3\", \"-E\", \"exe.py\"]"
'

test_expect_success '--interpreter wins over tally.yml' '
	mkdir interp2 && cd interp2 && cp ../exe.py . &&
	printf "interpreters:\n  py: /nonexistent/python9\n" >tally.yml &&
	test_expect_code 128 tally run exe.py 2>err &&
	grep -q "interpreter ./nonexistent/python9. not found" err &&
	! test -e runs &&
	tally run --interpreter /usr/bin/python3 exe.py >out &&
	grep -q "^exe: /usr/bin/python3$" out
'

test_expect_success 'a missing interpreter is an error and creates no run' '
	mkdir nointerp && cd nointerp && cp ../exe.py . &&
	test_expect_code 128 tally run --interpreter nonexistent-python exe.py >out 2>err &&
	grep -q "interpreter .nonexistent-python. not found" err &&
	! test -s out &&
	test "$(run_count)" = 0
'

test_expect_success 'an executable file without an extension runs itself' '
	mkdir exe && cd exe &&
	printf "#!/bin/sh\necho \"tool says \$*\"\necho \"shell: \$0\"\n" >tool &&
	chmod +x tool &&
	tally run tool a=1 >out &&
	grep -q "^tool says --a 1$" out &&
	test "$(show_field "[\"status\"]")" = completed &&
	show_is "[\"command\"][1:]" "[\"--a\", \"1\"]" &&
	show_is "[\"flags\"]" "{\"a\": 1}" &&
	show_field "[\"command\"][0]" | grep -q "tool$"
'

test_expect_success 'an executable file with an unknown extension runs itself' '
	mkdir exe2 && cd exe2 &&
	printf "#!/bin/sh\necho \"xyz ran\"\n" >job.xyz &&
	chmod +x job.xyz &&
	tally run job.xyz >out &&
	grep -q "^xyz ran$" out
'

test_expect_success 'a non-executable file with an unknown extension is a clear error' '
	mkdir noexe && cd noexe &&
	echo "echo should not run" >job.xyz &&
	test_expect_code 128 tally run job.xyz >out 2>err &&
	grep -q "don.t know how to run .job\.xyz." err &&
	grep -q "interpreter" err &&
	! grep -q "should not run" out &&
	test "$(run_count)" = 0
'

test_expect_success 'a command after -- that does not exist is an error and creates no run' '
	mkdir nocmd && cd nocmd &&
	test_expect_code 128 tally run -- nonexistent-command-zz arg >out 2>err &&
	grep -q "command .nonexistent-command-zz. not found" err &&
	test "$(run_count)" = 0 &&
	test_expect_code 128 tally run lr=1 -- ./no/such/path 2>err &&
	grep -q "not found" err &&
	test "$(run_count)" = 0
'

test_expect_success 'runs kept in the project directory itself are never copied or linked into a run' '
	mkdir runs-here && cd runs-here &&
	echo "echo hi >out.txt" >t.sh &&
	tally --runs-dir . run -q t.sh 2>/dev/null &&
	tally --runs-dir . run -q t.sh 2>/dev/null &&
	newest=$(ls -d 20*-* | sort | tail -n 1) &&
	test -f "$newest/t.sh" && test -f "$newest/out.txt" &&
	test "$(ls -A "$newest" | sort | tr "\n" " ")" = ".tally out.txt t.sh " &&
	tally --runs-dir . show --format json | "$PYTHON" -c "import json,sys; assert json.load(sys.stdin)[\"sources\"] == 1"
'

test_expect_success 'a symbolic link to the runs directory is not linked into runs' '
	mkdir -p linked/proj linked/store && cd linked/proj &&
	ln -s ../store runs &&
	echo "echo hi" >t.sh &&
	tally run -q t.sh 2>/dev/null &&
	run=$(ls -d runs/20*-*) &&
	! test -e "$run/runs" && test -f "$run/t.sh"
'

# ---------------------------------------------------------------------------
# tally's own outputs never become sources

test_expect_success 'the runs directory ignores itself in git; reports stay out of later snapshots' '
	mkdir outputs && cd outputs &&
	git init -q -b main . &&
	git config user.name "Tally Test" && git config user.email test@example.com &&
	echo "echo loss: 0.5" >train.sh &&
	git add train.sh && git commit -q -m initial &&
	tally run -q train.sh 2>/dev/null &&
	test "$(cat runs/.gitignore | grep -v "^#")" = "*" &&
	test -z "$(git status --porcelain)" &&
	tally report >../out && report=$(cat ../out) &&
	case "$report" in runs/.reports/report-*.html|*/runs/.reports/report-*.html) ;; *) false ;; esac &&
	test -f "$report" &&
	tally report -o mine.html >/dev/null && cp mine.html ../saved.html &&
	echo "<html><body>a page of the project</body></html>" >page.html &&
	tally run -q train.sh 2>/dev/null &&
	printf "%s\n" page.html train.sh >../expect &&
	source_paths >../actual &&
	test_cmp ../expect ../actual &&
	dir=$(latest_dir) &&
	{ test -L "$dir/mine.html" || ! test -e "$dir/mine.html"; } &&
	tally export 1 ../last.tar.gz >/dev/null &&
	! tar tzf ../last.tar.gz | grep -q "mine.html"
'

test_expect_success 'a runs directory made elsewhere (--runs-dir) gets its .gitignore; an existing one is left alone' '
	mkdir elsewhere && cd elsewhere &&
	echo "echo hi" >s.sh &&
	tally run -q --runs-dir ../other-runs s.sh >/dev/null 2>&1 &&
	test -f ../other-runs/.gitignore &&
	mkdir mine-runs && echo "keep me" >mine-runs/.gitignore &&
	tally run -q --runs-dir mine-runs s.sh >/dev/null 2>&1 &&
	test "$(cat mine-runs/.gitignore)" = "keep me" &&
	# runs that arrive by import make the runs directory the same way
	tally export 1 --runs-dir mine-runs ../one.tar.gz >/dev/null &&
	mkdir ../fresh && cd ../fresh &&
	tally import ../one.tar.gz >/dev/null &&
	test "$(grep -v "^#" runs/.gitignore)" = "*"
'

test_done

#!/usr/bin/env bash
# tally help (commands, topics), the man pages' source, and completion:
# `tally __complete` answers, and the bash, zsh and fish scripts in
# completions/ driven the way each shell drives them.
. "$(dirname "$0")/test-lib.sh"

COMPLETIONS=$TEST_DIRECTORY/../../completions
DOCS=$TEST_DIRECTORY/../../docs

# candidates WORD…: the values tally __complete offers (no descriptions, no
# directive); fails when tally does, or prints no directive line
candidates() {
	tally __complete -- "$@" >"$TRASH/answer" || return 1
	tail -n 1 "$TRASH/answer" | grep -q "^:" || return 1
	sed '$d' "$TRASH/answer" | cut -f1
}
# directive WORD…: its last line
directive() {
	tally __complete -- "$@" >"$TRASH/answer" || return 1
	tail -n 1 "$TRASH/answer"
}

cat >train.py <<'PY'
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.01, help="learning rate")
p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
p.add_argument("--units", type=int, default=64)
p.add_argument("--augment", action="store_true")
a = p.parse_args()
print("loss: 0.5")
print("val_acc: 0.9")
PY

test_expect_success 'tally help lists the commands and the topics' '
	tally help >commands.txt &&
	grep -q "^  runs  *list runs" commands.txt &&
	grep -q "^  query  *the query language" commands.txt &&
	grep -q "^  run-format " commands.txt
'

test_expect_success 'tally help CMD without an installed man page prints --help' '
	tally help runs >help.txt &&
	tally runs --help >dash-help.txt &&
	test_cmp dash-help.txt help.txt &&
	tally help unmark >unmark.txt &&
	grep -q "tally unmark" unmark.txt
'

test_expect_success 'tally help TOPIC prints docs/query.md and docs/run-format.md' '
	tally help query >query.txt &&
	test_cmp "$DOCS/query.md" query.txt &&
	tally help run-format >format.txt &&
	test_cmp "$DOCS/run-format.md" format.txt
'

test_expect_success 'tally help of something unknown: one line, non-zero, nothing on stdout' '
	{ tally help nosuch >out 2>err; test $? -eq 128; } &&
	test ! -s out &&
	test "$(wc -l <err)" -eq 1 &&
	grep -q "no command or topic .nosuch." err &&
	{ tally help run runs >out 2>err; test $? -eq 128; } &&
	grep -q "one command or topic" err
'

test_expect_success '__commands lists every command of tally help, with its summary' '
	tally __commands >cmds &&
	test "$(wc -l <cmds)" -ge 30 &&
	grep -q "^tune	run a script over a search space" cmds &&
	cut -f1 cmds | while read -r c; do grep -q "^  $c " commands.txt || exit 1; done
'

test_expect_success 'setup: runs with flags, scalars, a tag, a name, an archived run, a sweep' '
	tally run -q train.py lr=0.1 2>/dev/null &&
	tally run -q --name baseline train.py optimizer=sgd 2>/dev/null &&
	tally tag +best 1 -y >/dev/null 2>&1 &&
	tally run -q train.py units=32 2>/dev/null &&
	tally delete -y 1 >/dev/null 2>&1 &&
	tally tune -q -y train.py lr=[0.1,0.2] >/dev/null 2>&1 &&
	tally runs >/dev/null
'

test_expect_success 'the first word: commands, help, global options' '
	candidates ru >c && printf "run\nruns\n" >want && test_cmp want c &&
	candidates "" >c && grep -qx help c && grep -qx reindex c &&
	candidates --r >c && grep -qx -- --runs-dir c &&
	test "$(directive --runs-dir "")" = ":dirs" &&
	candidates help q >c && grep -qx query c
'

test_expect_success 'options come from the --help text, with descriptions' '
	tally __complete -- runs --wh >c &&
	grep -q "^--where	only runs for which EXPR holds" c &&
	candidates tune --max >c && grep -qx -- --max-trials c &&
	candidates runs --format "" >c && printf "table\ncsv\ntsv\njson\ntfruns\n" >want && test_cmp want c &&
	candidates show -f "" >c && printf "text\njson\n" >want && test_cmp want c &&
	candidates diff --color au >c && test "$(cat c)" = auto &&
	candidates import --from "" >c && printf "tfruns\nguild\n" >want && test_cmp want c &&
	test "$(directive run -f "")" = ":files" &&
	test "$(directive runs --runs-dir "")" = ":dirs"
'

test_expect_success 'run references: the latest ids, indexes, random parts, names' '
	tally runs --format json >runs.json &&
	"$PYTHON" -c "import json; print(\"\n\".join(r[\"id\"][21:] for r in json.load(open(\"runs.json\"))))" >ids &&
	candidates show "" >c &&
	head -n 3 ids >want3 && head -n 3 c >got3 && test_cmp want3 got3 &&
	candidates cat 1 >c && grep -qx 1 c &&
	tally __complete -- cat 1 | grep -q "^1	$(head -n 1 ids) completed" &&
	short=$(sed -n 2p ids) &&
	candidates show "${short%????}" >c && grep -qx "$short" c &&
	candidates show base >c && test "$(cat c)" = baseline &&
	candidates restore "" >c && test "$(wc -l <c)" -eq 1 &&
	! grep -qxF -f c ids
'

test_expect_success 'names inside --where, --sort and --columns' '
	candidates runs --where "" >c &&
	grep -qx status c && grep -qx lr c && grep -qx val_acc c && grep -qx optimizer c &&
	candidates runs --where "lr > 0.1 and op" >c && test "$(cat c)" = "lr > 0.1 and optimizer" &&
	test "$(directive runs --where "lr > 0.1 and op")" = ":nospace" &&
	candidates runs --sort -val >c && test "$(cat c)" = -val_acc &&
	candidates runs --columns id,u >c && test "$(cat c)" = id,units &&
	candidates runs --where=lo >c && test "$(cat c)" = --where=loss &&
	candidates runs --format=j >c && test "$(cat c)" = --format=json &&
	candidates runs --tag "" >c && test "$(cat c)" = best &&
	candidates tune train.py lr=[1,2] --minimize va >c && test "$(cat c)" = val_acc
'

test_expect_success 'sweep ids after --sweep and --resume' '
	sweep=$(ls runs/.sweeps) &&
	candidates runs --sweep "" >c && test "$(cat c)" = "$sweep" &&
	candidates tune --resume "" >c && test "$(cat c)" = "$sweep"
'

test_expect_success 'tally run SCRIPT: the flags it declares, their choices and defaults' '
	test "$(directive run "")" = ":files" &&
	tally __complete -- run train.py "" >c &&
	grep -q "^lr=	default 0.01 — learning rate" c &&
	grep -q "^units=	default 64" c &&
	test "$(tail -n 1 c)" = ":nospace" &&
	candidates run train.py optimizer= >c && printf "optimizer=adam\noptimizer=sgd\n" >want && test_cmp want c &&
	candidates run train.py optimizer=s >c && test "$(cat c)" = optimizer=sgd &&
	candidates run train.py augment= >c && printf "augment=true\naugment=false\n" >want && test_cmp want c &&
	candidates run train.py lr= >c && test "$(cat c)" = lr=0.01 &&
	candidates run train.py --un >c && test "$(cat c)" = --units &&
	candidates run -l x train.py u >c && test "$(cat c)" = units= &&
	test "$(directive run -- "")" = ":files"
'

test_expect_success 'completion of garbage stays quiet: no index, unknown command, odd words' '
	mkdir empty && (cd empty && candidates show "" >../c) && test ! -s c &&
	test ! -e empty/runs &&
	candidates nosuch "" >c && test ! -s c &&
	candidates run nosuch.py "" >c && test ! -s c &&
	candidates show zzzz >c && test ! -s c &&
	candidates runs --where "((((" >c && grep -qx "((((status" c &&
	tally __complete >c && grep -qx "run	run a script as a tracked run" c
'

# bash: COMP_WORDS split the way bash splits them (= and : are words of
# their own), then the function bash-completion would call.
bash_complete() {
	bash -c '
	. /usr/share/bash-completion/bash_completion 2>/dev/null
	. "$1"
	line=$2
	COMP_LINE=$line COMP_POINT=${#line}
	eval "raw=($line)"
	[[ $line == *" " ]] && raw+=("")
	COMP_WORDS=()
	for w in "${raw[@]}"; do
		[[ -z $w ]] && { COMP_WORDS+=(""); continue; }
		while [[ $w =~ ^([^=:]*)([=:])(.*)$ ]]; do
			[[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
			COMP_WORDS+=("${BASH_REMATCH[2]}")
			w=${BASH_REMATCH[3]}
		done
		[[ -n $w ]] && COMP_WORDS+=("$w")
	done
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_tally tally "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf "%s\n" "${COMPREPLY[@]}"
	' bash "$COMPLETIONS/tally.bash" "$1"
}

test_expect_success 'bash: commands, options, flags after = and runs' '
	bash_complete "tally ru" >c && printf "run\nruns\n" >want && test_cmp want c &&
	bash_complete "tally runs --form" >c && test "$(cat c)" = --format &&
	bash_complete "tally run train.py opt" >c && test "$(cat c)" = optimizer= &&
	bash_complete "tally run train.py optimizer=" >c && printf "adam\nsgd\n" >want && test_cmp want c &&
	bash_complete "tally runs --where=st" >c && grep -qx status c && grep -qx started c &&
	bash_complete "tally show base" >c && test "$(cat c)" = baseline
'

if command -v zsh >/dev/null; then
# zsh: the completion function with zsh's _describe and _files standing in
# for the completion system (which needs a terminal).
zsh_complete() {
	zsh -f -c '
	_describe() { local -a items; items=("${(@P)4}"); print -rl -- "${items[@]}"; print -r -- "args: ${argv[5,-1]}"; }
	_files() { print -r -- "_files $*"; }
	compdef() { :; }
	. "$1"
	shift
	words=("$@")
	CURRENT=$#words
	PREFIX=${words[-1]}
	_tally
	' zsh "$COMPLETIONS/_tally" "$@"
}
test_expect_success 'zsh: candidates with descriptions, files, no space after NAME=' '
	zsh_complete tally ru >c &&
	grep -qx "run:run a script as a tracked run" c && grep -qx "runs:list runs, newest first" c &&
	zsh_complete tally run train.py "" >c &&
	grep -qx "lr=:default 0.01 — learning rate" c && grep -qx "args: -S " c &&
	zsh_complete tally run "" >c && grep -qx "_files " c &&
	zsh_complete tally runs --runs-dir "" >c && grep -qx "_files -/" c
'
fi

if command -v fish >/dev/null; then
test_expect_success 'fish: complete -C gives candidates and descriptions' '
	fish --no-config -c "source $COMPLETIONS/tally.fish; complete -C \"tally ru\"" >c &&
	grep -q "^run	run a script as a tracked run" c &&
	fish --no-config -c "source $COMPLETIONS/tally.fish; complete -C \"tally run train.py optimizer=\"" >c &&
	grep -q "^optimizer=adam" c && grep -q "^optimizer=sgd" c &&
	fish --no-config -c "source $COMPLETIONS/tally.fish; complete -C \"tally runs --sort -v\"" >c &&
	grep -qx -- "-val_acc" c
'
fi

test_done

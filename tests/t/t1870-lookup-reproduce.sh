#!/usr/bin/env bash
# tally lookup prints one recorded value for scripts; tally reproduce prints
# the steps that re-create a run, and --run re-runs it from its own source
# snapshot with the same flags, linked to the original.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a git project, a run with flags' '
	git init -q . &&
	mkdir data && echo 41 >data/answer.txt &&
	cat >train.py <<-\PY &&
	import argparse
	p = argparse.ArgumentParser()
	p.add_argument("--lr", type=float, default=0.1)
	p.add_argument("--tag", type=str, default="x")
	p.add_argument("--epochs", type=int, default=2)
	a = p.parse_args()
	print("code version 1", a.lr, repr(a.tag), a.epochs, open("data/answer.txt").read().strip())
	print("loss:", a.lr * 2)
	print("loss:", a.lr)
	PY
	echo "runs/" >.gitignore &&
	git add train.py .gitignore && git -c user.email=t@t -c user.name=t commit -qm one &&
	tally run -q --name first train.py lr=0.3 "tag='\''0.5'\''" >/dev/null 2>&1
'

test_expect_success 'lookup: flags, scalars and their summaries, git, command, nested keys' '
	test "$(tally lookup first flag.lr)" = 0.3 &&
	test "$(tally lookup first flag.tag)" = 0.5 &&
	test "$(tally lookup first flag.epochs)" = 2 &&
	test "$(tally lookup first scalar.loss)" = 0.3 &&
	test "$(tally lookup first "max(loss)")" = 0.6 &&
	test "$(tally lookup first "count(loss)")" = 2 &&
	test "$(tally lookup first commit)" = "$(git rev-parse HEAD)" &&
	test "$(tally lookup first dirty)" = false &&
	test "$(tally lookup first status)" = completed &&
	test "$(tally lookup first git.branch)" = "$(git rev-parse --abbrev-ref HEAD)" &&
	test "$(tally lookup first dir)" = "$(show_field "[\"dir\"]")" &&
	tally lookup first command | grep -q "^python3 train.py --lr 0.3 --tag 0.5" &&
	test "$(tally lookup flag.lr)" = 0.3
'

test_expect_success 'lookup: a value the run lacks is exit status 1 with a message; bad usage 129' '
	test_expect_code 1 tally lookup first flag.nope 2>err &&
	grep -q "^tally: run .* has no .flag.nope." err &&
	test_expect_code 1 tally lookup first "min(nope)" &&
	test_expect_code 128 tally lookup nosuch flag.lr &&
	test_expect_code 129 tally lookup &&
	test_expect_code 129 tally lookup a b c
'

test_expect_success 'reproduce prints the directory, the commit and the command with the given flags' '
	tally reproduce first >steps &&
	grep -q "^cd $PWD$" steps &&
	grep -q "^git checkout $(git rev-parse HEAD)" steps &&
	grep -q "^tally run train.py lr=0.3 " steps &&
	! grep -q "epochs" steps
'

test_expect_success 'the printed command re-creates the same flags' '
	cmd=$(tail -n 1 steps) &&
	eval "$cmd -q" >/dev/null 2>&1 &&
	test "$(tally lookup 1 flag.tag)" = 0.5 &&
	test "$(tally show 1 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"flag_types\"][\"tag\"])")" = string &&
	test "$(tally lookup 1 flag.lr)" = 0.3
'

test_expect_success 'reproduce --run uses the run own sources, not the changed project' '
	sed -i "s/code version 1/code version 2/" train.py &&
	tally reproduce first --run -q 2>err &&
	grep -q "reproducing" err &&
	tally cat 1 >out &&
	grep -q "^code version 1 0.3 .0.5. 2 41$" out &&
	test "$(tally lookup 1 reproduces)" = "$(tally lookup first id)" &&
	test "$(tally lookup 1 commit)" = "$(tally lookup first commit)" &&
	grep -q "code version 1" "$(tally lookup 1 dir)/train.py" &&
	test "$(tally lookup 1 source_digest)" = "$(tally lookup first source_digest)"
'

test_expect_success 'reproduce --run of a source file removed from the project still has it' '
	cat >helper.py <<-\PY &&
	WORD = "helped"
	PY
	cat >use.py <<-\PY &&
	import helper
	print(helper.WORD)
	PY
	git add helper.py use.py && git -c user.email=t@t -c user.name=t commit -qm two &&
	tally run -q --name withhelper use.py >/dev/null 2>&1 &&
	git rm -q helper.py &&
	tally reproduce withhelper --run -q 2>/dev/null &&
	tally cat 1 | grep -q "^helped$"
'

test_expect_success 'reproduce --run copies all of a source the run has, above a size limit lowered since' '
	"$PYTHON" -c "open(\"big.txt\", \"w\").write(\"b\" * 300)" &&
	printf "print(len(open(\"big.txt\").read()))\n" >size.py &&
	tally run -q --name sized size.py >/dev/null 2>&1 &&
	printf "sources:\n  max-file-size: 100\n" >tally.yml &&
	tally reproduce sized --run -q 2>/dev/null &&
	rm tally.yml &&
	tally cat 1 | grep -q "^300$" &&
	again=$(tally lookup 1 dir) &&
	test -f "$again/big.txt" && ! test -L "$again/big.txt" &&
	test "$(wc -c <"$again/big.txt")" = 300
'

test_expect_success 'reproduce: bad usage and unknown runs' '
	test_expect_code 129 tally reproduce 1 2 &&
	test_expect_code 129 tally reproduce --bogus &&
	test_expect_code 128 tally reproduce nosuch
'

test_expect_success 'reproduce quotes what it prints: a hostile commit or branch cannot run' '
	dir=$(tally lookup first dir) &&
	"$PYTHON" - "$dir/.tally/run.json" <<-\PY &&
	import json, sys
	p = sys.argv[1]
	m = json.load(open(p))
	m["git"]["commit"] = "abc; touch pwned1"
	m["git"]["branch"] = "main\ntouch pwned2 #"
	json.dump(m, open(p, "w"))
	PY
	tally reindex >/dev/null &&
	tally reproduce first >steps &&
	grep -q "^git checkout .abc; touch pwned1.    # on branch main?touch pwned2 # then$" steps &&
	sh -n steps && (cd "$(mktemp -d)" && sed -n "/^git/!p" "$OLDPWD/steps" >/dev/null) &&
	! grep -q "^touch" steps
'

test_done

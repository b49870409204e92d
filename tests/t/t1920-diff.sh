#!/usr/bin/env bash
# tally diff: attributes, flags, source snapshots (modified, added, removed,
# renamed, binary files) and console output as unified diffs; --stat,
# --path, colour, exit status like diff(1).
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a git project and two runs of it' '
	git init -q -b main . &&
	git config user.name "Tally Test" && git config user.email test@example.com &&
	printf "out*\nerr\n*.out\n" >.gitignore &&
	cat >train.sh <<-\SH &&
	#| flags:
	#|   lr: {type: float, default: 0.1}
	echo "lr is $FLAG_LR"
	echo "loss: 0.5"
	SH
	printf "first\nsecond\nthird\n" >notes.txt &&
	echo "helper" >old-name.sh &&
	echo "going away" >gone.txt &&
	printf "bin\000ary" >blob.bin &&
	git add . && git commit -q -m one &&
	tally run -q train.sh lr=0.1 2>/dev/null &&
	printf "first\nSECOND\nthird\n" >notes.txt &&
	git mv old-name.sh new-name.sh && git rm -q gone.txt &&
	echo "a new file" >added.txt && printf "bin\000ery" >blob.bin &&
	git add . && git commit -q -m two &&
	tally run -q train.sh lr=0.2 2>/dev/null
'

test_expect_success 'flags and attributes as -/+ lines; exit 1 when the runs differ' '
	test_expect_code 1 tally diff --flags --attributes >out &&
	grep -q "^diff flags$" out && grep -q "^-lr=0.1$" out && grep -q "^+lr=0.2$" out &&
	grep -q "^diff attributes$" out && grep -q "^-git.commit=" out && grep -q "^+label=lr=0.2$" out &&
	! grep -q "^diff --git" out
'

test_expect_success 'sources: modified, added, removed, renamed and binary files' '
	test_expect_code 1 tally diff --sources 2 1 >out &&
	grep -q "^diff --git a/notes.txt b/notes.txt$" out &&
	grep -q "^-second$" out && grep -q "^+SECOND$" out && grep -q "^ first$" out &&
	grep -q "^diff --git a/added.txt b/added.txt$" out && grep -q "^new file" out && grep -q "^+a new file$" out &&
	grep -q "^diff --git a/gone.txt b/gone.txt$" out && grep -q "^deleted file" out &&
	grep -q "^renamed old-name.sh => new-name.sh (same content)$" out &&
	grep -q "^Binary files a/blob.bin and b/blob.bin differ$" out &&
	! grep -q "train.sh" out &&
	test_expect_code 1 tally diff --sources 2 1 -U 0 >out0 && ! grep -q "^ first$" out0
'

test_expect_success '--stat and --path' '
	test_expect_code 1 tally diff --stat 2 1 >out &&
	grep -q "^ notes.txt  *| 2 +-$" out &&
	grep -q "^ old-name.sh => new-name.sh  *| renamed$" out &&
	grep -q "^ blob.bin  *| binary$" out &&
	grep -q "^ flags  *| 1 changed$" out &&
	grep -q "^ [0-9]* files changed, 2 insertions(+), 2 deletions(-)$" out &&
	test_expect_code 1 tally diff --sources --path "*.txt" 2 1 >out &&
	grep -q "notes.txt" out && ! grep -q "blob.bin" out && ! grep -q "renamed" out
'

test_expect_success '--output diffs the console output; the same run set differs in nothing' '
	test_expect_code 1 tally diff --output 2 1 >out &&
	grep -q "^-lr is 0.1$" out && grep -q "^+lr is 0.2$" out && grep -q "^ loss: 0.5$" out &&
	tally run -q train.sh lr=0.2 2>/dev/null &&
	tally diff --flags --sources --output 2 1 >out && test ! -s out
'

test_expect_success 'colour: --color always, never; auto only on a terminal and without NO_COLOR' '
	test_expect_code 1 tally diff --flags 3 2 --color always >out && grep -q "$(printf "\033\\[31m")-lr=0.1" out &&
	test_expect_code 1 tally diff --flags 3 2 --color never >out && ! grep -q "$(printf "\033")" out &&
	test_expect_code 1 tally diff --flags 3 2 >out && ! grep -q "$(printf "\033")" out &&
	{ script -qec "tally diff --flags 3 2" /dev/null >tty.out; true; } &&
	grep -q "$(printf "\033\\[32m")+lr=0.2" tty.out &&
	{ NO_COLOR=1 script -qec "tally diff --flags 3 2" /dev/null >tty.out; true; } &&
	grep -q "lr=0.2" tty.out && ! grep -q "$(printf "\033")" tty.out
'

test_expect_success 'a hostile sources.json cannot make diff read outside the run' '
	dir=$(tally lookup 1 dir) &&
	echo "[{\"path\": \"../../../../etc/passwd\", \"sha256\": \"x\"}, {\"path\": \"/etc/passwd\", \"sha256\": \"y\"}]" \
		>"$dir/.tally/sources.json" &&
	ln -s /etc/hostname "$dir/link.txt" &&
	{ tally diff --sources 2 1 >out; test $? -le 1; } &&
	! grep -q "root:" out && ! grep -q "passwd" out
'

test_expect_success 'a FIFO where a source should be neither hangs nor is read' '
	dir=$(tally lookup 2 dir) &&
	rm -f "$dir/notes.txt" && mkfifo "$dir/notes.txt" &&
	{ timeout 20 tally diff --sources 2 3 >out; test $? -le 1; }
'

test_expect_success 'bad requests' '
	test_expect_code 129 tally diff 1 2>err &&
	test_expect_code 129 tally diff 1 2 3 2>err &&
	test_expect_code 129 tally diff -U x 2>err &&
	test_expect_code 129 tally diff --color sometimes 2>err &&
	test_expect_code 128 tally diff 1 nosuch 2>err &&
	test_expect_code 128 tally diff 1 1 2>err && grep -q "two runs" err
'

test_done

#!/usr/bin/env bash
# `tally ls`: the files a run produced with their sizes, without its source
# snapshot, links or tally's metadata; a PATH narrows it; json; errors.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a project with data, and a run that writes files' '
	mkdir -p data && echo "1,2" >data/train.csv &&
	cat >make.sh <<-\SH &&
	mkdir -p plots plots2
	head -c 2048 /dev/zero >plots/loss.png
	echo "x" >plots2/other.txt
	head -c 3000000 /dev/zero >model.bin
	SH
	tally run -q make.sh >/dev/null 2>&1
'

test_expect_success 'every produced file with its size, nothing else' '
	tally ls >all &&
	cat >expect <<-\EOF &&
	   2.9 MiB  model.bin
	   2.0 KiB  plots/loss.png
	       2 B  plots2/other.txt
	EOF
	sort -k3 all >sorted &&
	test_cmp expect sorted &&
	! grep -q "make.sh\|train.csv\|\.tally" all
'

test_expect_success 'PATH keeps the files at or below it' '
	tally ls 1 plots >p &&
	echo "   2.0 KiB  plots/loss.png" >expect &&
	test_cmp expect p &&
	tally ls 1 plots/ >p2 &&
	test_cmp expect p2 &&
	tally ls 1 model.bin >m &&
	grep -q " model.bin$" m &&
	tally ls 1 nothing >none 2>err &&
	test ! -s none &&
	grep -q "No file of run .* at or below .nothing." err
'

test_expect_success '--format json: paths and exact sizes' '
	tally ls --format json >files.json &&
	"$PYTHON" -c "
import json
files = {f[\"path\"]: f[\"size\"] for f in json.load(open(\"files.json\"))}
assert files == {\"model.bin\": 3000000, \"plots/loss.png\": 2048, \"plots2/other.txt\": 2}, files
"
'

test_expect_success 'bad arguments are errors' '
	test_expect_code 128 tally ls 42 2>err &&
	grep -q "^tally: there is no run 42" err &&
	test_expect_code 129 tally ls 1 a b 2>err &&
	test_expect_code 129 tally ls --format xml 2>err &&
	grep -q "unknown format" err
'

test_done

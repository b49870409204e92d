#!/usr/bin/env bash
# tally runs: --columns picks and orders columns (table, csv, tsv); the
# default FLAGS column shows the flags that differ between the listed runs;
# --column-width cuts long cells; the query options select as everywhere.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: four runs, lr varies, units does not' '
	cat >train.py <<-\PY &&
	import argparse
	p = argparse.ArgumentParser()
	p.add_argument("--lr", type=float, default=0.1)
	p.add_argument("--units", type=int, default=64)
	a = p.parse_args()
	for step in range(3):
	    print("loss:", a.lr * (3 - step))
	print("val_acc:", 1 - a.lr)
	PY
	for lr in 0.1 0.2 0.3; do tally run -q train.py lr=$lr >/dev/null 2>&1 || return 1; done &&
	tally run -q --name best train.py lr=0.05 >/dev/null 2>&1 &&
	tally tag -y 1 +keep >/dev/null
'

test_expect_success 'default table: FLAGS shows the flags that differ, all of them for one run' '
	tally runs >out &&
	grep -q "lr=0.05" out && ! grep -q "units=64" out &&
	tally runs -n 1 >out &&
	grep -q "lr=0.05 units=64" out &&
	tally runs --where "lr = 0.1" >out &&
	grep -q "lr=0.1 units=64" out
'

test_expect_success 'two identical runs: no FLAGS column at all' '
	tally run -q train.py lr=0.3 >/dev/null 2>&1 &&
	tally runs --where "lr = 0.3" >out &&
	! grep -q FLAGS out && grep -q SCALARS out
'

test_expect_success '--columns: chosen columns in order, with summaries, names and tags' '
	tally runs --columns "id,name,flag.lr,units,loss,min(loss),max(val_acc),tags,status" --where "lr < 0.1" >out &&
	head -n 1 out | grep -q "^ID  *NAME  *flag.lr  *units  *loss  *min(loss)  *max(val_acc)  *TAGS  *STATUS$" &&
	sed -n 2p out | grep -q " best  *0.05  *64  *0.05  *0.05  *0.95  *keep  *completed$"
'

test_expect_success '--columns with csv and tsv: exact values, one column each' '
	tally runs --columns "id,lr,val_acc,started,time" --format csv --sort lr >out.csv &&
	test "$(head -n 1 out.csv)" = "id,lr,val_acc,started,time" &&
	sed -n 2p out.csv | grep -q ",0.05,0.95,20[0-9-]*T[0-9:.]*Z,[0-9.]*$" &&
	test "$(tail -n +2 out.csv | wc -l)" = 5 &&
	tally runs --columns "lr,units" --format tsv -n 1 >out.tsv &&
	test "$(sed -n 2p out.tsv)" = "$(printf "0.3\t64")"
'

test_expect_success '--column-width cuts long cells with an ellipsis; ids stay whole' '
	tally label -y 1 "a rather long label that goes on and on" >/dev/null &&
	tally runs --column-width 12 -n 1 --full-ids >out &&
	grep -q "a rather lo…" out && ! grep -q "goes on" out &&
	grep -q "$(tally lookup 1 id)" out &&
	tally runs --columns id,label --column-width 8 -n 1 --full-ids >out &&
	grep -q "a rathe…" out && grep -q "$(tally lookup 1 id)" out &&
	tally runs --columns id,label -n 1 >out &&
	grep -q "^$(tally lookup 1 id | sed "s/.*Z-//") " out && ! grep -q "$(tally lookup 1 id)" out
'

test_expect_success 'bad --columns and --column-width: one line, exit 128/129' '
	test_expect_code 128 tally runs --columns attr.nope 2>err &&
	grep -q "is not a run attribute" err &&
	test_expect_code 128 tally runs --columns "," 2>err &&
	test_expect_code 129 tally runs --columns id --format json &&
	test_expect_code 129 tally runs --column-width 0 &&
	test_expect_code 129 tally runs --column-width wide
'

test_expect_success 'scalars takes ranges and query options; plot takes ranges' '
	tally scalars --where "lr < 0.1" --summary --format csv >out &&
	grep -q "^$(tally lookup best id),loss," out &&
	test "$(cut -d, -f1 out | sort -u | grep -vc "^run$")" = 1 &&
	tally scalars 2:4 --summary --format csv >out &&
	test "$(cut -d, -f1 out | sort -u | grep -vc "^run$")" = 3 &&
	tally scalars --completed --sort lr --tag val_acc --format csv >out &&
	test "$(tail -n +2 out | wc -l)" = 5 &&
	tally plot 1:3 loss --ascii --width 60 >out &&
	test "$(grep -c "^  *[*+ox] " out)" = 3
'

test_expect_success 'commands taking one run take the first the query options select' '
	test "$(tally lookup --where "lr >= 0.1" --sort -val_acc flag.lr)" = 0.1 &&
	test "$(tally lookup --sort lr flag.lr)" = 0.05 &&
	test "$(tally lookup --completed --sort -lr flag.lr)" = 0.3 &&
	tally show --completed --sort -lr | grep -q "^status: *completed" &&
	tally cat --where "name = best" | grep -q "^loss: 0.15" &&
	tally tail -n 1 --sort -val_acc | grep -q "^val_acc: 0.95" &&
	test "$(tally open --print --where "name = best")" = "$(tally lookup best dir)" &&
	test_expect_code 128 tally show --where "lr > 5" 2>err &&
	grep -q "no run matches the query options" err &&
	test_expect_code 128 tally show --where "lr >" 2>err &&
	grep -q "column" err
'

test_done

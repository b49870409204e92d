#!/usr/bin/env bash
# tally import --from tfruns|guild: runs of tfruns and Guild AI, written here
# in their own layouts, become tally runs with their ids, times, flags,
# output, metrics and sources; the originals stay as they were; what cannot
# be read is skipped with a message.
. "$(dirname "$0")/test-lib.sh"

# jq-less JSON checks: jcheck FILE PYTHON-EXPRESSION-OVER-r
jcheck() {
	"$PYTHON" -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert $2, r
" "$1"
}

test_expect_success 'setup: two tfruns runs (one failed) with metrics, evaluation, output and sources' '
	ok=tfruns-runs/2017-10-02T14-23-38Z && bad=tfruns-runs/2017-10-02T14-30-00Z &&
	mkdir -p $ok/tfruns.d/properties $ok/plots $bad/tfruns.d/properties src &&
	echo "{\"dropout1\": 0.4, \"batch_size\": 128, \"optimizer\": \"rmsprop\", \"augment\": true}" >$ok/tfruns.d/flags.json &&
	echo "{\"loss\": [0.5, 0.3, null], \"val_acc\": [0.8, 0.9, null]}" >$ok/tfruns.d/metrics.json &&
	echo "{\"loss\": 0.1, \"acc\": 0.98}" >$ok/tfruns.d/evaluation.json &&
	echo 1506954218.25 >$ok/tfruns.d/properties/start &&
	echo 1506954264.5 >$ok/tfruns.d/properties/end &&
	echo TRUE >$ok/tfruns.d/properties/completed &&
	echo mnist_mlp.R >$ok/tfruns.d/properties/script &&
	printf "Epoch 1/3\nloss: 0.5\n" >$ok/tfruns.d/properties/output &&
	echo "FLAGS <- flags(flag_numeric(\"dropout1\", 0.4))" >src/mnist_mlp.R &&
	tar -czf $ok/tfruns.d/source.tar.gz -C src mnist_mlp.R &&
	echo png >$ok/plots/loss.png && echo weights >$ok/model.h5 &&
	echo "{\"dropout1\": 0.9}" >$bad/tfruns.d/flags.json &&
	echo 1506954600 >$bad/tfruns.d/properties/start &&
	echo 1506954610 >$bad/tfruns.d/properties/end &&
	echo FALSE >$bad/tfruns.d/properties/completed &&
	echo "NaN loss" >$bad/tfruns.d/properties/error_message &&
	mkdir tfruns-runs/not-a-run &&
	(cd tfruns-runs && find . -type f -exec sha256sum {} + | sort) >before.sums
'

test_expect_success 'tfruns: ids and times kept, flags typed, status, metrics per epoch, eval_, output, sources' '
	tally import --from tfruns tfruns-runs >out 2>err &&
	grep -q "Imported 2 runs from tfruns-runs" out &&
	tally show 2017-10-02T14-23-38Z --format json >ok.json &&
	jcheck ok.json "r[\"id\"] == \"2017-10-02T14-23-38Z\" and r[\"status\"] == \"completed\"" &&
	jcheck ok.json "r[\"started\"].startswith(\"2017-10-02T14:23:38.250\") and r[\"stopped_ms\"] == 1506954264500" &&
	jcheck ok.json "r[\"flags\"] == {\"dropout1\": 0.4, \"batch_size\": 128, \"optimizer\": \"rmsprop\", \"augment\": True}" &&
	jcheck ok.json "r[\"flag_types\"][\"batch_size\"] == \"int\" and r[\"script\"] == \"mnist_mlp.R\"" &&
	jcheck ok.json "r[\"imported_from\"][\"tool\"] == \"tfruns\"" &&
	tally scalars 2017-10-02T14-23-38Z --format csv >scalars.csv &&
	grep -q ",loss,1,0.5," scalars.csv && grep -q ",loss,2,0.3," scalars.csv && ! grep -q ",loss,3," scalars.csv &&
	grep -q ",eval_acc,2,0.98," scalars.csv &&
	tally runs --format tfruns >tf.csv && grep -q "eval_acc" tf.csv &&
	tally cat 2017-10-02T14-23-38Z >output && printf "Epoch 1/3\nloss: 0.5\n" >want && test_cmp want output &&
	dir=$(tally lookup 2017-10-02T14-23-38Z dir) &&
	test_cmp src/mnist_mlp.R "$dir/mnist_mlp.R" &&
	test -f "$dir/plots/loss.png" && test -f "$dir/model.h5" && test ! -e "$dir/tfruns.d" &&
	grep -q "mnist_mlp.R" "$dir/.tally/sources.json" &&
	tally show 2017-10-02T14-30-00Z --format json >bad.json &&
	jcheck bad.json "r[\"status\"] == \"error\" and r[\"error_message\"] == \"NaN loss\"" &&
	(cd tfruns-runs && find . -type f -exec sha256sum {} + | sort) >after.sums &&
	test_cmp before.sums after.sums
'

test_expect_success 'tfruns: importing again skips what is here; a damaged source archive skips that run' '
	tally import --from tfruns tfruns-runs >out 2>err &&
	grep -q "Imported 0 runs" out && grep -q "2017-10-02T14-23-38Z" err &&
	mkdir -p broken/2018-01-01T00-00-00Z/tfruns.d &&
	echo "not gzip" >broken/2018-01-01T00-00-00Z/tfruns.d/source.tar.gz &&
	test_expect_code 128 tally import --from tfruns broken 2>err &&
	grep -q "holds no tfruns runs that could be read" err &&
	grep -q "2018-01-01T00-00-00Z: cannot read" err
'

test_expect_success 'setup: a Guild AI run with attrs, output and its index, sourcecode and event files' '
	g=guild-home/runs/0123456789abcdef0123456789abcdef &&
	mkdir -p $g/.guild/attrs $g/.guild/sourcecode $g/logs/train &&
	echo 1669823427123456 >$g/.guild/attrs/started &&
	echo 1669823437623456 >$g/.guild/attrs/stopped &&
	echo 0 >$g/.guild/attrs/exit_status &&
	printf "lr: 0.01\nepochs: 3\nname: '"'"'007'"'"'\n" >$g/.guild/attrs/flags &&
	echo "lr=0.01 first" >$g/.guild/attrs/label &&
	printf -- "- best\n- keep\n" >$g/.guild/attrs/tags &&
	printf -- "- /usr/bin/python3\n- -um\n- guild.op_main\n- train\n- --lr\n- \"0.01\"\n" >$g/.guild/attrs/cmd &&
	printf "opref:\n  op_name: train.py\n" >$g/.guild/attrs/op &&
	echo worker1 >$g/.guild/attrs/host &&
	printf "epoch 1\nloss: 0.5\nwarning: slow\n" >$g/.guild/output &&
	"$PYTHON" -c "
import struct, sys
with open(sys.argv[1], \"wb\") as f:
    for t, s in ((1669823428000, 0), (1669823429000, 0), (1669823430000, 1)):
        f.write(struct.pack(\"!QB\", t, s))
" $g/.guild/output.index &&
	echo "print(1)" >$g/.guild/sourcecode/train.py &&
	"$PYTHON" -c "
import sys; sys.path.insert(0, \"$TEST_DIRECTORY\")
import tfevents
w = tfevents.Writer(sys.argv[1] + \"/.guild/events.out.tfevents.1669823428.worker1.1\")
for s in (1, 2, 3): w.scalar(\"loss\", 1.0 / s, step=s)
w.close()
w = tfevents.Writer(sys.argv[1] + \"/logs/train/events.out.tfevents.1669823428.worker1.2\")
w.scalar(\"epoch_acc\", 0.75, step=3)
w.close()
" $g &&
	echo model >$g/model.bin &&
	mkdir -p guild-home/runs/ffffffffffffffffffffffffffffffff/.guild
'

test_expect_success 'guild: attrs, output with its line times and streams, event files, sources; a broken run skipped' '
	tally import --from guild guild-home/runs >out 2>err &&
	grep -q "Imported 1 run from guild-home/runs" out &&
	grep -q "ffffffffffffffffffffffffffffffff: no .guild/attrs folder" err &&
	tally show 0123456789ab --format json >g.json &&
	jcheck g.json "r[\"id\"] == \"0123456789abcdef0123456789abcdef\" and r[\"status\"] == \"completed\"" &&
	jcheck g.json "r[\"started_ms\"] == 1669823427123 and r[\"stopped_ms\"] == 1669823437623" &&
	jcheck g.json "r[\"flags\"] == {\"lr\": 0.01, \"epochs\": 3, \"name\": \"007\"} and r[\"exit_status\"] == 0" &&
	jcheck g.json "r[\"label\"] == \"lr=0.01 first\" and r[\"tags\"] == [\"best\", \"keep\"]" &&
	jcheck g.json "r[\"script\"] == \"train.py\" and r[\"host\"] == \"worker1\" and r[\"command\"][3] == \"train\"" &&
	tally cat 0123456789ab --stderr >stderr && echo "warning: slow" >want && test_cmp want stderr &&
	tally cat 0123456789ab --timestamps >stamped &&
	TZ=UTC tally cat 0123456789ab --timestamps >stamped &&
	grep -qx "15:50:28.000 epoch 1" stamped && grep -qx "15:50:29.000 loss: 0.5" stamped &&
	tally scalars 0123456789ab --format csv >g.csv &&
	grep -q ",loss,3,0.3333" g.csv && grep -q ",train/epoch_acc,3,0.75," g.csv &&
	dir=$(tally lookup 0123456789ab dir) &&
	test -f "$dir/train.py" && test -f "$dir/model.bin" && test ! -e "$dir/.guild" &&
	grep -q "train.py" "$dir/.tally/sources.json" &&
	test -d guild-home/runs/0123456789abcdef0123456789abcdef/.guild
'

test_expect_success 'hostile input: a run named .., a source archive writing into .tally/' '
	mkdir -p scratch/tmp scratch/x && echo keep >scratch/tmp/precious &&
	mkdir -p scratch/x/.guild/attrs scratch/x/sub && echo 1669823427123456 >scratch/x/.guild/attrs/started &&
	(cd scratch/x/sub && TMPDIR=$TRASH/scratch/tmp tally --runs-dir ../../../runs import --from guild .. >../../out) &&
	test -f scratch/tmp/precious &&
	grep -q "Imported 1 run" out && tally show x --format json >x.json && jcheck x.json "r[\"id\"] == \"x\"" &&
	h=hostile/2019-01-01T00-00-00Z && mkdir -p $h/tfruns.d src2/.tally &&
	echo evil >src2/.tally/run.json && echo "x <- 1" >src2/ok.R &&
	tar -czf $h/tfruns.d/source.tar.gz -C src2 .tally/run.json ok.R &&
	tally import --from tfruns hostile >out &&
	dir=$(tally lookup 2019-01-01T00-00-00Z dir) &&
	test -f "$dir/ok.R" && ! grep -q evil "$dir/.tally/run.json" &&
	tally show 2019-01-01T00-00-00Z --format json >h.json &&
	jcheck h.json "r[\"id\"] == \"2019-01-01T00-00-00Z\""
'

test_expect_success 'one run directory alone; bad input: unknown tool, missing directory' '
	rm -rf runs &&
	tally import --from guild guild-home/runs/0123456789abcdef0123456789abcdef >out &&
	grep -q "Imported 1 run" out &&
	test_expect_code 129 tally import --from mlflow x 2>err && grep -q "takes tfruns or guild" err &&
	test_expect_code 128 tally import --from tfruns nosuch 2>err && grep -q "not a directory of tfruns runs" err
'

test_done

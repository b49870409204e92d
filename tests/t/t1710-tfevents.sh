#!/usr/bin/env bash
# TensorBoard event files: scalars read from the files a script writes
# (simple_value and TF2 tensor form, folder-prefixed tags, damaged records
# skipped and reported, read while the run goes), and the event file tally
# writes of the scalars it parsed, checked by an independent decoder.
. "$(dirname "$0")/test-lib.sh"

export PYTHONPATH="$TEST_DIRECTORY"

test_expect_success 'simple_value and tensor scalars are read, tags prefixed by their folder' '
	cat >tb.py <<-\PY &&
	import tfevents
	w = tfevents.Writer("logs/train/events.out.tfevents.1700000000.host.1.v2")
	for step in range(3):
	    w.scalar("epoch_loss", 1.0 / (step + 1), step)
	    # TF2 declares the tensor a scalar in the first event of a tag only
	    w.tensor_scalar("epoch_accuracy", 0.5 + step / 10, step, first=(step == 0))
	# a tensor never declared a scalar (a histogram, say) is not one
	w.raw(tfevents.event(1700000000.0, 1, tfevents.summary(
	    tfevents.tensor_value("weights", tfevents.float_tensor_content(3.0)))))
	w.close()
	v = tfevents.Writer("logs/validation/events.out.tfevents.1700000000.host.2.v2")
	v.raw(tfevents.event(1700000001.0, 2, tfevents.summary(
	    tfevents.tensor_value("epoch_loss", tfevents.double_tensor_val(0.25), plugin="scalars"))))
	v.raw(tfevents.event(1700000001.0, 2, tfevents.summary(
	    tfevents.tensor_value("half", tfevents.half_tensor_val(0x3C00), data_class=1))))
	v.close()
	# PyTorch SummaryWriter at the top of the run directory
	t = tfevents.Writer("events.out.tfevents.1700000002.host.3.0")
	t.scalar("Loss/train", -2.5e-3, 7)
	t.close()
	PY
	tally run -q tb.py >out 2>err &&
	! grep -q warning err &&
	scalar_points train/epoch_loss >loss &&
	printf "0 1.0\n1 0.5\n2 0.3333333432674408\n" >expect &&
	test_cmp expect loss &&
	scalar_points train/epoch_accuracy >acc &&
	printf "0 0.5\n1 0.6000000238418579\n2 0.699999988079071\n" >expect &&
	test_cmp expect acc &&
	test "$(scalar_points validation/epoch_loss)" = "2 0.25" &&
	test "$(scalar_points validation/half)" = "2 1.0" &&
	test "$(scalar_points Loss/train)" = "7 -0.0024999999441206455" &&
	test -z "$(scalar_points train/weights)" &&
	test "$(show_field "[\"scalars\"][\"train/epoch_loss\"][\"count\"]")" = 3
'

test_expect_success 'a record with a bad checksum is skipped and reported; the rest is read' '
	cat >bad.py <<-\PY &&
	import tfevents
	w = tfevents.Writer("logs/events.out.tfevents.1.host")
	w.scalar("loss", 0.5, 1)
	w.scalar("loss", 0.4, 2, bad_data_crc=True)
	w.scalar("loss", 0.3, 3)
	w.close()
	PY
	tally run -q bad.py >out 2>err &&
	grep -q "^tally: warning: logs/events.out.tfevents.1.host: 1 damaged record skipped$" err &&
	printf "1 0.5\n3 0.30000001192092896\n" >expect &&
	scalar_points loss >got &&
	test_cmp expect got &&
	test "$(show_field "[\"tfevents_skipped\"]")" = 1
'

test_expect_success 'a lost framing stops that file only; an unfinished last record is not an error' '
	cat >framing.py <<-\PY &&
	import tfevents
	w = tfevents.Writer("tb/a/events.out.tfevents.1.host")
	w.scalar("x", 1.0, 1)
	w.scalar("x", 2.0, 2, bad_length_crc=True)
	w.scalar("x", 3.0, 3)
	w.close()
	u = tfevents.Writer("tb/b/events.out.tfevents.1.host")
	u.scalar("y", 1.0, 1)
	u.f.write(tfevents.record(tfevents.event(1.0, 2, tfevents.summary(tfevents.simple_value("y", 2.0))))[:-3])
	u.close()
	PY
	tally run -q framing.py >out 2>err &&
	grep -q "tb/a/events.out.tfevents.1.host: 1 damaged record skipped, the rest of the file is unreadable" err &&
	! grep -q "tb/b" err &&
	test "$(scalar_points a/x)" = "1 1.0" &&
	test "$(scalar_points b/y)" = "1 1.0"
'

test_expect_success 'garbage named like an event file, links and tally folder are not read' '
	mkdir -p elsewhere &&
	"$PYTHON" -c "
import tfevents
w = tfevents.Writer(\"elsewhere/events.out.tfevents.9.host\")
w.scalar(\"linked\", 1.0, 1)
" &&
	ln -s elsewhere logs &&
	cat >junk.sh <<-\SH &&
	head -c 100000 /dev/urandom >junk.tfevents.bin
	printf "" >empty.tfevents
	SH
	tally run -q junk.sh >out 2>err &&
	! grep -q warning err &&
	test -z "$(scalar_points logs/linked)" &&
	test -z "$(scalar_points elsewhere/linked)" &&
	test "$(tally scalars -f csv | wc -l)" = 1 &&
	rm logs && rm -r elsewhere
'

test_expect_success 'event files that came with the sources are not the run'"'"'s, nor is a tfevents_utils.py' '
	mkdir -p stale/logs/train &&
	(
		cd stale &&
		"$PYTHON" -c "
import tfevents
w = tfevents.Writer(\"logs/train/events.out.tfevents.1.host\")
w.scalar(\"epoch_loss\", 9.99, 1)
" &&
		cp logs/train/events.out.tfevents.1.host copied.tfevents &&
		echo "def helper(): pass" >tfevents_utils.py &&
		echo "print(\"hi\")" >train.py &&
		# tracked by git: copied into the run as real files, not linked
		git init -q . && git add -A &&
		git -c user.email=t@example.com -c user.name=t commit -qm sources &&
		tally run -q train.py >out 2>err &&
		! grep -q warning err &&
		test -f runs/*/copied.tfevents && test ! -L runs/*/copied.tfevents &&
		test -f runs/*/logs/train/events.out.tfevents.1.host && test ! -L runs/*/logs &&
		test "$(tally scalars -f csv | wc -l)" = 1
	)
'

test_expect_success 'PyTorch'"'"'s dated default folder adds nothing to tags, so runs compare' '
	cat >torch.py <<-\PY &&
	import tfevents
	w = tfevents.Writer("runs/Nov24_04-22-10_myhost/events.out.tfevents.1.myhost")
	w.scalar("Loss/train", 0.5, 1)
	v = tfevents.Writer("runs/Nov24_04-22-10_myhost/Accuracy_val/events.out.tfevents.2.myhost")
	v.scalar("Accuracy", 0.75, 1)
	o = tfevents.Writer("runs/experiment_1/events.out.tfevents.3.myhost")
	o.scalar("x", 1.0, 1)
	PY
	tally run -q torch.py >out 2>err &&
	test "$(scalar_points Loss/train)" = "1 0.5" &&
	test "$(scalar_points Accuracy_val/Accuracy)" = "1 0.75" &&
	test "$(scalar_points experiment_1/x)" = "1 1.0"
'

test_expect_success 'a file truncated and written anew while followed is read from its start again' '
	cat >rewrite.py <<-\PY &&
	import scalarlog, time, tfevents
	w = tfevents.Writer("logs/events.out.tfevents.1.host")
	w.scalar("first", 1.0, 1)
	w.scalar("first", 2.0, 2)
	w.close()
	scalarlog.wait_for_points("first", 2)   # tally has read both records
	open("logs/events.out.tfevents.1.host", "wb").close()
	n = tfevents.Writer("logs/events.out.tfevents.1.host")
	n.scalar("second", 3.0, 1)
	n.close()
	PY
	tally run -q rewrite.py >out 2>err &&
	! grep -q warning err &&
	printf "1 1.0\n2 2.0\n" >expect &&
	scalar_points first >got &&
	test_cmp expect got &&
	test "$(scalar_points second)" = "1 3.0"
'

test_expect_success 'a FIFO put in place of an event file does not hang the run' '
	cat >fifo.py <<-\PY &&
	import os, scalarlog, time, tfevents
	w = tfevents.Writer("logs/events.out.tfevents.1.host")
	w.scalar("before", 1.0, 1)
	w.close()
	scalarlog.wait_for_points("before", 1)   # tally has found and read the file
	os.remove("logs/events.out.tfevents.1.host")
	os.mkfifo("logs/events.out.tfevents.1.host")
	time.sleep(2.5)   # and polls it again
	PY
	timeout 60 tally run -q fifo.py >out 2>err &&
	test "$(scalar_points before)" = "1 1.0"
'

test_expect_success 'an event file in a folder of 30,000 checkpoints is found' '
	cat >many.py <<-\PY &&
	import os, tfevents
	os.makedirs("ckpt")
	for i in range(30000):
	    open(f"ckpt/{i}.pt", "w").close()
	w = tfevents.Writer("zlogs/events.out.tfevents.1.host")
	w.scalar("found", 2.0, 3)
	PY
	tally run -q many.py >out 2>err &&
	test "$(scalar_points zlogs/found)" = "3 2.0"
'

test_expect_success 'event files are read while the run goes, not only at its end' '
	cat >live.py <<-\PY &&
	import json, os, time, tfevents
	w = tfevents.Writer("logs/events.out.tfevents.1.host")
	w.scalar("live_loss", 0.9, 1)
	summary = os.path.join(os.environ["TALLY_RUN_DIR"], ".tally", "scalars.json")
	for _ in range(100):
	    try:
	        if "live_loss" in json.load(open(summary)):
	            print("seen while running")
	            break
	    except (OSError, ValueError):
	        pass
	    time.sleep(0.1)
	PY
	tally run -q live.py >out 2>err &&
	grep -q "seen while running" runs/*/.tally/output
'

test_expect_success 'a run keeps its scalars once: no event file of its own unless asked' '
	cat >print.sh <<-\SH &&
	echo "loss: 0.5 (step 1)"
	echo "loss: 0.25 (step 2)"
	echo "acc: 0.75"
	SH
	tally run -q print.sh >out &&
	dir=$(show_field "[\"dir\"]") &&
	test "$(show_field "[\"format\"]")" = 2 &&
	test "$(head -c 8 "$dir/.tally/scalars.log")" = TALLYSC2 &&
	! ls "$dir"/.tally/*tfevents* 2>/dev/null
'

# The points of an event file, "step tag value" a line, checked by the independent decoder.
event_points() {
	"$PYTHON" -c "
import sys, tfevents
events = list(tfevents.read(sys.argv[1]))
assert events[0][\"file_version\"] == \"brain.Event:2\", events[0]
assert all(e[\"wall_time\"] > 1.7e9 for e in events)
assert sum(1 for e in events if \"file_version\" in e) == 1
for e in events[1:]:
    for v in e[\"values\"]:
        print(e.get(\"step\", 0), v[\"tag\"], v[\"simple_value\"])
" "$1"
}

test_expect_success 'tally tensorboard --files-only writes an event file TensorBoard reads, once' '
	tally tensorboard --files-only 1 >out 2>err &&
	grep -q "Event files: 1 written (3 points)" err &&
	grep -q "tensorboard --logdir" out &&
	dir=$(show_field "[\"dir\"]") &&
	ls "$dir"/.tally/events.out.tfevents.*.tally >files &&
	test $(wc -l <files) = 1 &&
	event_points "$(cat files)" >points &&
	printf "1 loss 0.5\n2 loss 0.25\n2 acc 0.75\n" >expect &&  # an explicit step holds for the lines after it
	test_cmp expect points &&
	cp "$(cat files)" before &&
	tally tensorboard --files-only 1 2>err &&
	grep -q "0 written (0 points), 1 up to date" err &&
	cmp before "$(cat files)"
'

test_expect_success 'an event file longer or shorter than events.json says is mended' '
	dir=$(show_field "[\"dir\"]") &&
	f=$(ls "$dir"/.tally/events.out.tfevents.*.tally) &&
	printf "torn tail of a crashed export" >>"$f" &&
	tally tensorboard --files-only 1 2>err &&
	event_points "$f" >points &&
	test_cmp expect points &&
	head -c 60 "$f" >short && cat short >"$f" &&
	tally tensorboard --files-only 1 2>err &&
	grep -q "1 written (3 points)" err &&
	event_points "$f" >points &&
	test_cmp expect points &&
	# a first export cut short: events.json (written first) says nothing is in the file yet
	printf "{\"file\": \"%s\", \"bytes\": 0, \"points\": 0}" "$(basename "$f")" >"$dir/.tally/events.json" &&
	printf "half a record" >"$f" &&
	tally tensorboard --files-only 1 2>err &&
	grep -q "1 written (3 points)" err &&
	event_points "$f" >points &&
	test_cmp expect points
'

test_expect_success 'a run without scalars gets no event file, and nothing is written in it' '
	mkdir quiet && cd quiet &&
	echo "echo no scalars here" >q.sh &&
	tally run -q q.sh &&
	dir=$(show_field "[\"dir\"]") &&
	ls "$dir/.tally" >before &&
	tally tensorboard --files-only 2>err &&
	grep -q "1 run without scalars" err &&
	ls "$dir/.tally" >after &&
	test_cmp before after
'

test_expect_success 'with tensorboard: on in tally.yml the run writes its event file as it goes' '
	mkdir live && cd live &&
	echo "tensorboard: on" >tally.yml &&
	cp ../print.sh . &&
	tally run -q print.sh >out &&
	dir=$(show_field "[\"dir\"]") &&
	ls "$dir"/.tally/events.out.tfevents.*.tally >files &&
	test $(wc -l <files) = 1 &&
	test ! -e "$dir/.tally/events.json" &&
	event_points "$(cat files)" >points &&
	test_cmp ../expect points &&
	tally tensorboard --files-only 2>err &&
	grep -q "1 written by their runs" err &&
	tally tensorboard --remove >out &&
	grep -q "of 0 runs" out &&
	test -f "$(cat files)"
'

test_expect_success 'tensorboard: takes on or off only' '
	mkdir badyml && cd badyml &&
	echo "tensorboard: sometimes" >tally.yml &&
	echo "echo loss: 1" >p.sh &&
	test_must_fail tally run p.sh 2>err &&
	grep -q "tally.yml line 1 .*'"'"'tensorboard'"'"' must be on or off" err &&
	test "$(run_count)" = 0
'

test_expect_success 'points read from the script'"'"'s event files are not written into tally'"'"'s own' '
	tally run -q tb.py >out 2>err &&
	tally tensorboard --files-only 1 2>err &&
	dir=$(show_field "[\"dir\"]") &&
	for f in "$dir"/.tally/events.out.tfevents.*; do
		# only system metrics, if the run lasted long enough to have any
		test -f "$f" || continue
		"$PYTHON" -c "
import sys, tfevents
tags = {v[\"tag\"] for e in tfevents.read(sys.argv[1]) for v in e.get(\"values\", [])}
assert all(t.startswith(\"sys/\") for t in tags), tags
" "$f" || return 1
	done
'

# A stand-in for TensorBoard: records its argv, then runs what the test gives it.
fake_tensorboard() {
	mkdir -p fakebin &&
	cat >fakebin/tensorboard <<-EOF &&
	#!$PYTHON
	import json, os, sys
	json.dump(sys.argv[1:], open("tb-argv.json", "w"))
	$1
	EOF
	chmod +x fakebin/tensorboard
}

test_expect_success 'tally tensorboard starts TensorBoard on the runs and returns its status' '
	fake_tensorboard "sys.exit(3)" &&
	PATH="$PWD/fakebin:$PATH" test_expect_code 3 tally tensorboard --port 6007 2>err &&
	"$PYTHON" -c "import json,sys; a=json.load(open(\"tb-argv.json\")); assert a == [\"--logdir\", sys.argv[1], \"--port\", \"6007\"], a" "$PWD/runs" &&
	id=$(show_field "[\"id\"]") && dir=$(show_field "[\"dir\"]") &&
	PATH="$PWD/fakebin:$PATH" test_expect_code 3 tally tensorboard 1 2>err &&
	"$PYTHON" -c "import json,sys; a=json.load(open(\"tb-argv.json\")); assert a == [\"--logdir_spec\", sys.argv[1]], a" "$id:$dir"
'

test_expect_success 'a running run'"'"'s event file grows while TensorBoard shows it' '
	cat >slow.py <<-\PY &&
	import os, time
	print("loss: 1.5 (step 1)", flush=True)
	deadline = time.monotonic() + 60   # never spins on if the test gave up
	while not os.path.exists("../../go") and time.monotonic() < deadline:
	    time.sleep(0.02)
	print("loss: 0.5 (step 2)", flush=True)
	PY
	fake_tensorboard "
import glob, time
def points():
    files = glob.glob(\"runs/*/.tally/events.out.tfevents.*.tally\")
    return [l for f in files for l in open(f, \"rb\").read().split(b\"loss\")[1:]] if files else []
def wait(n):
    for _ in range(1200):
        if len(points()) >= n:
            return
        time.sleep(0.05)
    sys.exit(9)
wait(1)
open(\"go\", \"w\").close()
wait(2)
" &&
	rm -rf runs &&
	(tally run -q slow.py >run.out 2>&1 &) &&
	wait_until sh -c "grep -q \"loss: 1.5\" runs/*/.tally/output" &&   # the glob, once the run is there
	wait_until sh -c "test -s runs/*/.tally/scalars.log" &&
	PATH="$PWD/fakebin:$PATH" TALLY_TENSORBOARD_REFRESH=0.05 tally tensorboard 1 2>err &&
	wait_until sh -c "grep -q completed runs/*/.tally/run.json" &&
	event_points runs/*/.tally/events.out.tfevents.*.tally >points &&
	printf "1 loss 1.5\n2 loss 0.5\n" >expect &&
	test_cmp expect points
'

test_expect_success 'tally tensorboard --remove removes the files it wrote, nothing else' '
	tally tensorboard --remove >out &&
	grep -q "Removed the event files of 1 run" out &&
	! ls runs/*/.tally/events* 2>/dev/null &&
	tally tensorboard --remove >out &&
	grep -q "of 0 runs" out
'

test_expect_success 'tally tensorboard: bad options and a missing TensorBoard change nothing' '
	test_must_fail tally tensorboard --port 0 2>err &&
	grep -q "^tally: --port needs a port number from 1 to 65535" err &&
	test_must_fail tally tensorboard --port x 2>err &&
	test_must_fail tally tensorboard --remove --files-only 2>err &&
	grep -q "takes no --files-only" err &&
	test_must_fail tally tensorboard --bogus 2>err &&
	grep -q "unknown option" err &&
	test_must_fail tally tensorboard nosuchrun --files-only 2>err &&
	PATH="$TALLY_BIN_DIR:/usr/bin:/bin" test_expect_code 127 tally tensorboard 2>err &&
	grep -q "^tally: .tensorboard. is not on PATH — install TensorBoard" err &&
	! ls runs/*/.tally/events* 2>/dev/null
'

test_done

#!/usr/bin/env bash
# Scalars from console output beyond `key: value`: Keras progress lines (as
# tf.keras 2 and Keras 3 print them, \r updates included), and a project's or
# script's own output-scalars rules (Guild's form) that replace the defaults.
. "$(dirname "$0")/test-lib.sh"

# points TAG: "step value" lines of TAG in the latest run, from `tally show --format json`'s summary
summary() {
	tally show --format json | "$PYTHON" -c "
import json, sys
d = json.load(sys.stdin)
s = d[\"scalars\"]
print(json.dumps({k: [s[k][\"first_step\"], s[k][\"last_step\"], s[k][\"last\"], s[k][\"count\"]] for k in sorted(s)}))
"
}

test_expect_success 'Keras progress lines: Epoch N/M sets the step, every - key: value pair is a scalar' '
	cat >keras.py <<-\PY &&
	import sys
	for epoch in (1, 2):
	    print(f"Epoch {epoch}/2")
	    for i in (1, 938, 1875):
	        end = "\n" if i == 1875 else "\r"
	        line = f"{i:>4}/1875 [==============================] - ETA: 0:01 - loss: {0.5 / epoch + 1 / i:.4f} - accuracy: {0.8 + epoch / 100:.4f}"
	        if i == 1875:
	            line = f"1875/1875 [==============================] - 3s 1ms/step - loss: {0.5 / epoch:.4f} - accuracy: {0.8 + epoch / 100:.4f} - val_loss: {0.4 / epoch:.4f} - val_accuracy: {0.85 + epoch / 100:.4f}"
	        sys.stdout.write(line + end)
	print("313/313 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - accuracy: 0.8700 - loss: 0.3000")
	PY
	tally run -q keras.py >/dev/null 2>&1 &&
	summary >s.json &&
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s[\"val_loss\"] == [1, 2, 0.2, 2], s
assert s[\"val_accuracy\"] == [1, 2, 0.87, 2], s
assert s[\"loss\"][1] == 2 and s[\"loss\"][3] == 7, s   # 3 updates x 2 epochs + the evaluation line
assert s[\"accuracy\"][2] == 0.87, s
assert \"ETA\" not in s, s
" s.json
'

test_expect_success 'tally.yml output-scalars replace the defaults' '
	mkdir proj && cd proj &&
	cat >tally.yml <<-\YML &&
	output-scalars:
	  - '"'"'^(\key)=(\value)$'"'"'
	  - acc: '"'"'accuracy is (\value)'"'"'
	  - step: '"'"'^iteration (\step)'"'"'
	YML
	printf "print(\"iteration 5\")\nprint(\"loss=0.25\")\nprint(\"the accuracy is 0.75 now\")\nprint(\"other: 1\")\n" >p.py &&
	tally run -q p.py >/dev/null 2>&1 &&
	summary >s.json &&
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s == {\"acc\": [5, 5, 0.75, 1], \"loss\": [5, 5, 0.25, 1]}, s
" s.json
'

test_expect_success 'front matter output-scalars win over tally.yml' '
	cd proj &&
	printf "#| output-scalars: [\"^(\\\\\\\\key) -> (\\\\\\\\value)$\"]\n\nprint(\"loss -> 0.5\")\nprint(\"loss=0.25\")\n" >q.py &&
	cat q.py &&
	tally run -q q.py >/dev/null 2>&1 &&
	summary >s.json &&
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s == {\"loss\": [0, 0, 0.5, 1]}, s
" s.json
'

test_expect_success 'a pattern that does not work is an error naming where it is; no run' '
	mkdir bad && cd bad &&
	cat >tally.yml <<-\YML &&
	output-scalars:
	  - "(\\key)=("
	YML
	cat tally.yml &&
	printf "print(1)\n" >p.py &&
	test_expect_code 128 tally run p.py 2>err &&
	grep -q "tally.yml line 2: output-scalars pattern .* does not work: missing closing parenthesis" err &&
	printf "output-scalars:\n  - \"loss\"\n" >tally.yml &&
	test_expect_code 128 tally run p.py 2>err &&
	grep -q "it needs (.key) and (.value) groups" err &&
	test ! -d runs
'

test_expect_success 'the scalar file: JSON lines appended to $TALLY_SCALARS, from shell, Python and R' '
	cat >f.sh <<-\SH &&
	echo "{\"loss\": 0.5, \"acc\": 0.7}" >>"$TALLY_SCALARS"
	echo "{\"loss\": 0.4, \"step\": 10}" >>"$TALLY_SCALARS"
	echo "garbage" >>"$TALLY_SCALARS"
	echo "{\"note\": \"text only\"}" >>"$TALLY_SCALARS"
	printf "{\"loss\": 0.3}" >>"$TALLY_SCALARS"
	SH
	tally run -q f.sh >/dev/null 2>&1 &&
	summary >s.json &&
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s == {\"acc\": [0, 0, 0.7, 1], \"loss\": [0, 10, 0.4, 3]}, s
" s.json &&
	show_field "[\"scalars_file_skipped\"]" >skipped &&
	test "$(cat skipped)" = 2 &&
	cat >f.py <<-\PY &&
	import json, os
	with open(os.environ["TALLY_SCALARS"], "a") as f:
	    for epoch in range(3):
	        f.write(json.dumps({"val_loss": 1.0 / (epoch + 1), "step": epoch + 1}) + "\n")
	PY
	tally run -q f.py >/dev/null 2>&1 &&
	summary >s.json &&
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
v = s[\"val_loss\"]
assert list(s) == [\"val_loss\"] and v[0:2] == [1, 3] and abs(v[2] - 1.0 / 3) < 1e-12 and v[3] == 3, s
" s.json &&
	cat >f.R <<-\R &&
	for (i in 1:4) cat(sprintf("{\"rmse\": %.2f}\n", 1 / i), file = Sys.getenv("TALLY_SCALARS"), append = TRUE)
	R
	tally run -q f.R >/dev/null 2>&1 &&
	summary >s.json &&
	"$PYTHON" -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s == {\"rmse\": [0, 3, 0.25, 4]}, s
" s.json
'

test_expect_success 'common training-log styles: steps in parentheses, epoch lines, key=value pairs' '
	mkdir styles && cd styles &&
	cat >styles.py <<-\PY &&
	print("loss: 0.9 (10)")
	print("acc: 0.5")
	print("loss: 0.8 (best so far)")
	for epoch in range(1, 3):
	    print(f"epoch {epoch}/2")
	    print(f"val_loss = 0.{epoch}")
	print("Epoch 6: train_loss=1.000, val_loss=1.200, acc=0.9")
	print("version=1.2.3")
	print("INFO lr=0.1 loss=5")
	print("epoch: 7")
	print("loss=0.3 acc=0.95")
	PY
	tally run -q styles.py >/dev/null 2>&1 &&
	tally scalars --format csv | cut -d, -f2-4 | tail -n +2 >got &&
	cat >want <<-\EOF &&
	loss,10,0.9
	acc,10,0.5
	loss,11,0.8
	val_loss,1,0.1
	val_loss,2,0.2
	train_loss,6,1
	val_loss,6,1.2
	acc,6,0.9
	loss,7,0.3
	acc,7,0.95
	EOF
	test_cmp want got &&
	! tally scalars --format csv | grep -q "^[^,]*,\(epoch\|version\|lr\),"
'

test_done

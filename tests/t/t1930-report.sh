#!/usr/bin/env bash
# tally report: self-contained HTML reports checked in headless Chromium —
# the page loads without console errors, the charts have their series and
# points, hostile text from a run stays text, images are inline, big runs
# still give a file of sensible size; and tally run --report.
. "$(dirname "$0")/test-lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
# The page as Chromium leaves it after loading (scripts, if any ran, would
# show here), with the browser's console messages in $2.
dom() { timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--enable-logging=stderr --v=0 --user-data-dir="$TRASH/chromium" --dump-dom "file://$PWD/$1" 2>"$2"; }

# Skipped only when no browser can run here at all (none installed, or one
# that cannot show a static page): any failure on a report is a failure.
if [ -n "$CHROMIUM" ]; then
	echo "<p>browser works</p>" >probe.html
	dom probe.html probe.log | grep -q "browser works" || CHROMIUM=""
fi
if [ -z "$CHROMIUM" ]; then
	echo "ok 1 - $TEST_NAME: reports in a browser # SKIP no working chromium (scripts/install-deps installs it)"
	test_done
	exit
fi

test_expect_success 'setup: a run whose text is hostile, with a plot and stderr' '
	cat >train.py <<-\PY &&
	import struct, sys, zlib
	label = "x"
	print("<script>document.title=\"pwned\"</script>")
	print("\"><img src=x onerror=\"document.title=\x27pwned2\x27\">")
	for step in range(1, 11):
	    print("loss: %g (step %d)" % (1.0 / step, step))
	    print("val_loss: %g (step %d)" % (1.2 / step, step))
	    print("acc: %g (step %d)" % (step / 10.0, step))
	print("a warning </pre><b>bold</b>", file=sys.stderr)
	def chunk(kind, data):
	    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
	png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + \
	      chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
	open("plot.png", "wb").write(png)
	open("<img src=x onerror=alert(1)>.txt", "w").write("named badly")
	PY
	tally run -q -l "<script>alert(1)</script>" train.py 2>/dev/null &&
	tally report -o run.html >out && test "$(cat out)" = run.html
'

test_expect_success 'the report loads with no console message and runs no script' '
	dom run.html console.log >dom.html &&
	! grep -q "CONSOLE" console.log &&
	! grep -q "<title>pwned" dom.html && grep -q "<title>Run " dom.html &&
	! grep -qi "<script" dom.html && ! grep -q "<img src=\"x\"" dom.html && ! grep -q "<b>bold" dom.html &&
	grep -q "&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;" dom.html &&
	grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" dom.html &&
	grep -q "&lt;img src=x onerror=alert(1)&gt;.txt" dom.html &&
	grep -q "<span class=\"err\">a warning &lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;</span>" dom.html
'

test_expect_success 'charts: loss with val_loss overlaid (two lines of 10 points), acc on a 0-1 axis' '
	dom run.html console.log >dom.html &&
	"$PYTHON" - dom.html <<-\PY
	import re, sys
	html = open(sys.argv[1]).read()
	charts = re.findall(r"<svg class=\"chart\"[^>]*data-series=\"(\d+)\"[^>]*>(.*?)</svg>", html, re.S)
	titles = {re.search(r"<title>(.*?)</title>", body).group(1): (int(n), body) for n, body in charts}
	assert set(titles) == {"loss", "acc"}, titles.keys()
	n, body = titles["loss"]
	assert n == 2 and re.findall(r"data-points=\"(\d+)\"", body) == ["10", "10"], body[:200]
	assert ">val_loss<" in body
	n, body = titles["acc"]
	assert n == 1 and ">1.0<" in body and ">0.0<" in body, body
	PY
'

test_expect_success 'summary, flags, scalars, sources, files and the image inline' '
	grep -q "<th>script</th><td>train.py</td>" run.html &&
	grep -q "<h2>Scalars</h2>" run.html &&
	grep -q "<details class=\"source\"><summary>train.py" run.html &&
	grep -q "<span class=\"k\">import</span>" run.html &&
	grep -q "<td>plot.png</td>" run.html &&
	grep -q "<img alt=\"\" src=\"data:image/png;base64,iVBORw0KGgo" run.html &&
	! grep -q "src=\"file:\|href=\"http\|src=\"http" run.html
'

test_expect_success 'a comparison: side by side, differences marked, overlaid charts, source and output diffs' '
	sed -i "s/1.0 \/ step/2.0 \/ step/" train.py &&
	tally run -q train.py 2>/dev/null &&
	tally report 2 1 -o cmp.html >/dev/null &&
	dom cmp.html console.log >dom.html && ! grep -q "CONSOLE" console.log &&
	grep -q "<h1>Comparison of 2 runs</h1>" dom.html &&
	grep -q "<tr class=\"differs\"><th>loss</th>" dom.html &&
	grep -q "<tr><th>acc</th>" dom.html &&
	grep -q "data-series=\"2\"" dom.html &&
	grep -q "<span class=\"del\">-    print(\"loss: %g (step %d)\" % (1.0 / step, step))</span>" dom.html &&
	grep -q "<span class=\"add\">+    print(\"loss: %g (step %d)\" % (2.0 / step, step))</span>" dom.html &&
	grep -q "<h2>Output changes</h2>" dom.html && grep -q "<span class=\"add\">+loss: 2 (step 1)</span>" dom.html
'

test_expect_success 'a 100,000-line output and a 1,000,000-point scalar give a report of sensible size' '
	mkdir big && cd big &&
	cat >big.py <<-\PY &&
	import json, os
	with open(os.environ["TALLY_SCALARS"], "a") as f:
	    for i in range(1000000):
	        f.write("{\"x\": %d, \"step\": %d}\n" % ((i * 7919) % 1000, i))
	for i in range(100000):
	    print("line %d of the output" % i)
	PY
	tally run -q --no-system-metrics big.py 2>/dev/null &&
	test "$(tally scalars --summary --format json | "$PYTHON" -c "import json,sys; print([r[\"count\"] for r in json.load(sys.stdin) if r[\"tag\"] == \"x\"][0])")" = 1000000 &&
	tally report -o big.html >/dev/null &&
	size=$(wc -c <big.html) && test "$size" -lt 6000000 &&
	dom big.html console.log >dom.html && ! grep -q "CONSOLE" console.log &&
	grep -q "line 99999 of the output" dom.html &&
	test "$(grep -c "<svg class=\"chart\"" dom.html)" = 1 &&
	points=$(grep -o "data-points=\"[0-9]*\"" dom.html | tr -dc 0-9) &&
	test "$points" -le 2000 && test "$points" -ge 1000 &&
	grep -q ">1000</text>" dom.html
'

test_expect_success 'a one-point scalar is a value, not a chart; long output folds to its tail after the charts; the best value is marked' '
	mkdir fold && cd fold &&
	cat >f.py <<-\PY &&
	import sys
	for i in range(1, 61):
	    print("line %d" % i)
	for step in range(1, 4):
	    print("loss: %g (step %d)" % (float(sys.argv[2]) / step, step))
	print("final_acc: 0.5")
	PY
	tally run -q --force-flags f.py s=1 >/dev/null 2>&1 &&
	tally run -q --force-flags f.py s=2 >/dev/null 2>&1 &&
	tally report -o one.html 1 >/dev/null &&
	grep -q "<th>final_acc</th>" one.html && ! grep -q "final_acc</text>" one.html &&
	grep -q "class=\"title\"[^>]*>loss</text>" one.html &&
	grep -q "<summary>The first 24 lines</summary>" one.html &&
	"$PYTHON" - one.html <<-\PY &&
	import sys
	html = open(sys.argv[1]).read()
	assert html.index("<h2>Charts") < html.index("<h2>Output"), "output after the charts"
	tail = html[html.index("</details><pre class=\"output\">"):]
	assert "line 60" in tail and "line 20" not in tail, tail[:200]
	PY
	tally report -o cmp.html 2 1 >/dev/null &&
	grep -q "class=\"num best\" title=\"best\">0.333333" cmp.html &&
	test "$(grep -c "class=\"num best\"" cmp.html)" = 1 &&
	dom cmp.html console.log >cmp.dom && ! grep -q CONSOLE console.log
'

test_expect_success 'tally show and the report give the start time alike: local, with its zone' '
	TZ=Europe/Paris tally show 1 >show.txt &&
	started=$(sed -n "s/^started: *//p" show.txt) &&
	case "$started" in 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]\ [0-9][0-9]:[0-9][0-9]:[0-9][0-9]\ CE*T) ;; *) false ;; esac &&
	TZ=Europe/Paris tally report 1 -o zone.html >/dev/null &&
	grep -q "<th>started</th><td>$started</td>" zone.html
'

test_expect_success 'screenshots: a desktop and a phone width render' '
	for width in 1100 390; do
		timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$TRASH/chromium" \
			--window-size=$width,1400 --screenshot="$PWD/shot-$width.png" "file://$PWD/run.html" 2>/dev/null &&
		"$PYTHON" -c "
import struct, sys
data = open(sys.argv[1], \"rb\").read()
assert data[:8] == b\"\\x89PNG\\r\\n\\x1a\\n\", data[:8]
w, h = struct.unpack(\">II\", data[16:24])
assert (w, h) == (int(sys.argv[2]), 1400), (w, h)
assert len(data) > 20000, len(data)
" "shot-$width.png" $width || return 1
	done
'

test_expect_success 'tally run --report saves report.html into the run' '
	tally run -q --report train.py 2>err &&
	dir=$(tally lookup 1 dir) && test -s "$dir/report.html" &&
	grep -q "report: $dir/report.html" err &&
	grep -q "<h1>Run $(tally lookup 1 id)</h1>" "$dir/report.html" &&
	test_expect_code 129 tally run --report train.py "lr=[1,2]" 2>err &&
	echo "open(\"report.html\", \"w\").write(\"mine\")" >own.py &&
	tally run -q --report own.py 2>err &&
	dir=$(tally lookup 1 dir) && test "$(cat "$dir/report.html")" = mine &&
	grep -q "<h1>Run " "$dir/tally-report.html" && grep -q "report: $dir/tally-report.html" err
'

test_expect_success '--open: the desktop opener gets the file (a name like -x.html as ./-x.html); no desktop, the path' '
	mkdir -p opener && cat >opener/xdg-open <<-\SH &&
	#!/bin/sh
	printf "%s\n" "$@" >"$OPENED"
	SH
	chmod +x opener/xdg-open &&
	OPENED=$PWD/opened PATH="$PWD/opener:$PATH" DISPLAY=:99 tally report --open -o -x.html >out &&
	test ! -s out && test "$(cat opened)" = ./-x.html && test -s ./-x.html &&
	env -u DISPLAY -u WAYLAND_DISPLAY tally report --open -o y.html >out &&
	test "$(cat out)" = y.html
'

test_expect_success 'a pruned run (a sweep stopped it early) has its own status class' '
	tally run -q train.py >/dev/null 2>&1 &&
	dir=$(show_field "[\"dir\"]" 1) &&
	"$PYTHON" - "$dir/.tally/run.json" <<-\PY &&
	import json, sys
	m = json.load(open(sys.argv[1]))
	m.update(status="pruned", exit_status=None, signal=15, stop_reason="pruned by the median rule at step 3")
	json.dump(m, open(sys.argv[1], "w"))
	PY
	tally reindex >/dev/null &&
	tally report 1 -o pruned.html &&
	grep -q "class=\"status pruned\">pruned<" pruned.html &&
	grep -q "\.status\.pruned {" pruned.html
'

test_expect_success 'a comparison read from the index is the one the run directories give, stale rows left out' '
	export TALLY_VERIFY_INTERVAL=1000000 &&
	tally runs >/dev/null &&
	# run.json edited by hand, in place: the index does not know yet
	edited=$(tally lookup --script train.py id) &&
	test -f runs/$edited/.tally/scalars.json &&
	"$PYTHON" - runs/$edited/.tally/run.json <<-\PY &&
	import json, sys
	m = json.load(open(sys.argv[1])); m["flags"]["by_hand"] = 42
	open(sys.argv[1], "r+").write(json.dumps(m, indent=2))
	PY
	rm -rf copy && cp -a runs copy && rm -rf copy/.index &&
	paths=$(tally runs -n 5 --format csv | "$PYTHON" -c "
import csv, os, sys
print(\" \".join(\"copy/\" + os.path.basename(r[\"dir\"]) for r in csv.DictReader(sys.stdin)))") &&
	tally report -o index.html 1:5 >/dev/null && tally report -o dirs.html $paths >/dev/null &&
	grep -q "<th>by_hand</th>" index.html &&
	sed -i "/^<p class=\"note\">Made by tally /d" index.html dirs.html &&
	test_cmp index.html dirs.html
'

test_expect_success 'bad requests' '
	test_expect_code 128 tally report nosuch 2>err &&
	test_expect_code 128 tally report -o /nonexistent/dir/r.html 2>err && grep -q "cannot write" err &&
	test_expect_code 129 tally report --bogus 2>err
'

test_done

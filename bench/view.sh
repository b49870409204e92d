#!/usr/bin/env bash
# tally view at scale: the first page of /api/runs at N runs (default
# 100,000) and how soon the page shows it in headless Chromium
# (bench/view-browser.mjs), a 1,000,000-point scalar downsampled to 2,000 points, and 50
# tabs following a running run (the server's CPU and memory).  Medians of
# fresh connections, each against a static asset of the same server
# measured in the same run (bench/view.py).  Usage: bench/view.sh [N]
set -euo pipefail
. "$(dirname "$0")/common.sh"

n=${1:-100000}
view_pid=''
stop_view() { [[ -z $view_pid ]] || kill -TERM "$view_pid" 2>/dev/null || true; view_pid=''; }
trap 'stop_view; bench_cleanup' EXIT

# start_view RUNS_DIR: a server on a free port; sets $url and $view_pid
start_view() {
	"$TALLY" view --no-open --port 0 --runs-dir "$1" >"$BENCH_TMP/url" 2>"$BENCH_TMP/view.err" &
	view_pid=$!
	for _ in $(seq 600); do [[ -s $BENCH_TMP/url ]] && break; sleep 0.05; done
	url=$(head -n 1 "$BENCH_TMP/url")
}

echo "== /api/runs at $n runs"
dir=$(runs_set "$n")
"$TALLY" runs --runs-dir "$dir" -n 1 >/dev/null # the index, built once
start_view "$dir"
"$PY" "$BENCH_DIR/view.py" runs "$url"
if [[ -d $REPO_ROOT/tests/browser/node_modules/playwright-core ]] && command -v node >/dev/null; then
	node "$BENCH_DIR/view-browser.mjs" "$url" 7
else
	echo "(the browser figures need tests/browser/node_modules: run tests/browser/test-browser.sh once)"
fi
stop_view

echo
echo "== one run of 1,000,000 points"
mkdir -p "$BENCH_TMP/big"
cd "$BENCH_TMP/big"
"$PY" -c '
import sys
w = sys.stdout.write
for i in range(1000000):
    w("loss: %.6g (step %d)\n" % (1.0 / (i + 1) + (i % 1000) * 1e-6, i))
' >points.txt
echo 'cat points.txt' >big.sh
"$TALLY" run -q --no-system-metrics big.sh >/dev/null 2>&1 || "$TALLY" run -q big.sh >/dev/null
start_view "$BENCH_TMP/big/runs"
"$PY" "$BENCH_DIR/view.py" scalars "$url" 1
stop_view

echo
echo "== 50 tabs following a running run (a point and an output line every 10 ms)"
mkdir -p "$BENCH_TMP/live"
cd "$BENCH_TMP/live"
cat >live.py <<'PY'
import sys, time
for i in range(6000):
    print("loss: %g (step %d)" % (1.0 / (i + 1), i), flush=True)
    time.sleep(0.01)
PY
"$TALLY" run -b live.py >started 2>&1
id=$(sed -n 's/^Run \([^ ]*\) started.*/\1/p' started)
start_view "$BENCH_TMP/live/runs"
"$PY" "$BENCH_DIR/view.py" tabs "$url" "$id" "$view_pid" --tabs 50 --seconds 20
"$TALLY" stop --runs-dir "$BENCH_TMP/live/runs" "$id" >/dev/null 2>&1 || true
stop_view

#!/usr/bin/env bash
# The Python package's speed: tally.log() per call at 100,000 calls inside a
# tracked run (baseline in the same run: os.write() of the same line, the
# floor of a call that must reach the kernel), and tally.runs() at 10,000
# runs (baseline: tally runs --format csv of the same runs).  Debian's python3.
# usage: bench/python.sh [RUNS]   (default 10000; bench/listing.sh's run sets)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

n=${1:-10000}
python=${TALLY_TEST_PYTHON:-/usr/bin/python3}
export PYTHONPATH=$REPO_ROOT/python TALLY_BUILD_DIR=$(dirname "$TALLY")
dir="${TMPDIR:-/tmp}/tally-bench-runs-$n"
[[ -d $dir ]] || { "$PY" "$BENCH_DIR/make-runs.py" "$n" "$dir.part.$$" >&2 && mv "$dir.part.$$" "$dir"; }

project=$BENCH_TMP/project
mkdir -p "$project"
printf 'system-metrics: off\n' >"$project/tally.yml"
cat >"$project/logbench.py" <<'PY'
import os, statistics, time, tally
N = 100_000
def per_call(fn):
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(N):
            fn(i)
        times.append((time.perf_counter() - t) / N * 1e6)
    return statistics.median(times)
fd = os.open(os.devnull, os.O_WRONLY)
floor = per_call(lambda i: os.write(fd, b'{"loss": 0.123456, "acc": 0.9, "step": 1}\n'))
log = per_call(lambda i: tally.log(loss=0.123456, acc=0.9, step=i))
print("%.2f %.2f" % (log, floor))
PY
read -r log_us floor_us < <(cd "$project" && "$TALLY" run --interpreter "$python" logbench.py 2>/dev/null | tail -n 1)

cat >"$BENCH_TMP/runs.py" <<PY
import statistics, time, tally
tally.runs(runs_dir="$dir")
times = []
for _ in range(7):
    t = time.perf_counter(); df = tally.runs(runs_dir="$dir"); times.append(time.perf_counter() - t)
assert len(df) == $n
print("%.4f" % statistics.median(times))
PY
runs_s=$("$python" "$BENCH_TMP/runs.py")
r=$("$PY" "$LIB" time -n 7 -w 1 -- env TALLY_RUNS_DIR="$dir" "$TALLY" runs --format csv)
read -r csv_s _ _ _ <<<"$r"

echo "python: $python ($(nproc) CPUs)"
printf '%-34s %10s   %-34s %10s\n' "" "median" "baseline (same run)" "median"
printf '%-34s %8s µs   %-34s %8s µs\n' "tally.log() per call (100,000)" "$log_us" "os.write() of the same line" "$floor_us"
printf '%-34s %8s s    %-34s %8.4f s\n' "tally.runs() at $n runs" "$runs_s" "tally runs --format csv" "$csv_s"
echo "targets: tally.log() under 5 µs a call; tally.runs() at 10,000 runs under 0.1 s"

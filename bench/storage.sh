#!/usr/bin/env bash
# Scalar storage: the bytes a run keeps per scalar point, and what reading
# them costs, for this tally and (when BASE names one) another build of it,
# measured in the same invocation.
#
# usage: bench/storage.sh            (env: TALLY, BASE=/path/to/older/tally,
#                                     STEPS=500000, REPS=5)
#
# A script prints STEPS steps of two scalars ("loss: 0.123456 (step N)" and
# "val_loss: …"), as the run Guild AI was measured with in issue 22 (Guild
# 0.9.1 kept 76 MB for it, 76 bytes a point, in its event file).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STEPS=${STEPS:-500000}
REPS=${REPS:-5}
POINTS=$((2 * STEPS))
BASE=${BASE:-}
[[ -n $BASE ]] && BASE=$(realpath -- "$BASE")

echo "tally: $TALLY ($("$TALLY" --version | head -n 1))"
[[ -n $BASE ]] && echo "base:  $BASE ($("$BASE" --version | head -n 1))"
echo "tmp:   $BENCH_TMP ($(nproc) CPUs); $STEPS steps x 2 scalars = $POINTS points; medians of $REPS"

"$PY" - "$STEPS" >"$BENCH_TMP/points.log" <<-'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w(f"loss: {1 / (i + 2):.6f} (step {i})\nval_loss: {1 / (i + 3):.6f} (step {i})\n")
PY

# bytes FILE… -> their total size (0 for none)
bytes() { local f t=0; for f in "$@"; do [[ -f $f ]] && t=$((t + $(stat -c %s "$f"))); done; echo $t; }
per_point() { awk -v b="$1" -v n="$POINTS" 'BEGIN { printf "%.2f", b / n }'; }
median_s() { "$PY" "$LIB" time -n "$REPS" -w 1 --out /dev/null "$@" | awk '{ print $1 }'; }

# measure NAME BINARY: one run and its bytes
measure() {
	local name=$1 bin=$2 proj="$BENCH_TMP/$1" runs="$BENCH_TMP/$1/runs"
	mkdir -p "$proj"
	echo "system-metrics: off" >"$proj/tally.yml"
	TALLY_RUNS_DIR="$runs" "$PY" "$LIB" time -n 1 -w 0 --out /dev/null --cwd "$proj" -- \
		"$bin" run -q -- cat "$BENCH_TMP/points.log" | awk -v n="$name" '{ print n, $1 }' >>"$BENCH_TMP/record"
	TALLY_RUNS_DIR="$runs" "$bin" runs >/dev/null   # the index made before any timing
	local meta
	meta=$(ls -d "$runs"/*/.tally)
	local log events
	log=$(bytes "$meta/scalars.log")
	events=$(bytes "$meta"/events.out.tfevents.*)
	printf '%-6s %12s %10s %12s %10s %12s %8s\n' "$name" "$log" "$(per_point "$log")" "$events" \
		"$(per_point "$events")" "$((log + events))" "$(per_point $((log + events)))"
}

echo
echo "== bytes kept for the scalars (the output itself is the same for both)"
printf '%-6s %12s %10s %12s %10s %12s %8s\n' build "scalars.log" "B/point" "event file" "B/point" "together" "B/point"
measure tally "$TALLY"
[[ -n $BASE ]] && measure base "$BASE"
printf '%-6s %12s %10s %12s %10s %12s %8s\n' guild - - 76000000 76.00 76000000 76.00
echo "(guild: issue 22's measurement of Guild AI 0.9.1 on this run, event file only; not re-measured here)"
awk '{ printf "recording the run (tally run -q -- cat, once): %s %.3f s\n", $1, $2 }' "$BENCH_TMP/record"

echo
echo "== TensorBoard's event file on demand (this tally): tally tensorboard --files-only"
rm -f "$BENCH_TMP"/tally/runs/*/.tally/events*
t_export=$(cd "$BENCH_TMP/tally" && TALLY_RUNS_DIR="$BENCH_TMP/tally/runs" "$PY" "$LIB" time -n 1 -w 0 --out /dev/null -- \
	"$TALLY" tensorboard --files-only | awk '{ print $1 }')
ev=$(bytes "$BENCH_TMP"/tally/runs/*/.tally/events.out.tfevents.*)
t_again=$(cd "$BENCH_TMP/tally" && TALLY_RUNS_DIR="$BENCH_TMP/tally/runs" median_s -- "$TALLY" tensorboard --files-only)
echo "written in $t_export s ($(per_point "$ev") bytes a point); when up to date: $t_again s"

echo
echo "== reading them (seconds, medians of $REPS; the builds take turns, so load drifts hit both)"
builds=(tally)
[[ -n $BASE ]] && builds+=(base)
printf '%-36s %10s %10s\n' command tally base
while IFS='|' read -r label args; do
	: >"$BENCH_TMP/t"
	for ((r = 0; r < REPS; r++)); do
		for b in "${builds[@]}"; do
			bin=$TALLY
			[[ $b == base ]] && bin=$BASE
			# shellcheck disable=SC2086
			t=$(TALLY_RUNS_DIR="$BENCH_TMP/$b/runs" "$PY" "$LIB" time -n 1 -w 0 --out /dev/null -- "$bin" $args | awk '{ print $1 }')
			echo "$b $t" >>"$BENCH_TMP/t"
		done
	done
	med() { awk -v b="$1" '$1 == b { print $2 }' "$BENCH_TMP/t" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.4f", v[int((NR + 1) / 2)]; else printf "-" }'; }
	printf '%-36s %10s %10s\n' "$label" "$(med tally)" "$(med base)"
done <<-'LIST'
	tally scalars -f csv|scalars -f csv
	tally scalars -f json|scalars -f json
	tally scalars --tag val_loss -f csv|scalars --tag val_loss -f csv
	tally scalars --summary|scalars --summary
	tally runs|runs
	LIST

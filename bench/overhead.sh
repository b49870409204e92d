#!/usr/bin/env bash
# Overhead of `tally run` on a trivial script compared with running the
# script directly.  Median of K runs (after W warm-ups) each, timed per
# process with time.perf_counter() around subprocess start and reaping.
#
# usage: bench/overhead.sh            (env: TALLY, K=30, WARMUP=3,
#                                     BASE=/path/to/another/tally)
#
# With BASE, a second table follows: the bare script, this tally and BASE
# take turns, one run each, K times (so a drift of the machine's load hits
# all three alike), and the medians are compared.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

K=${K:-30}
W=${WARMUP:-3}

proj="$BENCH_TMP/proj"
mkdir -p "$proj"
printf 'echo hi\n' >"$proj/hello.sh"
printf 'print("hi")\n' >"$proj/hello.py"
# A script with flags: detection (cached by content after the first run),
# checking, and the globals rewrite of the run's copy.
cat >"$proj/flags.py" <<'PY'
#| description: learning rate
#| min: 0
lr = 0.01
units = 64
#| choices: [relu, tanh]
act = "relu"
print("hi", lr, units, act)
PY
export TALLY_RUNS_DIR="$BENCH_TMP/runs"
# Let `tally run hello.py` find the same interpreter as the bare run.
export PATH="/usr/bin:/bin:$PATH"

# bench NAME BARE_CMD... -- TALLY_CMD...   -> appends a row to $rows
rows=()
bench() {
	local name=$1; shift
	local bare=() tal=()
	while [[ $1 != -- ]]; do bare+=("$1"); shift; done
	shift
	tal=("$@")
	local b t bmed bmin tmed tmin
	b=$("$PY" "$LIB" time -n "$K" -w "$W" --cwd "$proj" -- "${bare[@]}")
	t=$("$PY" "$LIB" time -n "$K" -w "$W" --cwd "$proj" -- "${tal[@]}")
	read -r bmed bmin _ _ <<<"$b"
	read -r tmed tmin _ _ <<<"$t"
	rows+=("$(printf '%-26s %10s %10s %10s %10s %12s' "$name" \
		"$(ms "$bmed")" "$(ms "$bmin")" "$(ms "$tmed")" "$(ms "$tmin")" \
		"$(awk -v a="$tmed" -v b="$bmed" 'BEGIN { printf "%+.2f", (a - b) * 1000 }')")")
}

echo "tally:  $TALLY"
echo "runs:   K=$K after $W warm-ups, $(nproc) CPUs"
echo

bench "bash hello.sh" bash hello.sh -- "$TALLY" run -q hello.sh
bench "python3 hello.py" /usr/bin/python3 hello.py -- "$TALLY" run -q hello.py
bench "python3 flags.py lr=0.1" /usr/bin/python3 flags.py -- "$TALLY" run -q flags.py lr=0.1 act=tanh

# Sanity check: every tally invocation should have left one run behind.
made=$(find "$TALLY_RUNS_DIR" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
want=$((3 * (K + W)))

printf '%-26s %10s %10s %10s %10s %12s\n' "script" "bare med" "bare min" \
	"tally med" "tally min" "overhead ms"
printf '%-26s %10s %10s %10s %10s %12s\n' "" "(ms)" "(ms)" "(ms)" "(ms)" "(median)"
printf '%s\n' "${rows[@]}"
echo
echo "runs recorded: $made (expected $want)"
if ((made != want)); then
	echo "warning: tally did not record one run per invocation" >&2
fi
# turns NAME BARE_CMD... -- TALLY_ARGS...: bare, $TALLY and $BASE one run each, K times
turns() {
	local name=$1; shift
	local bare=()
	while [[ $1 != -- ]]; do bare+=("$1"); shift; done
	shift
	local samples="$BENCH_TMP/turns" i
	: >"$samples"
	for ((i = 0; i < K + W; i++)); do
		for who in bare tally base; do
			# each its own cache: flag detection is cached per tally build, and turns would evict it
			local cmd=(env XDG_CACHE_HOME="$BENCH_TMP/cache-$who" "${bare[@]}")
			[[ $who == tally ]] && cmd=(env XDG_CACHE_HOME="$BENCH_TMP/cache-$who" "$TALLY" "$@")
			[[ $who == base ]] && cmd=(env XDG_CACHE_HOME="$BENCH_TMP/cache-$who" "$BASE" "$@")
			t=$("$PY" "$LIB" time -n 1 --cwd "$proj" -- "${cmd[@]}" | awk '{ print $1 }')
			((i >= W)) && echo "$who $t" >>"$samples"
		done
	done
	med() { awk -v w="$1" '$1 == w { print $2 }' "$samples" | sort -g | awk '{ v[NR] = $1 } END { printf "%.6f", v[int((NR + 1) / 2)] }'; }
	local b t o
	b=$(med bare) t=$(med tally) o=$(med base)
	printf '%-26s %10s %10s %10s %12s %12s\n' "$name" "$(ms "$b")" "$(ms "$t")" "$(ms "$o")" \
		"$(awk -v a="$t" -v b="$b" 'BEGIN { printf "%+.2f", (a - b) * 1000 }')" \
		"$(awk -v a="$o" -v b="$b" 'BEGIN { printf "%+.2f", (a - b) * 1000 }')"
}

if [[ -n ${BASE:-} ]]; then
	BASE=$(realpath -- "$BASE")
	echo
	echo "in turns with BASE=$BASE (medians of $K):"
	printf '%-26s %10s %10s %10s %12s %12s\n' "script" "bare ms" "tally ms" "base ms" "tally over" "base over"
	turns "bash hello.sh" bash hello.sh -- run -q hello.sh
	turns "python3 hello.py" /usr/bin/python3 hello.py -- run -q hello.py
	turns "python3 flags.py lr=0.1" /usr/bin/python3 flags.py -- run -q flags.py lr=0.1 act=tanh
fi

# The floor: the run directory's file operations alone, in the same folder's filesystem.
"$PY" "$BENCH_DIR/fsfloor.py" "$BENCH_TMP"
echo "target: overhead of a few ms (issue 22: 2 ms)"

# shellcheck shell=bash disable=SC2034
# Shared preamble of the bench/*.sh scripts; source it, do not run it.
#
# Sets BENCH_DIR, REPO_ROOT, PY, TALLY (absolute path of the binary, from
# $TALLY or build/tally under the repository root) and BENCH_TMP (a fresh
# temporary directory removed on exit), and defines runs_set.  Exits 1 when
# the binary is missing.

shopt -s inherit_errexit

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
PY=/usr/bin/python3
LIB="$BENCH_DIR/lib.py"

TALLY=${TALLY:-$REPO_ROOT/build/tally}
if [[ $TALLY != */* ]]; then
	TALLY=$(command -v -- "$TALLY" || true)
fi
if [[ -z $TALLY || ! -f $TALLY || ! -x $TALLY ]]; then
	echo "${0##*/}: tally binary not found or not executable: ${TALLY:-(not in PATH)}" >&2
	echo "  build it (meson setup build && meson compile -C build) or set \$TALLY" >&2
	exit 1
fi
TALLY=$(realpath -- "$TALLY")
export TALLY

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tally-bench.XXXXXX")
bench_cleanup() { rm -rf -- "$BENCH_TMP"; }
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# runs_set N -> path of a directory holding N runs made by make-runs.py,
# cached as ${TMPDIR:-/tmp}/tally-bench-runs-N across scripts and sessions
cache_root=${TMPDIR:-/tmp}
runs_set() {
	local n=$1 dir="$cache_root/tally-bench-runs-$1" have
	if [[ -d $dir ]]; then
		have=$(find "$dir" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
		if ((have == n)); then
			echo "$dir"
			return
		fi
		echo "cached $dir holds $have runs, not $n: regenerating" >&2
		rm -rf -- "$dir"
	fi
	local part="$dir.part.$$"
	rm -rf -- "$part"
	"$PY" "$BENCH_DIR/make-runs.py" "$n" "$part" >&2
	mv -- "$part" "$dir"
	echo "$dir"
}

# ms SECONDS -> milliseconds with 2 decimals
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

# For the benchmarks that compare with Optuna (tpe.sh, prune.sh): /usr/bin's
# python3 for trial scripts (not a shim earlier in PATH), a copy of the tally
# binary in $BENCH_TMP/tally (a rebuild meanwhile cannot break a long run),
# and OPTUNA_ARGS=(--no-optuna) when Optuna is missing (its rows are skipped).
optuna_bench_setup() {
	export PATH="/usr/bin:/bin:$PATH"
	cp -- "$TALLY" "$BENCH_TMP/tally"
	echo "tally:   $TALLY ($("$TALLY" --version 2>/dev/null | head -n 1), run as a copy)"
	OPTUNA_ARGS=()
	if ! "$PY" -c 'import optuna' 2>/dev/null; then
		echo "Optuna is not installed for $PY: its rows are skipped." >&2
		echo "  Debian/Ubuntu: apt-get install --no-install-recommends python3-optuna" >&2
		echo "  (the yardstick is Debian's 3.1; tally itself never needs it)" >&2
		OPTUNA_ARGS=(--no-optuna)
	fi
}

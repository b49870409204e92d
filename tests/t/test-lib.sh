# test-lib.sh — sourced by every end-to-end test tNNNN-area-detail.sh.
#
# Each test script runs in a fresh scratch directory (its project directory),
# with `tally` on PATH.  Assertions chain with && inside test_expect_success
# bodies; the helpers below print TAP-style "ok N - …" / "not ok N - …" lines
# that tests/run-e2e.sh counts.
#
#   test_expect_success 'what it checks' '
#       tally run train.sh lr=0.1 &&
#       tally runs --format json >out.json &&
#       grep -q "\"lr\": 0.1" out.json
#   '
#
# A failing test prints the last 40 lines of its trace (TEST_TAIL_LINES=N for more).
set -u

: "${TALLY:?TALLY must point at the tally binary}"
TEST_NAME=$(basename "$0" .sh)
TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/tally-test.$TEST_NAME.XXXXXX")
TALLY_BIN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tally-bin.XXXXXX")
ln -s "$TALLY" "$TALLY_BIN_DIR/tally"
export PATH="$TALLY_BIN_DIR:$PATH"
export HOME="$TRASH/home" XDG_CACHE_HOME="$TRASH/home/.cache"
mkdir -p "$HOME"
unset TALLY_RUNS_DIR TALLY_INDEX_DIR NO_COLOR
# Debian's python3 has NumPy; the first python3 on PATH may not.
PYTHON=${TALLY_TEST_PYTHON:-/usr/bin/python3}
cd "$TRASH" || exit 1

test_count=0
test_failures=0

# Kill whatever a failed test left running in the scratch directory (scripts
# live in their own process groups, so they outlive a killed tally).
kill_leftovers() {
	local p cwd
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		[ "${p#/proc/}" = $$ ] && continue
		case $cwd in "$TRASH"/*|"$TRASH") kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
	done
}

test_cleanup() {
	local rc=$?
	cd / && kill_leftovers
	rm -rf "$TRASH" "$TALLY_BIN_DIR"
	return $rc
}
trap test_cleanup EXIT

test_expect_success() {
	test_count=$((test_count + 1))
	local desc=$1 body=$2 out
	out=$(cd "$TRASH" && (set -x; eval "$body") 2>&1)
	if [ $? -eq 0 ]; then
		echo "ok $test_count - $TEST_NAME: $desc"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $TEST_NAME: $desc"
		printf '%s\n' "$out" | sed 's/^/#   /' | tail -n "${TEST_TAIL_LINES:-40}"
	fi
}

# The command must fail cleanly: a non-zero exit that is not a crash.
test_must_fail() {
	"$@"
	local rc=$?
	if [ $rc -eq 0 ]; then
		echo "test_must_fail: '$*' succeeded" >&2
		return 1
	elif [ $rc -gt 129 ] && [ $rc -ne 130 ]; then
		echo "test_must_fail: '$*' died with status $rc" >&2
		return 1
	fi
	return 0
}

test_expect_code() {
	local want=$1
	shift
	"$@"
	local rc=$?
	if [ $rc -ne "$want" ]; then
		echo "test_expect_code: '$*' exited $rc, wanted $want" >&2
		return 1
	fi
}

test_cmp() {
	diff -u "$1" "$2"
}

# Number of run directories under ./runs (or $1).
run_count() {
	local dir=${1:-runs}
	[ -d "$dir" ] || { echo 0; return; }
	find "$dir" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l
}

# Read a field of the latest run's `tally show --format json` with python.
show_field() {
	tally show "${2:-1}" --format json | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"
}

# Every point of scalar TAG in the latest run's .tally/scalars.log as
# "step value" lines, in log order (see docs/run-format.md).
scalar_points() {
	"$PYTHON" "$TEST_DIRECTORY/scalarlog.py" "$(show_field '["dir"]')/.tally/scalars.log" "$1"
}

# Run COMMAND… every 50 ms until it succeeds; fail after 60 s.  For the
# moment a test must wait for (a trap installed, a line printed, a file
# written): a test waits for the condition, never for a guessed time.
wait_until() {
	local i
	for i in $(seq 1200); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "wait_until: still false after 60 s: $*" >&2
	return 1
}

# A background job of a non-interactive shell starts with SIGINT and SIGQUIT
# ignored, and tally (like any program) keeps ignored signals ignored; tests
# that send SIGINT on purpose start tally with the default actions.
with_default_signals() {
	exec "$PYTHON" -c '
import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])
' "$@"
}

test_done() {
	echo "# $TEST_NAME: $((test_count - test_failures)) passed, $test_failures failed"
	[ $test_failures -eq 0 ]
}

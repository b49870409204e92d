#!/usr/bin/env bash
# The Python package (python/): its pytest tests against a tally build, with
# Debian's python3 (pandas, pytest).  Prints TAP-style lines and
# "python: N passed, N failed".   usage: tests/python/test-python.sh BUILD_DIR
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: tests/python/test-python.sh BUILD_DIR}" && pwd)
python=${TALLY_TEST_PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/tally-python.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TALLY_BIN=$build/tally TALLY_BUILD_DIR=$build PATH="$build:$PATH"
unset TALLY_RUNS_DIR TALLY_RUN_DIR TALLY_SCALARS
(cd "$work" && "$python" -m pytest -rA -p no:cacheprovider --basetemp="$work/tmp" "$repo/python/tests" \
	>"$work/out" 2>&1)
# "PASSED path::test" / "FAILED path::test - reason" lines of -rA's summary
sed -n 's/^PASSED \(.*\)$/ok - python: \1/p; s/^FAILED \(.*\)$/not ok - python: \1/p; s/^ERROR \(.*\)$/not ok - python: \1/p' \
	"$work/out" | sed -E "s|- python: .*python/tests/|- python: |" >"$work/tap"
cat "$work/tap"
if ! grep -q '^ok \|^not ok ' "$work/tap"; then
	sed 's/^/#   /' "$work/out" | tail -n 30
	echo "not ok - python: pytest ran no test" | tee -a "$work/tap"
elif grep -q '^not ok ' "$work/tap"; then
	sed -n '/= FAILURES =/,/short test summary/p' "$work/out" | sed 's/^/#   /' | head -n 80
fi
echo "python: $(grep -c '^ok ' "$work/tap") passed, $(grep -c '^not ok ' "$work/tap") failed"
! grep -q '^not ok ' "$work/tap"

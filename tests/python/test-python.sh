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
# pip install ./python, offline, from a copy (a build leaves files behind)
if "$python" -m pip --version >/dev/null 2>&1; then
	cp -r "$repo/python" "$work/src" && rm -rf "$work/src/tests"
	if "$python" -m pip install --no-deps --no-build-isolation --no-index --target "$work/site" "$work/src" \
		>"$work/pip.log" 2>&1 &&
		(cd "$work" && PYTHONPATH="$work/site" "$python" -c \
			"import tally, tally.keras; assert tally.__file__.startswith('$work/site'); print(tally.__version__)") \
		>"$work/pip.out" 2>&1 && grep -qx "0.1.0" "$work/pip.out"; then
		echo "ok - python: pip install ./python (offline) gives an importable package" | tee -a "$work/tap"
	else
		sed 's/^/#   /' "$work/pip.log" "$work/pip.out" | tail -n 20
		echo "not ok - python: pip install ./python" | tee -a "$work/tap"
	fi
fi
echo "python: $(grep -c '^ok ' "$work/tap") passed, $(grep -c '^not ok ' "$work/tap") failed"
! grep -q '^not ok ' "$work/tap"

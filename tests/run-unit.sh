#!/usr/bin/env bash
# Run every cmocka unit test binary of a build directory (TAP output) and
# close with "unit: N passed, N failed".
set -u
build=$1
passed=0 failed=0
export CMOCKA_MESSAGE_OUTPUT=TAP
for t in "$build"/tests/test-*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $(basename "$t") exited $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

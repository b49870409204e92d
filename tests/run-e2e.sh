#!/usr/bin/env bash
# Run the end-to-end tests against one tally binary; prints TAP lines and a
# closing "e2e: N passed, N failed".  Usage: tests/run-e2e.sh BUILD/tally [tNNNN…]
set -u
TALLY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
export TALLY
here=$(cd "$(dirname "$0")" && pwd)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("$here"/t/t[0-9]*.sh)
passed=0 failed=0
for t in "${tests[@]}"; do
	out=$(bash "$t" 2>&1)
	printf '%s\n' "$out" | grep -v '^# .*passed, .*failed$'
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $(basename "$t"): ran no test (crashed?)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
